// workflow/recipe_rule.h: which --aug the evidence supports (issue 33). Torch-free.
#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "temp_dir.h"
#include "workflow/recipe_rule.h"

namespace {

using nas::workflow::choose_recipe;
using nas::workflow::RecipeEvidence;

// A study point as gap_vs_epochs.py writes it.
std::string study_point(const std::string& dataset, const std::string& op, int epochs, const std::string& metric,
                        const std::string& split, const std::string& seeds, const std::string& mean,
                        const std::string& std_error, const std::string& family = "micro") {
  return "{\"source\": \"s-" + op + "-" + std::to_string(epochs) + "\", \"dataset\": \"" + dataset + "\", \"family\": \"" +
         family + "\", \"op\": \"" + op + "\", \"metric\": \"" + metric + "\", \"epochs\": " + std::to_string(epochs) +
         ", \"split\": \"" + split + "\", \"seeds\": " + seeds + ", \"mean\": " + mean + ", \"std_error\": " + std_error +
         "}";
}

std::string write_study(const nas_test::TempDir& tmp, const std::vector<std::string>& points) {
  std::string text = "{\"points\": [";
  for (size_t i = 0; i < points.size(); ++i) text += (i ? ", " : "") + points[i];
  text += "]}";
  const std::string path = tmp / "gap-vs-epochs.json";
  std::ofstream(path) << text;
  return path;
}

// Shift pays from 100 epochs on cifar10 (validation), not at 30; Add never measured past 30.
std::vector<RecipeEvidence> fixture_evidence(const nas_test::TempDir& tmp) {
  const std::string full = "full-split run";
  return nas::workflow::read_recipe_evidence(write_study(
      tmp, {study_point("cifar10", "Shift", 30, "val_top1", full, "[1, 2]", "-0.11", "0.53"),
            study_point("cifar10", "Shift", 100, "val_top1", full, "[1, 2]", "1.50", "0.30"),
            study_point("cifar10", "Shift", 100, "test_top1", full, "[1, 2]", "-3.0", "0.1"),  // test: never used
            study_point("cifar10", "Shift", 60, "val_top1", full, "[1]", "9.0", "null"),       // one seed: unused
            study_point("cifar10", "Shift", 50, "val_top1", "validation-only grid run", "[1, 2]", "9.0", "0.1"),
            study_point("cifar10", "Shift", 40, "val_top1", full, "[1, 2]", "9.0", "0.1", "tiny-issue3"),
            study_point("fashion-mnist", "Shift", 15, "val_top1", full, "[1, 2]", "0.90", "0.20"),
            study_point("cifar10", "Add", 30, "val_top1", full, "[1, 2]", "0.17", "0.67")}));
}

}  // namespace

TEST_CASE("read_recipe_evidence keeps the current trainer's validation points with two seeds and an error") {
  const nas_test::TempDir tmp("nas_test_recipe_read");
  const std::vector<RecipeEvidence> evidence = fixture_evidence(tmp);
  REQUIRE(evidence.size() == 4);
  CHECK(evidence[0].op == "Shift");
  CHECK(evidence[0].epochs == 30);
  CHECK(evidence[0].paired_seeds == 2);
  CHECK(evidence[0].mean_points == doctest::Approx(-0.11));
  CHECK(evidence[1].std_error_points == doctest::Approx(0.30));
  CHECK(evidence[2].dataset == "fashion-mnist");
  CHECK(evidence[3].op == "Add");
}

TEST_CASE("choose_recipe: augmentation where the longest measured schedule <= the epochs shows a gain above 2 SE") {
  const nas_test::TempDir tmp("nas_test_recipe_rule");
  const std::vector<RecipeEvidence> evidence = fixture_evidence(tmp);
  // 30 <= epochs < 100: the 30-epoch point decides, -0.11 +- 0.53 -> none.
  CHECK(choose_recipe(evidence, {"shift"}, 30, "cifar10", "").aug == "none");
  CHECK(choose_recipe(evidence, {"shift"}, 99, "cifar10", "auto").aug == "none");
  // From 100 epochs: +1.50 +- 0.30 > 2 SE -> shiftaddaug, and the reason quotes it.
  const nas::workflow::RecipeChoice at_100 = choose_recipe(evidence, {"shift"}, 150, "cifar10", "auto");
  CHECK(at_100.aug == "shiftaddaug");
  CHECK(at_100.chosen_by == "rule");
  CHECK(at_100.reason.find("+1.50 +- 0.30") != std::string::npos);
  CHECK(at_100.reason.find("cifar10 100 epochs") != std::string::npos);
  // Below every measured schedule: no evidence -> the cheaper recipe.
  const nas::workflow::RecipeChoice short_run = choose_recipe(evidence, {"shift"}, 10, "cifar10", "auto");
  CHECK(short_run.aug == "none");
  CHECK(short_run.reason.find("no Shift measurement at <= 10 epochs") != std::string::npos);
  // The data set's own evidence first: fashion-mnist's 15-epoch point (+0.90 +- 0.20) decides
  // there even at 150 epochs; another data set falls back to every data set's (cifar10 100 ep).
  CHECK(choose_recipe(evidence, {"shift"}, 150, "fashion-mnist", "auto").reason.find("fashion-mnist 15 epochs") !=
        std::string::npos);
  CHECK(choose_recipe(evidence, {"shift"}, 150, "cifar100", "auto").aug == "shiftaddaug");
}

TEST_CASE("choose_recipe: every multiplication-free op of the network must gain, and an explicit --aug wins") {
  const nas_test::TempDir tmp("nas_test_recipe_ops");
  const std::vector<RecipeEvidence> evidence = fixture_evidence(tmp);
  CHECK(choose_recipe(evidence, {"shift", "mult"}, 150, "cifar10", "auto").aug == "shiftaddaug");
  CHECK(choose_recipe(evidence, {"shift", "add"}, 150, "cifar10", "auto").aug == "none");  // Add: +0.17 +- 0.67
  CHECK(choose_recipe(evidence, {"mult"}, 150, "cifar10", "auto").aug == "none");
  for (const std::string given : {"shiftaddaug", "none"}) {
    const nas::workflow::RecipeChoice explicit_choice = choose_recipe(evidence, {"add"}, 5, "cifar10", given);
    CHECK(explicit_choice.aug == given);
    CHECK(explicit_choice.chosen_by == "--aug");
  }
  CHECK_THROWS_WITH_AS(choose_recipe(evidence, {"shift"}, 30, "cifar10", "netaug"),
                       doctest::Contains("unknown --aug 'netaug' (accepted: auto, shiftaddaug, none)"), nas::Error);
}

TEST_CASE("read_recipe_evidence: the committed study reads, and today's evidence picks direct training") {
  const std::vector<RecipeEvidence> evidence =
      nas::workflow::read_recipe_evidence(std::string(NAS_SOURCE_DIR) + "/results/shiftaddaug/gap-vs-epochs.json");
  CHECK(evidence.size() >= 4);
  // 15 / 30 epochs: ShiftAug and AddAug were within their seeds' spread of direct training.
  CHECK(choose_recipe(evidence, {"shift"}, 30, "cifar10", "auto").aug == "none");
  CHECK(choose_recipe(evidence, {"add"}, 15, "fashion-mnist", "auto").aug == "none");
}

TEST_CASE("read_recipe_evidence refuses a malformed study with the file and the field") {
  const nas_test::TempDir tmp("nas_test_recipe_bad");
  const std::string no_points = tmp / "a.json";
  std::ofstream(no_points) << "{\"pointz\": []}";
  CHECK_THROWS_WITH_AS(nas::workflow::read_recipe_evidence(no_points), doctest::Contains("'points' array"), nas::Error);
  const std::string bad_epochs = write_study(
      tmp, {study_point("cifar10", "Shift", 0, "val_top1", "full-split run", "[1, 2]", "1.0", "0.1")});
  CHECK_THROWS_WITH_AS(nas::workflow::read_recipe_evidence(bad_epochs), doctest::Contains("'epochs' must be in"),
                       nas::Error);
}
