// bench_energy: how fast the energy model costs an mbv2-tiny-sized network (MobileNetV2 width
// 0.35 at 32x32), single-threaded. Prints JSON with a context block:
//   cold_ms      whole network, empty cache (every layer runs the tiling search)
//   warm_ms      whole network, full EnergyReport, from a warm cache
//   archs_per_s  distinct architectures of the default search space per second, total energy
//                from a warm cache (the search's hot path; LayerSpec lists built beforehand)
// Each figure is the median of --repeats runs.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli_common.h"
#include "core/progress.h"
#include "core/error.h"
#include "core/json_util.h"
#include "core/rng.h"
#include "predictors/energy_model.h"
#include "predictors/energy_table.h"
#include "search_space/arch_config.h"
#include "search_space/arch_layers.h"
#include "search_space/arch_space.h"
#include "search_space/named_archs.h"

namespace {

constexpr const char* kProgram = "bench_energy";
using Clock = std::chrono::steady_clock;


// Keeps results alive so the timed calls are not optimised away.
volatile double g_sink = 0;

int run(int argc, char** argv) {
  namespace po = nas::cli::po;
  nas::cli::CommonFlags common;
  int repeats = 7, archs = 2000, resolution = 32;
  std::string model_name, table_path;
  po::options_description desc("Options");
  desc.add_options()
      ("repeats", po::value<int>(&repeats)->default_value(7), "runs per figure (median)")
      ("archs", po::value<int>(&archs)->default_value(2000), "distinct architectures for archs_per_s")
      ("resolution", po::value<int>(&resolution)->default_value(32), "input resolution")
      ("model", po::value<std::string>(&model_name)->default_value("eyeriss"), "eyeriss | unit")
      ("energy-table", po::value<std::string>(&table_path), "energy table JSON");
  nas::cli::add_common_flags(desc, common, nas::cli::kJson | nas::cli::kSeed);
  po::variables_map vm;
  if (!nas::cli::parse_flags(argc, argv, kProgram, "energy model speed (single-threaded)", desc, vm))
    return 0;
  NAS_CHECK(repeats >= 1, "--repeats must be >= 1, got " << repeats);
  NAS_CHECK(archs >= 1, "--archs must be >= 1, got " << archs);

  const nas::EnergyTable table = nas::resolve_energy_table(table_path);
  nas::EnergyModelOptions options;
  options.tier = nas::parse_energy_tier(model_name);

  // The reference network: mbv2-tiny, multiplication-free (shift) blocks.
  nas::ArchConfig tiny = nas::named_arch("mbv2-tiny", resolution, 3, 10);
  nas::set_all_ops(tiny, nas::OpKind::Shift);
  const std::vector<nas::LayerSpec> tiny_layers = nas::to_layer_specs(tiny);

  // Cold: a fresh model (empty cache) per run.
  std::vector<double> cold_ms;
  double energy_mj = 0;
  int64_t searches = 0;
  for (int r = 0; r < repeats; ++r) {
    nas::EnergyModel model(table, options);
    const auto start = Clock::now();
    const nas::EnergyReport report = model.report(tiny_layers);
    cold_ms.push_back(nas::seconds_since(start) * 1e3);
    energy_mj = report.total_energy_mj;
    searches = model.layer_evaluations();
  }

  // Warm: full report of the same network from a warm cache.
  nas::EnergyModel warm_model(table, options);
  warm_model.report(tiny_layers);
  std::vector<double> warm_ms;
  for (int r = 0; r < repeats; ++r) {
    const int calls = 2000;
    const auto start = Clock::now();
    for (int i = 0; i < calls; ++i) g_sink = g_sink + warm_model.report(tiny_layers).total_energy_mj;
    warm_ms.push_back(nas::seconds_since(start) * 1e3 / calls);
  }

  // Throughput over distinct architectures of the default space around mbv2-tiny.
  const nas::ArchSpace space = nas::default_space(resolution, 3, 10);
  nas::Rng rng(common.seed);
  std::vector<std::vector<nas::LayerSpec>> nets;
  std::vector<std::string> keys;
  while (static_cast<int>(nets.size()) < archs) {
    const nas::ArchConfig a = space.sample(rng);
    keys.push_back(a.key());
    nets.push_back(nas::to_layer_specs(a));
  }
  std::sort(keys.begin(), keys.end());
  const auto distinct = std::unique(keys.begin(), keys.end()) - keys.begin();
  size_t layers_total = 0;
  for (const auto& n : nets) layers_total += n.size();

  nas::EnergyModel search_model(table, options);
  const auto fill_start = Clock::now();
  for (const auto& n : nets) search_model.total_energy_mj(n);
  const double fill_s = nas::seconds_since(fill_start);
  std::vector<double> archs_per_s, report_archs_per_s;
  for (int r = 0; r < repeats; ++r) {
    auto start = Clock::now();
    int passes = 0;
    do {
      for (const auto& n : nets) g_sink = g_sink + search_model.total_energy_mj(n);
      ++passes;
    } while (nas::seconds_since(start) < 0.2);
    archs_per_s.push_back(static_cast<double>(passes) * nets.size() / nas::seconds_since(start));
    start = Clock::now();
    for (const auto& n : nets) g_sink = g_sink + search_model.report(n).total_energy_mj;
    report_archs_per_s.push_back(nets.size() / nas::seconds_since(start));
  }

  nas::json out;
  out["context"] = nas::make_context(nas::cli::make_run_context(kProgram, argc, argv, common));
  out["context"]["threads"] = 1;
  out["network"] = {{"arch", "mbv2-tiny"},
                    {"ops", "shift"},
                    {"resolution", resolution},
                    {"layers", tiny_layers.size()},
                    {"energy_mj", energy_mj},
                    {"tiling_searches", searches}};
  out["model"] = {{"tier", model_name}, {"table", nas::energy_table_summary(table)}};
  out["repeats"] = repeats;
  out["cold_ms"] = nas::cli::median(cold_ms);
  out["cold_ms_runs"] = cold_ms;
  out["warm_ms"] = nas::cli::median(warm_ms);
  out["archs_per_s"] = nas::cli::median(archs_per_s);
  out["archs_per_s_full_report"] = nas::cli::median(report_archs_per_s);
  out["archs"] = {{"sampled", nets.size()},
                  {"distinct", distinct},
                  {"mean_layers", static_cast<double>(layers_total) / nets.size()},
                  {"distinct_layers", search_model.cache_size()},
                  {"cache_fill_s", fill_s},
                  {"space", "default_space(" + std::to_string(resolution) + ", 3, 10)"}};
  out["targets"] = {{"cold_ms_max", 200}, {"archs_per_s_min", 100000}};
  std::cout << out.dump(2) << "\n";
  if (!common.json_path.empty()) nas::write_json_file(common.json_path, out);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nas::cli::guarded_main(kProgram, [&] { return run(argc, argv); });
}
