// nas_eval: evaluates an exported tiny MF network (nas_retrain's tiny_model.nasm) on a data set's
// test split, with the preprocessing stored in the model; reproduces nas_retrain's test top-1.
#include <torch/cuda.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <string>

#include "cli/cli_common.h"
#include "cli/output_guards.h"
#include "core/error.h"
#include "core/json_util.h"
#include "core/progress.h"
#include "core/string_format.h"
#include "datasets/data_loader.h"
#include "datasets/dataset_info.h"
#include "datasets/load_dataset.h"
#include "deploy/deploy_run.h"
#include "search_space/arch_layers.h"
#include "supernet/tiny_net.h"

namespace {

namespace po = nas::cli::po;

constexpr const char* kProgram = "nas_eval";

// --engine int: the integer model of nas_deploy (deploy/int_engine.h), same output lines.
int run_int(int argc, char** argv, const nas::cli::CommonFlags& common, const nas::deploy::IntEvalOptions& options) {
  const nas::deploy::IntEvalResult r = nas::deploy::run_int_eval(options);
  std::cout << nas::string_printf("%s: %s test top-1 %.2f%% (%lld/%lld images, %.0f img/s, integer engine)", kProgram,
                                  r.dataset.c_str(), r.top1, static_cast<long long>(r.correct),
                                  static_cast<long long>(r.total), r.seconds > 0 ? static_cast<double>(r.total) / r.seconds : 0.0)
            << "\n";
  if (r.has_float)
    std::cout << nas::string_printf("%s: int-vs-float agreement %.2f%% (float top-1 %.2f%%, difference %+.2f)", kProgram,
                                    r.agreement, r.float_top1, r.top1 - r.float_top1) << "\n";
  if (!common.json_path.empty()) {
    nas::json out;
    out["context"] = nas::make_context(nas::cli::make_run_context(kProgram, argc, argv, common));
    out["model"] = options.model_path;
    out["engine"] = "int";
    out["dataset"] = r.dataset;
    out["test_top1"] = r.top1;
    out["correct"] = r.correct;
    out["test_images"] = r.total;
    out["seconds"] = r.seconds;
    if (r.has_float) {
      out["float_top1"] = r.float_top1;
      out["int_float_agreement"] = r.agreement;
    }
    out["source"] = r.model_source;
    nas::write_json_file(common.json_path, out);
  }
  return 0;
}

int run(int argc, char** argv) {
  nas::cli::CommonFlags common;
  std::string model_path, dataset_flag, data_dir, device_name = "cpu", engine = "float", float_model, logits_path, subset = "balanced";
  int64_t limit_test = -1, batch_size = 0;
  po::options_description desc("Options");
  desc.add_options()
      ("model", po::value(&model_path), "exported tiny model (tiny_model.nasm from nas_retrain)")
      ("dataset", po::value(&dataset_flag), "fashion-mnist | mnist | cifar10 | cifar100 (default: the model's)")
      ("data-dir", po::value(&data_dir), "data set directory (default: the system location of (Fashion-)MNIST)")
      ("limit-test", po::value(&limit_test)->default_value(-1), "use only N test images (-1: as in training, 0: all)")
      ("batch-size", po::value(&batch_size)->default_value(0), "evaluation batch size (0: as in training)")
      ("device", po::value(&device_name)->default_value(device_name), "cpu | cuda")
      ("engine", po::value(&engine)->default_value(engine), "float (a .nasm on LibTorch) | int (a .nasq from nas_deploy, integer engine)")
      ("float-model", po::value(&float_model), "--engine int: the float .nasm for the agreement (default: the one recorded)")
      ("logits", po::value(&logits_path), "--engine int: write each image's int32 logits, one line per image")
      ("subset", po::value(&subset)->default_value(subset), "--engine int: which images --limit-test keeps: balanced | first (file order)");
  nas::cli::add_common_flags(desc, common, nas::cli::kThreads | nas::cli::kJson);
  po::variables_map vm;
  if (!nas::cli::parse_flags(argc, argv, kProgram, "evaluate an exported tiny MF network", desc, vm))
    return 0;
  NAS_CHECK(!model_path.empty(), "--model FILE is required");
  const nas::cli::OutputGuard guard = nas::cli::guard_outputs(
      kProgram, {{"--json", common.json_path}}, {{"--model", model_path}, {"--data-dir", data_dir, true, true}});
  NAS_CHECK(device_name == "cpu" || device_name == "cuda",
            "unknown --device '" << device_name << "' (accepted: cpu, cuda)");
  NAS_CHECK(device_name != "cuda" || torch::cuda::is_available(),
            "--device cuda: no CUDA device is available");
  NAS_CHECK(limit_test >= -1, "--limit-test must be >= -1, got " << limit_test);
  NAS_CHECK(batch_size >= 0, "--batch-size must be >= 0, got " << batch_size);
  torch::set_num_threads(nas::cli::resolve_threads(common));
  NAS_CHECK(engine == "float" || engine == "int", "unknown --engine '" << engine << "' (accepted: float, int)");
  if (engine == "int") return run_int(argc, argv, common, {model_path, dataset_flag, data_dir, std::max<int64_t>(limit_test, 0), float_model, logits_path, subset == "first"});

  nas::TinyNet model = nas::TinyNet::load(model_path);
  const nas::TinyPreprocessing& pre = model.preprocessing();
  const std::string dataset = dataset_flag.empty() ? pre.dataset : nas::datasets::canonical_dataset_name(dataset_flag);
  NAS_CHECK(dataset == pre.dataset,
            "the model was trained on " << pre.dataset << ", not " << dataset
                                        << " (its classes and preprocessing belong to " << pre.dataset << ")");
  const nas::json& meta = model.meta();
  if (limit_test < 0) limit_test = meta.value("limit_test", int64_t{0});
  if (batch_size == 0) batch_size = meta.value("eval_batch_size", int64_t{256});

  // An image folder is decoded at the model's resolution and must hold the model's classes.
  const nas::datasets::LoadOptions load{limit_test, nas::datasets::SubsetMode::Balanced, pre.resolution, pre.class_names};
  const auto test = std::make_shared<const nas::datasets::Dataset>(
      nas::datasets::load_dataset(dataset, data_dir, nas::datasets::Split::Test, load));
  NAS_CHECK(test->channels() == model.arch().in_channels,
            "the data have " << test->channels() << " channel(s), the model expects " << model.arch().in_channels);
  nas::datasets::DataLoaderOptions options = nas::datasets::DataLoaderOptions::evaluation(batch_size);
  options.resolution = pre.resolution;
  options.mean = pre.mean;
  options.std = pre.std;
  const nas::datasets::DataLoader loader(test, options);

  const torch::Device device(device_name);
  model.to(device);
  const auto start = std::chrono::steady_clock::now();
  const nas::datasets::Top1Count count =
      nas::datasets::count_top1(loader, device, [&](const torch::Tensor& x) { return model.forward(x); });
  const int64_t correct = count.correct, total = count.total;
  const double seconds = nas::seconds_since(start);
  const double top1 = count.percent();

  std::cout << nas::string_printf("%s: %s test top-1 %.2f%% (%lld/%lld images, %.0f img/s)",
                                  kProgram, dataset.c_str(), top1, static_cast<long long>(correct),
                                  static_cast<long long>(total),
                                  seconds > 0 ? static_cast<double>(total) / seconds : 0.0)
            << "\n";
  if (meta.contains("test_top1") && meta["test_top1"].is_number()) {
    const double recorded = meta["test_top1"].get<double>();
    std::cout << kProgram << ": recorded in training: " << recorded << "% -> "
              << (recorded == top1 ? "reproduced exactly" : "DIFFERENT") << "\n";
  }
  if (!common.json_path.empty()) {
    nas::json out;
    out["context"] = nas::make_context(nas::cli::make_run_context(kProgram, argc, argv, common, device_name));
    out["model"] = model_path;
    out["arch_key"] = model.arch().key();
    out["arch_config"] = model.arch().to_json();
    out["dataset"] = dataset;
    out["test_top1"] = top1;
    out["correct"] = correct;
    out["test_images"] = total;
    out["seconds"] = seconds;
    out["params"] = nas::count_params(model.arch());
    out["macs"] = nas::count_macs(model.arch());
    out["meta"] = meta;
    nas::write_json_file(common.json_path, out);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nas::cli::guarded_main(kProgram, [&] { return run(argc, argv); });
}
