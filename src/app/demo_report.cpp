// The demo's report: per method, the learning rate of the grid with the best mean validation avg@k;
// at that rate, the test metrics as mean and sample standard deviation over seeds, in the shape of
// the paper's Table 1 (accuracy) and Table 9 (generate-then-revise), plus the hindsight test. Every
// number printed is also in results.jsonl (per seed and per table row), so tests can check one
// against the other. Plots come from tools/plot-demo (python3 + matplotlib) reading those files.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>

#include "sdzero/app/demo.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/log.hpp"
#include "sdzero/core/strings.hpp"

namespace sdz::app {

namespace {

struct Stat {
  double mean = 0, sd = 0;
  int n = 0;
};
Stat stat(const std::vector<double>& v) {
  Stat s;
  s.n = int(v.size());
  if (v.empty()) return s;
  for (double x : v) s.mean += x;
  s.mean /= double(v.size());
  if (v.size() > 1) {
    for (double x : v) s.sd += (x - s.mean) * (x - s.mean);
    s.sd = std::sqrt(s.sd / double(v.size() - 1));
  }
  return s;
}

// The numbers of a table row, by name, as percentages (lengths and counts as they are).
using Getter = double (*)(const DemoRow&);
const std::vector<std::pair<std::string, Getter>>& main_columns() {
  static const std::vector<std::pair<std::string, Getter>> cols = {
      {"greedy", [](const DemoRow& r) { return 100 * r.test.sampling.greedy; }},
      {"avg_at_k", [](const DemoRow& r) { return 100 * r.test.sampling.avg_at_k; }},
      {"pass_at_k", [](const DemoRow& r) { return 100 * r.test.sampling.pass_at_k; }},
      {"mean_length", [](const DemoRow& r) { return r.test.sampling.mean_length; }},
      {"self_revision", [](const DemoRow& r) { return 100 * r.test.sampling.self_revision_rate; }},
      {"generations", [](const DemoRow& r) { return double(r.generations); }},
      {"demonstrations", [](const DemoRow& r) { return double(r.demonstrations); }}};
  return cols;
}
const std::vector<std::pair<std::string, Getter>>& revision_columns() {
  static const std::vector<std::pair<std::string, Getter>> cols = {
      {"first_accuracy", [](const DemoRow& r) { return 100 * r.test.oracle.first_accuracy; }},
      {"revised_accuracy", [](const DemoRow& r) { return 100 * r.test.oracle.revised_accuracy; }},
      {"correction_rate", [](const DemoRow& r) { return 100 * r.test.oracle.correction_rate; }},
      {"breakage_rate", [](const DemoRow& r) { return 100 * r.test.oracle.breakage_rate; }},
      {"hindsight_revision", [](const DemoRow& r) { return 100 * r.test.hindsight.revision_accuracy; }},
      {"hindsight_fresh", [](const DemoRow& r) { return 100 * r.test.hindsight.fresh_accuracy; }},
      {"hindsight_difference", [](const DemoRow& r) { return 100 * r.test.hindsight.difference; }},
      {"hindsight_revision_repeats", [](const DemoRow& r) { return 100 * r.test.hindsight.revision_repeat_rate; }},
      {"hindsight_fresh_repeats", [](const DemoRow& r) { return 100 * r.test.hindsight.fresh_repeat_rate; }}};
  return cols;
}

std::string cell(const Stat& s, bool integer) {
  if (integer) return s.n > 1 && s.sd > 0 ? strprintf("%.0f ± %.0f", s.mean, s.sd) : strprintf("%.0f", s.mean);
  return s.n > 1 ? strprintf("%.1f ± %.1f", s.mean, s.sd) : strprintf("%.1f", s.mean);
}

// The paper's claim on this task, checked: SD-Zero at least 10 points above the base and above every
// baseline, in avg@k. Differences are paired by seed (every method of a seed starts from that seed's
// base), each model at its chosen rate; one JSON row per comparison is appended to `table_rows`.
std::string claim_section(const std::vector<std::string>& models,
                          std::map<std::string, std::map<double, std::vector<const DemoRow*>>>& by,
                          const std::map<std::string, double>& chosen, nlohmann::json& table_rows,
                          const std::string& kk) {
  if (!by.count("sdzero") || !by.count("base")) return "";
  auto by_seed = [&](const std::string& m) {
    std::map<uint64_t, double> v;
    for (const DemoRow* r : by[m][chosen.at(m)]) v[r->seed] = 100 * r->test.sampling.avg_at_k;
    return v;
  };
  const std::map<uint64_t, double> sdz = by_seed("sdzero");
  std::string t = "## The paper's claim on this task\n\nSD-Zero at least 10 points above the base and above every "
                  "baseline (avg@" + kk + ", SD-Zero minus the model, paired by seed).\n\n"
                  "| compared with | learns from | SD-Zero minus it | holds |\n|---|---|---|---|\n";
  bool any_gold = false;
  for (const std::string& m : models) {
    if (m == "sdzero" || m == "srt") continue;
    std::vector<double> d;
    for (const auto& [seed, acc] : by_seed(m))
      if (sdz.count(seed)) d.push_back(sdz.at(seed) - acc);
    if (d.empty()) continue;
    // SD-Zero learns from the verifier's binary reward alone; a method that also reads the dataset's
    // gold demonstrations is compared at equal budget but not at equal information, and says so.
    int64_t gold = 0;
    for (const DemoRow* r : by[m][chosen.at(m)]) gold = std::max(gold, r->demonstrations);
    any_gold = any_gold || gold > 0;
    const std::string source = m == "base"            ? "-"
                               : m == "sdft_other" || m == "sft_other" ? "gold demonstrations, another answer"
                               : gold > 0             ? "gold demonstrations"
                                                      : "binary reward";
    const Stat st = stat(d);
    const bool holds = m == "base" ? st.mean >= 10 : st.mean > 0;
    std::string diff = st.n > 1 ? strprintf("%+.1f ± %.1f", st.mean, st.sd) : strprintf("%+.1f", st.mean);
    // A positive mean smaller than the seeds' spread is a lead the next 3 seeds could reverse: say so.
    const bool within_spread = m != "base" && holds && st.n > 1 && st.mean < st.sd;
    t += "| " + m + " | " + source + " | " + diff + " | " + (holds ? "yes" : "no") + (m == "base" ? " (>= +10)" : "") +
         (within_spread ? " (within the spread)" : "") + " |\n";
    table_rows.push_back({{"table", "claim"}, {"model", m}, {"seeds", d.size()},
                          {"difference", {{"mean", st.mean}, {"sd", st.sd}}}, {"holds", holds},
                          {"within_spread", within_spread}, {"reads_demonstrations", gold > 0}});
  }
  if (any_gold)
    t += "\nA method that learns from gold demonstrations reads a correct solution of every question it trains on "
         "(the column \"gold demonstrations read\" above); SD-Zero, RFT and GRPO see only the verifier's binary "
         "reward. Same questions and budget, not the same information.\n";
  if (by.count("sft"))
    t += "\nsft reads as many of those worked solutions as SDFT's teacher does and samples nothing: the very documents "
         "the base was pretrained on. Its gain over the base is what they still teach a base taken in the middle of "
         "training at a constant rate; about half of it goes when the base's training ends at a rate decayed to zero "
         "(demo.anneal; docs/DEMO.md). The paper's SFT: +0.2 and +1.3 over instruct models that had finished "
         "their training.\n";
  if (by.count("sdft_other") || by.count("sft_other"))
    t += "\nsft and sdft read, for every question they train on, the very solution the base was pretrained to write "
         "for it; sft_other and sdft_other read another correct answer in the same notation where the question has "
         "several (data.demo_style = other), as the paper's demonstrations come from another model.\n";
  return t;
}

}  // namespace

std::string write_report(Session& s, const Config& cfg, const std::vector<DemoRow>& rows,
                         const nlohmann::json& localization, double total_seconds) {
  const int64_t k = cfg.get_int("demo.eval_k");
  // Order of first appearance; the learning rate of each model by mean validation avg@k.
  std::vector<std::string> models;
  std::map<std::string, std::map<double, std::vector<const DemoRow*>>> by;
  for (const auto& r : rows) {
    if (!by.count(r.model)) models.push_back(r.model);
    by[r.model][r.lr].push_back(&r);
  }
  std::map<std::string, double> chosen;
  for (const auto& m : models) {
    double best = -1;
    for (const auto& [lr, rs] : by[m]) {
      std::vector<double> v;
      for (const DemoRow* r : rs) v.push_back(r->val_avg_k);
      if (stat(v).mean > best) best = stat(v).mean, chosen[m] = lr;
    }
  }
  nlohmann::json table_rows = nlohmann::json::array();
  auto table = [&](const std::vector<std::pair<std::string, Getter>>& cols, const std::vector<std::string>& heads,
                   const std::string& which) {
    std::string t = "| model | lr | seeds |";
    std::string rule = "|---|---|---|";
    for (const auto& h : heads) t += " " + h + " |", rule += "---|";
    t += "\n" + rule + "\n";
    for (const auto& m : models) {
      const auto& rs = by[m][chosen[m]];
      nlohmann::json jr = {{"table", which}, {"model", m}, {"lr", chosen[m]}, {"seeds", rs.size()}};
      t += "| " + m + " | " + (m == "base" ? std::string("-") : strprintf("%g", chosen[m])) + " | " +
           std::to_string(rs.size()) + " |";
      for (const auto& [name, get] : cols) {
        std::vector<double> v;
        for (const DemoRow* r : rs) v.push_back(get(*r));
        Stat st = stat(v);
        jr[name] = {{"mean", st.mean}, {"sd", st.sd}};
        t += " " + cell(st, name == "generations" || name == "demonstrations") + " |";
      }
      table_rows.push_back(jr);
      t += "\n";
    }
    return t;
  };
  std::string kk = std::to_string(k);
  std::string main = table(main_columns(),
                           {"greedy", "avg@" + kk, "pass@" + kk, "mean length", "self-revision %", "generations used",
                            "gold demonstrations read"}, "main");
  std::string rev = table(revision_columns(),
                          {"first acc", "revised acc", "correction rate", "breakage rate", "hindsight: revision",
                           "hindsight: fresh", "hindsight: difference", "revision repeats the attempt %",
                           "fresh sample repeats it %"}, "revision");
  // Every learning rate, for the record: validation and test avg@k per (model, lr).
  std::string grid = "| model | lr | validation avg@" + kk + " | test avg@" + kk + " |\n|---|---|---|---|\n";
  for (const auto& m : models)
    for (const auto& [lr, rs] : by[m]) {
      std::vector<double> v, t;
      for (const DemoRow* r : rs) v.push_back(100 * r->val_avg_k), t.push_back(100 * r->test.sampling.avg_at_k);
      grid += "| " + m + " | " + (m == "base" ? std::string("-") : strprintf("%g", lr)) + " | " + cell(stat(v), false) +
              " | " + cell(stat(t), false) + " |\n";
    }

  const std::string claim = claim_section(models, by, chosen, table_rows, kk);

  if (s.world->rank() != 0) return main;
  std::string out;
  for (const auto& r : rows) out += r.to_json().dump() + "\n";
  for (const auto& j : table_rows) out += j.dump() + "\n";
  const std::string machine = machine_summary(s);
  out += nlohmann::json({{"table", "run"}, {"machine", machine}, {"seconds", total_seconds}}).dump() + "\n";
  if (!localization.is_null()) out += nlohmann::json({{"table", "localization"}, {"summary", localization}}).dump() + "\n";
  write_file_atomic(s.run_dir + "/results.jsonl", out);

  nlohmann::json curves = nlohmann::json::object();
  for (const auto& m : models)
    for (const DemoRow* r : by[m][chosen[m]]) {
      nlohmann::json c = {{"seed", r->seed}, {"lr", r->lr}, {"curve", nlohmann::json::array()}};
      for (const auto& p : r->curve) c["curve"].push_back({p.generations, 100 * p.avg_k});
      if (!r->length_curve.empty()) c["length_curve"] = r->length_curve;
      curves[m].push_back(c);
    }
  write_file_atomic(s.run_dir + "/curves.json", curves.dump() + "\n");

  const auto& b = rows.front();
  std::string md = "# sdzero demo results\n\nTask `" + cfg.get_string("data.task") + "`; seeds " +
                   cfg.text("demo.seeds") + " (mean ± sample sd over seeds); every method starts from its seed's base "
                   "with the same questions and a budget of " + cfg.text("demo.budget") +
                   " generations; learning-rate grid {" + cfg.text("demo.lr_grid") +
                   "} shared by all methods, each method at the rate with the best mean validation avg@" + kk + ". Test "
                   "questions: " + std::to_string(b.test.sampling.questions) + ", validation: " +
                   cfg.text("demo.pick_questions") + ". Total time " + format_duration(total_seconds) + ". Ran on " + machine + ".\n\n" +
                   "## Accuracy (the shape of the paper's Table 1)\n\n" + main +
                   "\n## Generate-then-revise and hindsight (the shape of Table 9)\n\n"
                   "First attempt = sample 0; revision after the oracle cue (the verifier picks it). Hindsight: on "
                   "questions whose first attempt failed, accuracy of revisions after the \"wrong\" cue vs fresh "
                   "samples (difference > 0: the reviser knows more than the generator).\n\n" + rev +
                   "\n" + claim + "\n## Every learning rate\n\n" + grid;
  if (!localization.is_null())
    md += strprintf("\n## Self-localization (task `%s`, the base as student and reviser)\n\n"
                    "| | wrong responses | correct responses |\n|---|---|---|\n"
                    "| responses | %lld | %lld |\n| share of the gap in the top 10%% of tokens | %.1f%% | %.1f%% |\n"
                    "| mean per-token gap | %.3f | %.3f |\n\nLargest gap within one token of the first error: "
                    "%.1f%% of %lld located wrong responses (a uniformly placed largest gap: %.1f%%).\n",
                    localization.value("task", "").c_str(), (long long)localization.value("wrong", 0),
                    (long long)localization.value("correct", 0), 100 * localization.value("wrong_top_share", 0.0),
                    100 * localization.value("correct_top_share", 0.0), localization.value("wrong_mean_gap", 0.0),
                    localization.value("correct_mean_gap", 0.0), 100 * localization.value("argmax_hit_rate", 0.0),
                    (long long)localization.value("located", 0), 100 * localization.value("argmax_hit_chance", 0.0));
  md += "\nPlots: plots/accuracy_vs_generations.png, plots/phase2_length.png" +
        std::string(localization.is_null() ? "" : ", plots/localization.png") +
        ". srt is SD-Zero's phase 1 alone (its share of the budget); sdzero counts both phases. See docs/DEMO.md.\n";
  write_file_atomic(s.run_dir + "/results.md", md);

  const std::string script = find_tool("plot-demo");
  if (script.empty()) {
    log::warn("demo: tools/plot-demo not found next to the executable (set SDZ_TOOLS_DIR): no plots");
  } else {
    std::string cmd = "/usr/bin/python3 '" + script + "' '" + s.run_dir + "'";
    if (std::system(cmd.c_str()) != 0) log::warn("demo: plotting failed (" + cmd + "): the tables are complete");
  }
  return main;
}

}  // namespace sdz::app
