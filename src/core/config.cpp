// Configuration: one Schema of typed keys; values from defaults, an INI file and CLI overrides.
// Boost.Program_options does the typing (its value semantics parse and reject values) and the
// command-line syntax; the INI reader is ours because errors must name the file:line.
#include "sdzero/core/config.hpp"

#include <algorithm>
#include <boost/program_options.hpp>
#include <cmath>
#include <fstream>
#include <sstream>

#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/strings.hpp"

namespace po = boost::program_options;

namespace sdz {

const char* key_type_name(KeyType t) {
  switch (t) {
    case KeyType::Int: return "int";
    case KeyType::Float: return "float";
    case KeyType::Bool: return "bool";
    case KeyType::String: return "string";
  }
  return "?";
}

Schema::Schema() : desc_(std::make_unique<po::options_description>("configuration keys")) {}
Schema::~Schema() = default;
Schema::Schema(Schema&&) noexcept = default;
Schema& Schema::operator=(Schema&&) noexcept = default;

static std::string num_text(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) return strprintf("%.0f", v);
  return strprintf("%.17g", v);
}

static std::string float_text(double v) {
  // Shortest text that reads back to the same double.
  for (int prec = 6; prec <= 17; ++prec) {
    std::string s = strprintf("%.*g", prec, v);
    if (std::strtod(s.c_str(), nullptr) == v) return s;
  }
  return strprintf("%.17g", v);
}

void Schema::add(KeySpec spec) {
  auto dot = spec.name.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == spec.name.size())
    throw Error("config key '" + spec.name + "' must be 'section.key'", "schema");
  if (index_.count(spec.name)) throw Error("config key '" + spec.name + "' declared twice", "schema");
  po::value_semantic* sem = nullptr;
  switch (spec.type) {
    case KeyType::Int: sem = po::value<int64_t>(); break;
    case KeyType::Float: sem = po::value<double>(); break;
    case KeyType::Bool: sem = po::value<bool>(); break;
    case KeyType::String: sem = po::value<std::string>(); break;
  }
  desc_->add_options()(spec.name.c_str(), sem, spec.help.c_str());
  index_[spec.name] = keys_.size();
  keys_.push_back(std::move(spec));
}

Schema& Schema::add_int(const std::string& name, int64_t def, const std::string& help,
                        std::optional<int64_t> min, std::optional<int64_t> max) {
  KeySpec k{name, KeyType::Int, std::to_string(def), help, {}, {}, {}};
  if (min) k.min = double(*min);
  if (max) k.max = double(*max);
  add(std::move(k));
  return *this;
}

Schema& Schema::add_float(const std::string& name, double def, const std::string& help,
                          std::optional<double> min, std::optional<double> max) {
  add(KeySpec{name, KeyType::Float, float_text(def), help, min, max, {}});
  return *this;
}

Schema& Schema::add_bool(const std::string& name, bool def, const std::string& help) {
  add(KeySpec{name, KeyType::Bool, def ? "true" : "false", help, {}, {}, {}});
  return *this;
}

Schema& Schema::add_string(const std::string& name, const std::string& def, const std::string& help,
                           std::vector<std::string> choices) {
  add(KeySpec{name, KeyType::String, def, help, {}, {}, std::move(choices)});
  return *this;
}

const KeySpec* Schema::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &keys_[it->second];
}

const po::options_description& Schema::options() const { return *desc_; }

static size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1] ? 1u : 0u)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string Schema::suggest(const std::string& name) const {
  std::string best;
  size_t best_d = std::max<size_t>(3, name.size() / 3) + 1;
  for (const auto& k : keys_) {
    size_t d = edit_distance(name, k.name);
    // Also match the right key in the wrong section: "model.lr" -> "optim.lr".
    auto dot = k.name.find('.');
    if (name.find('.') == std::string::npos && k.name.compare(dot + 1, std::string::npos, name) == 0) d = 1;
    if (d < best_d) best_d = d, best = k.name;
  }
  return best;
}

static std::string range_text(const KeySpec& k) {
  std::string r;
  if (k.min && k.max) r = "[" + num_text(*k.min) + ", " + num_text(*k.max) + "]";
  else if (k.min) r = ">= " + num_text(*k.min);
  else if (k.max) r = "<= " + num_text(*k.max);
  if (!k.choices.empty()) r = "one of {" + join(k.choices, ", ") + "}";
  return r;
}

static std::string quote_if_needed(const std::string& s);

std::string Schema::help_text() const {
  std::ostringstream os;
  std::vector<const KeySpec*> sorted;
  for (const auto& k : keys_) sorted.push_back(&k);
  std::stable_sort(sorted.begin(), sorted.end(), [](const KeySpec* a, const KeySpec* b) {
    return a->name.substr(0, a->name.find('.')) < b->name.substr(0, b->name.find('.'));
  });
  std::string section;
  for (const KeySpec* k : sorted) {
    std::string sec = k->name.substr(0, k->name.find('.'));
    if (sec != section) {
      os << (section.empty() ? "" : "\n") << "[" << sec << "]\n";
      section = sec;
    }
    std::string r = range_text(*k);
    os << "  " << k->name.substr(sec.size() + 1) << " = " << quote_if_needed(k->default_text) << "   ("
       << key_type_name(k->type) << (r.empty() ? "" : ", " + r) << ")\n      " << k->help << "\n";
  }
  return os.str();
}

// ---- value parsing ---------------------------------------------------------------------------

static std::string unquote(const std::string& raw, const std::string& where) {
  if (raw.size() < 2 || raw.front() != '"') return raw;
  if (raw.back() != '"') throw Error("unterminated quoted value", where, "close the string with \"");
  std::string out;
  for (size_t i = 1; i + 1 < raw.size(); ++i) {
    char c = raw[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (i + 2 >= raw.size()) throw Error("dangling backslash in quoted value", where);
    char e = raw[++i];
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case '\\': out += '\\'; break;
      case '"': out += '"'; break;
      default: throw Error(std::string("unknown escape \\") + e + " in quoted value", where, "use \\n \\t \\r \\\\ or \\\"");
    }
  }
  return out;
}

static std::string quote_if_needed(const std::string& s) {
  bool needs = s.empty() || s != trim(s) || s.find_first_of("\n\t\r\"\\") != std::string::npos;
  if (!needs) return s;
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      default: out += c;
    }
  }
  return out + "\"";
}

Config Config::load(const Schema& schema, const std::string& ini_path, const std::vector<std::string>& overrides) {
  if (ini_path.empty()) return load_stream(schema, nullptr, "", overrides);
  if (is_directory(ini_path)) throw Error("is a directory, not a config file", ini_path, "give --config an INI file");
  std::ifstream in(ini_path);
  if (!in) throw Error("cannot open config file", ini_path, "check the path given to --config");
  return load_stream(schema, &in, ini_path, overrides);
}

Config Config::load_text(const Schema& schema, const std::string& text, const std::string& name,
                         const std::vector<std::string>& overrides) {
  std::istringstream in(text);
  return load_stream(schema, &in, name, overrides);
}

Config Config::load_over(const Schema& schema, const std::string& base_text, const std::string& base_name,
                         const std::string& ini_path, const std::vector<std::string>& overrides) {
  Config c = load_text(schema, base_text, base_name);
  if (ini_path.empty() && overrides.empty()) return c;
  // The file and overrides are resolved (and checked) on their own, then every key they set replaces
  // the base's value with its origin: a partial file changes only what it names.
  const Config top = load(schema, ini_path, overrides);
  for (const KeySpec& k : schema.keys())
    if (top.origin(k.name) != "default") c.set(k.name, top.text(k.name), top.origin(k.name));
  if (!ini_path.empty()) c.source_file_ = top.source_file_;
  return c;
}

Config Config::load_stream(const Schema& schema, std::istream* in_ptr, const std::string& ini_path,
                           const std::vector<std::string>& overrides) {
  Config c;
  c.schema_ = &schema;
  c.source_file_ = ini_path;
  for (const auto& k : schema.keys()) c.set(k.name, k.default_text, "default");

  if (in_ptr) {
    std::istream& in = *in_ptr;
    std::string line, section;
    std::map<std::string, long> seen;
    long lineno = 0;
    while (std::getline(in, line)) {
      ++lineno;
      if (lineno == 1 && starts_with(line, "\xEF\xBB\xBF")) line.erase(0, 3);  // a UTF-8 byte-order mark
      std::string where = at_line(ini_path, lineno);
      std::string t = trim(line);
      if (t.empty() || t[0] == '#' || t[0] == ';') continue;
      if (t[0] == '[') {
        if (t.back() != ']') throw Error("malformed section header '" + t + "'", where, "write [section]");
        section = trim(t.substr(1, t.size() - 2));
        if (section.empty() || section.find_first_of(" .=") != std::string::npos)
          throw Error("bad section name '" + section + "'", where);
        continue;
      }
      auto eq = t.find('=');
      if (eq == std::string::npos) throw Error("expected 'key = value', got '" + t + "'", where);
      std::string key = trim(t.substr(0, eq));
      if (key.empty()) throw Error("missing key before '='", where);
      if (section.empty()) throw Error("key '" + key + "' appears before any [section]", where);
      std::string name = section + "." + key;
      if (seen.count(name))
        throw Error("key '" + name + "' set twice (first at line " + std::to_string(seen[name]) + ")", where);
      seen[name] = lineno;
      c.set(name, unquote(trim(t.substr(eq + 1)), where), where);
    }
  }

  // Overrides: let Boost.Program_options split "--a.b=c" / "--a.b c" and reject unknown keys.
  if (!overrides.empty()) {
    // "--key=" sets the empty string: Boost wants a value after '=', so it becomes "--key" "".
    std::vector<std::string> args;
    for (const std::string& o : overrides) {
      if (o.size() > 3 && starts_with(o, "--") && o.back() == '=' && o.find('=') == o.size() - 1) {
        args.push_back(o.substr(0, o.size() - 1));
        args.push_back("");
      } else {
        args.push_back(o);
      }
    }
    po::parsed_options parsed(nullptr);
    try {
      parsed = po::command_line_parser(args)
                   .options(schema.options())
                   .style(po::command_line_style::allow_long | po::command_line_style::long_allow_adjacent |
                          po::command_line_style::long_allow_next)
                   .run();
    } catch (const po::unknown_option& e) {
      std::string name = e.get_option_name();
      while (!name.empty() && name[0] == '-') name.erase(0, 1);
      name = name.substr(0, name.find('='));  // Boost names "--key=value" whole
      std::string s = schema.suggest(name);
      throw Error("unknown configuration key '" + name + "'", "command line",
                  s.empty() ? "see `sdzero help config`" : "did you mean --" + s + "?");
    } catch (const po::error& e) {
      throw Error(e.what(), "command line", "overrides are --section.key=value");
    }
    for (const auto& opt : parsed.options) {
      if (opt.value.size() != 1) throw Error("key '" + opt.string_key + "' needs exactly one value", "command line");
      c.set(opt.string_key, opt.value[0], "command line");
    }
  }
  return c;
}

void Config::set(const std::string& name, const std::string& value, const std::string& origin) {
  const KeySpec* k = schema_->find(name);
  if (!k) {
    std::string s = schema_->suggest(name);
    throw Error("unknown configuration key '" + name + "'", origin,
                s.empty() ? "see `sdzero help config`" : "did you mean '" + s + "'?");
  }
  Value v;
  v.origin = origin;
  std::string bad = "key '" + name + "': expected " + std::string(key_type_name(k->type)) + ", got '" + value + "'";
  // Boost's typed semantic does the conversion; it throws on text of the wrong type.
  boost::any parsed;
  try {
    schema_->options().find(name, false).semantic()->parse(parsed, {value}, true);
  } catch (const po::error&) {
    throw Error(bad, origin);
  }
  switch (k->type) {
    case KeyType::Int: v.i = boost::any_cast<int64_t>(parsed); v.f = double(v.i); v.text = std::to_string(v.i); break;
    case KeyType::Float:
      v.f = boost::any_cast<double>(parsed);
      if (!std::isfinite(v.f)) throw Error(bad + " (not finite)", origin);
      v.text = float_text(v.f);
      break;
    case KeyType::Bool: v.b = boost::any_cast<bool>(parsed); v.text = v.b ? "true" : "false"; break;
    case KeyType::String: v.text = boost::any_cast<std::string>(parsed); break;
  }
  if ((k->type == KeyType::Int || k->type == KeyType::Float) &&
      ((k->min && v.f < *k->min) || (k->max && v.f > *k->max)))
    throw Error("key '" + name + "': value " + v.text + " out of range " + range_text(*k), origin);
  if (k->type == KeyType::String && !k->choices.empty() &&
      std::find(k->choices.begin(), k->choices.end(), v.text) == k->choices.end())
    throw Error("key '" + name + "': '" + v.text + "' is not " + range_text(*k), origin);
  values_[name] = std::move(v);
}

const Config::Value& Config::at(const std::string& name, KeyType want) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw Error("configuration key '" + name + "' is not declared", "program");
  const KeySpec* k = schema_->find(name);
  if (k->type != want)
    throw Error("configuration key '" + name + "' is " + key_type_name(k->type) + ", read as " + key_type_name(want),
                "program");
  return it->second;
}

int64_t Config::get_int(const std::string& name) const { return at(name, KeyType::Int).i; }
double Config::get_float(const std::string& name) const { return at(name, KeyType::Float).f; }
bool Config::get_bool(const std::string& name) const { return at(name, KeyType::Bool).b; }
const std::string& Config::get_string(const std::string& name) const { return at(name, KeyType::String).text; }

std::string Config::text(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw Error("configuration key '" + name + "' is not declared", "program");
  return it->second.text;
}

const std::string& Config::origin(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw Error("configuration key '" + name + "' is not declared", "program");
  return it->second.origin;
}

std::string Config::to_ini() const {
  std::ostringstream os;
  os << "# resolved sdzero configuration";
  if (!source_file_.empty()) os << " (from " << source_file_ << " + overrides)";
  os << "\n";
  std::string section;
  for (const auto& [name, v] : values_) {  // std::map: sorted, so sections group together
    std::string sec = name.substr(0, name.find('.'));
    if (sec != section) os << "\n[" << sec << "]\n", section = sec;
    if (v.origin != "default") os << "# set at " << v.origin << "\n";
    os << name.substr(sec.size() + 1) << " = " << quote_if_needed(v.text) << "\n";
  }
  return os.str();
}

}  // namespace sdz
