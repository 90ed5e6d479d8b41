// artifacts/: every committed run file reads through its one reader, writes back as it was read,
// and a damaged file is refused with one line naming the file and the field. Torch-free.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "artifacts/pareto_file.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/fnv1a.h"
#include "core/json_util.h"

namespace fs = std::filesystem;

namespace {

// Every pareto.json committed under results/ and the report fixtures.
std::vector<std::string> committed_pareto_files() {
  std::vector<std::string> files;
  for (const char* root : {NAS_SOURCE_DIR "/results", NAS_SOURCE_DIR "/tests/data/report"})
    for (const auto& entry : fs::recursive_directory_iterator(root))
      if (entry.is_regular_file() && entry.path().filename() == "pareto.json") files.push_back(entry.path().string());
  return files;
}

std::string temp_file(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("nas_test_artifacts_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return (dir / name).string();
}

// The fixture with one field of points[0] replaced.
std::string damaged_fixture(const std::string& field, const nas::json& value) {
  nas::json doc = nas::read_json_file(NAS_SOURCE_DIR "/tests/data/report/search/pareto.json");
  doc["points"][0][field] = value;
  const std::string path = temp_file("damaged_" + field + ".json");
  nas::write_json_file(path, doc);
  return path;
}

}  // namespace

TEST_CASE("artifacts: every committed pareto.json reads, and a search's writes back as it was") {
  const std::vector<std::string> files = committed_pareto_files();
  REQUIRE(files.size() >= 7);  // results/nas/* (3), results/search/* (3), diagnostics, the fixture
  size_t from_search = 0;
  for (const std::string& path : files) {
    CAPTURE(path);
    const nas::artifacts::ParetoFile file = nas::artifacts::read_pareto_file(path);
    CHECK(!file.points.empty());
    CHECK(file.fingerprint == nas::fnv1a64_text(nas::read_file(path, nas::artifacts::kMaxParetoFileBytes)));
    for (const nas::artifacts::ParetoPoint& p : file.points) {
      CHECK(p.key == p.arch.key());
      // Percent, not a fraction, in every file; a baseline arm's points are not predicted (0).
      if (file.objective == "random" || file.objective == "scaled")
        CHECK(p.predicted_top1_percent == 0.0);
      else
        CHECK(p.predicted_top1_percent > 1.0);
      CHECK(p.energy_mj > 0);
    }
    if (file.points_only) continue;
    ++from_search;
    const nas::json doc = nas::read_json_file(path);
    CHECK(nas::artifacts::pareto_file_to_json(file, doc["context"]) == doc);
  }
  CHECK(from_search + 1 == files.size());  // only results/supernet/diagnostics' list is hand-made
}

TEST_CASE("artifacts: a pareto.json written and read back is the same file") {
  const nas::artifacts::ParetoFile read =
      nas::artifacts::read_pareto_file(NAS_SOURCE_DIR "/tests/data/report/search/pareto.json");
  const std::string path = temp_file("written_pareto.json");
  nas::artifacts::write_pareto_file(path, read, nas::json{{"program", "test"}});
  const nas::artifacts::ParetoFile again = nas::artifacts::read_pareto_file(path);
  REQUIRE(again.points.size() == read.points.size());
  CHECK(again.points[0].predicted_top1_percent == read.points[0].predicted_top1_percent);
  CHECK(again.budget_mj == read.budget_mj);
  CHECK(again.population->size() == read.population->size());
  CHECK(again.supernet == read.supernet);
  CHECK(nas::artifacts::top1_percent(0.6825) == doctest::Approx(68.25));
}

TEST_CASE("artifacts: a damaged pareto.json is refused naming the file and the field") {
  CHECK_THROWS_WITH_AS(nas::artifacts::read_pareto_file(damaged_fixture("predicted_top1", 0.5 * 1000)),
                       doctest::Contains("points[0]: field 'predicted_top1' must be a top-1 in % (0..100), got 500"),
                       nas::Error);
  CHECK_THROWS_WITH_AS(nas::artifacts::read_pareto_file(damaged_fixture("energy_mj", -1)),
                       doctest::Contains("points[0]: field 'energy_mj' must be > 0"), nas::Error);
  CHECK_THROWS_WITH_AS(nas::artifacts::read_pareto_file(damaged_fixture("key", "r20")),
                       doctest::Contains("points[0]: field 'key' \"r20\" is not the key of its arch"), nas::Error);
  nas::json doc = nas::read_json_file(NAS_SOURCE_DIR "/tests/data/report/search/pareto.json");
  doc["points"][1] = doc["points"][0];
  const std::string twice = temp_file("twice.json");
  nas::write_json_file(twice, doc);
  CHECK_THROWS_WITH_AS(nas::artifacts::read_pareto_file(twice), doctest::Contains("points[1]: key"), nas::Error);
  doc.erase("budget_mj");
  nas::write_json_file(twice, doc);
  CHECK_THROWS_WITH_AS(nas::artifacts::read_pareto_file(twice), doctest::Contains("field 'budget_mj' is missing"),
                       nas::Error);
  CHECK_THROWS_WITH_AS(nas::artifacts::read_pareto_file(temp_file("nowhere.json")),
                       doctest::Contains("does not exist (nas_search --out DIR writes DIR/pareto.json)"), nas::Error);
}
