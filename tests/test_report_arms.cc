// report/pareto_report.h, "Arms" (issue 34): the random and scaled arms and the claims of the
// searched best against them, on the fixtures in tests/data/report/arms/ (values in
// tests/suites/report_arms.cmake). Torch-free.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "core/error.h"
#include "core/fnv1a.h"
#include "core/json_util.h"
#include "report/pareto_report.h"
#include "report/report_json.h"
#include "temp_dir.h"

namespace {

namespace fs = std::filesystem;
using nas::report::ArmClaim;
using nas::report::ParetoReport;
using nas::report::ReportInputs;

const std::string kData = NAS_SOURCE_DIR "/tests/data/report";
const std::string kArms = kData + "/arms";

ReportInputs inputs(const std::string& retrain, const std::string& random, const std::string& scaled) {
  ReportInputs in;
  in.search_dir = kData + "/search";
  in.retrain_dir = kArms + "/" + retrain;
  if (!random.empty()) in.random_dir = kArms + "/" + random + "/retrain";
  if (!scaled.empty()) in.scaled_dir = kArms + "/" + scaled + "/retrain";
  return in;
}

const ArmClaim& claim_of(const ParetoReport& r, const std::string& arm, double budget_mj) {
  for (const ArmClaim& c : r.claims)
    if (r.arms[c.arm].arm == arm && c.budget_mj && *c.budget_mj == budget_mj) return c;
  FAIL("no claim against " << arm << " at " << budget_mj);
  return r.claims.front();
}

std::string error_of(const ReportInputs& in) {
  try {
    nas::report::build_pareto_report(in);
  } catch (const nas::Error& e) {
    return e.what();
  }
  return "";
}

void write_text(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("arms, two seeds: margin, paired differences and their SE, within the seeds' spread or not") {
  const ParetoReport r = nas::report::build_pareto_report(inputs("retrain2", "random", "scaled"));
  REQUIRE(r.arms.size() == 2);
  CHECK(r.arms[0].arm == "random");
  CHECK(r.arms[1].arm == "scaled");
  REQUIRE(r.claims.size() == 2);  // one budget (60 uJ: the search's and both arms')

  // Searched best by mean validation: P2 (74.5; test 72.0, 72.4). Random best: R1 (73.8 > 73.2;
  // test 71.2, 71.4), not R0, whose test mean 72.3 is higher: chosen on validation, not test.
  const ArmClaim& random = claim_of(r, "random", 0.06);
  REQUIRE(random.compared());
  CHECK(r.points[*random.searched].point_index == 2);
  CHECK(r.arms[0].points[*random.arm_point].point_index == 1);
  CHECK(random.margin_points == doctest::Approx(0.9));
  CHECK(random.paired_seeds == std::vector<int64_t>{1, 2});
  REQUIRE(random.paired_differences.size() == 2);
  CHECK(random.paired_differences[0] == doctest::Approx(0.8));
  CHECK(random.paired_differences[1] == doctest::Approx(1.0));
  REQUIRE(random.paired_std_error);
  CHECK(*random.paired_std_error == doctest::Approx(0.1));  // std 0.1414 / sqrt 2
  REQUIRE(random.within_seed_spread);
  CHECK_FALSE(*random.within_seed_spread);  // 0.9 > max std 0.283 and > 2 SE
  CHECK(random.verdict == "searched P2 beats random R1 by +0.90 points (paired over seeds 1, 2: +0.90 ± 0.10 SE)");

  // Scaled S0: test 71.0, 72.8 (std 1.27): +0.30 is inside it, and inside 2 SE (0.70 each).
  const ArmClaim& scaled = claim_of(r, "scaled", 0.06);
  REQUIRE(scaled.compared());
  CHECK(scaled.margin_points == doctest::Approx(0.3));
  REQUIRE(scaled.paired_differences.size() == 2);
  CHECK(scaled.paired_differences[0] == doctest::Approx(1.0));
  CHECK(scaled.paired_differences[1] == doctest::Approx(-0.4));
  CHECK(*scaled.paired_std_error == doctest::Approx(0.7));
  CHECK(*scaled.within_seed_spread);
  CHECK(scaled.verdict ==
        "searched P2 does not beat scaled S0: +0.30 points is within the seeds' spread (paired over seeds 1, 2: "
        "+0.30 ± 0.70 SE)");
  // The arms' means over seeds, as the searched points'.
  const nas::report::ReportPoint& s0 = r.arms[1].points[0];
  CHECK(s0.test_top1 == doctest::Approx(71.9));
  CHECK(s0.test_top1_std == doctest::Approx(1.2727922));
  CHECK(s0.seeds == std::vector<int64_t>{1, 2});
}

TEST_CASE("arms, one seed: one paired difference, no SE, no spread known") {
  const ParetoReport r = nas::report::build_pareto_report(inputs("retrain1", "random1", ""));
  REQUIRE(r.claims.size() == 1);
  const ArmClaim& c = r.claims[0];
  REQUIRE(c.compared());
  CHECK(c.margin_points == doctest::Approx(0.8));  // P2 72.0 - R1 71.2 (R1 by validation 73.8)
  CHECK(c.paired_differences.size() == 1);
  CHECK_FALSE(c.paired_std_error);
  CHECK_FALSE(c.within_seed_spread);
  CHECK(c.verdict == "searched P2 beats random R1 by +0.80 points (one seed: no spread known)");
  const nas::json j = nas::report::report_to_json(r, nas::json::object());
  CHECK(j["claims"][0]["paired_std_error"].is_null());
  CHECK(j["claims"][0]["within_seed_spread"].is_null());
  CHECK(j["claims"][0]["seeds"] == nas::json::array({1}));
}

TEST_CASE("arms with other seeds than the searched points: not paired, compared with the seeds' std") {
  const ParetoReport r = nas::report::build_pareto_report(inputs("retrain2", "random1", ""));
  const ArmClaim& c = r.claims.at(0);
  CHECK(c.margin_points == doctest::Approx(1.0));  // P2 72.2 (seeds 1, 2) - R1 71.2 (seed 1)
  CHECK(c.paired_differences.empty());
  CHECK_FALSE(c.paired_std_error);
  REQUIRE(c.within_seed_spread);
  CHECK_FALSE(*c.within_seed_spread);  // 1.0 > P2's std 0.28
  CHECK(c.verdict == "searched P2 beats random R1 by +1.00 points (seed std up to 0.28, not paired)");
  const nas::json j = nas::report::report_to_json(r, nas::json::object());
  CHECK(j["claims"][0]["paired_differences"].is_null());
  CHECK(j["claims"][0]["seeds"] == nas::json{{"arm", {1}}, {"searched", {1, 2}}});
}

TEST_CASE("a budget below every point of an arm: that claim says so, the other budget compares") {
  // scaled_high: its budget 100 uJ, S0 at 80 uJ; the search's budget 60 uJ.
  const ParetoReport r = nas::report::build_pareto_report(inputs("retrain2", "random", "scaled_high"));
  REQUIRE(r.claims.size() == 4);  // 60 and 100 uJ, random and scaled each
  CHECK(*r.claims[0].budget_mj == 0.06);
  CHECK(*r.claims[3].budget_mj == 0.1);
  const ArmClaim& miss = claim_of(r, "scaled", 0.06);
  CHECK(miss.searched);
  CHECK_FALSE(miss.arm_point);
  CHECK(miss.verdict == "no arm point within the budget: no claim against the scaled arm");
  const ArmClaim& hit = claim_of(r, "scaled", 0.1);
  REQUIRE(hit.compared());
  CHECK(hit.margin_points == doctest::Approx(-2.0));
  CHECK(hit.verdict == "searched P2 does not beat scaled S0: -2.00 points (paired over seeds 1, 2: -2.00 ± 0.00 SE)");
  const nas::json j = nas::report::report_to_json(r, nas::json::object());
  const nas::json& no_claim = j["claims"][1];
  CHECK(no_claim["arm"] == "scaled");
  CHECK(no_claim["arm_key"].is_null());
  CHECK(no_claim["margin_points"].is_null());
}

TEST_CASE("report.json: the arms and the claims with their field names") {
  const ParetoReport r = nas::report::build_pareto_report(inputs("retrain2", "random", "scaled"));
  const nas::json j = nas::report::report_to_json(r, nas::json::object());
  REQUIRE(j["claims"].size() == 2);
  const nas::json& c = j["claims"][0];
  std::set<std::string> names;
  for (const auto& item : c.items()) names.insert(item.key());
  for (const char* name : {"budget_mj", "arm", "searched_key", "arm_key", "margin_points", "seeds", "chosen_by",
                           "paired_differences", "paired_std_error", "within_seed_spread", "verdict"})
    CHECK_MESSAGE(names.count(name) == 1, name);
  CHECK(c["arm"] == "random");
  CHECK(c["chosen_by"] == "val_top1");
  CHECK(c["budget_mj"] == 0.06);
  CHECK(c["searched_key"] == r.points[2].key);
  CHECK(c["arm_key"] == r.arms[0].points[1].key);
  CHECK(c["seeds"] == nas::json::array({1, 2}));
  CHECK(c["within_seed_spread"] == false);
  CHECK(j["claims"][1]["within_seed_spread"] == true);

  const nas::json& random = j["arms"]["random"];
  REQUIRE(random["points"].size() == 2);
  const nas::json& r1 = random["points"][1];
  CHECK(r1["label"] == "R1");
  CHECK(r1["energy_mj"] == 0.055);
  CHECK(r1["measured_test_top1"].get<double>() == doctest::Approx(71.3));
  CHECK(r1["measured_test_top1_std"].get<double>() == doctest::Approx(0.1414214));
  CHECK(r1["measured_test_top1_by_seed"] == nas::json::array({71.2, 71.4}));
  CHECK(r1["seeds"] == nas::json::array({1, 2}));
  CHECK(r1["key"] == r.arms[0].points[1].key);
  CHECK(j["arms"]["scaled"]["points"].size() == 1);
}

TEST_CASE("no arms: no arms, no claims, and the report says so") {
  ReportInputs in = inputs("retrain2", "", "");
  const ParetoReport r = nas::report::build_pareto_report(in);
  CHECK(r.arms.empty());
  CHECK(r.claims.empty());
  const nas::json j = nas::report::report_to_json(r, nas::json::object());
  CHECK(j["arms"] == nas::json::object());
  CHECK(j["claims"] == nas::json::array());
}

TEST_CASE("arm_pareto_file: the summary's pareto.file, relative to the summary, or the pipeline's layout") {
  // scaled: pareto.file "../pareto.json", relative to the summary's folder.
  CHECK(fs::equivalent(nas::report::arm_pareto_file(kArms + "/scaled/retrain"), kArms + "/scaled/pareto.json"));
  // random: an absolute pareto.file that is gone; DIR/../pareto.json is the file.
  CHECK(fs::equivalent(nas::report::arm_pareto_file(kArms + "/random/retrain"), kArms + "/random/pareto.json"));
}

TEST_CASE("arm inputs that do not compare: one error naming the file") {
  // A summary cut short.
  std::string e = error_of(inputs("retrain2", "", "scaled_bad"));
  CHECK(e.find("scaled_bad/retrain/retrain_summary.json") != std::string::npos);
  // No summary at all.
  e = error_of(inputs("retrain2", "nowhere", ""));
  CHECK(e.find("nowhere/retrain/retrain_summary.json does not exist (nas_retrain --pareto") != std::string::npos);
  // The scaled arm given as the random one.
  e = error_of(inputs("retrain2", "scaled", ""));
  CHECK(e.find("scaled/pareto.json has objective \"scaled\", not \"random\"") != std::string::npos);

  // Another energy model (a copy of the scaled arm at 8 bit, its summary's fingerprint updated).
  nas_test::TempDir tmp("report_arms_energy_model");
  nas::json pareto = nas::parse_json_text(read_text(kArms + "/scaled/pareto.json"), "pareto");
  pareto["energy_model"]["bits"] = 8;
  const std::string pareto_text = pareto.dump(2) + "\n";
  write_text(tmp / "scaled/pareto.json", pareto_text);
  nas::json summary =
      nas::parse_json_text(read_text(kArms + "/scaled/retrain/retrain_summary.json"), "summary");
  summary["pareto"]["fingerprint"] = nas::fnv1a64_text(pareto_text);
  write_text(tmp / "scaled/retrain/retrain_summary.json", summary.dump(2) + "\n");
  ReportInputs in = inputs("retrain2", "", "");
  in.scaled_dir = tmp / "scaled/retrain";
  e = error_of(in);
  CHECK(e.find("the scaled arm's energy model") != std::string::npos);
  CHECK(e.find("the energies do not compare") != std::string::npos);
  // The same file unchanged reads (the check above fails on the energy model alone).
  pareto["energy_model"]["bits"] = 32;
  const std::string same_text = pareto.dump(2) + "\n";
  write_text(tmp / "scaled/pareto.json", same_text);
  summary["pareto"]["fingerprint"] = nas::fnv1a64_text(same_text);
  write_text(tmp / "scaled/retrain/retrain_summary.json", summary.dump(2) + "\n");
  CHECK(error_of(in).empty());
}
