// The fuzz targets whose readers hold tensors: tiny_model.nasm, trainer checkpoints
// (checkpoint.pt / supernet.ckpt) and the accuracy predictor file. Their seeds are made here, from
// a small network trained for a few steps on synthetic data (tests/supernet_fixtures.h).
#include <torch/torch.h>

// The fixtures' resume helper uses doctest's CHECK; this program has no test runner.
#define DOCTEST_CONFIG_DISABLE
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>

#include "core/byte_order.h"
#include "core/error.h"
#include "core/fnv1a.h"
#include "fuzz_targets_internal.h"
#include "predictors/accuracy_dataset.h"
#include "predictors/accuracy_predictor.h"
#include "search_space/arch_space.h"
#include "supernet/tiny_net.h"
#include "tests/supernet_fixtures.h"

namespace nas::fuzz {
namespace {

std::string read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Sealed files (core/sealed_file.h): the last 8 bytes are FNV-1a 64 of everything before them.
void reseal_sealed(std::string& bytes) {
  if (bytes.size() < 24) return;
  const uint64_t h = fnv1a64(std::string_view(bytes).substr(0, bytes.size() - 8));
  for (int i = 0; i < 8; ++i) bytes[bytes.size() - 8 + i] = static_cast<char>((h >> (8 * i)) & 0xff);
}

HybridNetOptions fuzz_net_options() {
  HybridNetOptions o;
  o.aug = test::small_aug();
  return o;
}

// A trainer over a small net, built once: the checkpoint target resumes it from the fuzzed file.
struct CheckpointRig {
  std::shared_ptr<const datasets::Dataset> data =
      std::make_shared<const datasets::Dataset>(test::synthetic_dataset(32, 3));
  datasets::DataLoader loader{data, datasets::DataLoaderOptions::training("synthetic", 16, 1)};
  TrainerOptions options;
  json fingerprint = {{"fuzz", "checkpoint"}};
  std::string seed_bytes;

  CheckpointRig() {
    options.epochs = 2;
    options.bn_batches = 1;
    options.progress = false;
    options.seed = 4;
    options.checkpoint_path = scratch_file("seed.ckpt");
    std::filesystem::remove(options.checkpoint_path);
    torch::manual_seed(7);
    HybridNet net(test::small_arch(OpKind::Add), fuzz_net_options());
    ShiftAddAugTrainer trainer(net, options, loader, nullptr);
    trainer.resume(fingerprint);  // no file yet: records the run's fingerprint in the checkpoint
    trainer.train();
    seed_bytes = read_whole(options.checkpoint_path);
    options.checkpoint_path = scratch_file("fuzz.ckpt");
  }
};

CheckpointRig& checkpoint_rig() {
  static CheckpointRig rig;
  return rig;
}

}  // namespace

std::vector<FuzzTarget> torch_targets() {
  torch::set_num_threads(1);
  std::vector<FuzzTarget> t;
  t.push_back({"tiny_model", "tiny_model.nasm (nas_eval --model; sealed, resealed after mutation; then a forward pass)",
               [] {
                 std::vector<std::string> out;
                 for (OpKind op : {OpKind::Shift, OpKind::Add}) {
                   torch::manual_seed(11);
                   HybridNet net(test::small_arch(op), HybridNetOptions{});
                   test::randomise_bn(*net, 12);
                   out.push_back(TinyNet::from_hybrid(*net, TinyPreprocessing{"synthetic", 8, {0.5}, {0.25}}).serialize());
                 }
                 return out;
               },
               [](const std::string& bytes) {
                 const std::string path = scratch_file("fuzz.nasm");
                 write_scratch(path, bytes);
                 const TinyNet net = TinyNet::load(path);
                 const int64_t r = net.arch().resolution;
                 const torch::Tensor y = net.forward(torch::zeros({1, net.arch().in_channels, r, r}));
                 if (y.dim() != 2 || y.size(1) != net.arch().num_classes)
                   throw FuzzOracleFailure{"an accepted model gives logits of the wrong shape"};
               },
               reseal_sealed, false, size_t{4} << 20});
  t.push_back({"checkpoint", "trainer checkpoints (--resume; sealed, resealed after mutation)",
               [] { return std::vector<std::string>{checkpoint_rig().seed_bytes}; },
               [](const std::string& bytes) {
                 CheckpointRig& rig = checkpoint_rig();
                 write_scratch(rig.options.checkpoint_path, bytes);
                 torch::manual_seed(7);
                 HybridNet net(test::small_arch(OpKind::Add), fuzz_net_options());
                 ShiftAddAugTrainer trainer(net, rig.options, rig.loader, nullptr);
                 trainer.resume(rig.fingerprint);
               },
               reseal_sealed, false, size_t{4} << 20});
  t.push_back({"predictor", "the accuracy predictor file (nas_search --predictor; sealed, resealed after mutation)",
               [] {
                 const ArchSpace space = default_space(28, 1, 10);
                 Rng rng(2);
                 std::vector<AccuracyRecord> records;
                 for (int i = 0; i < 16; ++i)
                   records.push_back(make_accuracy_record(space, space.sample(rng), 70.0 + i, 0.01 * (i + 1)));
                 PredictorTrainOptions o;
                 o.hidden_size = 8;
                 o.hidden_layers = 1;
                 o.epochs = 2;
                 o.batch_size = 8;
                 return std::vector<std::string>{AccuracyPredictor::train(space, records, {}, o).to_bytes()};
               },
               [](const std::string& bytes) {
                 const std::string path = scratch_file("fuzz.predictor");
                 write_scratch(path, bytes);
                 AccuracyPredictor::load(path);
               },
               reseal_sealed, false, size_t{4} << 20});
  return t;
}

}  // namespace nas::fuzz
