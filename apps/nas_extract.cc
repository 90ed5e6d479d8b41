// nas_extract: one subnet of a trained supernet as a standalone multiplication-free network.
// The subnet inherits the supernet's weights; its BN statistics are recalibrated on --bn-batches
// training batches (the supernet's own split); its validation top-1 is reported. The test split
// is not touched: evaluate the written model with nas_eval.
//
// Output directory (--out): tiny_model.nasm (what nas_eval reads) and result.json.
#include <torch/cuda.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <filesystem>
#include <iostream>
#include <string>

#include "cli/cli_common.h"
#include "cli/output_guards.h"
#include "workflow/trained_supernet.h"
#include "core/error.h"
#include "core/json_util.h"
#include "core/string_format.h"
#include "datasets/experiment_data.h"
#include "predictors/energy_summary.h"
#include "search_space/arch_config.h"
#include "search_space/arch_layers.h"
#include "search_space/arch_space.h"
#include "search_space/named_archs.h"
#include "supernet/hybrid_net.h"
#include "supernet/shiftaddaug_trainer.h"
#include "supernet/subnet_extraction.h"
#include "supernet/tiny_net.h"

namespace {

namespace po = nas::cli::po;
namespace fs = std::filesystem;

constexpr const char* kProgram = "nas_extract";
constexpr const char* kModelFile = "tiny_model.nasm";

struct Flags {
  std::string supernet, arch, op, data_dir, device = "cpu";
  int64_t bn_batches = nas::TrainerOptions{}.bn_batches;
};

int run(int argc, char** argv) {
  nas::cli::CommonFlags common;
  Flags f;
  po::options_description desc("Options");
  desc.add_options()
      ("supernet", po::value(&f.supernet)->required(), "output directory of nas_train_supernet (supernet.json, space.json, supernet.ckpt)")
      ("arch", po::value(&f.arch)->required(), "the subnet: an ArchConfig JSON file or a name (mbv2-tiny, mbv2-micro; built at the space's largest resolution)")
      ("op", po::value(&f.op), "set the op of every block and the head conv (shift | add | mult): for a named architecture")
      ("bn-batches", po::value(&f.bn_batches)->default_value(f.bn_batches), "training batches for the BN recalibration")
      ("data-dir", po::value(&f.data_dir), "data set directory (default: the one the supernet was trained with)")
      ("device", po::value(&f.device)->default_value(f.device), "cpu | cuda");
  nas::cli::add_common_flags(desc, common, nas::cli::kThreads | nas::cli::kOut);
  po::variables_map vm;
  if (!nas::cli::parse_flags(argc, argv, kProgram, "extract a subnet of a trained supernet with its inherited weights",
                             desc, vm))
    return 0;
  NAS_CHECK(!common.out_dir.empty(), "--out DIR is required");
  const nas::cli::OutputGuard guard = nas::cli::guard_outputs(
      kProgram, {{"--out", common.out_dir, true, {}}},
      {{"--supernet", f.supernet, true, false, nas::cli::trained_supernet_files()}, {"--arch", f.arch}, {"--data-dir", f.data_dir, true, true}});
  NAS_CHECK(f.bn_batches >= 0 && f.bn_batches <= 100000, "--bn-batches must be in [0, 100000], got " << f.bn_batches);
  NAS_CHECK(f.device == "cpu" || f.device == "cuda", "unknown --device '" << f.device << "' (accepted: cpu, cuda)");
  NAS_CHECK(f.device != "cuda" || torch::cuda::is_available(),
            "--device cuda: no CUDA device is available (this LibTorch build or machine has none)");
  torch::set_num_threads(nas::cli::resolve_threads(common));

  // ---- the supernet and its data split --------------------------------------------------------
  const torch::Device device(f.device);
  nas::cli::TrainedSupernet supernet = nas::cli::load_trained_supernet(f.supernet, f.data_dir, device);
  const nas::ArchSpace& space = supernet.space;
  const nas::datasets::ExperimentData& data = supernet.data;
  nas::HybridNet& net = supernet.net;

  // ---- the subnet -----------------------------------------------------------------------------
  nas::ArchConfig arch = nas::resolve_arch(f.arch, space.resolutions.back(), space.in_channels, space.num_classes);
  if (vm.count("op")) nas::set_all_ops(arch, nas::parse_op_kind(f.op));
  arch.validate();
  const std::string why = net->subnet_violation(arch);
  NAS_CHECK(why.empty(), "--arch " << f.arch << " is not in the supernet's space: " << why);

  const nas::TinyPreprocessing pre{data.info.name, data.train_loader->height(), data.train_loader->mean(),
                                   data.train_loader->std(), data.info.class_names};
  nas::json meta = {{"supernet", supernet.dir},
                    {"arch_name", f.arch},
                    {"bn_batches", f.bn_batches},
                    {"supernet_epoch", supernet.epoch()}};
  nas::TinyNet tiny = nas::extract_subnet(*net, arch, *data.train_loader, f.bn_batches, pre, device, meta);
  // The statistics are recalibrated: score without recalibrating again.
  const double val_top1 = nas::evaluate_active(*net, *data.val_loader, device);
  tiny.meta()["inherited_val_top1"] = val_top1;

  std::error_code ec;
  const fs::path out(common.out_dir);
  fs::create_directories(out, ec);
  NAS_CHECK(!ec, "cannot create --out " << common.out_dir << ": " << ec.message());
  const std::string model_path = (out / kModelFile).string();
  tiny.save(model_path);

  const nas::LayerCounts counts = nas::count_layers(arch);
  const nas::json energy = nas::energy_summary(arch);
  nas::json result;
  result["context"] = nas::make_context(nas::cli::make_run_context(kProgram, argc, argv, common, f.device));
  result["supernet"] = supernet.dir;
  result["supernet_epoch"] = supernet.epoch();
  result["arch"] = f.arch;
  result["arch_key"] = arch.key();
  result["arch_config"] = arch.to_json();
  result["dataset"] = data.info.name;
  result["bn_batches"] = f.bn_batches;
  result["inherited_val_top1"] = val_top1;
  result["val_images"] = data.val->size();
  result["params"] = counts.params;
  result["macs"] = counts.macs;
  result["energy_mj"] = energy["eyeriss_mj"];
  result["energy"] = energy;
  result["model_file"] = kModelFile;
  result["model_bytes"] = tiny.stored_bytes();
  nas::write_json_file((out / "result.json").string(), result);
  std::cout << kProgram << ": " << arch.key() << ": inherited val top-1 " << nas::format_double(val_top1, 2) << "% ("
            << data.val->size() << " images), " << counts.params << " params, "
            << nas::format_double(energy["eyeriss_mj"].get<double>(), 4) << " mJ (eyeriss)\n"
            << kProgram << ": wrote " << model_path << " and " << (out / "result.json").string() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nas::cli::guarded_main(kProgram, [&] { return run(argc, argv); });
}
