// The torch-free fuzz targets: JSON formats (arch, layers, space, energy table, search state,
// accuracy data set) and data files (IDX plain and gzip, CIFAR-10 / CIFAR-100 binaries).
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/fnv1a.h"
#include "core/json_util.h"
#include "core/rng.h"
#include "datasets/cifar_reader.h"
#include "datasets/idx_reader.h"
#include "evolution/search_state.h"
#include "fuzz_engine.h"
#include "fuzz_targets_internal.h"
#include "predictors/accuracy_dataset.h"
#include "predictors/energy_model.h"
#include "predictors/energy_table.h"
#include "search_space/arch_config.h"
#include "search_space/arch_layers.h"
#include "search_space/arch_space.h"
#include "search_space/layer_spec.h"
#include "search_space/named_archs.h"

namespace nas::fuzz {
namespace fs = std::filesystem;

namespace {
const fs::path& scratch_dir() {
  static const fs::path dir = [] {
    const fs::path d = fs::temp_directory_path() / ("nas_fuzz_" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}
}  // namespace

std::string scratch_file(const std::string& name) { return (scratch_dir() / name).string(); }

void remove_scratch_files() {
  std::error_code ec;
  fs::remove_all(scratch_dir(), ec);
}

void write_scratch(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw FuzzOracleFailure{"cannot write the scratch file " + path};
}

namespace {

// The energy of an accepted layer list must be a finite, non-negative number: an overflow that
// slips through validation shows up here as a negative or non-finite energy.
void check_energy(const std::vector<LayerSpec>& layers) {
  static const EnergyModel model(EnergyTable::builtin());
  const double mj = model.total_energy_mj(layers);
  if (!std::isfinite(mj) || mj < 0) throw FuzzOracleFailure{"energy " + std::to_string(mj) + " mJ"};
}

std::vector<std::string> arch_seeds() {
  std::vector<std::string> out;
  for (const std::string& name : named_arch_names()) out.push_back(named_arch(name, 32, 3, 10).to_json().dump(1));
  Rng rng(3);
  const ArchSpace space = default_space(28, 1, 10);
  for (int i = 0; i < 4; ++i) out.push_back(space.sample(rng).to_json().dump());
  return out;
}

std::string gzip(const std::string& raw) {
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw FuzzOracleFailure{"deflateInit2 failed"};
  std::string out(deflateBound(&zs, static_cast<uLong>(raw.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string idx_bytes(const std::vector<uint32_t>& dims) {
  std::string s = {0, 0, 8, static_cast<char>(dims.size())};
  size_t count = 1;
  for (uint32_t d : dims) {
    for (int b = 3; b >= 0; --b) s += static_cast<char>((d >> (8 * b)) & 0xff);
    count *= d;
  }
  for (size_t i = 0; i < count; ++i) s += static_cast<char>((i * 37) % 10);
  return s;
}

std::string cifar_bytes(int label_bytes, int records) {
  std::string s;
  for (int r = 0; r < records; ++r) {
    for (int l = 0; l < label_bytes; ++l) s += static_cast<char>(r % 10);
    for (int p = 0; p < 3072; ++p) s += static_cast<char>((p * 7 + r) & 0xff);
  }
  return s;
}

SearchState seed_search_state() {
  const ArchSpace space = default_space(28, 1, 10);
  SearchState s;
  s.space_fingerprint = space.fingerprint();
  s.options.population = 4;
  s.options.generations = 3;
  s.options.budget_mj = 1.0;
  s.scorers = {{"accuracy", {{"kind", "mock"}}}, {"energy", {{"kind", "eyeriss"}}}};
  s.generation = 0;
  Rng rng(5);
  for (int i = 0; i < 3; ++i) {
    ScoredArch a;
    a.arch = space.sample(rng);
    a.key = a.arch.key();
    a.predicted_top1 = 0.5 + 0.1 * i;
    a.energy_mj = 0.01 * (i + 1);
    s.population.push_back(a);
  }
  s.rng = rng.state();
  GenerationRecord g;
  g.population = g.feasible_count = 3;
  g.best_top1_within_budget = 0.7;
  s.history.push_back(g);
  return s;
}

void reseal_search_state(std::string& bytes) {
  json j = json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("state")) return;
  j["checksum"] = fnv1a64_text(j["state"].dump());
  bytes = j.dump(1);
}

void reseal_accuracy_dataset(std::string& bytes) {
  std::string out;
  size_t start = 0;
  for (int line = 0; start < bytes.size(); ++line) {
    size_t end = bytes.find('\n', start);
    const bool complete = end != std::string::npos;
    if (!complete) end = bytes.size();
    std::string text = bytes.substr(start, end - start);
    if (line > 0) {
      json j = json::parse(text, nullptr, false);
      if (j.is_object() && j.contains("checksum")) {
        j.erase("checksum");
        j["checksum"] = fnv1a64_text(j.dump());
        text = j.dump();
      }
    }
    out += text;
    if (complete) out += '\n';
    start = end + 1;
  }
  bytes = out;
}

}  // namespace

std::vector<FuzzTarget> basic_targets() {
  std::vector<FuzzTarget> t;
  t.push_back({"arch_json", "--arch FILE: ArchConfig JSON (then its layers and energy, and a round trip)",
               arch_seeds,
               [](const std::string& bytes) {
                 const ArchConfig a = ArchConfig::from_json(parse_json_text(bytes, "fuzz.json"), "fuzz.json");
                 if (ArchConfig::from_json(a.to_json()).key() != a.key())
                   throw FuzzOracleFailure{"arch JSON round trip changed the key " + a.key()};
                 check_energy(to_layer_specs(a));
               },
               nullptr, true});
  t.push_back({"layers_json", "nas_energy --layers FILE: the layer-list JSON (then its energy)",
               [] {
                 std::vector<std::string> out;
                 for (const char* name : {"mbv2-tiny", "mbv2-micro"}) {
                   json arr = json::array();
                   for (const LayerSpec& l : to_layer_specs(named_arch(name, 32, 3, 10))) arr.push_back(layer_to_json(l));
                   out.push_back(arr.dump(1));
                 }
                 return out;
               },
               [](const std::string& bytes) {
                 check_energy(layers_from_json(parse_json_text(bytes, "fuzz.json"), "fuzz.json"));
               },
               nullptr, true});
  t.push_back({"space_json", "--space FILE: ArchSpace JSON (then largest / smallest / samples and a round trip)",
               [] {
                 return std::vector<std::string>{default_space(28, 1, 10).to_json().dump(1),
                                                 default_space(32, 3, 10).to_json().dump()};
               },
               [](const std::string& bytes) {
                 const ArchSpace s = ArchSpace::from_json(parse_json_text(bytes, "fuzz.json"), "fuzz.json");
                 if (ArchSpace::from_json(s.to_json()).fingerprint() != s.fingerprint())
                   throw FuzzOracleFailure{"space JSON round trip changed the fingerprint"};
                 check_energy(to_layer_specs(s.largest()));
                 check_energy(to_layer_specs(s.smallest()));
                 Rng rng(fnv1a64(bytes));
                 for (int i = 0; i < 2; ++i) check_energy(to_layer_specs(s.sample(rng)));
               },
               nullptr, true});
  t.push_back({"energy_table_json", "--energy-table FILE: the energy model's unit-energy table",
               [] { return std::vector<std::string>{EnergyTable::builtin_json_text()}; },
               [](const std::string& bytes) {
                 EnergyTable table = EnergyTable::from_json(parse_json_text(bytes, "fuzz.json"), "fuzz.json");
                 static const std::vector<LayerSpec> layers = to_layer_specs(named_arch("mbv2-tiny", 32, 3, 10));
                 for (const EnergyTier tier : {EnergyTier::Eyeriss, EnergyTier::Unit}) {
                   EnergyModelOptions o;
                   o.tier = tier;
                   const EnergyModel model(table, o);
                   const double mj = model.total_energy_mj(layers);
                   if (!std::isfinite(mj) || mj < 0)
                     throw FuzzOracleFailure{"an accepted table gives energy " + std::to_string(mj) + " mJ"};
                 }
               },
               nullptr, true});
  t.push_back({"idx", "IDX (MNIST-family) files, plain",
               [] { return std::vector<std::string>{idx_bytes({3, 4, 5}), idx_bytes({7})}; },
               [](const std::string& bytes) {
                 datasets::parse_idx(std::vector<uint8_t>(bytes.begin(), bytes.end()), "fuzz.idx");
               },
               nullptr});
  t.push_back({"idx_gzip", "IDX files, gzip-compressed (as Debian ships Fashion-MNIST)",
               [] { return std::vector<std::string>{gzip(idx_bytes({3, 4, 5})), gzip(idx_bytes({7}))}; },
               [](const std::string& bytes) {
                 const std::string path = scratch_file("fuzz.idx.gz");
                 write_scratch(path, bytes);
                 datasets::read_idx(path);
               },
               nullptr});
  t.push_back({"cifar10_bin", "CIFAR-10 binary batches",
               [] { return std::vector<std::string>{cifar_bytes(1, 3)}; },
               [](const std::string& bytes) {
                 const std::string path = scratch_file("data_batch.bin");
                 write_scratch(path, bytes);
                 datasets::read_cifar_files({path}, datasets::cifar10_format());
               },
               nullptr});
  t.push_back({"cifar100_bin", "CIFAR-100 binary files",
               [] { return std::vector<std::string>{cifar_bytes(2, 3)}; },
               [](const std::string& bytes) {
                 const std::string path = scratch_file("train.bin");
                 write_scratch(path, bytes);
                 datasets::read_cifar_files({path}, datasets::cifar100_format());
               },
               nullptr});
  t.push_back({"search_state", "nas_search's search_state.json (checksummed; resealed after mutation)",
               [] {
                 const std::string path = scratch_file("seed_state.json");
                 write_search_state(path, seed_search_state());
                 std::ifstream in(path, std::ios::binary);
                 return std::vector<std::string>{std::string(std::istreambuf_iterator<char>(in), {})};
               },
               [](const std::string& bytes) {
                 const std::string path = scratch_file("search_state.json");
                 write_scratch(path, bytes);
                 read_search_state(path);
               },
               reseal_search_state, true});
  t.push_back({"accuracy_dataset", "the predictor's data set (JSON lines, per-line checksums; resealed)",
               [] {
                 const ArchSpace space = default_space(28, 1, 10);
                 AccuracyDatasetHeader h;
                 h.space = space;
                 h.source = {{"fuzz", true}};
                 std::string text = h.to_line() + "\n";
                 Rng rng(9);
                 for (int i = 0; i < 3; ++i)
                   text += make_accuracy_record(space, space.sample(rng), 80.0 + i, 0.02 * (i + 1)).to_line() + "\n";
                 return std::vector<std::string>{text};
               },
               [](const std::string& bytes) {
                 const std::string path = scratch_file("acc.jsonl");
                 write_scratch(path, bytes);
                 read_accuracy_dataset(path);
               },
               reseal_accuracy_dataset, true});
  return t;
}

const std::vector<FuzzTarget>& all_targets() {
  static const std::vector<FuzzTarget> targets = [] {
    std::vector<FuzzTarget> t = basic_targets();
    for (FuzzTarget& x : torch_targets()) t.push_back(std::move(x));
    return t;
  }();
  return targets;
}

}  // namespace nas::fuzz
