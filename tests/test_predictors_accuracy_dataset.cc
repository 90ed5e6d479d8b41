// The accuracy predictor's data set file and the ranking statistics (torch-free parts of the
// accuracy predictor, issue 10).
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/append_file.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/rng.h"
#include "predictors/accuracy_dataset.h"
#include "predictors/ranking_stats.h"
#include "search_space/arch_space.h"

namespace {

std::string dataset_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("nas_test_accdata_" + name + ".jsonl")).string();
}

// A data set of `n` sampled architectures of the default 28 px space with made-up accuracies.
nas::ArchSpace write_dataset(const std::string& path, int n, uint64_t seed = 1) {
  const nas::ArchSpace space = nas::default_space(28, 1, 10);
  nas::AppendFile file(path, 0);
  nas::AccuracyDatasetHeader header;
  header.space = space;
  header.source = {{"test", true}};
  file.append(header.to_line() + "\n");
  nas::Rng rng(seed);
  for (int i = 0; i < n; ++i) {
    const nas::ArchConfig arch = space.sample(rng);
    file.append(nas::make_accuracy_record(space, arch, 50.0 + i, 0.01 * (i + 1)).to_line() + "\n");
  }
  return space;
}

}  // namespace

TEST_CASE("kendall_tau: tau-b, ties, degenerate input") {
  CHECK(nas::kendall_tau({1, 2, 3, 4, 5}, {2, 4, 6, 8, 10}) == doctest::Approx(1.0));
  CHECK(nas::kendall_tau({1, 2, 3, 4, 5}, {5, 4, 3, 2, 1}) == doctest::Approx(-1.0));
  // 4 concordant, 0 discordant, one tie in each sequence: 4 / sqrt(5 * 5) (scipy: 0.8).
  CHECK(nas::kendall_tau({1, 2, 2, 3}, {1, 2, 3, 3}) == doctest::Approx(0.8));
  // 1 2 3 4 vs 1 3 2 4: 5 concordant, 1 discordant -> 4/6.
  CHECK(nas::kendall_tau({1, 2, 3, 4}, {1, 3, 2, 4}) == doctest::Approx(4.0 / 6.0));
  CHECK(std::isnan(nas::kendall_tau({1, 1, 1}, {1, 2, 3})));
  CHECK(std::isnan(nas::kendall_tau({1}, {1})));
  CHECK_THROWS_AS(nas::kendall_tau({1, 2}, {1}), nas::Error);
  CHECK(nas::rmse({1, 2, 3}, {1, 2, 5}) == doctest::Approx(std::sqrt(4.0 / 3.0)));
  CHECK_THROWS_AS(nas::rmse({}, {}), nas::Error);
}

TEST_CASE("accuracy data set: round trip, incomplete last line, checksums, bounds") {
  const std::string path = dataset_path("roundtrip");
  const nas::ArchSpace space = write_dataset(path, 5);
  const nas::AccuracyDataset d = nas::read_accuracy_dataset(path);
  REQUIRE(d.records.size() == 5);
  CHECK(d.header.space.fingerprint() == space.fingerprint());
  CHECK(d.header.source["test"] == true);
  CHECK(d.records[2].val_top1 == 52.0);
  CHECK(d.records[2].encoding == space.encode(d.records[2].arch));
  CHECK(d.records[2].key == d.records[2].arch.key());
  CHECK(d.records[2].macs > 0);
  CHECK_FALSE(d.dropped_incomplete_line);
  CHECK(d.complete_bytes == std::filesystem::file_size(path));

  SUBCASE("a killed writer's half line is dropped, and appending after the cut continues the file") {
    const std::string text = nas::read_file(path);
    nas::write_file_atomic(path, text + text.substr(text.find('\n') + 1, 40));  // half a record, no newline
    const nas::AccuracyDataset cut = nas::read_accuracy_dataset(path);
    CHECK(cut.dropped_incomplete_line);
    CHECK(cut.records.size() == 5);
    CHECK(cut.complete_bytes == text.size());
    {
      nas::AppendFile file(path, cut.complete_bytes);
      nas::Rng rng(99);
      file.append(nas::make_accuracy_record(space, space.sample(rng), 70.0, 0.5).to_line() + "\n");
    }
    const nas::AccuracyDataset more = nas::read_accuracy_dataset(path);
    CHECK(more.records.size() == 6);
    CHECK_FALSE(more.dropped_incomplete_line);
  }
  SUBCASE("a changed value fails its line's checksum, named by line") {
    std::string text = nas::read_file(path);
    const size_t pos = text.find("\"val_top1\":52");
    REQUIRE(pos != std::string::npos);
    text.replace(pos, 13, "\"val_top1\":99");
    nas::write_file_atomic(path, text);
    CHECK_THROWS_WITH_AS(nas::read_accuracy_dataset(path), doctest::Contains(":4: checksum mismatch"), nas::Error);
  }
  SUBCASE("a duplicated record is an error") {
    std::string text = nas::read_file(path);
    const size_t second = text.find('\n') + 1, end = text.find('\n', second) + 1;
    nas::write_file_atomic(path, text + text.substr(second, end - second));
    CHECK_THROWS_WITH_AS(nas::read_accuracy_dataset(path), doctest::Contains(":7: duplicate architecture"), nas::Error);
  }
  SUBCASE("not a data set / no header / other version") {
    nas::write_file_atomic(path, "{\"format\": \"x\"}\n");
    CHECK_THROWS_WITH_AS(nas::read_accuracy_dataset(path), doctest::Contains("no checksum"), nas::Error);
    nas::write_file_atomic(path, "");
    CHECK_THROWS_WITH_AS(nas::read_accuracy_dataset(path), doctest::Contains("no header line"), nas::Error);
    nas::write_file_atomic(path, std::string(nas::kMaxAccuracyLineBytes + 10, '['));
    CHECK_THROWS_WITH_AS(nas::read_accuracy_dataset(path), doctest::Contains("line longer than"), nas::Error);
  }
  SUBCASE("a record outside the header's space is refused") {
    // Header of a space with another width, records of the default space.
    nas::ArchSpace other = space;
    other.widths = {0.75};
    std::string text = nas::read_file(path);
    nas::AccuracyDatasetHeader h;
    h.space = other;
    nas::write_file_atomic(path, h.to_line() + "\n" + text.substr(text.find('\n') + 1));
    CHECK_THROWS_WITH_AS(nas::read_accuracy_dataset(path), doctest::Contains("not in the data set's space"), nas::Error);
  }
  std::filesystem::remove(path);
}
