// bench_train_step: images/s of one ShiftAddAug training step (tiny forward+backward, one sampled
// augmented forward+backward, adder gradient scaling, SGD) on random data, split into its parts,
// with the peak resident set of each configuration. Prints JSON.
//
// --supernet SPACE (default | ArchSpace file): the same step with the architecture as the active
// subnet of the weight-sharing supernet against the architecture built as a fixed net, in
// alternating rounds (median of --rounds; supernet_step_ratio = supernet / fixed time per step),
// plus one row of full sandwich steps (--sandwich subnets per step, each with an augmented
// version) for the supernet's training throughput and peak resident set.
//
// --profile N: the timed steps of each fixed-net row run under LibTorch's CPU profiler, and the
// row lists the N operators of largest self time per step (where the step's time goes; the
// profiler's own overhead inflates the row's timings, so profile and time in separate runs).
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "cli/cli_common.h"
#include "core/json_util.h"
#include "core/memory_usage.h"
#include "core/progress.h"
#include "core/rng.h"
#include "search_space/arch_space.h"
#include "search_space/named_archs.h"
#include "supernet/hybrid_net.h"
#include "supernet/malloc_tuning.h"
#include "supernet/sgd_nesterov.h"
#include "supernet/shiftaddaug_trainer.h"
#include "supernet/tiny_ops.h"
#include "core/error.h"

namespace {

namespace po = nas::cli::po;
using Clock = std::chrono::steady_clock;
namespace legacy_profiler = torch::autograd::profiler;

// The operator's name, and for convolutions the kind of kernel (depthwise / pointwise / dense, from
// the weight's shape: their backward costs differ by an order of magnitude per FLOP).
std::string profile_key(const torch::autograd::profiler::LegacyEvent& e) {
  const std::string name = e.name();
  const int weight_input = name == "aten::convolution_backward" ? 2
                           : name == "aten::mkldnn_convolution" || name == "aten::convolution" ? 1
                                                                                                : -1;
  const std::vector<std::vector<int64_t>> shapes = e.shapes();
  if (weight_input < 0 || static_cast<int>(shapes.size()) <= weight_input) return name;
  const std::vector<int64_t>& w = shapes[static_cast<size_t>(weight_input)];
  const std::vector<int64_t>& in = shapes[static_cast<size_t>(weight_input - 1)];
  if (w.size() != 4 || in.size() != 4) return name;
  const std::string k = std::to_string(w[2]) + "x" + std::to_string(w[3]);
  // Depthwise: one input channel per filter and as many filters as input channels (a stem over a
  // one-channel image also has one input channel per filter, but it is dense).
  if (w[1] == 1 && w[0] > 1 && in[1] == w[0]) return name + " (depthwise " + k + ")";
  return name + (w[2] == 1 && w[3] == 1 ? " (pointwise)" : " (dense " + k + ")");
}

// Self time (an operator's time less that of the operators it called) per operator (profile_key),
// from the legacy profiler's push / pop events (nested per thread), as rows of
// {op, self_ms_per_step, calls_per_step, share}, the `top` largest first.
nas::json profile_rows(const legacy_profiler::thread_event_lists& threads, int64_t steps, int64_t top) {
  struct Total {
    double self_us = 0;
    int64_t calls = 0;
  };
  std::map<std::string, Total> totals;
  double all_us = 0;
  for (const std::vector<legacy_profiler::LegacyEvent>& events : threads) {
    struct Open {
      const legacy_profiler::LegacyEvent* push;
      double child_us;
    };
    std::vector<Open> stack;
    for (const legacy_profiler::LegacyEvent& e : events) {
      if (e.kindStr() == "push") {
        stack.push_back({&e, 0.0});
      } else if (e.kindStr() == "pop" && !stack.empty()) {
        const Open open = stack.back();
        stack.pop_back();
        const double us = open.push->cpuElapsedUs(e);
        Total& t = totals[profile_key(*open.push)];
        t.self_us += us - open.child_us;
        t.calls += 1;
        all_us += us - open.child_us;
        if (!stack.empty()) stack.back().child_us += us;
      }
    }
  }
  std::vector<std::pair<std::string, Total>> sorted(totals.begin(), totals.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.second.self_us > b.second.self_us; });
  nas::json rows = nas::json::array();
  for (size_t i = 0; i < sorted.size() && static_cast<int64_t>(i) < top; ++i)
    rows.push_back({{"op", sorted[i].first},
                    {"self_ms_per_step", sorted[i].second.self_us / 1e3 / static_cast<double>(steps)},
                    {"calls_per_step", static_cast<double>(sorted[i].second.calls) / static_cast<double>(steps)},
                    {"share", all_us > 0 ? sorted[i].second.self_us / all_us : 0.0}});
  return rows;
}

// Times `steps` training steps (after 2 warm-up steps) on one batch: for each subnet that
// choose() returns, its MF forward+backward and (aug) one augmented forward+backward, then the
// adder scaling and SGD. Returns seconds per step.
double time_steps(nas::HybridNet& net, const std::function<std::vector<nas::ArchConfig>()>& choose,
                  bool augment, int64_t steps, const torch::Tensor& x, const torch::Tensor& y,
                  nas::Rng& rng, int64_t aug_pieces) {
  std::vector<nas::SgdParamGroup> groups(1);
  groups[0].params = net->parameters();
  nas::SgdNesterov sgd(groups, 0.9);
  double seconds = 0;
  for (int64_t s = 0; s < steps + 2; ++s) {
    const auto t0 = Clock::now();
    sgd.zero_grad();
    for (const nas::ArchConfig& subnet : choose()) {
      net->set_subnet(subnet);
      const torch::Tensor xs = nas::resize_input(x, subnet.resolution);
      nas::smoothed_cross_entropy(net->forward(xs), y, 0.1).backward();
      if (augment) {
        net->set_active(net->sample_aug(rng));
        nas::augmented_backward(net, xs, y, 1.0, aug_pieces, 0.1);
      }
    }
    net->scale_adder_gradients();
    sgd.step(0.01);
    if (s >= 2) seconds += nas::seconds_since(t0);
  }
  return seconds / static_cast<double>(steps);
}

int run(int argc, char** argv) {
  nas::cli::CommonFlags common;
  std::string arch_name, ops_list, aug_list;
  int64_t batch = 128, steps = 10, resolution = 28, channels = 1;
  bool channels_last = false, largest = false, no_malloc_tuning = false, forward_only = false;
  std::string supernet_space;
  std::string memory_format = nas::memory_format_name(nas::HybridNetOptions{}.channels_last);
  std::string op_weights = nas::HybridNetOptions::supernet_defaults().separate_adder_weights ? "separate-adder" : "shared";
  int64_t rounds = 3, sandwich = nas::TrainerOptions{}.sandwich;
  int64_t aug_pieces = nas::TrainerOptions{}.aug_micro_batches;
  int64_t profile_top = 0;
  po::options_description desc("Options");
  desc.add_options()
      ("arch", po::value(&arch_name)->default_value("mbv2-micro"), "architecture name or file")
      ("ops", po::value(&ops_list)->default_value("shift,add"), "comma-separated ops")
      ("augs", po::value(&aug_list)->default_value("none,shiftaddaug"), "comma-separated aug modes")
      ("batch", po::value(&batch)->default_value(128), "batch size")
      ("steps", po::value(&steps)->default_value(10), "timed steps (after 2 warm-up steps)")
      ("resolution", po::value(&resolution)->default_value(28), "input size")
      ("channels", po::value(&channels)->default_value(1), "input channels")
      ("channels-last", po::bool_switch(&channels_last), "channels-last inputs")
      ("memory-format", po::value(&memory_format)->default_value(memory_format), "activations of the training steps: channels-last | nchw (HybridNetOptions::channels_last)")
      ("largest", po::bool_switch(&largest), "run the largest augmented network every step (the memory worst case) instead of a sampled one")
      ("aug-micro-batches", po::value(&aug_pieces)->default_value(aug_pieces), "run each augmented forward + backward in N row slices (as the trainer's --aug-micro-batches)")
      ("forward-only", po::bool_switch(&forward_only), "memory probe: the augmented forward keeps its autograd graph but runs no backward (peak = saved activations + forward temporaries)")
      ("profile", po::value(&profile_top)->default_value(0), "list the N operators of largest self time per step in each fixed-net row (LibTorch's CPU profiler; its overhead inflates that row's timings)")
      ("no-malloc-tuning", po::bool_switch(&no_malloc_tuning), "keep glibc's default malloc settings where glibc's malloc is in use (for comparison)")
      ("supernet", po::value(&supernet_space), "compare a supernet step (default | ArchSpace file; --arch with each op as the active subnet) with the fixed net's, and time sandwich steps")
      ("rounds", po::value(&rounds)->default_value(rounds), "--supernet: alternating timing rounds (median)")
      ("sandwich", po::value(&sandwich)->default_value(sandwich), "--supernet: subnets per sandwich step")
      ("op-weights", po::value(&op_weights)->default_value(op_weights), "--supernet: shared | separate-adder (as nas_train_supernet)");
  nas::cli::add_common_flags(desc, common, nas::cli::kSeed | nas::cli::kThreads | nas::cli::kJson);
  po::variables_map vm;
  if (!nas::cli::parse_flags(argc, argv, "bench_train_step", "time ShiftAddAug training steps", desc, vm))
    return 0;
  NAS_CHECK(profile_top >= 0 && profile_top <= 1000, "--profile must be in [0, 1000], got " << profile_top);
  NAS_CHECK(aug_pieces >= 1 && aug_pieces <= batch, "--aug-micro-batches must be in [1, --batch], got " << aug_pieces);
  const bool cl_steps = nas::parse_memory_format(memory_format);
  if (!no_malloc_tuning) nas::tune_malloc_for_training();
  torch::set_num_threads(nas::cli::resolve_threads(common));
  auto split = [](const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
      const size_t end = s.find(',', start);
      out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
      if (end == std::string::npos) break;
      start = end + 1;
    }
    return out;
  };
  nas::json rows = nas::json::array();
  const bool separate_adder = op_weights == "separate-adder";
  if (!supernet_space.empty()) {
    NAS_CHECK(rounds >= 1 && sandwich >= 1, "--rounds and --sandwich must be >= 1");
    NAS_CHECK(op_weights == "shared" || op_weights == "separate-adder",
              "unknown --op-weights '" << op_weights << "' (accepted: shared, separate-adder)");
    const nas::ArchSpace space =
        supernet_space == "default"
            ? nas::default_space(static_cast<int>(resolution), static_cast<int>(channels), 10)
            : nas::read_space_file(supernet_space);
    torch::Tensor x = torch::randn({batch, channels, resolution, resolution});
    const torch::Tensor y = torch::randint(0, 10, {batch}, torch::kLong);
    for (const std::string& op_name : split(ops_list)) {
      for (const std::string& aug : split(aug_list)) {
        nas::ArchConfig arch = nas::resolve_arch(arch_name, static_cast<int>(resolution), static_cast<int>(channels), 10);
        nas::set_all_ops(arch, nas::parse_op_kind(op_name));
        nas::HybridNetOptions options = nas::HybridNetOptions::supernet_defaults();
        options.separate_adder_weights = separate_adder;
        options.channels_last = cl_steps;
        if (aug == "none") options.aug.expand_mults = options.aug.width_mults = {1.0};
        nas::release_free_heap_memory();
        nas::reset_peak_rss();
        torch::manual_seed(common.seed);
        nas::HybridNet fixed(arch, options);
        nas::HybridNet super(space, options);
        fixed->train();
        super->train();
        nas::Rng rng_fixed(common.seed), rng_super(common.seed);
        std::vector<double> t_fixed, t_super;
        auto one = [&] { return std::vector<nas::ArchConfig>{arch}; };
        for (int64_t r = 0; r < rounds; ++r) {
          t_fixed.push_back(time_steps(fixed, one, aug != "none", steps, x, y, rng_fixed, aug_pieces));
          t_super.push_back(time_steps(super, one, aug != "none", steps, x, y, rng_super, aug_pieces));
        }
        const double ratio = nas::cli::median(t_super) / nas::cli::median(t_fixed);
        nas::json row = {{"mode", "supernet_vs_fixed"}, {"op_weights", op_weights}, {"memory_format", memory_format}, {"aug_micro_batches", aug_pieces}, {"arch", arch_name}, {"arch_key", arch.key()},
                         {"op", op_name}, {"aug", aug}, {"rounds", rounds},
                         {"fixed_ms_per_step", 1e3 * nas::cli::median(t_fixed)},
                         {"supernet_ms_per_step", 1e3 * nas::cli::median(t_super)},
                         {"supernet_step_ratio", ratio},
                         {"images_per_s", static_cast<double>(batch) / nas::cli::median(t_super)},
                         {"peak_rss_mib", nas::bytes_to_mib(nas::peak_rss_bytes())}};
        std::cerr << arch_name << " " << op_name << " " << aug << ": supernet step " << row["supernet_ms_per_step"].get<double>()
                  << " ms vs fixed " << row["fixed_ms_per_step"].get<double>() << " ms (ratio " << ratio << ")\n";
        rows.push_back(row);
      }
    }
    // Full sandwich steps of supernet training, with augmentation: throughput and peak memory.
    nas::release_free_heap_memory();
    const bool peak_reset = nas::reset_peak_rss();
    nas::HybridNetOptions options = nas::HybridNetOptions::supernet_defaults();
    options.separate_adder_weights = separate_adder;
    options.channels_last = cl_steps;
    torch::manual_seed(common.seed);
    nas::HybridNet super(space, options);
    super->train();
    nas::Rng rng(common.seed);
    auto sandwich_subnets = [&] {
      std::vector<nas::ArchConfig> out = {space.largest(), space.smallest()};
      out.resize(static_cast<size_t>(std::min<int64_t>(sandwich, 2)));
      for (int64_t i = 2; i < sandwich; ++i) out.push_back(space.sample(rng));
      return out;
    };
    const double t = time_steps(super, sandwich_subnets, true, steps, x, y, rng, aug_pieces);
    nas::json row = {{"mode", "supernet_sandwich"}, {"op_weights", op_weights}, {"aug_micro_batches", aug_pieces}, {"space", supernet_space}, {"sandwich", sandwich},
                     {"aug", "shiftaddaug"}, {"ms_per_step", 1e3 * t},
                     {"images_per_s", static_cast<double>(batch) / t},
                     {"peak_rss_mib", nas::bytes_to_mib(nas::peak_rss_bytes())}, {"peak_rss_reset", peak_reset}};
    std::cerr << "supernet sandwich " << sandwich << ": " << row["images_per_s"].get<double>() << " img/s, peak RSS "
              << row["peak_rss_mib"].get<double>() << " MiB\n";
    rows.push_back(row);
  }
  for (const std::string& op_name : split(supernet_space.empty() ? ops_list : std::string())) {
    if (op_name.empty()) continue;
    for (const std::string& aug : split(aug_list)) {
      nas::ArchConfig arch = nas::resolve_arch(arch_name, static_cast<int>(resolution),
                                               static_cast<int>(channels), 10);
      nas::set_all_ops(arch, nas::parse_op_kind(op_name));
      nas::HybridNetOptions options;
      options.channels_last = cl_steps;
      if (aug == "none") options.aug.expand_mults = options.aug.width_mults = {1.0};
      // Peak resident set of this configuration's steps (its net, activations and allocator).
      nas::release_free_heap_memory();
      const bool peak_reset = nas::reset_peak_rss();
      torch::manual_seed(common.seed);
      nas::HybridNet net(arch, options);
      net->train();
      std::vector<nas::SgdParamGroup> groups(1);
      groups[0].params = net->parameters();
      nas::SgdNesterov sgd(groups, 0.9);
      nas::Rng rng(common.seed);
      torch::Tensor x = torch::randn({batch, channels, resolution, resolution});
      if (channels_last) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
      const torch::Tensor y = torch::randint(0, 10, {batch}, torch::kLong);
      double t_tiny = 0, t_aug = 0, t_opt = 0;
      for (int64_t s = 0; s < steps + 2; ++s) {
        const bool timed = s >= 2;
        if (s == 2 && profile_top > 0)
          legacy_profiler::enableProfilerLegacy(
              torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU,
                                                    /*report_input_shapes=*/true));
        auto t0 = Clock::now();
        sgd.zero_grad();
        net->set_tiny();
        nas::smoothed_cross_entropy(net->forward(x), y, 0.1).backward();
        if (timed) t_tiny += nas::seconds_since(t0);
        if (aug != "none") {
          t0 = Clock::now();
          net->set_active(largest ? net->largest_aug() : net->sample_aug(rng));
          if (forward_only) {
            const torch::Tensor aug_loss = nas::smoothed_cross_entropy(net->forward(x), y, 0.1);
          } else {
            nas::augmented_backward(net, x, y, 1.0, aug_pieces, 0.1);
          }
          if (timed) t_aug += nas::seconds_since(t0);
        }
        t0 = Clock::now();
        net->scale_adder_gradients();
        sgd.step(0.01);
        if (timed) t_opt += nas::seconds_since(t0);
      }
      nas::json profile;
      if (profile_top > 0) profile = profile_rows(legacy_profiler::disableProfilerLegacy(), steps, profile_top);
      const double total = t_tiny + t_aug + t_opt;
      const double images = static_cast<double>(batch * steps);
      nas::json row = {{"arch", arch_name},
                       {"op", op_name},
                       {"aug", aug},
                       {"images_per_s", images / total},
                       {"tiny_ms_per_step", 1e3 * t_tiny / steps},
                       {"aug_ms_per_step", 1e3 * t_aug / steps},
                       {"sgd_ms_per_step", 1e3 * t_opt / steps},
                       {"resolution", resolution},
                       {"aug_networks", largest ? "largest" : "sampled"},
                       {"forward_only", forward_only},
                       {"aug_micro_batches", aug_pieces},
                       {"memory_format", memory_format},
                       {"peak_rss_mib", nas::bytes_to_mib(nas::peak_rss_bytes())},
                       {"peak_rss_reset", peak_reset}};
      if (profile_top > 0) {
        row["profiled"] = true;
        row["profile"] = profile;
      }
      std::cerr << arch_name << " " << op_name << " " << aug << ": " << row["images_per_s"].get<double>()
                << " img/s (tiny " << row["tiny_ms_per_step"].get<double>() << " ms, aug "
                << row["aug_ms_per_step"].get<double>() << " ms, sgd " << row["sgd_ms_per_step"].get<double>()
                << " ms per step), peak RSS " << row["peak_rss_mib"].get<double>() << " MiB\n";
      rows.push_back(row);
    }
  }
  nas::json out;
  out["context"] = nas::make_context(nas::cli::make_run_context("bench_train_step", argc, argv, common));
  out["batch"] = batch;
  out["allocator"] = nas::malloc_implementation();
  out["rows"] = rows;
  std::cout << out.dump(2) << "\n";
  if (!common.json_path.empty()) nas::write_json_file(common.json_path, out);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nas::cli::guarded_main("bench_train_step", [&] { return run(argc, argv); });
}
