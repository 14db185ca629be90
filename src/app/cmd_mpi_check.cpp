// `sdzero mpi-check`: checks a job's MPI set-up before a long run (ranks, node-local numbering,
// layout, collectives) and measures weight-sync bandwidth: the learner-root broadcast of a
// model-sized buffer, in the buckets training uses. Prints one JSON object on rank 0.
#include <torch/torch.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "sdzero/app/command.hpp"
#include "sdzero/app/setup.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/log.hpp"
#include "sdzero/core/timer.hpp"
#include "sdzero/dist/collectives.hpp"
#include "sdzero/dist/groups.hpp"
#include "sdzero/dist/tensor_sync.hpp"

namespace sdz::app {

static int mpi_check(const std::vector<std::string>& args) {
  CommandLine cl = parse_command_line(args, {"mb=", "repeat=", "fail-rank="});
  Session s = start_session(cl, RunDir::None);
  MPI_Comm world = s.world->comm();
  int me = s.world->rank(), n = s.world->size();
  const double mb = flag_in(cl, "mb", 100.0, 1e-3, 65536.0);
  const int repeat = int(flag_int(cl, "repeat", 3, 1, 1000000));
  const int64_t fail_rank = flag_int(cl, "fail-rank", -1, -1, n - 1);  // checked on every rank alike

  // Deliberate failure on one rank: the job must end on every rank, promptly, non-zero.
  if (fail_rank == me)
    throw Error("deliberate failure requested by --fail-rank", "rank " + std::to_string(me));

  Layout layout = make_layout(s.cfg, n, /*method_needs_teacher=*/true);
  Groups groups(world, layout);
  if (allreduce_sum(world, int64_t(1)) != n) throw Error("allreduce over the world gave the wrong count", "mpi");

  // A model-sized fp32 buffer, split into parameter-like tensors, broadcast from the learner root.
  int64_t floats = int64_t(mb * 1024 * 1024 / 4);
  std::vector<torch::Tensor> params;
  for (int64_t left = floats; left > 0;) {
    int64_t k = std::min<int64_t>(left, 4 << 20);
    params.push_back(torch::full({k}, float(me)));
    left -= k;
  }
  size_t bucket = size_t(s.cfg.get_int("dist.bucket_mb")) << 20;
  int root = layout.learner_root();
  double best = 1e30;
  size_t bytes = 0;
  for (int r = 0; r < repeat; ++r) {
    MPI_Barrier(world);
    Timer t;
    bytes = broadcast_tensors(world, root, params, bucket);
    MPI_Barrier(world);
    best = std::min(best, allreduce_max(world, t.seconds()));
  }
  bool same = tensors_identical(world, params);
  if (!same || params[0][0].item<float>() != float(root)) throw Error("weight broadcast left ranks with different values", "mpi");

  if (me == 0) {
    nlohmann::json out = {{"ranks", n},
                          {"layout", layout.describe()},
                          {"local_ranks", s.world->local_size()},
                          {"threads_per_rank", s.threads},
                          {"broadcast_mb", double(bytes) / (1 << 20)},
                          {"broadcast_seconds", best},
                          {"broadcast_gb_per_s", double(bytes) / best / 1e9},
                          {"bucket_mb", s.cfg.get_int("dist.bucket_mb")},
                          {"params_identical", same}};
    std::cout << out.dump() << std::endl;
  }
  log::info("mpi-check: ok");
  return 0;
}

SDZ_COMMAND("mpi-check", "check the MPI job set-up and measure weight-sync broadcast bandwidth",
            "usage: mpirun -np N sdzero mpi-check [--mb 100] [--repeat 3] [--config FILE] [--layout.mode=...]\n"
            "Checks ranks, node-local numbering, the role layout and collectives; broadcasts an --mb MiB\n"
            "fp32 model from the learner root in dist.bucket_mb buckets and prints one JSON line with the\n"
            "best GB/s over --repeat tries. --fail-rank R makes rank R fail on purpose (the whole job must\n"
            "then exit non-zero promptly: used by the tests).",
            mpi_check);

}  // namespace sdz::app
