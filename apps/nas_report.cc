// nas_report: the Pareto report of a search and its retraining (issue 11): predicted vs measured
// top-1, the measured front, the best network under the budget and the hand-made baselines it
// beats (logic and formats: report/pareto_report.h).
//
//   nas_report --search SEARCH_DIR --retrain RETRAIN_DIR [--baselines TABLE.json] --out report.json
//              [--random ARM_RETRAIN_DIR] [--scaled ARM_RETRAIN_DIR] [--svg report.svg] [--plot report.png]
//
// --random / --scaled: the baseline arms' retraining directories (nas_retrain --pareto of nas_arms'
// pareto.json, same recipe and seeds): their points, and the claims searched best vs arm best per
// budget (report/pareto_report.h, "Arms").
// Writes --out (JSON with a context block) and the Markdown summary beside it (same stem, .md),
// then --svg and --plot (a PNG drawn by plot_report.py with matplotlib, found in the installed data
// directory: report/plot_png.h). A PNG that cannot be drawn is an error after the other files are
// written.
#include <filesystem>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "cli/cli_common.h"
#include "cli/output_guards.h"
#include "report/pareto_report.h"
#include "report/plot_png.h"
#include "report/report_json.h"
#include "report/report_markdown.h"
#include "report/report_svg.h"
#include "report/report_text.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_util.h"

namespace {

namespace po = nas::cli::po;
namespace fs = std::filesystem;

constexpr const char* kProgram = "nas_report";

int run(int argc, char** argv) {
  nas::cli::CommonFlags common;
  nas::report::ReportInputs inputs;
  std::string out, svg, png;
  po::options_description desc("Options");
  desc.add_options()
      ("search", po::value(&inputs.search_dir)->required(), "nas_search --out directory (holds pareto.json)")
      ("retrain", po::value(&inputs.retrain_dir)->required(), "nas_retrain --pareto --out directory (holds retrain_summary.json)")
      ("baselines", po::value(&inputs.baselines_file), "results table of hand-made networks, e.g. results/shiftaddaug/fashion-mnist.json (rows with remap \"none\")")
      ("random", po::value(&inputs.random_dir), "the random arm: nas_retrain --pareto --out directory of nas_arms --arm random's pareto.json")
      ("scaled", po::value(&inputs.scaled_dir), "the scaled arm: nas_retrain --pareto --out directory of nas_arms --arm scaled's pareto.json")
      ("out", po::value(&out)->required(), "report JSON file; the Markdown summary goes beside it (same stem, .md)")
      ("svg", po::value(&svg), "also draw the plot as SVG to this file")
      ("plot", po::value(&png), "also draw the plot as PNG to this file (python3 + matplotlib; scripts/plot_report.py)");
  po::variables_map vm;
  if (!nas::cli::parse_flags(argc, argv, kProgram,
                             "report of a search and its retraining: predicted vs measured, the best network under "
                             "the budget, the baselines it beats",
                             desc, vm))
    return 0;
  const std::string md = fs::path(out).replace_extension(".md").string();
  NAS_CHECK(md != out, "--out " << out << ": the Markdown summary would overwrite it; name the report .json");
  std::vector<nas::InputPath> input_paths = {{"--search", inputs.search_dir, true},
                                             {"--retrain", inputs.retrain_dir, true},
                                             {"--baselines", inputs.baselines_file}};
  // An arm's pareto.json may lie outside its directory (the summary names it).
  for (const auto& [flag, dir] : {std::pair<std::string, std::string>{"--random", inputs.random_dir},
                                  std::pair<std::string, std::string>{"--scaled", inputs.scaled_dir}}) {
    if (dir.empty()) continue;
    input_paths.push_back({flag, dir, true});
    input_paths.push_back({flag + " (its pareto.json)", nas::report::arm_pareto_file(dir)});
  }
  const nas::cli::OutputGuard guard = nas::cli::guard_outputs(
      kProgram, {{"--out", out}, {"--out (its .md)", md}, {"--svg", svg}, {"--plot", png}}, input_paths);

  nas::report::ParetoReport report = nas::report::build_pareto_report(inputs);
  const std::string pareto_file = report.pareto_file;
  nas::report::make_paths_relative(report, out);
  const nas::json context = nas::make_context(nas::cli::make_run_context(kProgram, argc, argv, common));
  nas::write_json_file(out, nas::report::report_to_json(report, context));
  nas::write_file_atomic(md, nas::report::report_to_markdown(report));
  std::cout << kProgram << ": " << report.retrained_count() << " of " << report.points.size()
            << " points retrained; wrote " << out << " and " << md << "\n";
  for (const nas::report::ArmClaim& claim : report.claims) 
    std::cout << kProgram << ": claim"
              << (claim.budget_mj ? " at <= " + nas::report::energy_text(*claim.budget_mj) : std::string()) << ": "
              << claim.verdict << "\n";
  if (!svg.empty()) {
    nas::write_file_atomic(svg, nas::report::report_to_svg(report));
    std::cout << kProgram << ": wrote " << svg << "\n";
  }
  if (!png.empty()) {
    nas::report::render_png(out, pareto_file, png);
    std::cout << kProgram << ": wrote " << png << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nas::cli::guarded_main(kProgram, [&] { return run(argc, argv); });
}
