// workflow/: the pure parts of the programs' work (which Pareto points are retrained). Torch-free.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "workflow/point_selection.h"

namespace {

using nas::workflow::PointSelection;
using nas::workflow::SelectablePoint;

// Five points of a front: energy up, predicted top-1 up, with a tie at the top.
const std::vector<SelectablePoint> kFront = {
    {"A", 70.0, 0.010}, {"B", 72.0, 0.020}, {"C", 73.0, 0.040}, {"D", 75.0, 0.080}, {"E", 75.0, 0.160}};

}  // namespace

TEST_CASE("point selection: --top takes the best predicted, ties to the cheaper, in file order") {
  CHECK(nas::workflow::select_points(kFront, PointSelection{2, 0, {}}, "p.json") == std::vector<size_t>{3, 4});
  CHECK(nas::workflow::select_points(kFront, PointSelection{1, 0, {}}, "p.json") == std::vector<size_t>{3});
  CHECK(nas::workflow::select_points(kFront, PointSelection{9, 0, {}}, "p.json").size() == 5);
  CHECK(PointSelection{2, 0, {}}.name() == "top 2");
}

TEST_CASE("point selection: --spread takes the nearest to log-spaced energies, ends included") {
  // log energies are evenly spaced here: 3 targets hit A, C and E exactly.
  CHECK(nas::workflow::select_points(kFront, PointSelection{0, 3, {}}, "p.json") == std::vector<size_t>{0, 2, 4});
  CHECK(nas::workflow::select_points(kFront, PointSelection{0, 1, {}}, "p.json") == std::vector<size_t>{4});
  CHECK(nas::workflow::select_points(kFront, PointSelection{0, 5, {}}, "p.json").size() == 5);
  CHECK(PointSelection{0, 3, {}}.name() == "spread 3");
}

TEST_CASE("point selection: --keys keeps the given order, each point once, and names a stranger") {
  CHECK(nas::workflow::select_points(kFront, PointSelection{0, 0, {"D", "A", "D"}}, "p.json") ==
        std::vector<size_t>{3, 0});
  CHECK_THROWS_WITH_AS(nas::workflow::select_points(kFront, PointSelection{0, 0, {"Z"}}, "p.json"),
                       doctest::Contains("--keys: \"Z\" is not a point of p.json"), nas::Error);
  CHECK(nas::workflow::select_points(kFront, PointSelection{}, "p.json").size() == 5);
  CHECK(PointSelection{}.name() == "all");
}
