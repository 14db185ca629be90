// Config: defaults, INI files, command-line overrides, and every error case naming key + file:line.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "sdzero/core/config.hpp"
#include "sdzero/core/error.hpp"

using sdz::Config;
using sdz::Error;
using sdz::Schema;

namespace {

Schema make_schema() {
  Schema s;
  s.add_int("model.layers", 3, "number of layers", 1, 64);
  s.add_float("optim.lr", 1e-4, "learning rate", 0.0, 1.0);
  s.add_bool("run.verbose", false, "more output");
  s.add_string("run.name", "demo", "run name");
  s.add_string("kl.mode", "mixed", "which KL", {"forward", "reverse", "mixed"});
  s.add_string("prompt.suffix", "\n\nPlease reason.", "suffix");
  return s;
}

std::string write_ini(const std::string& name, const std::string& text) {
  std::string path = testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

// Runs f, expects an sdz::Error whose text contains every needle.
template <class F>
void expect_error(F f, std::initializer_list<const char*> needles) {
  try {
    f();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string w = e.what();
    for (const char* n : needles) EXPECT_NE(w.find(n), std::string::npos) << "'" << n << "' not in: " << w;
  }
}

}  // namespace

TEST(Config, DefaultsWhenNothingIsGiven) {
  Schema s = make_schema();
  Config c = Config::load(s, "");
  EXPECT_EQ(c.get_int("model.layers"), 3);
  EXPECT_DOUBLE_EQ(c.get_float("optim.lr"), 1e-4);
  EXPECT_FALSE(c.get_bool("run.verbose"));
  EXPECT_EQ(c.get_string("run.name"), "demo");
  EXPECT_EQ(c.get_string("prompt.suffix"), "\n\nPlease reason.");
  EXPECT_EQ(c.origin("model.layers"), "default");
}

TEST(Config, IniFileSetsValuesWithOrigins) {
  Schema s = make_schema();
  std::string p = write_ini("a.ini",
                            "# comment\n; another\n[model]\nlayers = 8\n\n[optim]\n  lr=3e-4  \n[run]\n"
                            "verbose = yes\nname = my run\n[prompt]\nsuffix = \"\\n\\nBox it \\\"now\\\".\"\n");
  Config c = Config::load(s, p);
  EXPECT_EQ(c.get_int("model.layers"), 8);
  EXPECT_DOUBLE_EQ(c.get_float("optim.lr"), 3e-4);
  EXPECT_TRUE(c.get_bool("run.verbose"));
  EXPECT_EQ(c.get_string("run.name"), "my run");
  EXPECT_EQ(c.get_string("prompt.suffix"), "\n\nBox it \"now\".");
  EXPECT_EQ(c.origin("model.layers"), p + ":4");
}

TEST(Config, CommandLineOverridesBeatTheFile) {
  Schema s = make_schema();
  std::string p = write_ini("b.ini", "[model]\nlayers = 8\n");
  Config c = Config::load(s, p, {"--model.layers=12", "--optim.lr", "0.01", "--kl.mode=reverse"});
  EXPECT_EQ(c.get_int("model.layers"), 12);
  EXPECT_DOUBLE_EQ(c.get_float("optim.lr"), 0.01);
  EXPECT_EQ(c.get_string("kl.mode"), "reverse");
  EXPECT_EQ(c.origin("model.layers"), "command line");
}

TEST(Config, ResolvedIniReadsBackToTheSameValues) {
  Schema s = make_schema();
  Config a = Config::load(s, "", {"--model.layers=7", "--prompt.suffix=\t x \\ y", "--optim.lr=0.000123"});
  std::string p = write_ini("resolved.ini", a.to_ini());
  Config b = Config::load(s, p);
  for (const auto& k : s.keys()) EXPECT_EQ(a.text(k.name), b.text(k.name)) << k.name;
  EXPECT_EQ(b.get_string("prompt.suffix"), "\t x \\ y");
}

TEST(Config, UnknownKeyInFileNamesFileLineAndSuggests) {
  Schema s = make_schema();
  std::string p = write_ini("c.ini", "[model]\nlayers = 2\nlayrs = 3\n");
  expect_error([&] { Config::load(s, p); }, {"c.ini:3", "model.layrs", "did you mean 'model.layers'"});
}

TEST(Config, LoadOverLayersAFileOnABase) {
  Schema s = make_schema();
  const std::string base = "[model]\nlayers = 7\n[run]\nname = base\n";
  Config only = Config::load_over(s, base, "base.ini", "");
  EXPECT_EQ(only.get_int("model.layers"), 7);
  EXPECT_EQ(only.origin("model.layers"), "base.ini:2");
  // A partial file changes what it names; the base keeps the rest; overrides win over both.
  std::string p = write_ini("over.ini", "[run]\nname = mine\n");
  Config c = Config::load_over(s, base, "base.ini", p, {"--optim.lr=0.001"});
  EXPECT_EQ(c.get_int("model.layers"), 7);
  EXPECT_EQ(c.get_string("run.name"), "mine");
  EXPECT_NE(c.origin("run.name").find("over.ini:2"), std::string::npos);
  EXPECT_DOUBLE_EQ(c.get_float("optim.lr"), 0.001);
  EXPECT_EQ(c.origin("optim.lr"), "command line");
  EXPECT_EQ(c.source_file(), p);
  // A file setting a key to its schema default still replaces the base's value.
  Config d = Config::load_over(s, base, "base.ini", write_ini("def.ini", "[model]\nlayers = 3\n"));
  EXPECT_EQ(d.get_int("model.layers"), 3);
  // Errors in the top layer name its file and line.
  expect_error([&] { Config::load_over(s, base, "base.ini", write_ini("bad.ini", "[model]\nlayers = x\n")); },
               {"bad.ini:2", "model.layers"});
}

TEST(Config, EmptyValueOnTheCommandLineAndAByteOrderMark) {
  Schema s = make_schema();
  Config c = Config::load(s, "", {"--prompt.suffix=", "--run.name", "x"});
  EXPECT_EQ(c.get_string("prompt.suffix"), "");
  EXPECT_EQ(c.get_string("run.name"), "x");
  expect_error([&] { Config::load(s, "", {"--model.layers="}); }, {"model.layers", "expected int"});
  Config b = Config::load(s, write_ini("bom.ini", "\xEF\xBB\xBF[run]\nname = bom\n"));
  EXPECT_EQ(b.get_string("run.name"), "bom");
}

TEST(Config, ADirectoryIsNotAConfigFile) {
  Schema s = make_schema();
  expect_error([&] { Config::load(s, testing::TempDir()); }, {"is a directory"});
}

TEST(Config, UnknownKeyOnCommandLine) {
  Schema s = make_schema();
  expect_error([&] { Config::load(s, "", {"--model.lyers=3"}); }, {"command line", "model.lyers", "model.layers"});
  // "--key=value" names the key alone, and a long value does not hide the suggestion.
  expect_error([&] { Config::load(s, "", {"--optim.lrr=0.000123456789"}); },
               {"unknown configuration key 'optim.lrr'", "did you mean --optim.lr?"});
  expect_error([&] { Config::load(s, "", {"--optim.lrr", "0.000123456789"}); },
               {"unknown configuration key 'optim.lrr'", "did you mean --optim.lr?"});
}

TEST(Config, WrongTypesAreErrors) {
  Schema s = make_schema();
  expect_error([&] { Config::load(s, write_ini("d.ini", "[model]\nlayers = three\n")); },
               {"d.ini:2", "model.layers", "expected int", "three"});
  expect_error([&] { Config::load(s, write_ini("e.ini", "[model]\nlayers = 2.5\n")); }, {"e.ini:2", "expected int"});
  expect_error([&] { Config::load(s, write_ini("f.ini", "[optim]\nlr = fast\n")); }, {"f.ini:2", "optim.lr", "expected float"});
  expect_error([&] { Config::load(s, write_ini("g.ini", "[run]\nverbose = maybe\n")); }, {"g.ini:2", "run.verbose", "expected bool"});
  expect_error([&] { Config::load(s, "", {"--optim.lr=nan"}); }, {"optim.lr", "not finite"});
}

TEST(Config, OutOfRangeAndBadChoicesAreErrors) {
  Schema s = make_schema();
  expect_error([&] { Config::load(s, write_ini("h.ini", "[model]\nlayers = 0\n")); }, {"h.ini:2", "model.layers", "out of range", "[1, 64]"});
  expect_error([&] { Config::load(s, "", {"--model.layers=65"}); }, {"command line", "out of range"});
  expect_error([&] { Config::load(s, "", {"--optim.lr=-1"}); }, {"optim.lr", "out of range"});
  expect_error([&] { Config::load(s, write_ini("i.ini", "[kl]\nmode = sideways\n")); }, {"i.ini:2", "kl.mode", "one of {forward, reverse, mixed}"});
}

TEST(Config, MissingFileIsAnError) {
  Schema s = make_schema();
  expect_error([&] { Config::load(s, "/nonexistent/x.ini"); }, {"/nonexistent/x.ini", "cannot open"});
}

TEST(Config, SyntaxErrorsNameTheLine) {
  Schema s = make_schema();
  expect_error([&] { Config::load(s, write_ini("j.ini", "layers = 3\n")); }, {"j.ini:1", "before any [section]"});
  expect_error([&] { Config::load(s, write_ini("k.ini", "[model\n")); }, {"k.ini:1", "section header"});
  expect_error([&] { Config::load(s, write_ini("l.ini", "[model]\njust words\n")); }, {"l.ini:2", "key = value"});
  expect_error([&] { Config::load(s, write_ini("m.ini", "[model]\nlayers = 2\nlayers = 3\n")); }, {"m.ini:3", "set twice", "line 2"});
  expect_error([&] { Config::load(s, write_ini("n.ini", "[prompt]\nsuffix = \"open\n")); }, {"n.ini:2", "unterminated"});
  expect_error([&] { Config::load(s, write_ini("o.ini", "[prompt]\nsuffix = \"\\q\"\n")); }, {"o.ini:2", "escape"});
}

TEST(Config, ReadingWithTheWrongTypeIsAProgramError) {
  Schema s = make_schema();
  Config c = Config::load(s, "");
  EXPECT_THROW(c.get_string("model.layers"), Error);
  EXPECT_THROW(c.get_int("no.such"), Error);
}

TEST(Config, SchemaRejectsDuplicatesAndBadNames) {
  Schema s;
  s.add_int("a.b", 1, "x");
  EXPECT_THROW(s.add_int("a.b", 2, "y"), Error);
  EXPECT_THROW(s.add_int("nosection", 2, "y"), Error);
}

TEST(Config, HelpTextListsEveryKeyWithDefaultTypeAndHelp) {
  Schema s = make_schema();
  std::string h = s.help_text();
  for (const char* n : {"[model]", "layers = 3", "int, [1, 64]", "number of layers", "[kl]", "one of {forward, reverse, mixed}",
                        "suffix = \"\\n\\nPlease reason.\""})
    EXPECT_NE(h.find(n), std::string::npos) << n << " in\n" << h;
}

TEST(Config, CoreKeysAreDeclared) {
  Schema s;
  sdz::declare_core_keys(s);
  Config c = Config::load(s, "", {"--run.threads=2"});
  EXPECT_EQ(c.get_int("run.threads"), 2);
  EXPECT_EQ(c.get_string("log.level"), "info");
  EXPECT_THROW(Config::load(s, "", {"--log.level=loud"}), Error);
}
