// bench_deploy: images/s of the generated C (nas_deploy's export, one thread, cc -O2, batch 1 by
// construction) against LibTorch float inference of the same network (TinyNet, 1 thread, batch 1
// and batch 128), each the median of --repeats runs in this invocation. JSON with the ratio
// c_batch1_vs_libtorch_batch1_ratio.
#include <torch/utils.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include "apps/cli_common.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "datasets/load_dataset.h"
#include "deploy/c_codegen.h"
#include "deploy/deploy_run.h"
#include "deploy/float_model.h"
#include "deploy/torch_bridge.h"

namespace {

namespace po = nas::cli::po;
constexpr const char* kProgram = "bench_deploy";

// Runs a shell command, returns its stdout; a non-zero exit is an error naming `what`.
std::string run_command(const std::string& command, const std::string& what) {
  FILE* pipe = popen(command.c_str(), "r");
  NAS_CHECK(pipe, what << ": cannot run the command");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  NAS_CHECK(pclose(pipe) == 0, what << " failed: " << command);
  return out;
}

int run(int argc, char** argv) {
  nas::cli::CommonFlags common;
  std::string model_path, dataset, data_dir, cc = NAS_DEPLOY_CC, harness = NAS_DEPLOY_HARNESS, work_dir;
  int64_t images = 256, calib = 256;
  int repeats = 5;
  po::options_description desc("Options");
  desc.add_options()
      ("model", po::value(&model_path), "exported tiny model (tiny_model.nasm)")
      ("dataset", po::value(&dataset), "data set (default: the model's)")
      ("data-dir", po::value(&data_dir), "data set directory")
      ("images", po::value(&images)->default_value(images), "test images per timed run")
      ("calib-images", po::value(&calib)->default_value(calib), "calibration images (training split)")
      ("repeats", po::value(&repeats)->default_value(repeats), "timed runs per configuration (median)")
      ("cc", po::value(&cc)->default_value(cc), "C compiler for the generated C")
      ("harness", po::value(&harness)->default_value(harness), "deploy/harness/nas_harness.c")
      ("work-dir", po::value(&work_dir), "where the C is generated and built (default: a temp dir)");
  nas::cli::add_common_flags(desc, common, nas::cli::kJson);
  po::variables_map vm;
  if (!nas::cli::parse_flags(argc, argv, kProgram, "generated C vs LibTorch inference speed", desc, vm)) return 0;
  NAS_CHECK(!model_path.empty(), "--model FILE is required");
  NAS_CHECK(images >= 1 && repeats >= 1 && calib >= 1, "--images, --repeats and --calib-images must be >= 1");
  // Both sides run on one thread (the C is single-threaded by construction), and the context says so.
  NAS_CHECK(common.threads == 0 || common.threads == 1,
            "--threads must be 1: the generated C and LibTorch are both timed on one thread, got " << common.threads);
  common.threads = 1;
  torch::set_num_threads(1);

  const nas::deploy::FloatModel fm = nas::deploy::load_float_model(model_path);
  if (dataset.empty()) dataset = fm.dataset;
  const int64_t H = fm.source_resolution, C = fm.resolved.in_channels;
  const auto train = nas::datasets::load_dataset(dataset, data_dir, nas::datasets::Split::Train, calib);
  const auto test = nas::datasets::load_dataset(dataset, data_dir, nas::datasets::Split::Test, images);
  const nas::deploy::IntModel model =
      nas::deploy::quantize(fm, nas::deploy::interleaved_images(train, H, H, C, "calibration").images, {});
  const nas::deploy::GeneratedC code = nas::deploy::generate_c(model);
  const std::filesystem::path dir = work_dir.empty()
      ? std::filesystem::temp_directory_path() / ("bench_deploy_" + std::to_string(getpid())) : std::filesystem::path(work_dir);
  nas::write_file_atomic((dir / "model.h").string(), code.header);
  nas::write_file_atomic((dir / "model.c").string(), code.source);
  // CIFAR-style records (label byte + planar pixels): the harness reads them for any channel count.
  std::string records;
  for (int64_t i = 0; i < test.size(); ++i) {
    records.push_back(static_cast<char>(test.label(i)));
    records.append(reinterpret_cast<const char*>(test.image(i)), static_cast<size_t>(test.image_bytes()));
  }
  nas::write_file_atomic((dir / "images.bin").string(), records);
  const std::string d = dir.string();
  run_command(cc + " -std=c99 -O2 -I" + d + " " + harness + " " + d + "/model.c -o " + d + "/harness", "compiling the C");
  std::istringstream lines(run_command(d + "/harness " + d + "/images.bin " + std::to_string(test.size()) + " --bench " +
                                           std::to_string(repeats + 1) + " 2>/dev/null", "running the C"));
  std::vector<double> c_rates;
  std::string word;
  double rate;
  bool warm_up = true;  // the first pass warms the caches
  while (lines >> word >> rate)
    if (word == "images_per_s" && !std::exchange(warm_up, false)) c_rates.push_back(rate);
  NAS_CHECK(!c_rates.empty(), "the harness printed no timings");
  const double c_ips = nas::cli::median(c_rates);
  const double t1 = nas::deploy::libtorch_seconds_per_image(model_path, test, 1, images, repeats);
  const double t128 = nas::deploy::libtorch_seconds_per_image(model_path, test, 128, images, repeats);
  nas::json out;
  out["context"] = nas::make_context(nas::cli::make_run_context(kProgram, argc, argv, common));
  out["model"] = model_path;
  out["arch_key"] = fm.arch.key();
  out["bits"] = model.bits;
  out["images_per_run"] = test.size();
  out["repeats"] = repeats;
  out["c_compiler"] = cc + " -std=c99 -O2";
  out["c_batch1_images_per_s"] = c_ips;
  out["c_runs_images_per_s"] = c_rates;
  out["c_threads"] = 1;
  out["libtorch_threads"] = torch::get_num_threads();
  out["libtorch_batch1_images_per_s"] = 1.0 / t1;
  out["libtorch_batch128_images_per_s"] = 1.0 / t128;
  out["c_batch1_vs_libtorch_batch1_ratio"] = c_ips * t1;
  out["c_batch1_vs_libtorch_batch128_ratio"] = c_ips * t128;
  out["flash_weight_bytes"] = model.weight_bytes();
  out["ram_peak_activation_bytes"] = model.arena_bytes + model.resize_buffer_bytes();
  nas::cli::emit_json(out, common);
  if (work_dir.empty()) std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nas::cli::guarded_main(kProgram, [&] { return run(argc, argv); });
}
