#include "predictors/energy_model.h"

#include <atomic>
#include <cstring>
#include <optional>
#include <utility>

#include <tbb/concurrent_unordered_map.h>

#include "core/checked_math.h"
#include "core/error.h"
#include "predictors/eyeriss_model.h"
#include "predictors/unit_model.h"

namespace nas {

namespace {

// The cache key: every field of a LayerSpec that the cost depends on (all but the name), plus
// tier, bits and batch, packed into integers so that a warm lookup builds no string.
struct LayerKey {
  static constexpr int kWords = 12;
  uint32_t v[kWords];
  bool operator==(const LayerKey& o) const { return std::memcmp(v, o.v, sizeof v) == 0; }
};

struct LayerKeyHash {
  size_t operator()(const LayerKey& k) const {
    uint64_t h = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < LayerKey::kWords; ++i) {
      h ^= k.v[i];
      h *= 0xBF58476D1CE4E5B9ull;
      h ^= h >> 29;
    }
    return static_cast<size_t>(h);
  }
};

// Packs the key; false when a field is outside [0, 2^31) (then the layer is invalid anyway).
bool make_key(const LayerSpec& l, EnergyTier tier, int bits, int64_t batch, LayerKey& key) {
  const int64_t fields[] = {l.c_in,  l.c_out,  l.h_in,    l.w_in,   l.h_out, l.w_out,
                            l.kernel, l.stride, l.padding, l.groups, batch};
  uint64_t any = 0;
  for (int64_t f : fields) any |= static_cast<uint64_t>(f);
  if ((any >> 31) != 0 || bits < 0 || bits > 255) return false;
  key.v[0] = static_cast<uint32_t>(l.type) | static_cast<uint32_t>(l.op) << 4 |
             static_cast<uint32_t>(tier) << 8 | static_cast<uint32_t>(bits) << 16;
  for (int i = 0; i < 11; ++i) key.v[i + 1] = static_cast<uint32_t>(fields[i]);
  return true;
}

}  // namespace

const char* energy_tier_name(EnergyTier tier) {
  return tier == EnergyTier::Eyeriss ? "eyeriss" : "unit";
}

EnergyTier parse_energy_tier(const std::string& name) {
  if (name == "eyeriss") return EnergyTier::Eyeriss;
  if (name == "unit") return EnergyTier::Unit;
  NAS_THROW("unknown energy model '" << name << "' (accepted: eyeriss, unit)");
}

struct EnergyModel::Impl {
  Impl(EnergyTable t, EnergyModelOptions o)
      : options(o), eyeriss(t), unit(t), table(std::move(t)) {}

  EnergyModelOptions options;
  EyerissModel eyeriss;
  UnitModel unit;
  EnergyTable table;
  tbb::concurrent_unordered_map<LayerKey, LayerEnergy, LayerKeyHash> cache;
  std::atomic<int64_t> evaluations{0};
};

EnergyModel::EnergyModel(EnergyTable table, EnergyModelOptions options)
    : impl_(std::make_unique<Impl>(std::move(table), options)) {
  NAS_CHECK(options.batch > 0 && options.batch <= kMaxEnergyBatch,
            "batch must be in 1.." << kMaxEnergyBatch << ", got " << options.batch);
  NAS_CHECK(options.bits >= 0, "bits must be positive, got " << options.bits);
  if (options.bits != 0) impl_->table.precision(options.bits);  // throws listing supported bits
}

EnergyModel::~EnergyModel() = default;

const EnergyModelOptions& EnergyModel::options() const { return impl_->options; }
const EnergyTable& EnergyModel::table() const { return impl_->table; }

int EnergyModel::effective_bits(const LayerSpec& layer) const {
  return impl_->options.bits != 0 ? impl_->options.bits : layer.bits;
}

const LayerEnergy& EnergyModel::cost_layer(const LayerSpec& layer) const {
  Impl& m = *impl_;
  const int bits = effective_bits(layer);
  LayerKey key;
  if (!make_key(layer, m.options.tier, bits, m.options.batch, key)) {
    layer.validate();  // names the bad field
    NAS_THROW("layer '" << layer.name << "': sizes out of range (" << layer.key() << ")");
  }
  if (auto it = m.cache.find(key); it != m.cache.end()) return it->second;

  layer.validate();
  NAS_CHECK(m.table.supports_bits(bits), "layer '" << layer.name << "': " << bits << "-bit arithmetic, but energy table '"
                                                   << m.table.name << "' has entries for "
                                                   << m.table.supported_bits_text() << " bits only");
  LayerEnergy cost = m.options.tier == EnergyTier::Eyeriss
                         ? m.eyeriss.cost(layer, bits, m.options.batch)
                         : m.unit.cost(layer, bits, m.options.batch);
  m.evaluations.fetch_add(1, std::memory_order_relaxed);
  // Two threads may cost the same new layer at once; both results are identical and the first
  // insert wins.
  return m.cache.emplace(key, std::move(cost)).first->second;
}

double EnergyModel::total_energy_mj(const std::vector<LayerSpec>& layers) const {
  double total = 0;
  for (const LayerSpec& layer : layers) total += cost_layer(layer).energy_mj;
  return total;
}

EnergyReport EnergyModel::report(const std::vector<LayerSpec>& layers) const {
  const Impl& m = *impl_;
  EnergyReport r;
  r.model = energy_tier_name(m.options.tier);
  r.table_name = m.table.name;
  r.table_version = m.table.version;
  r.table_source = m.table.source;
  r.bits = m.options.bits;
  r.batch = m.options.batch;
  r.latency_modelled = m.options.tier == EnergyTier::Eyeriss;
  r.layers.reserve(layers.size());
  for (const LayerSpec& layer : layers) {
    const LayerEnergy& e = cost_layer(layer);
    r.layers.push_back({layer, effective_bits(layer), e});
    r.total_energy_mj += e.energy_mj;
    r.total_latency_ms += e.latency_ms;
    // Per-op sums are at most the total, so checking it covers them.
    const std::optional<int64_t> total_macs = checked_add(r.total_macs, e.macs);
    NAS_CHECK(total_macs, "layer '" << layer.name << "': the network's MACs (x batch "
                                    << m.options.batch << ") up to this layer overflow 64-bit "
                                       "integers");
    r.total_macs = *total_macs;
    r.breakdown += e.breakdown;
    OpTotals& op = r.per_op[op_totals_key(layer)];
    op.energy_mj += e.energy_mj;
    op.latency_ms += e.latency_ms;
    op.macs += e.macs;
    op.layers += 1;
  }
  return r;
}

int64_t EnergyModel::layer_evaluations() const {
  return impl_->evaluations.load(std::memory_order_relaxed);
}

size_t EnergyModel::cache_size() const { return impl_->cache.size(); }

void EnergyModel::clear_cache() { impl_->cache.clear(); }

}  // namespace nas
