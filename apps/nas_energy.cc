// nas_energy: cost a network with the energy model and print a per-layer table and totals.
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli_common.h"
#include "cli/output_guards.h"
#include "core/energy_units.h"
#include "core/error.h"
#include "core/json_util.h"
#include "core/string_format.h"
#include "predictors/energy_model.h"
#include "predictors/energy_table.h"
#include "search_space/arch_config.h"
#include "search_space/arch_layers.h"
#include "search_space/layer_spec.h"
#include "search_space/named_archs.h"

namespace {

namespace po = nas::cli::po;

constexpr const char* kProgram = "nas_energy";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// `--arch NAME|FILE.json`: a file is taken as written (its own input size and classes); a name is
// built for --resolution / --in-channels / --num-classes.
nas::ArchConfig load_arch(const std::string& arch, const po::variables_map& vm, int resolution,
                          int in_channels, int num_classes) {
  if (ends_with(arch, ".json")) {
    for (const char* flag : {"resolution", "in-channels", "num-classes"})
      NAS_CHECK(vm[flag].defaulted(), "--" << flag << " applies to named architectures; the file "
                                           << arch << " sets its own");
    return nas::read_arch_file(arch);
  }
  return nas::named_arch(arch, resolution, in_channels, num_classes);
}

int run(int argc, char** argv) {
  nas::cli::CommonFlags common;
  std::string arch, layers_path, model_name, table_path, budget_text, op_name;
  int bits = 0, resolution = 32, in_channels = 3, num_classes = 10;
  int64_t batch = 1;
  po::options_description desc("Options");
  desc.add_options()
      ("arch", po::value<std::string>(&arch), "architecture: a name (e.g. mbv2-tiny) or an ArchConfig JSON file")
      ("resolution", po::value<int>(&resolution)->default_value(32), "input size of a named --arch")
      ("in-channels", po::value<int>(&in_channels)->default_value(3), "input channels of a named --arch")
      ("num-classes", po::value<int>(&num_classes)->default_value(10), "classes of a named --arch")
      ("op", po::value<std::string>(&op_name), "set every block and the head conv of --arch to mult | shift | add (stem and classifier keep theirs)")
      ("layers", po::value<std::string>(&layers_path), "layers file: a JSON array of {name, op, c_in, c_out, h_in, w_in, kernel, stride, padding, groups}")
      ("model", po::value<std::string>(&model_name)->default_value("eyeriss"), "energy model: eyeriss | unit")
      ("bits", po::value<int>(&bits), "precision of every layer: 32 | 8 (default: each layer's own, 32 unless the file says)")
      ("batch", po::value<int64_t>(&batch)->default_value(1), "batch size (energies are for the whole batch)")
      ("energy-table", po::value<std::string>(&table_path), "energy table JSON (default: $NAS_ENERGY_TABLE, then the built-in default_v1)")
      ("budget", po::value<std::string>(&budget_text), "energy budget per image, e.g. 10mJ, 250uJ: report whether the network fits");
  nas::cli::add_common_flags(desc, common, nas::cli::kJson);
  po::variables_map vm;
  if (!nas::cli::parse_flags(argc, argv, kProgram,
                             "cost a network with the Eyeriss-like or the unit energy model", desc,
                             vm))
    return 0;

  NAS_CHECK(arch.empty() != layers_path.empty(), "give exactly one of --arch or --layers");
  const nas::cli::OutputGuard guard = nas::cli::guard_outputs(
      kProgram, {{"--json", common.json_path}},
      {{"--layers", layers_path}, {"--arch", arch}, {"--energy-table", table_path}});
  NAS_CHECK(batch >= 1, "--batch must be >= 1, got " << batch);
  NAS_CHECK(!vm.count("bits") || bits == 32 || bits == 8, "--bits must be 32 or 8, got " << bits);
  double budget_j = -1;
  if (!budget_text.empty()) budget_j = nas::parse_energy_j(budget_text);

  nas::EnergyModelOptions options;
  options.tier = nas::parse_energy_tier(model_name);
  options.bits = bits;
  options.batch = batch;
  nas::EnergyModel model(nas::resolve_energy_table(table_path), options);

  NAS_CHECK(op_name.empty() || !arch.empty(), "--op applies to --arch only");
  std::vector<nas::LayerSpec> layers;
  nas::json input;
  if (!arch.empty()) {
    nas::ArchConfig config = load_arch(arch, vm, resolution, in_channels, num_classes);
    if (!op_name.empty()) nas::set_all_ops(config, nas::parse_op_kind(op_name));
    layers = nas::to_layer_specs(config);
    input = {{"arch", arch}, {"arch_key", config.key()}, {"arch_config", config.to_json()}};
  } else {
    layers = nas::read_layers_file(layers_path);
    // A precision the table lacks is an error of the file's layer, named as such (not the table's).
    for (size_t i = 0; i < layers.size(); ++i) {
      const int bits = model.effective_bits(layers[i]);
      NAS_CHECK(options.bits != 0 || model.table().supports_bits(bits),
                layers_path << ": layers[" << i << "]: layer '" << layers[i].name << "': field 'bits' = " << bits
                            << ", but the energy table '" << model.table().name << "' has entries for "
                            << model.table().supported_bits_text() << " bits only");
    }
    input = {{"layers_file", layers_path}};
  }

  const nas::EnergyReport report = model.report(layers);
  nas::print_report_table(std::cout, report);

  nas::json out;
  out["context"] = nas::make_context(nas::cli::make_run_context(kProgram, argc, argv, common));
  out["input"] = input;
  const nas::json report_json = nas::report_to_json(report);
  for (auto it = report_json.begin(); it != report_json.end(); ++it) out[it.key()] = *it;
  if (budget_j >= 0) {
    const double used_j = nas::mj_to_joules(report.energy_per_image_mj());
    const bool fits = used_j <= budget_j;
    std::cout << "budget: " << nas::format_energy(budget_j) << " per image: "
              << (fits ? "fits" : "EXCEEDED") << " (uses " << nas::format_energy(used_j);
    if (budget_j > 0)
      std::cout << ", " << nas::format_double(100.0 * used_j / budget_j, 1) << "% of the budget";
    std::cout << ")\n";
    out["budget"] = {{"budget_j", budget_j}, {"energy_per_image_j", used_j}, {"fits", fits}};
  }
  if (!common.json_path.empty()) nas::write_json_file(common.json_path, out);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nas::cli::guarded_main(kProgram, [&] { return run(argc, argv); });
}
