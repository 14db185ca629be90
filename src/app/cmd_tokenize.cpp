// `sdzero tokenize`: encode text lines (or decode id lists) with a tokenizer file, for users
// checking their data; `--bench FILE` measures encode throughput.
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "sdzero/app/command.hpp"
#include "sdzero/app/setup.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/text/tokenizer.hpp"

namespace sdz::app {

using nlohmann::json;

static std::string decoded_json(const std::string& text) {
  return json(text).dump(-1, ' ', false, json::error_handler_t::replace);
}

static int bench(const text::Tokenizer& tok, const std::string& path, int repeat) {
  const std::string data = read_file(path);
  double first = 0, best = 1e30;
  size_t tokens = 0;
  for (int r = 0; r < repeat; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    tokens = tok.encode(data).size();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r == 0) first = s;
    best = std::min(best, s);
  }
  std::cout << json{{"impl", "sdzero"},         {"bytes", data.size()},
                    {"tokens", tokens},         {"first_s", first},
                    {"best_s", best},           {"first_mb_per_s", data.size() / first / 1e6},
                    {"best_mb_per_s", data.size() / best / 1e6}}
                   .dump()
            << "\n";
  return 0;
}

static int tokenize_cmd(const std::vector<std::string>& args) {
  CommandLine cl = parse_command_line(args, {"tokenizer=", "decode", "json-lines", "bench=", "repeat="});
  if (!cl.flags.count("tokenizer"))
    throw Error("--tokenizer FILE is required", "sdzero tokenize", "a tokenizer.json or a char tokenizer file");
  const auto tok = text::load_tokenizer(cl.flags["tokenizer"]);
  if (cl.flags.count("bench"))
    return bench(*tok, cl.flags["bench"], int(flag_int(cl, "repeat", 5, 1, 1000000)));
  const bool decode = cl.flags.count("decode") > 0, json_lines = cl.flags.count("json-lines") > 0;
  std::string line;
  long n = 0;
  while (std::getline(std::cin, line)) {
    const std::string where = "stdin:" + std::to_string(++n);
    if (decode) {
      json ids;
      try {
        ids = json::parse(line);
      } catch (const json::parse_error&) {
        throw Error("not a JSON array of token ids: " + line.substr(0, 80), where, "one array per line, e.g. [9707, 1879]");
      }
      if (!ids.is_array()) throw Error("not a JSON array of token ids", where, "one array per line, e.g. [9707, 1879]");
      std::vector<int32_t> v;
      for (const json& id : ids) {
        if (!id.is_number_integer() || id.get<int64_t>() < INT32_MIN || id.get<int64_t>() > INT32_MAX)
          throw Error("not a token id: " + id.dump(), where);
        v.push_back(id.get<int32_t>());
      }
      try {
        std::cout << decoded_json(tok->decode(v)) << "\n";
      } catch (const Error& e) {
        throw Error(e.message(), where + " (" + e.where() + ")", e.hint());
      }
      continue;
    }
    std::string text = line;
    if (json_lines) {
      json s;
      try {
        s = json::parse(line);
      } catch (const json::parse_error&) {
        throw Error("not a JSON string: " + line.substr(0, 80), where, "with --json-lines every line is a JSON string");
      }
      if (!s.is_string()) throw Error("not a JSON string", where, "with --json-lines every line is a JSON string");
      text = s.get<std::string>();
    }
    try {
      std::cout << json(tok->encode(text)).dump() << "\n";
    } catch (const Error& e) {
      throw Error(e.message(), where + " (" + e.where() + ")", e.hint());
    }
  }
  return 0;
}

SDZ_COMMAND("tokenize", "encode text lines to token ids (or --decode id lists) with a tokenizer file",
            "usage: sdzero tokenize --tokenizer FILE [--decode] [--json-lines]\n"
            "       sdzero tokenize --tokenizer FILE --bench TEXT_FILE [--repeat N]\n"
            "Reads stdin. Without --decode each line is a text (with --json-lines a JSON string, so a text\n"
            "may hold newlines) and the output is one JSON array of ids per line. With --decode each line\n"
            "is a JSON array of ids and the output is one JSON string per line. Special tokens written in\n"
            "the text (<|im_start|>) are matched. --bench encodes TEXT_FILE N times (default 5) and prints\n"
            "MB/s as JSON. FILE is a Hugging Face tokenizer.json or an sdzero char tokenizer file.",
            tokenize_cmd);

}  // namespace sdz::app
