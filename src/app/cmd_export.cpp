// `sdzero export`: a checkpoint's policy (or teacher) as a Hugging Face model directory.
#include <iostream>

#include "sdzero/app/command.hpp"
#include "sdzero/app/setup.hpp"
#include "sdzero/ckpt/checkpoint.hpp"
#include "sdzero/ckpt/export.hpp"
#include "sdzero/ckpt/run_dir.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/log.hpp"
#include "sdzero/core/strings.hpp"

namespace sdz::app {

static int export_cmd(const std::vector<std::string>& args) {
  CommandLine cl = parse_command_line(args, {"checkpoint=", "out=", "teacher", "dtype=", "tokenizer=", "shard-gb="});
  if (!cl.flags.count("checkpoint") || !cl.flags.count("out"))
    throw Error("export needs --checkpoint FILE and --out DIR", "command line", "see `sdzero help export`");
  std::string path = cl.flags["checkpoint"];
  if (!ends_with(path, ".h5") && file_exists(ckpt::checkpoint_dir(path))) {  // a run directory: its newest
    auto all = ckpt::list_checkpoints(path);
    if (all.empty()) throw Error("no checkpoint in " + ckpt::checkpoint_dir(path), path);
    path = all.back().second;
  }
  ckpt::ExportOptions opt;
  opt.teacher = cl.flags.count("teacher") > 0;
  if (cl.flags.count("dtype")) opt.dtype = cl.flags["dtype"];
  if (cl.flags.count("tokenizer")) opt.tokenizer_dir = cl.flags["tokenizer"];
  else log::warn("export: no --tokenizer DIR given; the directory will hold no tokenizer files");
  if (cl.flags.count("shard-gb")) opt.max_shard_bytes = size_t(flag_in(cl, "shard-gb", 0, 1e-3, 1e4) * double(1ull << 30));
  ckpt::export_hf(ckpt::load_checkpoint(path), cl.flags["out"], opt);
  std::cout << cl.flags["out"] << "\n";
  return 0;
}

SDZ_COMMAND("export", "write a checkpoint's model as a Hugging Face directory (safetensors + config)",
            "usage: sdzero export --checkpoint FILE|RUN_DIR --out DIR [--teacher] [--dtype float32|bfloat16|float16]\n"
            "                     [--tokenizer DIR] [--shard-gb N]\n"
            "Writes config.json, model.safetensors (or shards + model.safetensors.index.json above N GiB,\n"
            "default 5), generation_config.json and the tokenizer files found in DIR. --teacher exports the\n"
            "teacher's own weights. The checkpoint is verified first; DIR must be new or empty.",
            export_cmd);

}  // namespace sdz::app
