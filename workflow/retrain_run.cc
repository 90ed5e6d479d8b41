#include "workflow/retrain_run.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include "workflow/point_selection.h"
#include "workflow/recipe_rule.h"
#include "workflow/trained_supernet.h"
#include "artifacts/pareto_file.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/fnv1a.h"
#include "core/json_util.h"
#include "core/memory_usage.h"
#include "core/output_guard.h"
#include "core/run_lock.h"
#include "core/sample_stats.h"
#include "core/string_format.h"
#include "datasets/data_loader.h"
#include "datasets/dataset_info.h"
#include "datasets/experiment_data.h"
#include "predictors/energy_summary.h"
#include "core/data_dir.h"
#include "search_space/arch_config.h"
#include "search_space/arch_layers.h"
#include "search_space/named_archs.h"
#include "supernet/aug_config.h"
#include "supernet/hybrid_net.h"
#include "supernet/malloc_tuning.h"
#include "supernet/shiftaddaug_trainer.h"
#include "supernet/subnet_extraction.h"
#include "supernet/tiny_net.h"

namespace nas::cli {

namespace {

namespace fs = std::filesystem;

constexpr const char* kModelFile = "tiny_model.nasm";

std::string fmt(double v, int precision = 2) { return nas::format_double(v, precision); }

// The options a run trains with besides its architecture and data: the flags' network and trainer
// options with the run's own adjustments. One function for the run itself and for the check that a
// finished --pareto point was trained with the recipe of the command that finds it.
struct RunOptions {
  nas::HybridNetOptions net;
  nas::TrainerOptions trainer;
};

RunOptions run_options(const RetrainFlags& f, const RetrainTarget& target) {
  RunOptions o{f.net, f.trainer};
  o.net.remap = !target.keep_ops && target.op == nas::OpKind::Mult ? nas::RemapKind::None : target.remap;
  if (target.supernet_options) {
    // A supernet's adder weights live on the multiplicative scale, are seen by the adder at unit
    // RMS and stepped relative to their own RMS (HybridNetOptions::supernet_defaults). With a fixed
    // net's raw view the inherited adder layers would compute something else, and AdderNet's
    // absolute step (RMS eta per element) would wreck weights ~20x smaller in the first steps
    // (measured: an inherited add network fell to 10 % in its first epoch).
    o.net.adder_unit_rms = target.supernet_options->adder_unit_rms;
    o.net.relative_adder_scaling = target.supernet_options->relative_adder_scaling;
    // Relative steps on a scale-invariant view grow the weights geometrically, in a fixed net as
    // in the supernet: renormalised whenever the two are on, whatever the supernet did (exact for
    // a fixed net's adder layers; HybridNetOptions::adder_weight_renorm).
    o.net.adder_weight_renorm = o.net.adder_unit_rms && o.net.relative_adder_scaling;
  }
  return o;
}

// The first setting (a path such as "settings.trainer.lr") in which the run that wrote `config`
// (its config.json, untrusted) differs from what `f` and `target` would train, or "". Everything
// that changes the trained weights or the measured figures is compared: network, trainer, aug,
// start (--init), data (split, sizes, batch, test images, input resolution).
std::string recipe_difference(const nas::json& config, const std::string& where, const RetrainFlags& f,
                              const RetrainTarget& target) {
  NAS_CHECK(config.is_object(), where << ": must hold a JSON object");
  const RunOptions o = run_options(f, target);
  const nas::datasets::ExperimentDataOptions& d = f.data;
  const nas::json no_value;
  nas::json expected = {{"aug", f.aug},
                        {"net", o.net.to_json()},
                        {"trainer", o.trainer.to_json()},
                        {"init", target.init ? target.init->description : no_value}};
  nas::json recorded = {{"aug", config.value("aug", no_value)},
                        {"net", config.value("net", no_value)},
                        {"trainer", config.value("trainer", no_value)},
                        {"init", config.value("init", no_value)}};
  const std::string data_where = where + ": data";
  NAS_CHECK(config.contains("data") && config["data"].is_object(), data_where << " must be an object");
  const nas::json& data = config["data"];
  const std::string dataset = nas::datasets::canonical_dataset_name(d.dataset);
  expected["data"] = {{"dataset", dataset}, {"limit_train", d.limit_train}, {"limit_test", d.limit_test},
                      {"batch_size", d.batch_size}};
  recorded["data"] = nas::json::object();
  for (const char* field : {"dataset", "limit_train", "limit_test", "batch_size"})
    recorded["data"][field] = data.value(field, no_value);
  // The split: a run without --split-seed carved it with its own --seed.
  expected["data"]["split_seed"] = d.effective_split_seed();
  recorded["data"]["split_seed"] =
      data.contains("split_seed") ? data["split_seed"]
                                  : (recorded["trainer"].is_object() ? recorded["trainer"].value("seed", no_value) : no_value);
  // The validation size: the given one, or the default resolved on the recorded training split.
  const int64_t recorded_val_size = nas::json_int(data, "val_size", data_where);
  const int64_t recorded_train_images = nas::json_int(data, "train_images", data_where);
  NAS_CHECK(recorded_val_size >= 0 && recorded_train_images >= 0 && recorded_train_images <= (int64_t{1} << 40),
            data_where << ": val_size and train_images must be in [0, 2^40]");
  expected["data"]["val_size"] = d.effective_val_size(recorded_train_images + recorded_val_size);
  recorded["data"]["val_size"] = recorded_val_size;
  // The loader's image size (older runs do not record it: not compared for them).
  if (data.contains("input_resolution")) {
    const nas::datasets::DatasetInfo& info = nas::datasets::dataset_info(dataset);
    expected["data"]["input_resolution"] = d.resolution > 0 ? d.resolution : static_cast<int64_t>(info.height);
    recorded["data"]["input_resolution"] = data["input_resolution"];
  }
  return nas::first_json_difference(recorded, expected, "settings");
}

}  // namespace

json retrain_architecture(const char* program, RetrainFlags f, const CommonFlags& common, int argc, char** argv,
                          const RetrainTarget& target, const std::chrono::steady_clock::time_point wall_start) {
  const OpKind op = target.op;
  const bool keep_ops = target.keep_ops;
  const ArchConfig* given_arch = target.given_arch;
  const std::string& arch_name = target.arch_name;
  const std::string& out_dir = target.out_dir;
  const NetInit* init = target.init;
  nas::datasets::ExperimentDataOptions& d = f.data;
  const RunOptions options = run_options(f, target);
  const nas::HybridNetOptions net_options = options.net;
  nas::TrainerOptions topt = options.trainer;
  const int threads = resolve_threads(common);
  torch::set_num_threads(threads);
  const fs::path out(out_dir);
  // Rank 0 writes every file and line; the other ranks of a data-parallel run train beside it.
  const bool writer = !f.group || f.group->rank() == 0;
  topt.progress = writer;
  const std::string checkpoint_path = writer ? prepare_run_dir(out_dir, "checkpoint.pt", target.resume)
                                             : (out / "checkpoint.pt").string();
  topt.checkpoint_path = checkpoint_path;

  // ---- data -----------------------------------------------------------------------------------
  const nas::datasets::DatasetInfo& info = nas::datasets::dataset_info(nas::datasets::canonical_dataset_name(d.dataset));
  const std::string dataset = info.name;
  const int resolution = static_cast<int>(d.resolution > 0 ? d.resolution : info.height);
  nas::ArchConfig arch = given_arch ? *given_arch
                                    : nas::resolve_arch(f.arch, resolution, static_cast<int>(info.channels),
                                                        static_cast<int>(info.num_classes));
  NAS_CHECK(!given_arch || (arch.in_channels == static_cast<int>(info.channels) &&
                            arch.num_classes == static_cast<int>(info.num_classes)),
            "the architecture " << arch.key() << " is for " << arch.in_channels << " channels and " << arch.num_classes
                                << " classes, not " << dataset);
  if (!keep_ops) nas::set_all_ops(arch, op);
  arch.validate();
  // The loader gives the data at --resolution (the native size by default); an architecture of
  // another resolution sees the batch resized to it (resize_input), as a supernet subnet does,
  // and its exported model resizes likewise.
  d.resolution = resolution;
  // The op the result reports: the one given, or with --op keep the architecture's (one op of
  // every block and the head conv, else "mixed").
  std::string op_label = keep_ops ? std::string() : nas::op_kind_name(op);
  if (keep_ops) {
    const std::set<std::string> ops = nas::workflow::ops_of_blocks_and_head(arch);
    op_label = ops.size() == 1 ? *ops.begin() : "mixed";
  }
  const nas::datasets::ExperimentData data = [&] {
    try {
      return nas::datasets::load_experiment_data(d);
    } catch (const nas::Error& e) {
      throw with_flag_names(e, {"data"});
    }
  }();
  const auto& train_data = data.train;
  const auto& val_data = data.val;
  const auto& test_data = data.test;
  const nas::datasets::DataLoader& train_loader = *data.train_loader;
  const nas::datasets::DataLoader* val_loader = data.val_loader.get();
  const nas::datasets::DataLoader& test_loader = *data.test_loader;
  const int64_t val_size = data.val_size;

  // ---- configuration --------------------------------------------------------------------------

  const nas::RunContext run_context = make_run_context(program, argc, argv, common, f.device);
  // What must match for --resume: everything that changes the trained weights.
  nas::json fingerprint;
  fingerprint["arch"] = arch.to_json();
  fingerprint["op"] = op_label;
  fingerprint["aug"] = f.aug;
  fingerprint["net"] = net_options.to_json();
  fingerprint["trainer"] = topt.to_json();
  fingerprint["data"] = {{"dataset", dataset},     {"limit_train", d.limit_train},
                         {"val_size", val_size},   {"resolution", arch.resolution},
                         {"batch_size", d.batch_size}, {"train_images", train_data->size()}};
  // Absent for a run whose own --seed carved the split (as before --split-seed existed).
  if (d.split_seed >= 0) fingerprint["data"]["split_seed"] = d.split_seed;
  // Only a non-scratch start is recorded, so that scratch runs keep their fingerprints (--resume).
  if (init) fingerprint["init"] = init->description;
  nas::json config = fingerprint;
  config["context"] = nas::make_context(run_context);
  config["arch_name"] = arch_name;
  config["arch_key"] = arch.key();
  config["data"]["limit_test"] = d.limit_test;
  config["data"]["input_resolution"] = resolution;  // the loader's (the network resizes to arch.resolution)
  config["data"]["test_images"] = test_data->size();
  config["data"]["val_images"] = val_data ? val_data->size() : 0;
  config["data"]["mean"] = train_loader.mean();
  config["data"]["std"] = train_loader.std();
  if (!data.info.class_names.empty()) config["data"]["class_names"] = data.info.class_names;  // an image folder's
  config["device"] = f.device;
  config["threads"] = threads;
  config["world_size"] = f.group ? f.group->world_size() : 1;
  if (writer) nas::write_json_file((out / "config.json").string(), config);

  RunLog run_log((out / "log.txt").string(), writer);
  if (writer)
    std::cerr << program << ": " << arch.key() << " | op " << op_label << " | aug " << f.aug
            << " | remap " << nas::remap_kind_name(net_options.remap) << " | " << dataset << " train "
            << train_data->size() << " val " << (val_data ? val_data->size() : 0) << " test "
            << test_data->size() << " | " << f.device << " " << threads << " thread(s)\n";

  // ---- training -------------------------------------------------------------------------------
  torch::manual_seed(common.seed);
  nas::HybridNet net(arch, net_options);
  nas::json init_result = {{"from", "scratch"}};
  if (init) {
    // Before resume(): a checkpoint, when there is one, replaces these weights anyway.
    const nas::InheritReport inherited = init->apply(*net);
    init_result = init->description;
    init_result["inherited_tensors"] = inherited.tensors;
    init_result["inherited_fraction"] = inherited.elements_total > 0
                                            ? static_cast<double>(inherited.elements_copied) / inherited.elements_total
                                            : 0.0;
  }
  nas::ShiftAddAugTrainer trainer(net, topt, train_loader, val_loader);
  trainer.set_data_parallel(f.group);
  const bool resumed = trainer.resume(fingerprint);
  run_log.line(std::string(resumed ? "resumed" : "started") + ": " + nas::join_command_line(run_context.argv) +
           (resumed ? " (at step " + std::to_string(trainer.global_step()) + ")" : ""));
  trainer.on_epoch = [&](const nas::EpochRecord& r) {
    run_log.line("epoch " + std::to_string(r.epoch) + "/" + std::to_string(topt.epochs) + (r.augmented ? " aug" : " tiny") +
             " loss " + fmt(r.train_loss, 4) + (r.augmented ? " aug_loss " + fmt(r.train_aug_loss, 4) : "") +
             " train_top1 " + fmt(r.train_top1) + "%" + (r.val_top1 >= 0 ? " val_top1 " + fmt(r.val_top1) + "%" : "") +
             " " + fmt(r.images_per_s, 1) + " img/s " + fmt(r.train_seconds, 1) + "s");
  };
  trainer.train();
  if (!writer) return nas::json::object();

  // ---- export, evaluation, result -------------------------------------------------------------
  const torch::Device device(f.device);
  nas::HybridNet& trained = trainer.net();
  double val_top1 = -1;
  if (val_loader) val_top1 = trainer.evaluate(*val_loader, /*reestimate=*/false);  // BN re-estimated at the end
  const double hybrid_test_top1 = trainer.evaluate(test_loader, /*reestimate=*/false);

  nas::TinyPreprocessing pre{dataset, train_loader.height(), train_loader.mean(), train_loader.std(), data.info.class_names};
  nas::json meta = {{"arch_name", arch_name},           {"op", op_label},
                    {"aug", f.aug},                  {"remap", nas::remap_kind_name(net_options.remap)},
                    {"limit_test", d.limit_test},    {"eval_batch_size", d.eval_batch_size},
                    {"epochs", topt.epochs},         {"seed", common.seed},
                    {"device", f.device},            {"val_top1", val_top1}};
  nas::TinyNet exported = nas::TinyNet::from_hybrid(*trained, pre, meta);
  exported.meta()["test_top1"] = hybrid_test_top1;
  const std::string model_path = (out / kModelFile).string();
  exported.save(model_path);
  nas::TinyNet reloaded = nas::TinyNet::load(model_path);
  reloaded.to(device);
  const double test_top1 =
      nas::datasets::count_top1(test_loader, device, [&](const torch::Tensor& x) { return reloaded.forward(x); })
          .percent();
  // The export is bit-exact by construction (checked by the tests); a difference here would mean
  // the device picked different kernels for the two runs. Report it, keep the exported number
  // (the one nas_eval reproduces).
  const bool export_exact = test_top1 == hybrid_test_top1;
  if (!export_exact)
    std::cerr << program << ": warning: the exported model's test top-1 " << test_top1
              << "% differs from the hybrid net's tiny top-1 " << hybrid_test_top1 << "%\n";

  const nas::LayerCounts counts = nas::count_layers(arch);
  const nas::json energy = nas::energy_summary(arch);

  const auto& history = trainer.history();
  nas::json history_json = nas::json::array();
  double images = 0, seconds = 0;
  for (const nas::EpochRecord& r : history) {
    history_json.push_back(r.to_json());
    images += r.images_per_s * r.train_seconds;
    seconds += r.train_seconds;
  }
  nas::json result;
  result["context"] = nas::make_context(run_context);
  result["arch"] = arch_name;
  result["arch_key"] = arch.key();
  result["arch_config"] = arch.to_json();
  result["op"] = op_label;
  result["aug"] = f.aug;
  if (!f.recipe.is_null()) result["recipe"] = f.recipe;
  result["remap"] = nas::remap_kind_name(net_options.remap);
  result["dataset"] = dataset;
  result["epochs"] = topt.epochs;
  result["seed"] = common.seed;
  result["test_top1"] = test_top1;
  result["hybrid_test_top1"] = hybrid_test_top1;
  result["export_exact"] = export_exact;
  result["val_top1"] = val_top1;
  result["test_images"] = test_data->size();
  result["val_images"] = val_data ? val_data->size() : 0;
  result["train_images"] = train_data->size();
  result["params"] = counts.params;
  result["macs"] = counts.macs;
  result["counts"] = counts.to_json();
  result["energy_mj"] = energy["eyeriss_mj"];
  result["energy"] = energy;
  result["init"] = init_result;
  result["world_size"] = f.group ? f.group->world_size() : 1;
  result["micro_batches"] = topt.micro_batches;
  result["aug_micro_batches"] = topt.aug_micro_batches;
  result["train_seconds"] = seconds;
  result["images_per_s"] = seconds > 0 ? images / seconds : 0.0;
  // Peak resident set of the whole process (this invocation; a resumed run counts from its resume).
  result["peak_rss_mib"] = nas::bytes_to_mib(nas::peak_rss_bytes());
  result["allocator"] = nas::malloc_implementation();
  result["wall_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  result["history"] = history_json;
  result["model_file"] = kModelFile;
  result["model_bytes"] = exported.stored_bytes();
  result["trainer"] = topt.to_json();
  // Weight tearing: the MF slices' distributions before and after the remap, per layer.
  result["weight_statistics"] = trained->weight_statistics();
  result["net"] = net_options.to_json();
  nas::write_json_file((out / "result.json").string(), result);

  const std::string summary = "test top-1 " + fmt(test_top1) + "%" +
                              (val_top1 >= 0 ? " (val " + fmt(val_top1) + "%)" : std::string()) + ", " +
                              std::to_string(counts.params) + " params, " + fmt(counts.macs / 1e6) +
                              " MMAC, " + fmt(energy["eyeriss_mj"].get<double>(), 4) + " mJ (eyeriss), train " +
                              fmt(seconds, 1) + " s";
  run_log.line("done: " + summary);
  std::cout << program << ": " << summary << "\n"
            << program << ": wrote " << (out / "result.json").string() << " and " << model_path << "\n";
  return result;
}

namespace {

constexpr size_t kMaxSeeds = 16;

// --seeds "1,2" (each seed once, at most kMaxSeeds); empty: the one --seed.
std::vector<uint64_t> pareto_seeds(const std::string& text, uint64_t seed) {
  if (text.empty()) return {seed};
  std::vector<uint64_t> seeds;
  for (const std::string& item : nas::require_list("seeds", text)) {
    NAS_CHECK(item.size() <= 19 && item.find_first_not_of("0123456789") == std::string::npos,
              "--seeds: " << nas::quoted_excerpt(item) << " is not a seed (a non-negative integer)");
    const uint64_t value = std::stoull(item);
    NAS_CHECK(std::find(seeds.begin(), seeds.end(), value) == seeds.end(), "--seeds: seed " << value << " appears twice");
    seeds.push_back(value);
  }
  NAS_CHECK(seeds.size() <= kMaxSeeds, "--seeds: at most " << kMaxSeeds << " seeds, got " << seeds.size());
  return seeds;
}

// {NAME_mean, NAME_std}: mean and sample standard deviation (null below two values).
nas::json mean_and_std(const std::vector<double>& values, const std::string& name) {
  return {{name + "_mean", nas::mean_of(values)},
          {name + "_std", values.size() >= 2 ? nas::json(nas::sample_std_of(values)) : nas::json()}};
}

// retrain_summary.json's points: per retrained point (in the runs' order) its finished seeds with
// the mean / std over them of the validation and test top-1 (what a claim over seeds quotes).
nas::json summarize_points_over_seeds(const nas::json& runs) {
  std::vector<std::string> keys;
  std::map<std::string, std::vector<const nas::json*>> by_key;
  for (const nas::json& run : runs) {
    const std::string key = run["key"].get<std::string>();
    if (by_key[key].empty()) keys.push_back(key);
    by_key[key].push_back(&run);
  }
  nas::json points = nas::json::array();
  for (const std::string& key : keys) {
    std::vector<double> val, test;
    nas::json seeds = nas::json::array(), dirs = nas::json::array();
    for (const nas::json* run : by_key[key]) {
      val.push_back((*run)["val_top1"].get<double>());
      test.push_back((*run)["test_top1"].get<double>());
      seeds.push_back((*run)["seed"]);
      dirs.push_back((*run)["dir"]);
    }
    nas::json point = {{"key", key}, {"point_index", (*by_key[key].front())["point_index"]},
                       {"energy_mj", (*by_key[key].front())["energy_mj"]}, {"seeds", seeds}, {"dirs", dirs}};
    point.update(mean_and_std(val, "val_top1"));
    point.update(mean_and_std(test, "test_top1"));
    points.push_back(point);
  }
  return points;
}

// The network to deploy, chosen on the validation split (never on test): the point of highest
// mean validation top-1 over its seeds, and of its runs the one of highest validation top-1;
// copied to out/best_tiny_model.nasm and recorded as summary.best_by_val.
void write_best_by_validation(const char* program, const fs::path& out, const std::string& pareto_file,
                              size_t point_count, nas::json& summary) {
  const nas::json* best_point = nullptr;
  for (const nas::json& p : summary["points"])
    if (!best_point || p["val_top1_mean"].get<double>() > (*best_point)["val_top1_mean"].get<double>()) best_point = &p;
  NAS_CHECK(best_point != nullptr, "no point was retrained");
  const nas::json* best = nullptr;
  for (const nas::json& r : summary["runs"])
    if (r["key"] == (*best_point)["key"] && (!best || r["val_top1"].get<double>() > (*best)["val_top1"].get<double>()))
      best = &r;
  const fs::path best_model = out / "best_tiny_model.nasm";
  nas::write_file_atomic(best_model.string(), nas::read_file((out / (*best)["dir"].get<std::string>() / kModelFile).string()));
  summary["best_by_val"] = {{"key", (*best)["key"]},
                            {"dir", (*best)["dir"]},
                            {"val_top1", (*best)["val_top1"]},
                            {"test_top1", (*best)["test_top1"]},
                            {"energy_mj", (*best)["energy_mj"]},
                            {"seeds", (*best_point)["seeds"].size()},
                            {"val_top1_mean", (*best_point)["val_top1_mean"]},
                            {"test_top1_mean", (*best_point)["test_top1_mean"]},
                            {"model_file", best_model.filename().string()}};
  std::cout << program << ": retrained " << point_count << " point(s) of " << pareto_file << "\n";
  for (const nas::json& r : summary["runs"])
    std::cout << "  " << r["dir"].get<std::string>() << "  " << fmt(r["energy_mj"].get<double>() * 1e3) << " uJ  predicted "
              << fmt(r["predicted_top1"].get<double>()) << "%  val " << fmt(r["val_top1"].get<double>()) << "%  test "
              << fmt(r["test_top1"].get<double>()) << "%\n";
  for (const nas::json& p : summary["points"]) {
    if (p["seeds"].size() < 2) continue;
    std::cout << "  point-" << nas::string_printf("%02zu", p["point_index"].get<size_t>()) << " over "
              << p["seeds"].size() << " seeds: val " << fmt(p["val_top1_mean"].get<double>()) << " +- "
              << fmt(p["val_top1_std"].get<double>()) << "%  test " << fmt(p["test_top1_mean"].get<double>()) << " +- "
              << fmt(p["test_top1_std"].get<double>()) << "%\n";
  }
  std::cout << program << ": best on validation: " << summary["best_by_val"]["dir"].get<std::string>() << " -> "
            << best_model.string() << "\n";
}

}  // namespace

nas::workflow::RecipeChoice choose_retrain_recipe(const RetrainFlags& f, const bool aug_given) {
  const std::string given = aug_given || f.pareto.empty() ? f.aug : std::string("auto");
  if (given != "auto") {
    nas::workflow::RecipeChoice choice = nas::workflow::choose_recipe({}, {}, f.trainer.epochs, "", given);
    if (!aug_given) {
      choice.chosen_by = "default";
      choice.reason = "--aug " + given + ", the default for one architecture (--aug auto applies the recipe rule)";
    }
    return choice;
  }
  std::set<std::string> ops;
  if (f.pareto.empty()) {
    NAS_CHECK(f.op != "keep", "--aug auto needs the network's op: with --op keep give --aug shiftaddaug or none");
    ops.insert(nas::op_kind_name(nas::parse_op_kind(f.op)));
  } else {
    for (const nas::artifacts::ParetoPoint& p : nas::artifacts::read_pareto_file(f.pareto).points)
      for (const std::string& op : nas::workflow::ops_of_blocks_and_head(p.arch)) ops.insert(op);
  }
  const std::vector<nas::workflow::RecipeEvidence> evidence =
      nas::workflow::read_recipe_evidence(nas::find_data_file(nas::workflow::kRecipeEvidenceFile));
  return nas::workflow::choose_recipe(evidence, ops, f.trainer.epochs,
                                      nas::datasets::canonical_dataset_name(f.data.dataset), "auto");
}

// --pareto: the selected points of a nas_search Pareto set, one run each (see the top).
int retrain_pareto(const char* program, const RetrainFlags& f, const std::function<bool(const std::string&)>& explicit_flag,
                   const CommonFlags& common, int argc, char** argv, const RemapKind remap) {
  NAS_CHECK(!explicit_flag("op"), "--op does not apply to --pareto: every point keeps its own ops");
  NAS_CHECK(!explicit_flag("arch"), "--arch does not apply to --pareto: the points are the architectures");
  NAS_CHECK(f.init == "scratch" || f.init == "supernet", "--init must be scratch or supernet, got " << nas::quoted_excerpt(f.init));
  NAS_CHECK(f.supernet.empty() || f.init == "supernet", "--supernet DIR is for --init supernet");
  NAS_CHECK((f.top > 0) + (f.spread > 0) + (!f.keys.empty()) + (f.all ? 1 : 0) <= 1,
            "give at most one of --top, --spread, --keys, --all");
  NAS_CHECK(!explicit_flag("top") || f.top >= 1, "--top must be >= 1, got " << f.top);
  NAS_CHECK(!explicit_flag("spread") || f.spread >= 1, "--spread must be >= 1, got " << f.spread);

  // ---- the Pareto set -------------------------------------------------------------------------
  const nas::artifacts::ParetoFile pareto = nas::artifacts::read_pareto_file(f.pareto);
  NAS_CHECK(!pareto.points.empty(), f.pareto << ": 'points' must hold 1.." << nas::artifacts::kMaxParetoPoints << " points");
  struct Point {
    std::string key;
    nas::ArchConfig arch;
    double predicted_top1 = 0, energy_mj = 0;
  };
  std::vector<Point> points;
  for (const nas::artifacts::ParetoPoint& p : pareto.points)
    points.push_back({p.key, p.arch, p.predicted_top1_percent, p.energy_mj});
  // --init supernet: the supernet the search ran on (pareto.json records it), loaded once.
  std::optional<TrainedSupernet> supernet;
  NetInit init;
  if (f.init == "supernet") {
    std::string dir = f.supernet;
    if (dir.empty()) {
      NAS_CHECK(!pareto.supernet.empty(),
                f.pareto << " records no supernet directory (a search on a predictor without one?); give --supernet DIR");
      dir = pareto.supernet;
    }
    supernet = load_trained_supernet(dir, f.data.data_dir, torch::Device(f.device));
    NAS_CHECK(!explicit_flag("remap") || remap == supernet->net_options.remap,
              "--remap " << f.remap << ": the supernet was trained with the "
                         << nas::remap_kind_name(supernet->net_options.remap) << " remap; --init supernet keeps it");
    init.description = {{"from", "supernet"}, {"supernet", supernet->dir}, {"supernet_epoch", supernet->epoch()},
                        {"supernet_step", supernet->checkpoint_state.value("step", int64_t{0})}};
    init.apply = [&](nas::HybridNetImpl& net) { return nas::inherit_subnet_weights(net, *supernet->net); };
  }
  std::vector<nas::workflow::SelectablePoint> selectable;
  for (const Point& p : points) selectable.push_back({p.key, p.predicted_top1, p.energy_mj});
  const nas::workflow::PointSelection selection{
      f.top, f.spread, f.keys.empty() ? std::vector<std::string>() : nas::require_list("keys", f.keys)};
  const std::vector<size_t> chosen = nas::workflow::select_points(selectable, selection, f.pareto);

  // ---- one run per point ----------------------------------------------------------------------
  const fs::path out(common.out_dir);
  std::error_code ec;
  fs::create_directories(out, ec);
  NAS_CHECK(!ec, "cannot create --out " << common.out_dir << ": " << ec.message());
  nas::json summary;
  summary["context"] = nas::make_context(make_run_context(program, argc, argv, common, f.device));
  // Relative to the summary's own folder (as the report records its inputs), so that no machine
  // path is recorded and a results folder can be moved; nas_report resolves it from there.
  const std::string pareto_relative = fs::absolute(f.pareto)
                                          .lexically_normal()
                                          .lexically_relative(fs::absolute(out).lexically_normal())
                                          .generic_string();
  summary["pareto"] = {{"file", pareto_relative.empty() ? fs::absolute(f.pareto).string() : pareto_relative},
                       {"fingerprint", pareto.fingerprint}};
  summary["init"] = f.init;
  if (!f.recipe.is_null()) summary["recipe"] = f.recipe;
  summary["dataset"] = nas::datasets::canonical_dataset_name(f.data.dataset);
  summary["selection"] = selection.name();
  // Every point this command retrains, finished or not: the report tells "not retrained yet"
  // from "not selected".
  summary["selected"] = nas::json::array();
  for (const size_t i : chosen) summary["selected"].push_back({{"key", points[i].key}, {"point_index", i}});
  const std::vector<uint64_t> seeds = pareto_seeds(f.seeds, common.seed);
  if (!f.seeds.empty()) summary["seeds"] = seeds;
  const std::string summary_path = (out / "retrain_summary.json").string();
  // One run per point and seed (a job): point-NN, or point-NN-seedS with --seeds. Several
  // processes may retrain one Pareto set at once (one per core): each job's directory is claimed
  // with a RunLock; a process skips the jobs another one is training and, after its own, waits for
  // them. The summary is rewritten after each job from every job finished so far, by this process
  // or another one (their result.json files are written atomically).
  struct Job {
    size_t n = 0;  // index into chosen
    uint64_t seed = 0;
    std::string dir;  // under out
  };
  const auto point_name = [&](size_t n) { return nas::string_printf("point-%02zu", chosen[n]); };
  std::vector<Job> jobs;
  for (size_t n = 0; n < chosen.size(); ++n)
    for (const uint64_t seed : seeds)
      jobs.push_back({n, seed, f.seeds.empty() ? point_name(n) : point_name(n) + "-seed" + std::to_string(seed)});
  std::vector<std::optional<nas::json>> results(jobs.size());
  // A job's flags: the command's with the job's seed; with --seeds every seed carves the split with
  // the first seed (unless --split-seed is given), so the seeds are scored on one validation set.
  const auto job_flags = [&](const Job& job) {
    RetrainFlags g = f;
    g.trainer.seed = job.seed;
    g.data.seed = job.seed;
    if (!f.seeds.empty() && g.data.split_seed < 0) g.data.split_seed = static_cast<int64_t>(seeds.front());
    return g;
  };
  const auto job_common = [&](const Job& job) {
    CommonFlags c = common;
    c.seed = job.seed;
    return c;
  };
  const auto job_target = [&](const Job& job) {
    RetrainTarget target;
    target.op = OpKind::Mult;
    target.keep_ops = true;
    target.remap = supernet ? supernet->net_options.remap : remap;
    target.given_arch = &points[chosen[job.n]].arch;
    target.arch_name = "pareto:" + point_name(job.n);
    target.out_dir = (out / job.dir).string();
    target.init = supernet ? &init : nullptr;
    target.supernet_options = supernet ? &supernet->net_options : nullptr;
    return target;
  };
  // The result of a finished job (checked to be this point, trained with this --init and this
  // command's recipe and seed), if any.
  const auto finished_result = [&](const Job& job) -> std::optional<nas::json> {
    const fs::path result_path = out / job.dir / "result.json";
    if (!fs::exists(result_path, ec)) return std::nullopt;
    const std::string where = result_path.string();
    nas::json result = nas::read_json_file(where);
    NAS_CHECK(result.is_object(), where << ": must hold a JSON object");
    NAS_CHECK(nas::json_string(result, "arch_key", where) == points[chosen[job.n]].key,
              where << " holds another architecture than point " << chosen[job.n] << " of " << f.pareto
                    << " (another search? choose another --out)");
    const nas::json started = result.value("init", nas::json{{"from", "scratch"}});
    const std::string started_from = started.is_object() && started.contains("from") && started["from"].is_string()
                                         ? started["from"].get<std::string>()
                                         : std::string("?");
    NAS_CHECK(started_from == f.init,
              where << " was trained with --init " << nas::quoted_excerpt(started_from) << ", not " << f.init
                    << " (choose another --out)");
    // The figures the summary copies, checked once here.
    for (const char* field : {"val_top1", "test_top1", "energy_mj", "train_seconds"}) nas::json_number(result, field, where);
    for (const char* field : {"macs", "params"}) nas::json_int(result, field, where);
    // Several processes may share --out: one started with another recipe must not mix its
    // points into this summary (nor take this one's for its own).
    const std::string config_path = (out / job.dir / "config.json").string();
    const std::string diff = recipe_difference(nas::read_json_file(config_path), config_path, job_flags(job), job_target(job));
    NAS_CHECK(diff.empty(), config_path << " was trained with other settings than this command (" << diff
                                        << " differs): rerun with its flags, or choose another --out");
    return result;
  };
  const auto write_summary = [&] {
    summary["runs"] = nas::json::array();
    for (size_t j = 0; j < jobs.size(); ++j) {
      if (!results[j]) results[j] = finished_result(jobs[j]);  // finished by another process meanwhile
      if (!results[j]) continue;
      const nas::json& result = *results[j];
      const size_t index = chosen[jobs[j].n];
      summary["runs"].push_back({{"key", points[index].key},
                                 {"dir", jobs[j].dir},
                                 {"point_index", index},
                                 {"seed", jobs[j].seed},
                                 {"predicted_top1", points[index].predicted_top1},
                                 {"val_top1", result.at("val_top1")},
                                 {"test_top1", result.at("test_top1")},
                                 {"energy_mj", result.at("energy_mj")},
                                 {"macs", result.at("macs")},
                                 {"params", result.at("params")},
                                 {"train_seconds", result.at("train_seconds")}});
    }
    summary["points"] = summarize_points_over_seeds(summary["runs"]);
    nas::write_json_file(summary_path, summary);
  };
  const auto job_label = [&](size_t j) {
    return "[" + std::to_string(j + 1) + "/" + std::to_string(jobs.size()) + "] " + jobs[j].dir;
  };
  const auto train_job = [&](size_t j) {
    const Job& job = jobs[j];
    const Point& pt = points[chosen[job.n]];
    std::cerr << program << ": " << job_label(j) << " predicted top-1 " << fmt(pt.predicted_top1) << "%, "
              << fmt(pt.energy_mj * 1e3) << " uJ" << (f.seeds.empty() ? "" : ", seed " + std::to_string(job.seed)) << "\n";
    RetrainTarget target = job_target(job);
    target.resume = fs::exists(out / job.dir / "checkpoint.pt", ec);
    return retrain_architecture(program, job_flags(job), job_common(job), argc, argv, target,
                                std::chrono::steady_clock::now());
  };
  const auto done_already = [&](size_t j, nas::json result) {
    std::cerr << program << ": " << job_label(j) << " done already\n";
    results[j] = std::move(result);
    write_summary();
  };
  std::vector<size_t> busy;  // jobs another process was training when this one came to them
  for (size_t j = 0; j < jobs.size(); ++j) {
    if (auto result = finished_result(jobs[j])) {
      done_already(j, std::move(*result));
      continue;
    }
    std::optional<nas::RunLock> claim = nas::RunLock::try_claim((out / jobs[j].dir).string());
    if (!claim) {
      std::cerr << program << ": " << job_label(j) << " is being trained by another process: skipped for now\n";
      busy.push_back(j);
      continue;
    }
    if (auto result = finished_result(jobs[j])) {  // finished between the check and the claim
      done_already(j, std::move(*result));
      continue;
    }
    results[j] = train_job(j);
    write_summary();
  }
  for (size_t j : busy) {
    std::cerr << program << ": waiting for the other process to finish " << jobs[j].dir << "\n";
    const nas::RunLock claim = nas::RunLock::claim((out / jobs[j].dir).string());
    if (auto result = finished_result(jobs[j])) {
      done_already(j, std::move(*result));
      continue;
    }
    // The other process stopped without finishing it: resume it here.
    results[j] = train_job(j);
    write_summary();
  }
  write_best_by_validation(program, out, f.pareto, chosen.size(), summary);
  nas::write_json_file(summary_path, summary);
  std::cout << program << ": wrote " << summary_path << "\n";
  return 0;
}

}  // namespace nas::cli
