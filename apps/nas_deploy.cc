// nas_deploy: quantizes an exported tiny MF network (tiny_model.nasm) to integers and exports it:
// DIR/model.nasq (the integer model), DIR/model.c + model.h (C99 for a bare microcontroller) and
// DIR/deploy.json (operations, flash and RAM, 8-bit energy, float vs integer test top-1).
#include <iostream>
#include <string>

#include "apps/cli_common.h"
#include "core/error.h"
#include "deploy/deploy_run.h"

namespace {

namespace po = nas::cli::po;
constexpr const char* kProgram = "nas_deploy";

int run(int argc, char** argv) {
  nas::cli::CommonFlags common;
  nas::deploy::DeployOptions o;
  std::string bn_fold = "shift-add";
  po::options_description desc("Options");
  desc.add_options()
      ("model", po::value(&o.model_path), "exported tiny model (tiny_model.nasm)")
      ("dataset", po::value(&o.dataset), "fashion-mnist | mnist | cifar10 | cifar100 (default: the model's)")
      ("data-dir", po::value(&o.data_dir), "data set directory (default: the system location of (Fashion-)MNIST)")
      ("bits", po::value(&o.quantizer.bits)->default_value(o.quantizer.bits), "activation bits: 8 | 16")
      ("calib-images", po::value(&o.calib_images)->default_value(o.calib_images), "calibration images from the training split")
      ("bn-fold", po::value(&bn_fold)->default_value(bn_fold), "BN of MF layers: shift-add (powers of two) | multiplier (counted as multiplies)")
      ("bn-terms", po::value(&o.quantizer.bn_terms)->default_value(o.quantizer.bn_terms), "powers of two per BN factor (shift-add; 1 = a power-of-two scale)")
      ("max-accumulator-bits", po::value(&o.quantizer.max_accumulator_bits)->default_value(o.quantizer.max_accumulator_bits),
       "32: refuse a layer whose worst case overflows int32; 64: widen it to int64")
      ("limit-test", po::value(&o.limit_test)->default_value(0), "test images for the top-1 (0: the whole test split)");
  nas::cli::add_common_flags(desc, common, nas::cli::kOut);
  po::variables_map vm;
  if (!nas::cli::parse_flags(argc, argv, kProgram, "quantize and export a tiny MF network to integer C", desc, vm)) return 0;
  NAS_CHECK(!o.model_path.empty(), "--model FILE is required");
  NAS_CHECK(!common.out_dir.empty(), "--out DIR is required");
  NAS_CHECK(o.calib_images >= 1, "--calib-images must be >= 1, got " << o.calib_images);
  NAS_CHECK(o.quantizer.bits == 8 || o.quantizer.bits == 16, "--bits must be 8 or 16, got " << o.quantizer.bits);
  o.quantizer.bn_fold = nas::deploy::parse_bn_fold(bn_fold);
  o.out_dir = common.out_dir;
  const nas::deploy::DeployResult r =
      nas::deploy::run_deploy(o, nas::make_context(nas::cli::make_run_context(kProgram, argc, argv, common)));
  std::cout << kProgram << ": " << r.summary << "\n" << kProgram << ": wrote " << o.out_dir << "/{model.nasq, model.c, model.h, deploy.json}\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nas::cli::guarded_main(kProgram, [&] { return run(argc, argv); });
}
