// nas_report: the Pareto report of a search and its retraining (issue 11): predicted vs measured
// top-1, the measured front, the best network under the budget and the hand-made baselines it
// beats (logic and formats: report/pareto_report.h).
//
//   nas_report --search SEARCH_DIR --retrain RETRAIN_DIR [--baselines TABLE.json] --out report.json
//              [--svg report.svg] [--plot report.png]
//
// Writes --out (JSON with a context block) and the Markdown summary beside it (same stem, .md),
// then --svg and --plot (a PNG drawn by plot_report.py with matplotlib, found in the installed data
// directory: report/plot_png.h). A PNG that cannot be drawn is an error after the other files are
// written.
#include <filesystem>
#include <iostream>
#include <string>

#include "cli/cli_common.h"
#include "cli/output_guards.h"
#include "report/pareto_report.h"
#include "report/plot_png.h"
#include "report/report_json.h"
#include "report/report_markdown.h"
#include "report/report_svg.h"
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
  const nas::cli::OutputGuard guard = nas::cli::guard_outputs(
      kProgram, {{"--out", out}, {"--out (its .md)", md}, {"--svg", svg}, {"--plot", png}},
      {{"--search", inputs.search_dir, true}, {"--retrain", inputs.retrain_dir, true},
       {"--baselines", inputs.baselines_file}});

  nas::report::ParetoReport report = nas::report::build_pareto_report(inputs);
  const std::string pareto_file = report.pareto_file;
  nas::report::make_paths_relative(report, out);
  const nas::json context = nas::make_context(nas::cli::make_run_context(kProgram, argc, argv, common));
  nas::write_json_file(out, nas::report::report_to_json(report, context));
  nas::write_file_atomic(md, nas::report::report_to_markdown(report));
  std::cout << kProgram << ": " << report.retrained_count() << " of " << report.points.size()
            << " points retrained; wrote " << out << " and " << md << "\n";
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
