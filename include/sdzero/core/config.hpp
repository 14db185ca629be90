// defines: sdz::Schema (every configuration key, declared once: name, type, default, range, help)
//          sdz::Config (values resolved from defaults <- INI file <- command-line overrides).
// Keys are "section.key". INI files use [section] headers; overrides are --section.key=value.
// Each layer declares its keys in a declare_<layer>_keys(Schema&) function; app/ gathers them.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace boost { namespace program_options { class options_description; } }

namespace sdz {

enum class KeyType { Int, Float, Bool, String };
const char* key_type_name(KeyType t);

struct KeySpec {
  std::string name;  // "section.key"
  KeyType type = KeyType::String;
  std::string default_text;
  std::string help;
  std::optional<double> min, max;    // inclusive bounds for Int/Float
  std::vector<std::string> choices;  // allowed values for String (empty: any)
};

class Schema {
 public:
  Schema();
  ~Schema();
  Schema(Schema&&) noexcept;
  Schema& operator=(Schema&&) noexcept;

  Schema& add_int(const std::string& name, int64_t def, const std::string& help,
                  std::optional<int64_t> min = std::nullopt, std::optional<int64_t> max = std::nullopt);
  Schema& add_float(const std::string& name, double def, const std::string& help,
                    std::optional<double> min = std::nullopt, std::optional<double> max = std::nullopt);
  Schema& add_bool(const std::string& name, bool def, const std::string& help);
  Schema& add_string(const std::string& name, const std::string& def, const std::string& help,
                     std::vector<std::string> choices = {});

  const KeySpec* find(const std::string& name) const;
  const std::vector<KeySpec>& keys() const { return keys_; }
  // Boost.Program_options description used to parse and type-check values (--section.key=value).
  const boost::program_options::options_description& options() const;
  // Closest declared key by edit distance, for "did you mean" hints ("" when nothing is close).
  std::string suggest(const std::string& name) const;
  // `sdzero help config`: every key grouped by section with type, default, range and help.
  std::string help_text() const;

 private:
  void add(KeySpec spec);
  std::vector<KeySpec> keys_;
  std::map<std::string, size_t> index_;
  std::unique_ptr<boost::program_options::options_description> desc_;
};

class Config {
 public:
  // Resolve: schema defaults, then the INI file (if ini_path is not empty), then overrides of the
  // form "--section.key=value" or "--section.key" "value". Any problem throws sdz::Error naming
  // the key and the file:line (or "command line").
  static Config load(const Schema& schema, const std::string& ini_path,
                     const std::vector<std::string>& overrides = {});
  // The same from INI text held in memory (`name` stands for the file in error messages).
  static Config load_text(const Schema& schema, const std::string& text, const std::string& name,
                          const std::vector<std::string>& overrides = {});
  // Layered: defaults <- base INI text <- ini_path (may be empty) <- overrides. A key the file or an
  // override sets replaces the base's value; the rest keep it (the demo's built-in demo.ini under a
  // user's partial --config).
  static Config load_over(const Schema& schema, const std::string& base_text, const std::string& base_name,
                          const std::string& ini_path, const std::vector<std::string>& overrides = {});

  int64_t get_int(const std::string& name) const;
  double get_float(const std::string& name) const;
  bool get_bool(const std::string& name) const;
  const std::string& get_string(const std::string& name) const;
  // The value as it would be written in an INI file.
  std::string text(const std::string& name) const;
  // Where the value came from: "default", "FILE:LINE" or "command line".
  const std::string& origin(const std::string& name) const;
  // Validated set (used by tools and tests); origin names the source.
  void set(const std::string& name, const std::string& value, const std::string& origin);

  // The resolved configuration as an INI file that load() reads back to the same values.
  std::string to_ini() const;
  const Schema& schema() const { return *schema_; }
  const std::string& source_file() const { return source_file_; }

 private:
  static Config load_stream(const Schema& schema, std::istream* in, const std::string& name,
                            const std::vector<std::string>& overrides);
  struct Value {
    std::string text;  // canonical text
    int64_t i = 0;
    double f = 0;
    bool b = false;
    std::string origin;
  };
  const Value& at(const std::string& name, KeyType want) const;
  const Schema* schema_ = nullptr;
  std::map<std::string, Value> values_;
  std::string source_file_;
};

// Keys owned by core/: [run] and [log].
void declare_core_keys(Schema& s);

}  // namespace sdz
