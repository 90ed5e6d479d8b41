#pragma once
// GlooDataParallel: DataParallel (data_parallel.h) over LibTorch's own c10d process group:
// a TCPStore for the rendezvous and ProcessGroupGloo for the collectives (CPU tensors; CUDA
// tensors travel through the host). Target nas_dist, linked by the training programs only.
//
// Rendezvous as torchrun: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT (LOCAL_RANK is read and
// ignored: one device per machine). Rank 0 hosts the store. A rank that dies makes the others'
// next collective fail (closed connection) or time out after `timeout_seconds`: every rank then
// ends with a one-line nas::Error, never a hang.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "supernet/data_parallel.h"

namespace nas {

struct DistOptions {
  int rank = 0;
  int world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  double timeout_seconds = 300;  // rendezvous and every collective

  // From the torchrun variables; nullopt-like: world_size 1 when WORLD_SIZE is unset. Errors name
  // the variable and what is accepted.
  static DistOptions from_env();
  bool distributed() const { return world_size > 1; }
};

// Largest bucket of one all-reduce, in elements (float32: 16 MiB): gradients are flattened into
// buckets of at most this size, one collective each.
constexpr int64_t kAllReduceBucketElements = int64_t{4} << 20;

class GlooDataParallel final : public DataParallel {
 public:
  // Joins the group (blocks until every rank has joined, or throws after the timeout).
  explicit GlooDataParallel(const DistOptions& options);
  ~GlooDataParallel() override;

  int rank() const override;
  int world_size() const override;
  void all_reduce_sum(std::vector<torch::Tensor>& tensors) override;
  void broadcast_from_rank0(std::vector<torch::Tensor>& tensors) override;

  // Time spent in collectives and their count so far (bench_dist: the all-reduce share).
  double collective_seconds() const;
  int64_t collectives() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nas
