// The LibTorch accuracy predictor (predictors/accuracy_predictor.h, issue 10): it learns a known
// accuracy function of the architecture, its file round-trips bit for bit, and damaged files or
// another space are one-line errors. (Built into test_supernet, the suite's LibTorch test.)
#include <torch/types.h>
#include <torch/utils.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/rng.h"
#include "predictors/accuracy_dataset.h"
#include "predictors/accuracy_predictor.h"
#include "search_space/arch_space.h"

namespace {

// A smooth, known accuracy of an architecture (more width, resolution, depth, kernel, expand and
// more adders -> higher), the kind of signal a supernet gives.
double synthetic_top1(const nas::ArchConfig& arch) {
  double score = 30.0 + 40.0 * arch.width_mult + 0.2 * arch.resolution;
  for (const auto& stage : arch.stages)
    for (const auto& block : stage.blocks)
      score += 0.1 + 0.05 * block.kernel + 0.1 * block.expand + (block.op == nas::OpKind::Add ? 0.2 : 0.0);
  return score;  // 46-82 % over the default space
}

std::vector<nas::AccuracyRecord> records(const nas::ArchSpace& space, int n, uint64_t seed) {
  nas::Rng rng(seed);
  std::vector<nas::AccuracyRecord> out;
  for (int i = 0; i < n; ++i) {
    const nas::ArchConfig arch = space.sample(rng);
    out.push_back(nas::make_accuracy_record(space, arch, synthetic_top1(arch), 0.0));
  }
  return out;
}

nas::PredictorTrainOptions quick_options() {
  nas::PredictorTrainOptions o;
  o.epochs = 40;
  o.seed = 3;
  return o;
}

}  // namespace

TEST_CASE("accuracy predictor: learns a known accuracy function (held-out tau >= 0.7)") {
  torch::set_num_threads(2);
  const nas::ArchSpace space = nas::default_space(28, 1, 10);
  const auto train = records(space, 400, 1), val = records(space, 50, 2), holdout = records(space, 100, 3);
  std::vector<double> val_rmse;
  const nas::AccuracyPredictor p =
      nas::AccuracyPredictor::train(space, train, val, quick_options(), [&](int, double, double v) { val_rmse.push_back(v); });
  CHECK(val_rmse.size() == 40);
  CHECK(val_rmse.back() < val_rmse.front());
  const nas::PredictorEvaluation e = nas::evaluate_predictor(p, holdout);
  MESSAGE("held-out rmse " << e.rmse_top1 << " pt, tau " << e.kendall_tau << " (MACs alone " << e.macs_kendall_tau << ")");
  CHECK(e.count == 100);
  CHECK(e.kendall_tau >= 0.7);
  CHECK(e.rmse_top1 < 5.0);
  // The kept epoch is the best on validation.
  CHECK(p.meta()["val_rmse_top1"].get<double>() == doctest::Approx(*std::min_element(val_rmse.begin(), val_rmse.end())));
  // Predictions are fractions in [0, 1].
  for (double v : p.predict({space.smallest(), space.largest()})) CHECK((v >= 0.0 && v <= 1.0));

  SUBCASE("same seed, same predictor; the file round-trips bit for bit") {
    const nas::AccuracyPredictor again = nas::AccuracyPredictor::train(space, train, val, quick_options());
    CHECK(again.to_bytes() == p.to_bytes());
    const std::string path = (std::filesystem::temp_directory_path() / "nas_test_predictor.pt").string();
    p.save(path);
    const nas::AccuracyPredictor loaded = nas::AccuracyPredictor::load(path);
    std::vector<nas::ArchConfig> archs;
    for (const auto& r : holdout) archs.push_back(r.arch);
    CHECK(loaded.predict(archs) == p.predict(archs));
    CHECK(loaded.describe()["file"] == path);
    CHECK(loaded.describe()["fingerprint"] == space.fingerprint());
    CHECK_NOTHROW(loaded.check_space(space, "test"));

    nas::ArchSpace other = space;
    other.widths = {0.25, 0.5};
    CHECK_THROWS_WITH_AS(loaded.check_space(other, "--predictor x"),
                         doctest::Contains("--predictor x: the predictor was trained for space fnv1a64:"), nas::Error);
    nas::ArchConfig outside = space.largest();
    outside.width_mult = 0.75;
    CHECK_THROWS_WITH_AS(loaded.predict({outside}), doctest::Contains("not in the predictor's space"), nas::Error);

    std::string bytes = nas::read_file(path);
    bytes[bytes.size() / 2] ^= 0x10;
    nas::write_file_atomic(path, bytes);
    CHECK_THROWS_WITH_AS(nas::AccuracyPredictor::load(path), doctest::Contains("checksum mismatch"), nas::Error);
    nas::write_file_atomic(path, bytes.substr(0, 100));
    CHECK_THROWS_WITH_AS(nas::AccuracyPredictor::load(path), doctest::Contains("corrupt or truncated"), nas::Error);
    nas::write_file_atomic(path, "not a predictor at all, just text");
    CHECK_THROWS_WITH_AS(nas::AccuracyPredictor::load(path), doctest::Contains("not an accuracy predictor"), nas::Error);
    std::filesystem::remove(path);
  }
}
