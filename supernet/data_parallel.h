#pragma once
// DataParallel: what the trainer needs from a process group to train data-parallel (issue 12).
// The implementation over LibTorch's c10d (Gloo) is GlooDataParallel (supernet/gloo_data_parallel.h,
// its own library so that nas_supernet does not link Gloo).
//
// How the trainer uses it (ShiftAddAugTrainer::set_data_parallel): every step's global batch (the
// loader's batch, the same on every rank: same seed, same order) is cut into
// world_size x micro_batches chunks of (nearly) equal rows; rank r runs chunks r*M .. r*M+M-1, each
// with its loss weighted by its share of the batch, so that the gradients summed over the ranks
// are those of the whole batch. The subnets and augmentations of a step come from the trainer's
// RNG, identical on every rank. BN: each chunk normalises with its own batch statistics, so
// N ranks x 1 micro-batch compute what 1 process x N micro-batches computes: bit for bit for 2
// (the equivalence tests: the chunks' gradients are added in the same order), up to the order of
// floating-point additions for more (Gloo's ring all-reduce sums segments in another order than
// one process does; every rank still gets the same sums). Running statistics are not synchronised during training (training never
// reads them: they are re-estimated on the same batches on every rank before each evaluation and
// before export), and a checkpoint holds rank 0's.
#include <vector>

#include <torch/types.h>

namespace nas {

class DataParallel {
 public:
  virtual ~DataParallel() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // Sums the tensors over the ranks, in place (every rank ends with the sums). Every rank passes
  // tensors of the same shapes, types and order.
  virtual void all_reduce_sum(std::vector<torch::Tensor>& tensors) = 0;
  // Rank 0's values to every rank, in place.
  virtual void broadcast_from_rank0(std::vector<torch::Tensor>& tensors) = 0;
};

}  // namespace nas
