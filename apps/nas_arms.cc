// nas_arms: the baseline arms a search is compared with (issue 34; workflow/baseline_arms.h):
//   --arm random  K distinct architectures drawn from the space within the budget (seeded)
//   --arm scaled  the hand-made network (--baseline, default mbv2-micro) scaled to the budget with
//                 the space's own resolution / width / depth choices (the rule of baseline_arms.h)
// under the same energy model and budget flags as nas_search (cli/energy_flags.h).
//
// Output directory (--out): pareto.json in nas_search's format (artifacts/pareto_file.h) with
// objective "random" | "scaled", the points by energy, predicted_top1 0 (not predicted; the file's
// search.predicted_top1 says so), search {arm, seed, count, draws, ... | baseline, choice, ...},
// so that `nas_retrain --pareto DIR/pareto.json --all` retrains the arm with the searched points'
// recipe flags. With --supernet DIR the file records that supernet (nas_retrain --init supernet).
#include <filesystem>
#include <iostream>
#include <string>

#include "artifacts/pareto_file.h"
#include "cli/cli_common.h"
#include "cli/energy_flags.h"
#include "cli/output_guards.h"
#include "core/energy_units.h"
#include "core/error.h"
#include "core/json_util.h"
#include "workflow/baseline_arms.h"

namespace {

namespace po = nas::cli::po;
namespace fs = std::filesystem;

constexpr const char* kProgram = "nas_arms";

struct Flags {
  std::string arm, space, supernet, baseline = "mbv2-micro";
  nas::cli::EnergyFlags energy;
  nas::RandomArmOptions random;
};

int run(int argc, char** argv) {
  nas::cli::CommonFlags common;
  Flags f;
  po::options_description desc("Options");
  // clang-format off
  desc.add_options()
      ("arm", po::value(&f.arm), "random (K architectures drawn from the space within the budget) | scaled (the hand-made network scaled to the budget)")
      ("space", po::value(&f.space), "the search space file (space.json)")
      ("supernet", po::value(&f.supernet), "a trained supernet directory: its space.json (instead of --space), recorded for nas_retrain --init supernet");
  // clang-format on
  nas::cli::add_energy_flags(desc, f.energy);
  // clang-format off
  desc.add_options()
      ("count", po::value(&f.random.count), "--arm random: the number of architectures K (e.g. the number of retrained searched points)")
      ("max-draws", po::value(&f.random.max_draws)->default_value(f.random.max_draws), "--arm random: bound on the draws (0: 10000 per architecture)")
      ("baseline", po::value(&f.baseline)->default_value(f.baseline), "--arm scaled: the hand-made network NAME[:OP] (OP: the space's op unless given)");
  // clang-format on
  nas::cli::add_common_flags(desc, common, nas::cli::kSeed | nas::cli::kOut);
  po::variables_map vm;
  if (!nas::cli::parse_flags(argc, argv, kProgram, "the random and scaled baseline arms of a search, as a pareto.json",
                             desc, vm))
    return 0;
  NAS_CHECK(f.arm == "random" || f.arm == "scaled",
            "--arm must be random or scaled" << (f.arm.empty() ? "" : ", got " + nas::quoted_excerpt(f.arm)));
  NAS_CHECK(f.space.empty() != f.supernet.empty(), "give exactly one of --space FILE or --supernet DIR");
  NAS_CHECK(!common.out_dir.empty(), "--out DIR is required");
  NAS_CHECK(!f.energy.budget.empty() || !f.energy.budget_from_baseline.empty(),
            "an arm needs a budget: give --budget or --budget-from-baseline");
  nas::cli::check_energy_flags(f.energy);
  const bool random = f.arm == "random";
  NAS_CHECK(!random || vm.count("count"), "--arm random needs --count K");
  NAS_CHECK(random || !vm.count("count"), "--count is for --arm random");
  NAS_CHECK(random || vm["max-draws"].defaulted(), "--max-draws is for --arm random");
  NAS_CHECK(!random || vm["baseline"].defaulted(), "--baseline is for --arm scaled");
  const nas::cli::OutputGuard guard =
      nas::cli::guard_outputs(kProgram, {{"--out", common.out_dir, true, {"pareto.json"}}},
                              {{"--space", f.space},
                               {"--supernet", f.supernet, true, false, {"space.json"}},
                               {"--energy-table", f.energy.energy_table}});

  const std::string space_path = f.space.empty() ? (fs::path(f.supernet) / "space.json").string() : f.space;
  const nas::ArchSpace space = nas::read_space_file(space_path);
  const nas::EnergyModel energy_model(nas::cli::energy_table(f.energy), nas::cli::energy_model_options(f.energy));
  const nas::ModelEnergyScorer energy(energy_model);
  const nas::cli::Budget budget = nas::cli::resolve_budget(f.energy, space, energy);
  if (budget.baseline)
    std::cerr << kProgram << ": budget " << nas::format_energy_mj(budget.budget_mj) << ": " << budget.note() << "\n";
  const nas::EnergyRange range = nas::space_energy_range(space, energy, budget.budget_mj);

  std::vector<nas::ArmPoint> points;
  nas::json details = {{"budget", budget.to_json(f.energy.budget)}, {"space_fingerprint", space.fingerprint()}};
  if (random) {
    f.random.seed = common.seed;
    f.random.budget_mj = budget.budget_mj;
    nas::RandomArm arm;
    try {
      arm = nas::draw_random_arm(space, energy, f.random);
    } catch (const nas::Error& e) {
      throw nas::cli::with_flag_names(e, {"random"});
    }
    points = arm.points;
    details.update(arm.describe(f.random));
    std::cerr << kProgram << ": " << points.size() << " architectures within "
              << nas::format_energy_mj(budget.budget_mj) << " in " << arm.draws << " draws (" << arm.duplicates
              << " duplicates, " << arm.over_budget << " over the budget)\n";
  } else {
    nas::SpaceBaseline baseline;
    try {
      baseline = nas::space_baseline(f.baseline, space);
    } catch (const nas::Error& e) {
      NAS_THROW("--baseline: " << e.message());
    }
    const nas::ScaledArm arm = nas::scale_to_budget(baseline, space, energy, budget.budget_mj);
    points = {arm.point};
    details.update(arm.describe(baseline));
    std::cerr << kProgram << ": " << baseline.label() << " scaled to " << nas::format_energy_mj(budget.budget_mj)
              << ": " << arm.choice.text() << " (" << arm.fitting << " of " << arm.members
              << " members of the space fit)\n";
  }
  const std::string supernet = f.supernet.empty() ? "" : fs::absolute(f.supernet).string();
  const nas::artifacts::ParetoFile pareto =
      nas::arm_pareto_file(f.arm, points, energy_model, energy, range, space, details, supernet);
  const nas::RunContext run_context = nas::cli::make_run_context(kProgram, argc, argv, common, "cpu");
  const std::string out = (fs::path(common.out_dir) / "pareto.json").string();
  nas::artifacts::write_pareto_file(out, pareto, nas::make_context(run_context));
  for (const nas::artifacts::ParetoPoint& p : pareto.points)
    std::cout << "  " << nas::format_energy_mj(p.energy_mj) << "  " << p.key << "\n";
  std::cout << kProgram << ": wrote " << out << " (" << pareto.points.size() << " " << f.arm << " point(s); "
            << nas::budget_note(range) << ")\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nas::cli::guarded_main(kProgram, [&] { return run(argc, argv); });
}
