// Golden runs: fixed-seed ShiftAddAug trainings (a fixed net with shift, add and mult layers and
// the quantile remap; a supernet with the sandwich rule), two epochs each so that the channel sort
// runs, exported to tiny_model.nasm. The exports must equal, byte for byte, the files committed
// under tests/data/golden_run/, and the trainer checkpoints committed there (checkpoint version 5,
// written by the same runs) must still load and export the same models. The files were written by
// the build before the layer plan (search_space/layer_plan.h): a refactoring of the network's
// structure must leave them as they are.
//
// The numbers are LibTorch 1.13's on an x86-64 CPU, one thread (this project's machines). To
// rewrite the files after a deliberate change of the numbers: NAS_WRITE_GOLDEN=1 test_supernet
// -tc='golden*', then say so in the commit message.
#include <torch/torch.h>

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "core/atomic_file.h"
#include "core/fnv1a.h"
#include "datasets/data_loader.h"
#include "search_space/arch_space.h"
#include "supernet/hybrid_net.h"
#include "supernet/shiftaddaug_trainer.h"
#include "supernet/subnet_extraction.h"
#include "supernet/tiny_net.h"
#include "supernet_fixtures.h"

using namespace nas;
using namespace nas::test;

namespace {

// A small space on 8x8 inputs: an expand-free first stage, a second stage with elastic depth
// (1, 2), kernel (3, 5) and expand (2, 3), elastic width and resolution, shift / add blocks and
// head conv.
ArchSpace small_space() {
  ArchSpace s;
  s.in_channels = 1;
  s.num_classes = 4;
  s.stem = StemConfig{OpKind::Mult, 16, 3, 1};
  StageSpace s0;
  s0.stride = 1;
  s0.out_channels = 16;
  s0.depths = {1};
  s0.kernels = {3};
  s0.expands = {1};
  StageSpace s1;
  s1.stride = 2;
  s1.out_channels = 24;
  s1.depths = {1, 2};
  s1.kernels = {3, 5};
  s1.expands = {2, 3};
  s.stages = {s0, s1};
  s.head_channels = 32;
  s.classifier_op = OpKind::Mult;
  s.resolutions = {6, 8};
  s.widths = {0.5, 1.0};
  s.ops = {OpKind::Shift, OpKind::Add};
  s.head_ops = {OpKind::Shift, OpKind::Add};
  s.validate();
  return s;
}

const std::string kGoldenDir = NAS_SOURCE_DIR "/tests/data/golden_run";

bool writing_golden() {
  const char* v = std::getenv("NAS_WRITE_GOLDEN");
  return v && std::string(v) == "1";
}

// One thread for the test's duration: the golden numbers are those of a one-thread run.
struct OneThread {
  int before = torch::get_num_threads();
  OneThread() { torch::set_num_threads(1); }
  ~OneThread() { torch::set_num_threads(before); }
};

// The export must equal the golden file (or, when writing, becomes it).
void check_golden(const std::string& bytes, const std::string& name) {
  const std::string path = kGoldenDir + "/" + name;
  if (writing_golden()) {
    std::filesystem::create_directories(kGoldenDir);
    write_file_atomic(path, bytes);
    return;
  }
  REQUIRE(std::filesystem::exists(path));
  const std::string golden = read_file(path);
  CAPTURE(name);
  CHECK(bytes.size() == golden.size());
  CHECK(fnv1a64(bytes) == fnv1a64(golden));
}

// The trainer's checkpoint becomes the golden one (when writing).
void keep_checkpoint(const std::string& written, const std::string& name) {
  if (writing_golden()) write_file_atomic(kGoldenDir + "/" + name, read_file(written));
}

struct GoldenData {
  std::shared_ptr<const datasets::Dataset> data = std::make_shared<const datasets::Dataset>(synthetic_dataset(64, 41));
  datasets::DataLoader loader{data, datasets::DataLoaderOptions::training("synthetic", 16, 3)};
  TinyPreprocessing preprocessing() const { return {"synthetic", 8, loader.mean(), loader.std()}; }
};

ArchConfig golden_arch() {
  ArchConfig arch = small_arch(OpKind::Shift);
  arch.stages[1].blocks[0].op = OpKind::Add;
  return arch;
}

HybridNetOptions golden_fixed_options() {
  HybridNetOptions o;
  o.aug = small_aug();
  o.remap = RemapKind::Quantile;
  return o;
}

TrainerOptions golden_trainer_options(TrainerOptions o, const std::string& checkpoint) {
  o.epochs = 2;
  o.lr = 0.05;
  o.stop_width_aug_fraction = 1.0;  // width augmentation (and so the sort) in both epochs
  o.bn_batches = 2;
  o.seed = 7;
  o.sandwich = 2;
  o.progress = false;
  o.checkpoint_path = temp_path(checkpoint);
  std::filesystem::remove(o.checkpoint_path);
  return o;
}

}  // namespace

TEST_CASE("golden run: a fixed net's fixed-seed training writes the committed tiny_model.nasm, and its committed checkpoint loads") {
  const OneThread one_thread;
  const GoldenData d;
  const json meta = {{"golden", "fixed"}};
  {
    torch::manual_seed(29);
    HybridNet net(golden_arch(), golden_fixed_options());
    const TrainerOptions options = golden_trainer_options(TrainerOptions(), "golden_fixed.ckpt");
    ShiftAddAugTrainer trainer(net, options, d.loader, nullptr);
    CHECK(trainer.train());
    check_golden(TinyNet::from_hybrid(*net, d.preprocessing(), meta).serialize(), "fixed_tiny_model.nasm");
    keep_checkpoint(options.checkpoint_path, "fixed.ckpt");
  }
  if (writing_golden()) return;
  // Another initialisation, then the committed checkpoint's weights.
  torch::manual_seed(30);
  HybridNet loaded(golden_arch(), golden_fixed_options());
  load_checkpoint_weights(*loaded, kGoldenDir + "/fixed.ckpt");
  check_golden(TinyNet::from_hybrid(*loaded, d.preprocessing(), meta).serialize(), "fixed_tiny_model.nasm");
  // The committed export still loads and is what it was written as.
  const std::string golden = read_file(kGoldenDir + "/fixed_tiny_model.nasm");
  CHECK(TinyNet::load(kGoldenDir + "/fixed_tiny_model.nasm").serialize() == golden);
}

TEST_CASE("golden run: a supernet's fixed-seed training exports the committed subnets, and its committed checkpoint loads") {
  const OneThread one_thread;
  const GoldenData d;
  const ArchSpace space = small_space();
  HybridNetOptions net_options = HybridNetOptions::supernet_defaults();
  net_options.aug = small_aug();
  auto export_subnets = [&](HybridNet& net) {
    const torch::Device cpu(torch::kCPU);
    check_golden(extract_subnet(*net, space.smallest(), d.loader, 2, d.preprocessing(), cpu).serialize(),
                 "supernet_smallest.nasm");
    check_golden(extract_subnet(*net, space.largest(OpKind::Add), d.loader, 2, d.preprocessing(), cpu).serialize(),
                 "supernet_largest_add.nasm");
  };
  {
    torch::manual_seed(31);
    HybridNet net(space, net_options);
    const TrainerOptions options = golden_trainer_options(TrainerOptions::supernet_defaults(), "golden_supernet.ckpt");
    ShiftAddAugTrainer trainer(net, options, d.loader, nullptr);
    CHECK(trainer.train());
    keep_checkpoint(options.checkpoint_path, "supernet.ckpt");
    export_subnets(net);
  }
  if (writing_golden()) return;
  torch::manual_seed(32);
  HybridNet loaded(space, net_options);
  load_checkpoint_weights(*loaded, kGoldenDir + "/supernet.ckpt");
  export_subnets(loaded);
}
