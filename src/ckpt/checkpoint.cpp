#include "sdzero/ckpt/checkpoint.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "sdzero/ckpt/h5io.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/version_gen.hpp"

namespace sdz::ckpt {

namespace {

using h5::Handle;

int64_t tensor_map_bytes(const std::map<std::string, torch::Tensor>& m) {
  int64_t n = 0;
  for (const auto& [k, t] : m) n += t.defined() ? int64_t(t.nbytes()) : 0;
  return n;
}

int64_t total_bytes(const TrainingState& s) {
  int64_t n = tensor_map_bytes(s.model) + tensor_map_bytes(s.teacher.params) + tensor_map_bytes(s.torch_rngs) +
              tensor_map_bytes(s.extra);
  for (const auto& [k, p] : s.optimizer.params) n += tensor_map_bytes(p.slots) + 8;
  n += int64_t(s.config_text.size() + s.metrics_json.size() + s.phase.size() + s.optimizer.hyper_json.size() +
               s.model_config_json.size());
  return n;
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Counts bytes and reports each dataset as it lands in the file.
struct Progress {
  const WriteObserver& observe;
  std::string tmp;
  int64_t done = 0, total = 0;
  void operator()(const std::string& dataset, size_t bytes) {
    done += int64_t(bytes);
    if (observe) observe(WriteEvent{WriteEvent::Dataset, dataset, done, total, tmp});
  }
};

void write_tensors(hid_t parent, const std::string& group, const std::map<std::string, torch::Tensor>& m,
                   Progress& p) {
  Handle g = h5::create_group(parent, group, "/" + group);
  for (const auto& [name, t] : m) p("/" + group + "/" + name, h5::write_tensor(g, name, t));
}

void write_all(hid_t f, const TrainingState& s, const std::string& code_version, Progress& p) {
  h5::set_attr(f, "format", std::string(kFormatName));
  h5::set_attr(f, "format_version", kFormatVersion);
  // Copies for humans (`h5dump -A`); the reader uses the checksummed /state datasets.
  h5::set_attr(f, "step", s.step);
  h5::set_attr(f, "policy_version", s.policy_version);
  h5::set_attr(f, "phase", s.phase);
  h5::set_attr(f, "code_version", code_version);
  h5::set_attr(f, "created_utc", utc_now());

  write_tensors(f, "model", s.model, p);

  Handle opt = h5::create_group(f, "optimizer", "/optimizer");
  p("/optimizer/kind", h5::write_text(opt, "kind", s.optimizer.kind));
  p("/optimizer/hyper", h5::write_text(opt, "hyper", s.optimizer.hyper_json));
  Handle params = h5::create_group(opt, "params", "/optimizer/params");
  for (const auto& [name, slots] : s.optimizer.params) {
    Handle pg = h5::create_group(params, name, "/optimizer/params/" + name);
    std::string base = "/optimizer/params/" + name + "/";
    p(base + "step", h5::write_i64(pg, "step", slots.step));
    for (const auto& [slot, t] : slots.slots) {
      if (slot == "step") throw Error("optimizer slot may not be called 'step'", "optimizer/" + name);
      p(base + slot, h5::write_tensor(pg, slot, t));
    }
  }

  Handle teacher = h5::create_group(f, "teacher", "/teacher");
  p("/teacher/rule", h5::write_text(teacher, "rule", s.teacher.rule));
  p("/teacher/synced_version", h5::write_i64(teacher, "synced_version", s.teacher.synced_version));
  p("/teacher/schedule", h5::write_text(teacher, "schedule", s.teacher.schedule_json));
  write_tensors(teacher, "params", s.teacher.params, p);

  Handle st = h5::create_group(f, "state", "/state");
  p("/state/step", h5::write_i64(st, "step", s.step));
  p("/state/policy_version", h5::write_i64(st, "policy_version", s.policy_version));
  p("/state/phase", h5::write_text(st, "phase", s.phase));
  p("/state/config", h5::write_text(st, "config", s.config_text));
  p("/state/code_version", h5::write_text(st, "code_version", code_version));
  p("/state/metrics", h5::write_text(st, "metrics", s.metrics_json));
  p("/state/model_config", h5::write_text(st, "model_config", s.model_config_json));
  Handle rng = h5::create_group(st, "rng", "/state/rng");
  for (const auto& [name, a] : s.rngs)
    p("/state/rng/" + name, h5::write_u64s(rng, name, std::vector<uint64_t>(a.begin(), a.end())));
  write_tensors(st, "torch_rng", s.torch_rngs, p);
  Handle data = h5::create_group(st, "data", "/state/data");
  for (const auto& [name, c] : s.data) {
    p("/state/data/" + name, h5::write_i64s(data, name, {c.epoch, c.position, c.consumed}));
    Handle ds(H5Dopen2(data, name.c_str(), H5P_DEFAULT), H5Dclose);
    h5::set_attr(ds, "fields", std::string("epoch, position, consumed"));
  }
  Handle budget = h5::create_group(st, "budget", "/state/budget");
  for (const auto& [name, v] : s.budget) p("/state/budget/" + name, h5::write_i64(budget, name, v));
  write_tensors(st, "extra", s.extra, p);
  Handle texts = h5::create_group(st, "text", "/state/text");
  for (const auto& [name, t] : s.texts) p("/state/text/" + name, h5::write_text(texts, name, t));
}

void fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw Error(std::string("cannot reopen checkpoint to fsync: ") + std::strerror(errno), path);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) throw Error(std::string("fsync failed: ") + std::strerror(err), path);
}

bool little_endian() {
  const uint16_t x = 1;
  unsigned char c;
  std::memcpy(&c, &x, 1);
  return c == 1;
}

std::map<std::string, torch::Tensor> read_tensors(hid_t parent, const std::string& group, const std::string& where,
                                                  bool optional = false) {
  std::map<std::string, torch::Tensor> m;
  if (optional && !h5::has_child(parent, group)) return m;
  Handle g = h5::open_group(parent, group, where);
  for (const std::string& name : h5::children(g)) m[name] = h5::read_tensor(g, name, where);
  return m;
}

TrainingState read_all(hid_t f, const std::string& where) {
  if (!h5::has_attr(f, "format") || h5::attr_text(f, "format", where) != kFormatName)
    throw CorruptCheckpoint("not an sdzero checkpoint (no format=\"sdzero-checkpoint\" attribute)", where);
  int64_t version = h5::attr_i64(f, "format_version", where);
  if (version != kFormatVersion)
    throw Error(strprintf("checkpoint format version %lld, this program reads %lld", (long long)version,
                          (long long)kFormatVersion), where, "use the sdzero version that wrote it");
  TrainingState s;
  s.model = read_tensors(f, "model", where);

  Handle opt = h5::open_group(f, "optimizer", where);
  s.optimizer.kind = h5::read_text(opt, "kind", where);
  s.optimizer.hyper_json = h5::read_text(opt, "hyper", where);
  Handle params = h5::open_group(opt, "params", where);
  for (const std::string& name : h5::children(params)) {
    Handle pg = h5::open_group(params, name, where);
    ParamSlots& ps = s.optimizer.params[name];
    ps.step = h5::read_i64(pg, "step", where);
    for (const std::string& slot : h5::children(pg))
      if (slot != "step") ps.slots[slot] = h5::read_tensor(pg, slot, where);
  }

  Handle teacher = h5::open_group(f, "teacher", where);
  s.teacher.rule = h5::read_text(teacher, "rule", where);
  s.teacher.synced_version = h5::read_i64(teacher, "synced_version", where);
  s.teacher.schedule_json = h5::read_text(teacher, "schedule", where);
  s.teacher.params = read_tensors(teacher, "params", where);

  Handle st = h5::open_group(f, "state", where);
  s.step = h5::read_i64(st, "step", where);
  s.policy_version = h5::read_i64(st, "policy_version", where);
  s.phase = h5::read_text(st, "phase", where);
  s.config_text = h5::read_text(st, "config", where);
  s.code_version = h5::read_text(st, "code_version", where);
  s.metrics_json = h5::read_text(st, "metrics", where);
  s.model_config_json = h5::read_text(st, "model_config", where);
  Handle rng = h5::open_group(st, "rng", where);
  for (const std::string& name : h5::children(rng)) {
    std::vector<uint64_t> v = h5::read_u64s(rng, name, where);
    if (v.size() != 4) throw CorruptCheckpoint("rng state '" + name + "' must hold 4 words", where);
    std::copy(v.begin(), v.end(), s.rngs[name].begin());
  }
  s.torch_rngs = read_tensors(st, "torch_rng", where);
  Handle data = h5::open_group(st, "data", where);
  for (const std::string& name : h5::children(data)) {
    std::vector<int64_t> v = h5::read_i64s(data, name, where);
    if (v.size() != 3) throw CorruptCheckpoint("data cursor '" + name + "' must hold 3 numbers", where);
    s.data[name] = DataCursor{v[0], v[1], v[2]};
  }
  Handle budget = h5::open_group(st, "budget", where);
  for (const std::string& name : h5::children(budget)) s.budget[name] = h5::read_i64(budget, name, where);
  s.extra = read_tensors(st, "extra", where);
  if (h5::has_child(st, "text")) {  // optional: absent in files written before it existed
    Handle texts = h5::open_group(st, "text", where);
    for (const std::string& name : h5::children(texts)) s.texts[name] = h5::read_text(texts, name, where);
  }
  return s;
}

}  // namespace

int64_t write_checkpoint_file(const std::string& path, const TrainingState& s, const WriteObserver& observe) {
  if (!little_endian()) throw Error("checkpoints are written on little-endian hosts only", path);
  std::string code_version = s.code_version.empty() ? SDZ_GIT_DESCRIBE : s.code_version;
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  Progress p{observe, tmp, 0, total_bytes(s)};
  try {
    Handle f = h5::create_file(tmp);
    write_all(f, s, code_version, p);
    if (H5Fflush(f, H5F_SCOPE_GLOBAL) < 0) throw Error("HDF5 flush failed: " + h5::last_error_text(), tmp);
    f.reset();  // H5Fclose writes the last metadata
    fsync_path(tmp);
    if (observe) observe(WriteEvent{WriteEvent::Flushed, "", p.done, p.total, tmp});
    if (::rename(tmp.c_str(), path.c_str()) != 0)
      throw Error(std::string("cannot rename checkpoint into place: ") + std::strerror(errno), path);
    fsync_dir_of(path);
  } catch (...) {
    ::unlink(tmp.c_str());  // no partial files left behind
    throw;
  }
  if (observe) observe(WriteEvent{WriteEvent::Renamed, "", p.done, p.total, path});
  return p.done;
}

TrainingState load_checkpoint(const std::string& path, const LoadOptions& opt) {
  Handle f = h5::open_file(path);
  TrainingState s;
  try {
    s = read_all(f, path);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {  // e.g. an allocation a damaged header asked for
    throw CorruptCheckpoint(std::string("cannot load checkpoint: ") + e.what(), path);
  }
  if (!opt.expected_model_shapes.empty()) check_model_shapes(s, opt.expected_model_shapes, path);
  return s;
}

std::string read_phase(const std::string& path) {
  Handle f = h5::open_file(path);
  Handle st = h5::open_group(f, "state", path);
  return h5::read_text(st, "phase", path);
}

void check_model_shapes(const TrainingState& s, const std::map<std::string, std::vector<int64_t>>& expected,
                        const std::string& where) {
  for (const auto& [name, shape] : expected) {
    auto it = s.model.find(name);
    if (it == s.model.end())
      throw Error("checkpoint has no parameter '" + name + "' that the configured model needs", where,
                  "the checkpoint was written for another model; check [model] in the config");
    std::vector<int64_t> got = it->second.sizes().vec();
    if (got != shape)
      throw Error("parameter '" + name + "' has shape " + h5::shape_text(got) + " in the checkpoint, the model expects " +
                      h5::shape_text(shape), where, "the checkpoint was written for another model size");
  }
  for (const auto& [name, t] : s.model)
    if (!expected.count(name))
      throw Error("checkpoint parameter '" + name + "' is not in the configured model", where,
                  "the checkpoint was written for another model; check [model] in the config");
}

}  // namespace sdz::ckpt
