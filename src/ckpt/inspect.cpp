#include "sdzero/ckpt/inspect.hpp"

#include <sys/stat.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sdzero/ckpt/checkpoint.hpp"
#include "sdzero/ckpt/h5io.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/strings.hpp"

namespace sdz::ckpt {

int Inspection::bad_datasets() const {
  int n = 0;
  for (const auto& d : datasets) n += !d.problem.empty();
  return n;
}

namespace {

using h5::Handle;

void walk(hid_t group, const std::string& prefix, std::vector<DatasetReport>& out) {
  std::vector<std::string> names;
  try {
    names = h5::children(group);
  } catch (const Error& e) {
    out.push_back(DatasetReport{prefix.empty() ? "/" : prefix, "?", {}, 0, "cannot list group: " + e.message()});
    return;
  }
  for (const std::string& name : names) {
    std::string path = prefix + "/" + name;
    if (h5::is_group(group, name)) {
      Handle g(H5Gopen2(group, name.c_str(), H5P_DEFAULT), H5Gclose);
      if (!g.valid()) {
        out.push_back(DatasetReport{path, "?", {}, 0, "cannot open group: " + h5::last_error_text()});
        continue;
      }
      walk(g, path, out);
      continue;
    }
    DatasetReport r;
    r.path = path;
    try {
      h5::DatasetMeta m = h5::dataset_meta(group, name, "");
      r.dtype = m.dtype, r.shape = m.shape, r.bytes = m.bytes;
      r.problem = h5::verify_dataset(group, name);
    } catch (const Error& e) {
      r.dtype = "?", r.problem = e.message();
    }
    out.push_back(r);
  }
}

// Reads one small value for the summary; a damaged one shows as "<damaged: ...>".
std::string try_value(const std::function<std::string()>& f) {
  try {
    return f();
  } catch (const Error& e) {
    return "<damaged: " + e.message() + ">";
  }
}

std::string json_escape_line(const std::string& s) {
  std::string one = s;
  for (char& c : one)
    if (c == '\n') c = ' ';
  return one;
}

}  // namespace

Inspection inspect_checkpoint(const std::string& path) {
  Inspection in;
  in.path = path;
  Handle f = h5::open_file(path);
  // A damaged sdzero checkpoint is worth listing dataset by dataset; another program's HDF5 file is not.
  if (!h5::has_attr(f, "format") || try_value([&] { return h5::attr_text(f, "format", path); }) != kFormatName)
    throw Error("not an sdzero checkpoint (no format=\"sdzero-checkpoint\" attribute)", path,
                "inspect reads the files sdzero train writes into run_dir/checkpoints");
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) in.file_bytes = int64_t(st.st_size);
  auto attr = [&](const char* name) {
    return try_value([&] {
      if (!h5::has_attr(f, name)) return std::string("<missing>");
      hid_t a = H5Aopen(f, name, H5P_DEFAULT);
      hid_t t = H5Aget_type(a);
      bool text = H5Tget_class(t) == H5T_STRING;
      H5Tclose(t), H5Aclose(a);
      return text ? h5::attr_text(f, name, path) : std::to_string(h5::attr_i64(f, name, path));
    });
  };
  in.meta.emplace_back("format", attr("format") + " v" + attr("format_version"));
  in.meta.emplace_back("created", attr("created_utc"));
  bool has_state = h5::has_child(f, "state");
  Handle st_group = has_state ? h5::open_group(f, "state", path) : Handle();
  auto state_i64 = [&](const char* name) {
    return try_value([&] { return has_state ? std::to_string(h5::read_i64(st_group, name, path)) : "<missing /state>"; });
  };
  auto state_text = [&](const char* name) {
    return try_value([&] { return has_state ? h5::read_text(st_group, name, path) : "<missing /state>"; });
  };
  in.meta.emplace_back("step", state_i64("step"));
  in.meta.emplace_back("policy version", state_i64("policy_version"));
  in.meta.emplace_back("phase", state_text("phase"));
  in.meta.emplace_back("code version", state_text("code_version"));
  if (h5::has_child(f, "optimizer")) {
    Handle opt = h5::open_group(f, "optimizer", path);
    in.meta.emplace_back("optimizer", try_value([&] { return h5::read_text(opt, "kind", path); }));
  }
  if (h5::has_child(f, "teacher")) {
    Handle t = h5::open_group(f, "teacher", path);
    std::string rule = try_value([&] { return h5::read_text(t, "rule", path); });
    std::string synced = try_value([&] { return std::to_string(h5::read_i64(t, "synced_version", path)); });
    size_t own = h5::has_child(t, "params") ? h5::children(h5::open_group(t, "params", path)).size() : 0;
    in.meta.emplace_back("teacher", (rule.empty() ? "-" : rule) + ", synced at version " + synced + ", " +
                                        (own ? std::to_string(own) + " own tensors" : "no own weights"));
  }
  if (has_state) {
    for (const char* group : {"data", "budget", "text"}) {
      if (!h5::has_child(st_group, group)) continue;
      Handle g = h5::open_group(st_group, group, path);
      for (const std::string& name : h5::children(g)) {
        std::string v = try_value([&] {
          if (std::string(group) == "budget") return std::to_string(h5::read_i64(g, name, path));
          if (std::string(group) == "text") return json_escape_line(h5::read_text(g, name, path));
          auto c = h5::read_i64s(g, name, path);
          return c.size() == 3 ? strprintf("epoch %lld, position %lld, consumed %lld", (long long)c[0], (long long)c[1], (long long)c[2])
                               : std::string("<malformed>");
        });
        in.meta.emplace_back(std::string(group) + "." + name, v);
      }
    }
    std::string mc = state_text("model_config");
    if (!mc.empty() && mc[0] != '<') {
      auto j = nlohmann::json::parse(mc, nullptr, false);
      if (j.is_object())
        in.meta.emplace_back("model", strprintf("%s, %lld layers, hidden %lld, vocab %lld",
                                                j.value("model_type", std::string("?")).c_str(),
                                                (long long)j.value("num_hidden_layers", 0), (long long)j.value("hidden_size", 0),
                                                (long long)j.value("vocab_size", 0)));
    }
    in.config_text = state_text("config");
    in.metrics_json = state_text("metrics");
  }
  walk(f, "", in.datasets);
  for (const auto& d : in.datasets)
    if (starts_with(d.path, "/model/")) {
      int64_t n = 1;
      for (int64_t x : d.shape) n *= x;
      in.parameters += n, in.parameter_bytes += d.bytes;
    }
  return in;
}

std::string format_inspection(const Inspection& in, bool with_config) {
  std::ostringstream o;
  o << "checkpoint " << in.path << " (" << format_bytes(double(in.file_bytes)) << ")\n";
  for (const auto& [k, v] : in.meta) o << strprintf("  %-20s %s\n", k.c_str(), v.c_str());
  o << strprintf("  %-20s %lld (%s)\n", "parameters", (long long)in.parameters, format_bytes(double(in.parameter_bytes)).c_str());
  if (!in.metrics_json.empty()) o << strprintf("  %-20s %s\n", "metrics", json_escape_line(in.metrics_json).c_str());
  o << "datasets (" << in.datasets.size() << ", " << in.bad_datasets() << " damaged):\n";
  for (const auto& d : in.datasets)
    o << strprintf("  %-8s %-8s %-14s %-10s %s\n", d.problem.empty() ? "ok" : "DAMAGED", d.dtype.c_str(),
                   h5::shape_text(d.shape).c_str(), format_bytes(double(d.bytes)).c_str(), d.path.c_str())
      << (d.problem.empty() ? "" : "           " + d.problem + "\n");
  if (with_config && !in.config_text.empty()) o << "config:\n" << in.config_text << (ends_with(in.config_text, "\n") ? "" : "\n");
  return o.str();
}

}  // namespace sdz::ckpt
