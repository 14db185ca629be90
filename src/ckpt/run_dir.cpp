#include "sdzero/ckpt/run_dir.hpp"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "sdzero/ckpt/h5io.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/log.hpp"
#include "sdzero/core/strings.hpp"

namespace sdz::ckpt {

namespace {

// "step_00000042.h5" -> 42; anything else (temporaries, other files) -> -1.
int64_t parse_step_name(const std::string& name) {
  if (!starts_with(name, "step_") || !ends_with(name, ".h5")) return -1;
  std::string digits = name.substr(5, name.size() - 8);
  if (digits.size() < 8 || digits.size() > 18) return -1;
  for (char c : digits)
    if (c < '0' || c > '9') return -1;
  return std::strtoll(digits.c_str(), nullptr, 10);
}

std::vector<std::string> dir_entries(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return names;
  while (dirent* e = ::readdir(d)) names.push_back(e->d_name);
  ::closedir(d);
  return names;
}

}  // namespace

std::string checkpoint_dir(const std::string& run_dir) { return run_dir + "/checkpoints"; }

std::string checkpoint_path(const std::string& run_dir, int64_t step) {
  if (step < 0) throw Error("checkpoint step must be >= 0", run_dir);
  return checkpoint_dir(run_dir) + strprintf("/step_%08lld.h5", (long long)step);
}

std::string latest_pointer_path(const std::string& run_dir) { return checkpoint_dir(run_dir) + "/latest"; }

std::vector<std::pair<int64_t, std::string>> list_checkpoints(const std::string& run_dir) {
  std::vector<std::pair<int64_t, std::string>> out;
  std::string dir = checkpoint_dir(run_dir);
  for (const std::string& name : dir_entries(dir))
    if (int64_t step = parse_step_name(name); step >= 0) out.emplace_back(step, dir + "/" + name);
  std::sort(out.begin(), out.end());
  return out;
}

std::string save_checkpoint(const std::string& run_dir, const TrainingState& s, const SaveOptions& opt) {
  std::string dir = checkpoint_dir(run_dir);
  make_dirs(dir);
  // Temporaries left by a writer that was killed: only the learner root writes here, so any
  // temporary that is not ours is garbage.
  for (const std::string& name : dir_entries(dir))
    if (name.find(".h5.tmp.") != std::string::npos || starts_with(name, "latest.tmp.")) ::unlink((dir + "/" + name).c_str());

  // Newer files belong to a timeline this run left (it resumed from an older step, because the
  // newer ones were damaged or on request): set them aside so that auto-resume and rotation only
  // see this timeline.
  for (const auto& [step, old] : list_checkpoints(run_dir))
    if (step > s.step) {
      std::string aside = old + ".superseded";
      log::warn(strprintf("checkpoint: step %lld is older than %s; renaming that file to %s", (long long)s.step,
                          old.c_str(), aside.c_str()));
      if (::rename(old.c_str(), aside.c_str()) != 0) throw Error("cannot rename superseded checkpoint", old);
    }

  std::string path = checkpoint_path(run_dir, s.step);
  int64_t bytes = write_checkpoint_file(path, s, opt.observe);
  std::string base = path.substr(dir.size() + 1);
  write_file_atomic(latest_pointer_path(run_dir), base + "\n");
  log::info(strprintf("checkpoint: step %lld -> %s (%s)", (long long)s.step, path.c_str(), format_bytes(double(bytes)).c_str()));

  if (opt.keep_last > 0) {
    auto all = list_checkpoints(run_dir);
    size_t keep = size_t(opt.keep_last);
    for (size_t i = 0; i + keep < all.size(); ++i)
      if (all[i].second != path) ::unlink(all[i].second.c_str());
  }
  return path;
}

std::optional<ResumePoint> resolve_resume(const std::string& spec, const std::string& run_dir, const LoadOptions& opt) {
  if (spec.empty() || spec == "none") return std::nullopt;
  if (spec != "auto") {
    ResumePoint rp;
    rp.path = spec;
    try {
      rp.state = load_checkpoint(spec, opt);
    } catch (const CorruptCheckpoint& e) {
      throw Error("cannot resume from " + spec + ": " + e.message(), e.where(),
                  "the file is damaged; pick another checkpoint or use ckpt.resume=auto");
    }
    log::info(strprintf("resume: step %lld from %s", (long long)rp.state.step, spec.c_str()));
    return rp;
  }
  auto all = list_checkpoints(run_dir);
  if (all.empty()) {
    log::info("resume: no checkpoint in " + checkpoint_dir(run_dir) + ", starting fresh");
    return std::nullopt;
  }
  ResumePoint rp;
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    try {
      rp.state = load_checkpoint(it->second, opt);
      rp.path = it->second;
      log::info(strprintf("resume: step %lld from %s", (long long)rp.state.step, rp.path.c_str()));
      return rp;
    } catch (const CorruptCheckpoint& e) {
      rp.skipped.push_back(it->second + ": " + e.message());
      log::warn("resume: " + it->second + " is damaged (" + e.message() + "); trying the previous checkpoint");
    }
  }
  throw Error(strprintf("resume=auto: all %zu checkpoint(s) are damaged", all.size()), checkpoint_dir(run_dir),
              "see the warnings above; move them away to start fresh (ckpt.resume=none)");
}

}  // namespace sdz::ckpt
