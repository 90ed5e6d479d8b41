#include "supernet/gloo_data_parallel.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "core/error.h"

namespace nas {
namespace {

int64_t env_int(const char* name, int64_t fallback, int64_t lo, int64_t hi) {
  const char* text = std::getenv(name);
  if (!text || !*text) return fallback;
  char* end = nullptr;
  const long long v = std::strtoll(text, &end, 10);
  NAS_CHECK(*end == '\0' && v >= lo && v <= hi,
            "environment variable " << name << " must be an integer in " << lo << ".." << hi << ", got '"
                                    << std::string(text).substr(0, 40) << "'");
  return v;
}

// Runs a collective; a peer that died or timed out becomes one line naming the rank.
template <typename F>
void collective(int rank, const char* what, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    std::string message = e.what();
    message = message.substr(0, message.find('\n'));
    NAS_THROW("rank " << rank << ": " << what << " failed (another rank died or timed out?): "
                      << message.substr(0, 200));
  }
}

}  // namespace

DistOptions DistOptions::from_env() {
  DistOptions o;
  o.world_size = static_cast<int>(env_int("WORLD_SIZE", 1, 1, 4096));
  // Without RANK every process would be rank 0 and try to host the store.
  NAS_CHECK(o.world_size == 1 || (std::getenv("RANK") && *std::getenv("RANK")),
            "environment variable RANK must be set when WORLD_SIZE is " << o.world_size);
  o.rank = static_cast<int>(env_int("RANK", 0, 0, o.world_size - 1));
  env_int("LOCAL_RANK", 0, 0, 4096);
  if (const char* addr = std::getenv("MASTER_ADDR"); addr && *addr) o.master_addr = addr;
  NAS_CHECK(o.master_addr.size() <= 253, "environment variable MASTER_ADDR is too long");
  o.master_port = static_cast<int>(env_int("MASTER_PORT", o.master_port, 1, 65535));
  o.timeout_seconds = static_cast<double>(env_int("NAS_DIST_TIMEOUT", 300, 5, 86400));
  return o;
}

struct GlooDataParallel::Impl {
  DistOptions options;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
  double seconds = 0;
  int64_t count = 0;
};

GlooDataParallel::GlooDataParallel(const DistOptions& options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(options.timeout_seconds * 1000));
  collective(options.rank, "joining the process group", [&] {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<uint16_t>(options.master_port);
    store_options.isServer = options.rank == 0;
    store_options.numWorkers = options.world_size;
    store_options.waitWorkers = true;
    store_options.timeout = timeout;
    impl_->store = c10::make_intrusive<c10d::TCPStore>(options.master_addr, store_options);
    auto group_options = c10d::ProcessGroupGloo::Options::create();
    group_options->timeout = timeout;
    // One machine: loopback. Several: the interface GLOO_SOCKET_IFNAME names (as PyTorch), else
    // the address this host's name resolves to.
    const bool loopback = options.master_addr == "127.0.0.1" || options.master_addr == "localhost";
    const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
    group_options->devices.push_back(
        loopback ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
        : ifname && *ifname ? c10d::ProcessGroupGloo::createDeviceForInterface(ifname)
                            : c10d::ProcessGroupGloo::createDefaultDevice());
    impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, options.rank, options.world_size,
                                                                group_options);
  });
}

GlooDataParallel::~GlooDataParallel() = default;

int GlooDataParallel::rank() const { return impl_->options.rank; }
int GlooDataParallel::world_size() const { return impl_->options.world_size; }
double GlooDataParallel::collective_seconds() const { return impl_->seconds; }
int64_t GlooDataParallel::collectives() const { return impl_->count; }

namespace {

// Flattens runs of same-typed, same-device tensors into buckets of at most
// kAllReduceBucketElements, runs `op` on each bucket and copies the results back.
template <typename Op>
void bucketed(std::vector<torch::Tensor>& tensors, Op&& op) {
  torch::NoGradGuard no_grad;
  size_t i = 0;
  while (i < tensors.size()) {
    size_t j = i;
    int64_t elements = 0;
    while (j < tensors.size() && tensors[j].scalar_type() == tensors[i].scalar_type() &&
           tensors[j].device() == tensors[i].device() &&
           (j == i || elements + tensors[j].numel() <= kAllReduceBucketElements)) {
      elements += tensors[j].numel();
      ++j;
    }
    std::vector<torch::Tensor> flat;
    for (size_t k = i; k < j; ++k) flat.push_back(tensors[k].reshape({-1}));
    std::vector<torch::Tensor> bucket = {torch::cat(flat)};
    op(bucket);
    int64_t offset = 0;
    for (size_t k = i; k < j; ++k) {
      tensors[k].copy_(bucket[0].narrow(0, offset, tensors[k].numel()).view_as(tensors[k]));
      offset += tensors[k].numel();
    }
    i = j;
  }
}

}  // namespace

void GlooDataParallel::all_reduce_sum(std::vector<torch::Tensor>& tensors) {
  const auto t0 = std::chrono::steady_clock::now();
  collective(rank(), "all-reduce", [&] {
    bucketed(tensors, [&](std::vector<torch::Tensor>& bucket) {
      c10d::AllreduceOptions o;
      o.reduceOp = c10d::ReduceOp::SUM;
      impl_->group->allreduce(bucket, o)->wait();
      ++impl_->count;
    });
  });
  impl_->seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void GlooDataParallel::broadcast_from_rank0(std::vector<torch::Tensor>& tensors) {
  const auto t0 = std::chrono::steady_clock::now();
  collective(rank(), "broadcast", [&] {
    bucketed(tensors, [&](std::vector<torch::Tensor>& bucket) {
      c10d::BroadcastOptions o;
      o.rootRank = 0;
      impl_->group->broadcast(bucket, o)->wait();
      ++impl_->count;
    });
  });
  impl_->seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace nas
