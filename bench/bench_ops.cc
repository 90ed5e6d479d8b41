// bench_ops: forward / backward timings and peak extra memory of conv2d (LibTorch), shift (ours),
// adder (ours: dedicated kernel), adder_portable (LibTorch ops, chunked) and adder_unfold (the
// AdderNet unfold approach) at four shapes. Prints JSON (google/benchmark style: a context block
// plus one result per op and shape); ratios are to conv2d measured in the same run.
//
// Memory: the peak resident-set growth (VmHWM after resetting it through /proc/self/clear_refs)
// during one forward+backward, measured after all timings with glibc told to serve every block
// over 64 KiB by mmap, so freed memory really leaves the process and each op is measured alone.
#include <malloc.h>
#include <torch/cuda.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>

#include "cli/cli_common.h"
#include "core/error.h"
#include "ops/adder_conv2d.h"
#include "ops/adder_reference.h"
#include "ops/shift_conv2d.h"

namespace {

using torch::Tensor;
using nas::ops::AdderBackend;

struct Shape {
  std::string name;
  int64_t N, C, O, H, W, kernel, stride, padding, groups;
  int64_t out_h() const { return (H + 2 * padding - kernel) / stride + 1; }
  int64_t out_w() const { return (W + 2 * padding - kernel) / stride + 1; }
  int64_t macs() const { return N * O * out_h() * out_w() * (C / groups) * kernel * kernel; }
};

const std::vector<Shape> kShapes = {
    {"ref", 64, 32, 32, 16, 16, 3, 1, 1, 1},  // the reference shape of the targets
    {"dw", 64, 96, 96, 14, 14, 3, 1, 1, 96},  // depthwise
    {"pw", 64, 24, 144, 14, 14, 1, 1, 0, 1},  // pointwise expansion
    {"s2", 128, 16, 32, 28, 28, 3, 2, 1, 1},  // strided
};

using OpFn = std::function<Tensor(const Tensor&, const Tensor&, const Shape&)>;

const std::vector<std::pair<std::string, OpFn>> kOps = {
    {"conv2d",
     [](const Tensor& x, const Tensor& w, const Shape& s) {
       return torch::conv2d(x, w, {}, s.stride, s.padding, 1, s.groups);
     }},
    {"shift",
     [](const Tensor& x, const Tensor& w, const Shape& s) {
       return nas::ops::shift_conv2d(x, w, s.stride, s.padding, s.groups, 5);
     }},
    {"adder",
     [](const Tensor& x, const Tensor& w, const Shape& s) {
       return nas::ops::adder_conv2d(x, w, s.stride, s.padding, s.groups, 0.2,
                                     AdderBackend::Auto);
     }},
    {"adder_portable",
     [](const Tensor& x, const Tensor& w, const Shape& s) {
       return nas::ops::adder_conv2d(x, w, s.stride, s.padding, s.groups, 0.2,
                                     AdderBackend::Portable);
     }},
    {"adder_unfold",
     [](const Tensor& x, const Tensor& w, const Shape& s) {
       return nas::ops::adder_conv2d_unfold_reference(x, w, s.stride, s.padding, s.groups, 0.2);
     }},
};

int64_t proc_status_kib(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::stoll(line.substr(std::string(field).size()));
  }
  return -1;
}

bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return out.good();
}

struct Inputs {
  Tensor x, w, g;
};

Inputs make_inputs(const Shape& s, const torch::Device& device) {
  const auto opts = torch::TensorOptions().dtype(torch::kFloat).device(device);
  Inputs in;
  in.x = torch::randn({s.N, s.C, s.H, s.W}, opts).requires_grad_(true);
  in.w = (torch::randn({s.O, s.C / s.groups, s.kernel, s.kernel}, opts) * 0.1).requires_grad_(true);
  in.g = torch::randn({s.N, s.O, s.out_h(), s.out_w()}, opts);
  return in;
}

void sync(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

struct Timing {
  double fwd_ms, bwd_ms, fwd_bwd_ms;
  int runs;
};

Timing time_op(const OpFn& op, const Shape& s, Inputs& in, int warmup, int repeats,
               const torch::Device& device) {
  using clock = std::chrono::steady_clock;
  std::vector<double> fwd, bwd, both;
  for (int i = 0; i < warmup + repeats; ++i) {
    in.x.mutable_grad() = Tensor();
    in.w.mutable_grad() = Tensor();
    sync(device);
    const auto t0 = clock::now();
    Tensor y = op(in.x, in.w, s);
    sync(device);
    const auto t1 = clock::now();
    y.backward(in.g);
    sync(device);
    const auto t2 = clock::now();
    if (i < warmup) continue;
    fwd.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    bwd.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    both.push_back(std::chrono::duration<double, std::milli>(t2 - t0).count());
  }
  return {nas::cli::median(fwd), nas::cli::median(bwd), nas::cli::median(both), repeats};
}

double peak_extra_mib(const OpFn& op, const Shape& s, Inputs& in) {
  in.x.mutable_grad() = Tensor();
  in.w.mutable_grad() = Tensor();
  malloc_trim(0);  // hand back what earlier ops freed, so this op's pages are counted
  if (!reset_peak_rss()) return -1;
  const int64_t base_kib = proc_status_kib("VmRSS:");
  {
    Tensor y = op(in.x, in.w, s);
    y.backward(in.g);
  }
  const int64_t peak_kib = proc_status_kib("VmHWM:");
  return std::max<int64_t>(0, peak_kib - base_kib) / 1024.0;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  return nas::cli::guarded_main("bench_ops", [&] {
    namespace po = boost::program_options;
    nas::cli::CommonFlags flags;
    flags.threads = 2;
    int repeats = 7, warmup = 2;
    std::string device_name = "cpu", ops_list, shapes_list;
    po::options_description desc("Options");
    nas::cli::add_common_flags(desc, flags, nas::cli::kThreads | nas::cli::kJson | nas::cli::kSeed);
    desc.add_options()
        ("repeats", po::value<int>(&repeats)->default_value(7), "timed runs per op and shape (median)")
        ("warmup", po::value<int>(&warmup)->default_value(2), "untimed runs first")
        ("device", po::value<std::string>(&device_name)->default_value("cpu"), "cpu | cuda")
        ("ops", po::value<std::string>(&ops_list), "comma list (default: all)")
        ("shapes", po::value<std::string>(&shapes_list), "comma list of ref,dw,pw,s2 (default: all)");
    po::variables_map vm;
    if (!nas::cli::parse_flags(argc, argv, "bench_ops",
                               "time conv2d / shift / adder operators, print JSON", desc, vm))
      return 0;
    // --threads defaults to 2 here (the targets are stated for 2 threads), not to all cores.
    if (vm["threads"].defaulted()) flags.threads = 2;
    NAS_CHECK(repeats >= 1 && warmup >= 0, "--repeats must be >= 1 and --warmup >= 0");
    NAS_CHECK(device_name == "cpu" || device_name == "cuda",
              "--device must be cpu or cuda, got '" << device_name << "'");
    NAS_CHECK(device_name == "cpu" || torch::cuda::is_available(),
              "--device cuda but no CUDA device is available");
    const torch::Device device(device_name == "cuda" ? torch::kCUDA : torch::kCPU);
    const int threads = nas::cli::resolve_threads(flags);
    torch::set_num_threads(threads);
    torch::manual_seed(static_cast<uint64_t>(flags.seed));
    const auto wanted_ops = split_list(ops_list), wanted_shapes = split_list(shapes_list);
    auto wanted = [](const std::vector<std::string>& list, const std::string& name) {
      return list.empty() || std::find(list.begin(), list.end(), name) != list.end();
    };
    for (const auto& name : wanted_ops)
      NAS_CHECK(std::any_of(kOps.begin(), kOps.end(), [&](auto& op) { return op.first == name; }),
                "unknown op '" << name << "' in --ops");
    for (const auto& name : wanted_shapes)
      NAS_CHECK(std::any_of(kShapes.begin(), kShapes.end(), [&](auto& s) { return s.name == name; }),
                "unknown shape '" << name << "' in --shapes");

    nas::json results = nas::json::array();
    struct Pending {
      size_t shape, op;
      Timing timing;
    };
    std::vector<Pending> pending;
    for (size_t si = 0; si < kShapes.size(); ++si) {
      const Shape& s = kShapes[si];
      if (!wanted(wanted_shapes, s.name)) continue;
      Inputs in = make_inputs(s, device);
      for (size_t oi = 0; oi < kOps.size(); ++oi) {
        if (!wanted(wanted_ops, kOps[oi].first) && kOps[oi].first != "conv2d") continue;
        const Timing t = time_op(kOps[oi].second, s, in, warmup, repeats, device);
        std::cerr << "bench_ops: " << s.name << " " << kOps[oi].first << " fwd " << t.fwd_ms
                  << " ms, bwd " << t.bwd_ms << " ms\n";
        pending.push_back({si, oi, t});
      }
    }
    // Memory pass after all timings (see the header comment).
    const bool measure_memory = device.is_cpu();
    if (measure_memory) {
      mallopt(M_MMAP_THRESHOLD, 64 * 1024);
      mallopt(M_TRIM_THRESHOLD, 64 * 1024);
    }
    double conv_fwd_bwd = 0, conv_mem = 0;
    for (const Pending& p : pending) {
      const Shape& s = kShapes[p.shape];
      const std::string& op = kOps[p.op].first;
      double mem = -1;
      if (measure_memory) {
        Inputs in = make_inputs(s, device);
        mem = peak_extra_mib(kOps[p.op].second, s, in);
      }
      if (op == "conv2d") {
        conv_fwd_bwd = p.timing.fwd_bwd_ms;
        conv_mem = mem;
      }
      nas::json r;
      r["op"] = op;
      r["shape"] = s.name;
      r["shape_desc"] = nas::json{{"N", s.N}, {"C_in", s.C}, {"C_out", s.O}, {"H", s.H},
                                  {"W", s.W}, {"kernel", s.kernel}, {"stride", s.stride},
                                  {"padding", s.padding}, {"groups", s.groups}};
      r["fwd_ms"] = p.timing.fwd_ms;
      r["bwd_ms"] = p.timing.bwd_ms;
      r["fwd_bwd_ms"] = p.timing.fwd_bwd_ms;
      r["runs"] = p.timing.runs;
      if (mem >= 0) {
        r["peak_extra_mib"] = mem;
        r["memory_ratio_to_conv2d"] = conv_mem > 0 ? mem / conv_mem : 0.0;
      } else {
        r["peak_extra_mib"] = nullptr;
      }
      r["ratio_to_conv2d"] = p.timing.fwd_bwd_ms / conv_fwd_bwd;
      r["gmacs_per_s_fwd"] = s.macs() / (p.timing.fwd_ms * 1e6);
      results.push_back(r);
    }
    nas::RunContext run = nas::cli::make_run_context("bench_ops", argc, argv, flags, device_name);
    nas::json out;
    out["context"] = nas::make_context(run);
    out["context"]["adder_kernel_isa"] = nas::ops::adder_kernel_isa_name();
    out["context"]["torch_runtime_version"] = TORCH_VERSION;
    out["context"]["memory_method"] = measure_memory ? "VmHWM growth, mmap threshold 64 KiB" : "n/a";
    out["context"]["repeats"] = repeats;
    out["context"]["warmup"] = warmup;
    out["results"] = results;
    std::cout << out.dump(2) << std::endl;
    if (!flags.json_path.empty()) nas::write_json_file(flags.json_path, out);
    return 0;
  });
}
