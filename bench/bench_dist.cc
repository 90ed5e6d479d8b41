// bench_dist: data-parallel supernet training on one machine (issue 12): images/s of 1 process x T
// threads against P processes x T/P threads (ranks launched by this program over loopback, Gloo),
// same supernet, space, data and global batch; and where the P-process time goes (the share of
// the training time spent in all-reduce / broadcast). Synthetic 28x28 images (the cost of a
// step does not depend on the pixels). Median of --repeats runs each.
// Prints JSON {context, space, batch_size, steps, single_process_images_per_s,
// two_process_images_per_s, ratio, allreduce_share, ...}.
//
//   build/bench/bench_dist --json results/bench/dist.json
#include <torch/torch.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/cli_common.h"
#include "cli/launcher.h"
#include "core/error.h"
#include "core/json_util.h"
#include "core/rng.h"
#include "datasets/data_loader.h"
#include "search_space/arch_space.h"
#include "supernet/gloo_data_parallel.h"
#include "supernet/shiftaddaug_trainer.h"

namespace {

constexpr const char* kProgram = "bench_dist";

struct Measurement {
  double images_per_s = 0;
  double train_seconds = 0;
  double collective_seconds = 0;
  int64_t collectives = 0;
};

nas::datasets::Dataset random_images(int64_t n, uint64_t seed) {
  nas::Rng rng(seed);
  std::vector<uint8_t> pixels(static_cast<size_t>(n * 28 * 28));
  for (uint8_t& p : pixels) p = static_cast<uint8_t>(rng.index(256));
  std::vector<int64_t> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) labels[static_cast<size_t>(i)] = i % 10;
  return nas::datasets::Dataset("synthetic", 1, 28, 28, 10, std::move(pixels), std::move(labels));
}

// One epoch of supernet training over `images` images; the group (null: one process) splits each batch.
Measurement train_once(int64_t images, int64_t batch_size, int sandwich, nas::GlooDataParallel* group) {
  const auto data = std::make_shared<const nas::datasets::Dataset>(random_images(images, 3));
  nas::datasets::DataLoaderOptions lo = nas::datasets::DataLoaderOptions::training("synthetic", batch_size, 1);
  lo.mean = {0.5};
  lo.std = {0.25};
  const nas::datasets::DataLoader loader(data, lo);
  torch::manual_seed(1);
  nas::HybridNet net(nas::default_space(28, 1, 10), nas::HybridNetOptions{});
  nas::TrainerOptions t;
  t.epochs = 1;
  t.sandwich = sandwich;
  t.bn_batches = 1;  // data-parallel training re-estimates BN statistics; the same work in both settings
  t.seed = 1;
  t.progress = false;
  nas::ShiftAddAugTrainer trainer(net, t, loader, nullptr);
  trainer.set_data_parallel(group);
  trainer.train();
  Measurement m;
  m.train_seconds = trainer.history().back().train_seconds;
  m.images_per_s = trainer.history().back().images_per_s;
  if (group) {
    m.collective_seconds = group->collective_seconds();
    m.collectives = group->collectives();
  }
  return m;
}

int run(int argc, char** argv) {
  namespace po = nas::cli::po;
  nas::cli::CommonFlags common;
  int64_t images = 1024, batch_size = 64;
  int sandwich = 2, repeats = 3, nproc = 2;
  po::options_description desc("Options");
  desc.add_options()
      ("images", po::value(&images)->default_value(images), "training images per run (one epoch)")
      ("batch-size", po::value(&batch_size)->default_value(batch_size), "global batch size")
      ("sandwich", po::value(&sandwich)->default_value(sandwich), "subnets per step")
      ("nproc", po::value(&nproc)->default_value(nproc), "processes of the data-parallel runs")
      ("repeats", po::value(&repeats)->default_value(repeats), "runs of each setting (median)");
  nas::cli::add_common_flags(desc, common, nas::cli::kThreads | nas::cli::kJson);
  po::variables_map vm;
  if (!nas::cli::parse_flags(argc, argv, kProgram, "data-parallel training speed on this machine", desc, vm)) return 0;
  NAS_CHECK(images >= batch_size && batch_size >= nproc, "--images must be >= --batch-size >= --nproc");
  NAS_CHECK(repeats >= 1 && repeats <= 100, "--repeats must be in 1..100");

  // A rank of the data-parallel runs: measure, and rank 0 reports to the file the parent named.
  if (nas::cli::is_distributed_worker()) {
    torch::set_num_threads(nas::cli::resolve_threads(common));
    nas::GlooDataParallel group(nas::DistOptions::from_env());
    const Measurement m = train_once(images, batch_size, sandwich, &group);
    if (group.rank() == 0) {
      const char* out = std::getenv("BENCH_DIST_RESULT");
      NAS_CHECK(out, "BENCH_DIST_RESULT is not set (run bench_dist without RANK/WORLD_SIZE)");
      nas::write_json_file(out, {{"images_per_s", m.images_per_s}, {"train_seconds", m.train_seconds},
                                 {"collective_seconds", m.collective_seconds}, {"collectives", m.collectives},
                                 {"threads", torch::get_num_threads()}});
    }
    return 0;
  }

  const int threads = nas::cli::resolve_threads(common);
  std::vector<double> single, multi, share;
  nas::json multi_runs = nas::json::array();
  const std::string result_file =
      (std::filesystem::temp_directory_path() / ("bench_dist_" + std::to_string(::getpid()) + ".json")).string();
  ::setenv("BENCH_DIST_RESULT", result_file.c_str(), 1);
  // The ranks split the cores: --threads T overall, T / P per rank.
  const std::string per_rank_threads = std::to_string(std::max(1, threads / nproc));
  std::vector<std::string> rank_args = {argv[0], "--images", std::to_string(images), "--batch-size",
                                        std::to_string(batch_size), "--sandwich", std::to_string(sandwich),
                                        "--threads", per_rank_threads};
  std::vector<char*> rank_argv;
  for (std::string& a : rank_args) rank_argv.push_back(a.data());
  for (int r = 0; r < repeats; ++r) {
    torch::set_num_threads(threads);
    single.push_back(train_once(images, batch_size, sandwich, nullptr).images_per_s);
    std::filesystem::remove(result_file);
    NAS_CHECK(nas::cli::launch_local_ranks(kProgram, nproc, static_cast<int>(rank_argv.size()), rank_argv.data()) == 0,
              "the data-parallel run failed");
    const nas::json m = nas::read_json_file(result_file);
    multi.push_back(m.at("images_per_s").get<double>());
    share.push_back(m.at("collective_seconds").get<double>() / std::max(1e-9, m.at("train_seconds").get<double>()));
    multi_runs.push_back(m);
    std::cerr << kProgram << ": run " << r + 1 << "/" << repeats << ": 1 x " << threads << " threads "
              << single.back() << " img/s, " << nproc << " x " << per_rank_threads << " threads " << multi.back()
              << " img/s\n";
  }
  std::filesystem::remove(result_file);
  nas::json out;
  out["context"] = nas::make_context(nas::cli::make_run_context(kProgram, argc, argv, common));
  out["space"] = "default_space(28, 1, 10) supernet";
  out["images"] = images;
  out["batch_size"] = batch_size;
  out["sandwich"] = sandwich;
  out["steps"] = images / batch_size;
  out["repeats"] = repeats;
  out["single_process_threads"] = threads;
  out["processes"] = nproc;
  out["threads_per_process"] = std::stoi(per_rank_threads);
  out["single_process_images_per_s"] = nas::cli::median(single);
  out["two_process_images_per_s"] = nas::cli::median(multi);
  out["ratio"] = nas::cli::median(multi) / nas::cli::median(single);
  out["allreduce_share"] = nas::cli::median(share);
  out["single_process_runs"] = single;
  out["multi_process_runs"] = multi_runs;
  nas::cli::emit_json(out, common);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nas::cli::guarded_main(kProgram, [&] { return run(argc, argv); });
}
