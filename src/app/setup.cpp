#include "sdzero/app/setup.hpp"

#include <torch/torch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>

#include "sdzero/app/command.hpp"
#include "sdzero/app/schema.hpp"
#include "sdzero/ckpt/run_dir.hpp"
#include "sdzero/core/blas_core.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/log.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/model/cpu_matmul.hpp"
#include "sdzero/model/fused_ops.hpp"

namespace sdz::app {

CommandLine parse_command_line(const std::vector<std::string>& args, const std::vector<std::string>& own_flags) {
  CommandLine cl;
  auto takes_value = [&](const std::string& name, bool* known) {
    for (const auto& f : own_flags) {
      if (f == name) return *known = true, false;
      if (f == name + "=") return *known = true, true;
    }
    *known = false;
    return false;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (!starts_with(a, "--")) throw Error("unexpected argument '" + a + "'", "command line", "options start with --");
    std::string body = a.substr(2), value;
    bool has_eq = false;
    if (auto eq = body.find('='); eq != std::string::npos) value = body.substr(eq + 1), body = body.substr(0, eq), has_eq = true;
    if (body == "config") {
      if (!has_eq) {
        if (i + 1 >= args.size()) throw Error("--config needs a file", "command line");
        value = args[++i];
      }
      if (!cl.config_path.empty())
        throw Error("--config given twice (" + cl.config_path + ", " + value + ")", "command line",
                    "one file; change single keys with --section.key=value");
      cl.config_path = value;
      continue;
    }
    if (body.find('.') != std::string::npos) {  // a configuration override
      cl.overrides.push_back(a);
      if (!has_eq && i + 1 < args.size() && !starts_with(args[i + 1], "--")) cl.overrides.push_back(args[++i]);
      continue;
    }
    bool known = false;
    bool needs_value = takes_value(body, &known);
    if (!known) throw Error("unknown option --" + body, "command line", "see `sdzero help <command>`");
    if (needs_value && !has_eq) {
      if (i + 1 >= args.size()) throw Error("--" + body + " needs a value", "command line");
      value = args[++i];
    } else if (!needs_value && has_eq) {
      throw Error("--" + body + " takes no value", "command line");
    }
    cl.flags[body] = value;
  }
  return cl;
}

void refuse_an_earlier_run(const std::string& run_dir) {
  std::vector<std::string> found;
  const std::string metrics = run_dir + "/metrics.jsonl";
  struct stat st;
  if (::stat(metrics.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) found.push_back("metrics.jsonl");
  if (const size_t n = ckpt::list_checkpoints(run_dir).size()) found.push_back(std::to_string(n) + " checkpoint(s)");
  if (is_directory(run_dir + "/final")) found.push_back("final/");
  if (found.empty()) return;
  throw Error("the run directory holds an earlier run (" + join(found, ", ") + "); a fresh run would mix with it",
              run_dir, "continue it with --resume auto, choose another --run.dir, or delete the directory");
}

std::string run_dir_of(const Config& cfg) {
  const std::string dir = cfg.get_string("run.dir");
  return dir.empty() ? "runs/" + cfg.get_string("run.name") : dir;
}

Session start_session(const CommandLine& cl, RunDir run_dir, const std::string& builtin_ini,
                      const std::string& builtin_name,
                      const std::function<int(const Config&, const LaunchInfo&)>& relaunch_ranks) {
  Session s;
  // Parse before MPI starts: it is pure, so every rank gets the same answer, and a bad config
  // fails fast on every rank without a collective.
  // A built-in INI (the demo's) is the base layer: --config FILE changes only the keys FILE sets.
  s.cfg = builtin_ini.empty()
              ? Config::load(schema(), cl.config_path, cl.overrides)
              : Config::load_over(schema(), builtin_ini, builtin_name, cl.config_path, cl.overrides);
  const std::string dir = run_dir_of(s.cfg);
  const std::string resume = s.cfg.get_string("ckpt.resume");
  if (run_dir == RunDir::Fresh && (resume.empty() || resume == "none")) refuse_an_earlier_run(dir);
  LaunchInfo li = launch_info_from_env();
  std::string stayed;  // why a wanted relaunch did not happen (logged once the logger is up)
  if (relaunch_ranks) {
    const int want = relaunch_ranks(s.cfg, li);
    if (want > 1) stayed = relaunch_under_mpirun(original_argv(), want);
  }
  s.threads = threads_per_rank(li, int(s.cfg.get_int("run.threads")));
  ensure_omp_wait_policy(original_argv(), li, s.threads);

  int argc = 0;
  char** argv = nullptr;
  s.world = std::make_unique<World>(&argc, &argv);
  log::init(s.world->rank(), s.world->size(), log::parse_level(s.cfg.get_string("log.level")),
            s.cfg.get_bool("log.all_ranks"));
  torch::set_num_threads(s.threads);
  // Process-wide: every model of this rank multiplies with the same library (cpu_matmul.hpp).
  if (s.cfg.schema().find("model.cpu_matmul")) {
    model::set_cpu_matmul(model::parse_cpu_matmul(s.cfg.get_string("model.cpu_matmul")));
    model::set_packed_weight_budget(s.cfg.get_int("model.packed_weights_mb") << 20);
    model::set_cpu_fused_kernels(s.cfg.get_bool("model.cpu_fused_kernels"));
  }
  if (!stayed.empty() && !launched_by_mpi_launcher())
    log::warn("running as one process: " + stayed);

  s.run_dir = dir;
  if (run_dir != RunDir::None && s.world->rank() == 0) {
    make_dirs(s.run_dir);
    write_file_atomic(s.run_dir + "/config.ini", s.cfg.to_ini());
  }
  const std::string blas = blas_core_report();
  log::info(strprintf("sdzero: %d rank(s), %d thread(s) per rank, %d core(s) on node, run dir %s%s; CPU matmuls %s, "
                      "CPU fused kernels %s",
                      s.world->size(), s.threads, li.cores, s.run_dir.c_str(), blas.empty() ? "" : ("; " + blas).c_str(),
                      model::cpu_matmul_name(model::cpu_matmul()), model::cpu_fused_kernels_on() ? "on" : "off"));
  return s;
}

std::string machine_summary(const Session& s) {
  const std::string blas = blas_core_name();
  return cpu_model_name() + (blas.empty() ? "" : "; OpenBLAS core " + blas) + "; CPU matmuls " +
         model::cpu_matmul_name(model::cpu_matmul()) + ", fused kernels " +
         (model::cpu_fused_kernels_on() ? "on" : "off") +
         strprintf("; %d rank(s) x %d thread(s)", s.world->size(), s.threads);
}

}  // namespace sdz::app

namespace sdz::app {

double flag_number(const CommandLine& cl, const std::string& key, double def) {
  auto it = cl.flags.find(key);
  if (it == cl.flags.end()) return def;
  try {
    size_t used = 0;
    double v = std::stod(it->second, &used);
    if (used == it->second.size()) return v;
  } catch (const std::exception&) {
  }
  throw Error("not a number: \"" + it->second + "\"", "--" + key);
}

double flag_in(const CommandLine& cl, const std::string& key, double def, double min, double max, bool whole) {
  const double v = flag_number(cl, key, def);
  if (!std::isfinite(v)) throw Error("not a finite number: \"" + cl.flags.at(key) + "\"", "--" + key);
  if (whole && v != std::floor(v)) throw Error("not a whole number: \"" + cl.flags.at(key) + "\"", "--" + key);
  if (v < min || v > max)
    throw Error(strprintf("%s is out of range [%g, %g]", cl.flags.at(key).c_str(), min, max), "--" + key);
  return v;
}

int64_t flag_int(const CommandLine& cl, const std::string& key, int64_t def, int64_t min, int64_t max) {
  return int64_t(flag_in(cl, key, double(def), double(min), double(max), true));
}

std::string find_tool(const std::string& name) {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("SDZ_TOOLS_DIR")) dirs.push_back(env);
  char buf[4096];
  const ssize_t len = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (len > 0) {
    std::string exe(buf, size_t(len));
    for (int up = 0; up < 2 && exe.rfind('/') != std::string::npos; ++up) exe = exe.substr(0, exe.rfind('/'));
    dirs.push_back(exe + "/tools");
  }
  dirs.push_back("tools");
  for (const auto& d : dirs)
    if (file_exists(d + "/" + name)) return d + "/" + name;
  return "";
}

}  // namespace sdz::app
