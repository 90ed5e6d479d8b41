// nas_build_acc_dataset: the accuracy predictor's data set. Samples architectures of a trained
// supernet's space (seeded, duplicates skipped), gives each its inherited weights, recalibrates
// its BN statistics on training batches and measures its top-1 on the supernet's validation
// split (never the test split), and appends one JSON line per architecture
// (predictors/accuracy_dataset.h) to --out, synced line by line.
//
// --resume keeps every complete line of an interrupted run (an incomplete last line is cut off)
// and goes on: the sampling sequence is a function of --seed alone, so a resumed run ends with
// the same file as an uninterrupted one. A larger --samples on resume extends the set.
#include <torch/cuda.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <unordered_set>

#include "cli/cli_common.h"
#include "cli/output_guards.h"
#include "workflow/trained_supernet.h"
#include "core/append_file.h"
#include "core/error.h"
#include "core/json_util.h"
#include "core/progress.h"
#include "core/rng.h"
#include "core/string_format.h"
#include "predictors/accuracy_dataset.h"
#include "predictors/energy_summary.h"
#include "supernet/shiftaddaug_trainer.h"
#include "supernet/subnet_extraction.h"

namespace {

namespace po = nas::cli::po;
namespace fs = std::filesystem;

constexpr const char* kProgram = "nas_build_acc_dataset";
constexpr int64_t kMaxSamples = 1000000;
// Draws per wanted architecture before giving up on finding new ones (a small space runs out).
constexpr int64_t kDrawsPerSample = 100;

struct Flags {
  std::string supernet, out, data_dir, device = "cpu";
  int64_t samples = 1000;
  int64_t bn_batches = nas::TrainerOptions{}.bn_batches;
  bool resume = false;
};

int run(int argc, char** argv) {
  nas::cli::CommonFlags common;
  Flags f;
  po::options_description desc("Options");
  desc.add_options()
      ("supernet", po::value(&f.supernet)->required(), "output directory of nas_train_supernet")
      ("samples", po::value(&f.samples)->default_value(f.samples), "architectures in the data set (unique)")
      ("out", po::value(&f.out)->required(), "the data set file (JSON lines)")
      ("resume", po::bool_switch(&f.resume), "keep the complete lines of --out and go on")
      ("bn-batches", po::value(&f.bn_batches)->default_value(f.bn_batches), "training batches for each BN recalibration")
      ("data-dir", po::value(&f.data_dir), "data set directory (default: the one the supernet was trained with)")
      ("device", po::value(&f.device)->default_value(f.device), "cpu | cuda");
  nas::cli::add_common_flags(desc, common, nas::cli::kSeed | nas::cli::kThreads);
  po::variables_map vm;
  if (!nas::cli::parse_flags(argc, argv, kProgram,
                             "sample subnets of a trained supernet and measure their inherited validation accuracy",
                             desc, vm))
    return 0;
  NAS_CHECK(f.samples >= 1 && f.samples <= kMaxSamples, "--samples must be in [1, " << kMaxSamples << "], got " << f.samples);
  NAS_CHECK(f.bn_batches >= 0 && f.bn_batches <= 100000, "--bn-batches must be in [0, 100000], got " << f.bn_batches);
  NAS_CHECK(f.device == "cpu" || f.device == "cuda", "unknown --device '" << f.device << "' (accepted: cpu, cuda)");
  NAS_CHECK(f.device != "cuda" || torch::cuda::is_available(),
            "--device cuda: no CUDA device is available (this LibTorch build or machine has none)");
  // Claimed before --resume reads it: two processes on one file would append the same lines twice.
  const nas::cli::OutputGuard guard = nas::cli::guard_outputs(
      kProgram, {{"--out", f.out}}, {{"--supernet", f.supernet, true, false, nas::cli::trained_supernet_files()}, {"--data-dir", f.data_dir, true, true}});
  std::error_code ec;
  const bool exists = fs::exists(f.out, ec);
  NAS_CHECK(f.resume || !exists, "--out " << f.out << " exists: pass --resume to go on with it, or choose another file");
  const int threads = nas::cli::resolve_threads(common);
  torch::set_num_threads(threads);
  nas::cli::warn_if_oversubscribed(kProgram, threads);

  const torch::Device device(f.device);
  nas::cli::TrainedSupernet supernet = nas::cli::load_trained_supernet(f.supernet, f.data_dir, device);
  nas::AccuracyDatasetHeader header;
  header.space = supernet.space;
  // What the accuracies depend on: a resumed run must have the same.
  header.source = {{"supernet", supernet.dir},
                   {"supernet_epoch", supernet.epoch()},
                   {"supernet_checkpoint_step", supernet.checkpoint_state.value("step", int64_t{0})},
                   {"dataset", supernet.data.info.name},
                   {"val_images", supernet.data.val->size()},
                   {"bn_batches", f.bn_batches},
                   {"seed", common.seed},
                   {"energy", "eyeriss, default table, 32 bit, per image"}};

  // ---- what an earlier run left ---------------------------------------------------------------
  std::unordered_set<std::string> done;
  uint64_t keep_bytes = 0;
  bool write_header = true;
  if (exists && fs::file_size(f.out, ec) > 0) {
    // A file whose header line is incomplete has nothing worth keeping.
    std::string head(nas::kMaxAccuracyLineBytes + 1, '\0');
    std::ifstream in(f.out, std::ios::binary);
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(in.gcount()));
    if (head.find('\n') != std::string::npos) {
      const nas::AccuracyDataset existing = nas::read_accuracy_dataset(f.out);
      NAS_CHECK(existing.header.space.fingerprint() == header.space.fingerprint(),
                "--resume: " << f.out << " was built for another space (" << existing.header.space.fingerprint()
                             << ", the supernet's is " << header.space.fingerprint() << ")");
      NAS_CHECK(existing.header.source == header.source,
                "--resume: " << f.out << " was built with other settings: " << nas::json_excerpt(existing.header.source));
      for (const nas::AccuracyRecord& r : existing.records) done.insert(r.key);
      keep_bytes = existing.complete_bytes;
      write_header = false;
      if (existing.dropped_incomplete_line) std::cerr << kProgram << ": dropped an incomplete last line of " << f.out << "\n";
      std::cerr << kProgram << ": resuming with " << done.size() << " architectures in " << f.out << "\n";
    }
  }
  nas::AppendFile file(f.out, keep_bytes);
  if (write_header) file.append(header.to_line() + "\n");

  // ---- sample, score, append ----------------------------------------------------------------
  std::cerr << kProgram << ": space of 10^" << nas::format_double(supernet.space.log10_size(), 1)
            << " architectures; supernet epoch " << supernet.epoch() << "; validation split "
            << supernet.data.val->size() << " images\n";
  nas::Rng rng(common.seed);
  std::unordered_set<std::string> drawn;
  int64_t in_set = 0, measured = 0;
  const int64_t max_draws = f.samples * kDrawsPerSample;
  int64_t draws = 0;
  const int64_t todo = f.samples - static_cast<int64_t>(std::min<size_t>(done.size(), static_cast<size_t>(f.samples)));
  nas::Progress progress(kProgram, todo, "arch", 0.0);
  double top1_sum = 0;
  while (in_set < f.samples && draws < max_draws) {
    ++draws;
    const nas::ArchConfig arch = supernet.space.sample(rng);
    const std::string key = arch.key();
    if (!drawn.insert(key).second) continue;
    ++in_set;
    if (done.count(key)) continue;
    const nas::SubnetScore score = nas::score_subnet(*supernet.net, arch, *supernet.data.train_loader,
                                                     *supernet.data.val_loader, f.bn_batches, device);
    const double energy_mj = nas::energy_summary(arch)["eyeriss_mj"].get<double>();
    file.append(nas::make_accuracy_record(supernet.space, arch, score.val_top1, energy_mj).to_line() + "\n");
    ++measured;
    top1_sum += score.val_top1;
    progress.update(measured,
                    "val top-1 " + nas::format_double(score.val_top1, 2) + "% (mean " +
                        nas::format_double(top1_sum / static_cast<double>(measured), 2) + "%), " +
                        nas::format_double(energy_mj * 1e3, 2) + " uJ",
                    true);
  }
  progress.finish();
  NAS_CHECK(in_set == f.samples, "the space ran out of new architectures after " << in_set << " of " << f.samples
                                                                                  << " (" << draws << " draws)");
  std::cout << kProgram << ": " << f.out << ": " << f.samples << " architectures (" << measured
            << " measured now, " << (f.samples - measured) << " kept from before)\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nas::cli::guarded_main(kProgram, [&] { return run(argc, argv); });
}
