#include "predictors/eyeriss_model.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "core/checked_math.h"
#include "core/error.h"

namespace nas {

namespace {

// Objectives closer than this count as a tie (they differ only by floating-point rounding);
// the objective lies in [0, 2].
constexpr double kTieTolerance = 1e-12;
constexpr double kMillijoulesPerPicojoule = 1e-9;

// The layer as the model sees it (energy-model.md, "Layer description").
struct Dims {
  int64_t N, M, C, H, W, E, F, R, S, stride;
  bool fc;          // FC flag: E1 may be 1
  double ifmap, weights, ofmap, macs;  // |ifmap|, |w|, |ofmap|, MACs
};

// Energy per access (or per MAC for comp), mJ.
struct Units {
  double comp, dram, gb, noc, psum, rf, rfw;
};

bool is_pool(const LayerSpec& layer) {
  return layer.type == LayerType::AvgPool || layer.type == LayerType::MaxPool;
}

Dims model_dims(const LayerSpec& layer, int64_t batch) {
  Dims d{};
  // Depthwise (and, generalising it, grouped) layers and pools fold their groups into N.
  int64_t groups = layer.groups;
  if (is_pool(layer)) groups = layer.c_in;
  // The tiling search stores factors of N, M, C, E as int32 (M, C, E are bounded by the layer
  // limits; N is batch x groups).
  constexpr int64_t kMaxN = std::numeric_limits<int32_t>::max();
  const std::optional<int64_t> n = checked_mul(batch, groups);
  NAS_CHECK(n && *n <= kMaxN, "layer '" << layer.name << "': batch x groups = " << batch << "x"
                                        << groups << " exceeds the Eyeriss model's maximum "
                                        << kMaxN);
  d.N = *n;
  d.C = layer.c_in / groups;
  d.M = layer.c_out / groups;
  d.H = layer.h_in;
  d.W = layer.w_in;
  d.E = layer.h_out;
  d.F = layer.w_out;
  d.R = d.S = layer.kernel;
  d.stride = layer.stride;
  // energy-model.md: FC when T == FC or H = W = E = F = 1. Extension: with a single output row
  // (E == 1) the rule "E1 != 1" cannot hold, so such layers are treated the same way; this
  // includes the spec's H = W = E = F = 1.
  d.fc = layer.type == LayerType::FC || d.E == 1;
  const std::optional<int64_t> ifmap = checked_product({d.N, d.H, d.W, d.C});
  const std::optional<int64_t> weights = checked_product({d.R, d.S, d.C, d.M});
  const std::optional<int64_t> ofmap = checked_product({d.N, d.E, d.F, d.M});
  // Every integer the tiling search forms is at most one of these two products, as each tile
  // factor divides its dimension and e1 <= E: MACs x batch, cycles, the PE and RF tests and the
  // ofmap / psum counts are <= 2*N*M*C*E*F*R*S; the global-buffer test is <= 2*N*C*in_cols*in_rows.
  const int64_t in_cols = (d.F - 1) * d.stride + d.S, in_rows = (d.E - 1) * d.stride + d.R;
  const std::optional<int64_t> search = checked_product({2, d.N, d.M, d.C, d.E, d.F, d.R, d.S});
  const std::optional<int64_t> buffer = checked_product({2, d.N, d.C, in_cols, in_rows});
  NAS_CHECK(ifmap && weights && ofmap && search && buffer,
            "layer '" << layer.name << "' (" << layer.key() << "): the Eyeriss model's access "
                      << "counts at batch " << batch << " overflow 64-bit integers");
  d.ifmap = static_cast<double>(*ifmap);
  d.weights = static_cast<double>(*weights);
  d.ofmap = static_cast<double>(*ofmap);
  d.macs = static_cast<double>(*ofmap) * static_cast<double>(d.R * d.S * d.C);
  return d;
}

// Ordered k-tuples of positive factors with product n, lexicographic (first factor slowest,
// ascending), flattened. Built from the divisors, i.e. from the prime factorisation of n.
void factor_tuples(int64_t n, int k, std::vector<int32_t>& out) {
  std::vector<int32_t> divisors;
  for (int64_t d = 1; d * d <= n; ++d)
    if (n % d == 0) {
      divisors.push_back(static_cast<int32_t>(d));
      if (d * d != n) divisors.push_back(static_cast<int32_t>(n / d));
    }
  std::sort(divisors.begin(), divisors.end());
  out.clear();
  std::vector<int32_t> prefix(static_cast<size_t>(k), 1);
  // Depth-first over positions; the remaining product must be split over the remaining slots.
  auto recurse = [&](auto&& self, int pos, int64_t rest) -> void {
    if (pos == k - 1) {
      prefix[static_cast<size_t>(pos)] = static_cast<int32_t>(rest);
      out.insert(out.end(), prefix.begin(), prefix.end());
      return;
    }
    for (int32_t d : divisors) {
      if (d > rest) break;
      if (rest % d != 0) continue;
      prefix[static_cast<size_t>(pos)] = d;
      self(self, pos + 1, rest / d);
    }
  };
  recurse(recurse, 0, n);
}

// Access counts of one tiling times unit energies (energy-model.md, "Access counts").
inline EnergyBreakdown tiling_energy(const Dims& d, const Units& u, const Tiling& t) {
  const double ifm = d.ifmap, w = d.weights, ofm = d.ofmap;
  const int64_t R = d.R, S = d.S;
  const double dram_ifmap = t.m3 * ifm;
  const double dram_weight = static_cast<double>(int64_t{t.n3} * t.e3) * w;
  const double dram_ofmap = static_cast<double>(std::max<int64_t>(2 * t.c3 - 1, 1)) * ofm;
  const double gb_ifmap = static_cast<double>(int64_t{t.m3} * t.m2) * ifm;
  const double gb_ofmap = static_cast<double>(std::max<int64_t>(2 * t.c3 * (t.c2 - 1), 1)) * ofm;
  const double noc_ifmap = static_cast<double>(int64_t{t.m3} * t.m2 * t.m1 * R) *
                           (static_cast<double>(d.E) / static_cast<double>(d.H)) * ifm;
  const double noc_weight = static_cast<double>(int64_t{t.n3} * t.e3 * t.e1) * w;
  const double noc_ofmap =
      static_cast<double>(std::max<int64_t>(int64_t{t.c3} * t.c2 * (t.c1 * R - 1), 1)) * ofm;
  const double rf_ifmap = noc_ifmap * static_cast<double>(t.m0 * S) *
                          (static_cast<double>(d.F) / static_cast<double>(d.W));
  const double rf_weight = static_cast<double>(int64_t{t.n3} * t.e3 * t.e1 * d.F * t.n0) * w;
  const double rf_ofmap = static_cast<double>(std::max<int64_t>(
                              2 * int64_t{t.c3} * t.c2 * t.c1 * R * (t.c0 * S - 1), 1)) *
                          ofm;
  EnergyBreakdown b;
  b.compute_mj = d.macs * u.comp;
  b.dram_mj = (dram_ifmap + dram_weight + dram_ofmap) * u.dram;
  b.gb_mj = (gb_ifmap + gb_ofmap) * u.gb;
  b.noc_mj = (noc_ifmap + noc_weight) * u.noc + noc_ofmap * u.psum;
  b.rf_mj = (rf_ifmap + rf_ofmap) * u.rf + rf_weight * u.rfw;
  return b;
}

inline int64_t tiling_cycles(const Dims& d, const Tiling& t) {
  return int64_t{t.n3} * t.n0 * t.m3 * t.m2 * t.m0 * t.c3 * t.c2 * t.c0 * t.e3 * d.F * d.S;
}

struct Candidate {
  double energy, cycles;
  uint32_t n, m, c, e;  // tuple indices
};

// Per-thread scratch, reused across layers so the search allocates nothing once warm.
struct Scratch {
  std::vector<int32_t> n_tuples, m_tuples, c_tuples, e_tuples;
  std::vector<Candidate> candidates;
};

}  // namespace

EyerissModel::EyerissModel(EnergyTable table) : table_(std::move(table)) {}

LayerEnergy EyerissModel::cost(const LayerSpec& layer, int bits, int64_t batch) const {
  NAS_CHECK(batch > 0, "batch must be positive, got " << batch);
  const EnergyTable::Precision& prec = table_.precision(bits);
  const Dims d = model_dims(layer, batch);

  // Unit energies (energy-model.md, "Unit energies").
  const bool pool = is_pool(layer);
  const OpKind op = pool ? OpKind::Mult : layer.op;
  const double word_bits = (op == OpKind::Shift ? table_.shift_word_bits : bits);
  const double q = word_bits / table_.word_bits;
  const double m = table_.base_pj * q * kMillijoulesPerPicojoule;
  Units u{};
  u.comp = pool ? 0.0 : table_.compute_pj(op, bits) * kMillijoulesPerPicojoule;
  const bool offchip_free = op == OpKind::Add && table_.add_offchip_free;
  u.dram = offchip_free ? 0.0 : table_.dram_pj * q * kMillijoulesPerPicojoule;
  u.gb = offchip_free ? 0.0 : table_.gb * m;
  u.noc = offchip_free ? 0.0 : table_.noc * m;
  u.psum = table_.psum * m;
  u.rf = table_.rf * m;
  u.rfw = table_.rf_weight * m;
  double t_unit_s = 1.0 / (table_.clock_mhz * 1e6);
  if (op == OpKind::Shift) t_unit_s /= table_.shift_speedup;

  // Capacities (energy-model.md, "Tilings"); both factors come from the table file.
  auto capacity = [&](int64_t words, int64_t scale, const char* field) {
    const std::optional<int64_t> c = checked_mul(words, scale);
    NAS_CHECK(c, "energy table '" << table_.name << "': " << field << " " << words << " x the "
                                  << bits << "-bit scale " << scale
                                  << " overflows 64-bit integers");
    return *c;
  };
  const int64_t max_m0 = capacity(table_.max_m0, prec.mem_scale, "max_m0");
  const int64_t pe_limit = capacity(table_.pe_count, prec.cmp_scale, "pe_count");
  const int64_t ifmap_rf = capacity(table_.ifmap_rf_words, prec.mem_scale, "ifmap_rf_words");
  const int64_t weight_rf = capacity(table_.weight_rf_words, prec.mem_scale, "weight_rf_words");
  const int64_t gb_limit = capacity(table_.gb_words, prec.mem_scale, "gb_words");

  thread_local Scratch s;
  factor_tuples(d.N, 2, s.n_tuples);
  factor_tuples(d.M, 4, s.m_tuples);
  factor_tuples(d.C, 3, s.c_tuples);  // C = C0*C1*C2*C3 with C3 == 1 (the only valid C3)
  factor_tuples(d.E, 2, s.e_tuples);
  const size_t n_count = s.n_tuples.size() / 2, m_count = s.m_tuples.size() / 4,
               c_count = s.c_tuples.size() / 3, e_count = s.e_tuples.size() / 2;
  s.candidates.clear();

  double e_min = std::numeric_limits<double>::infinity(), e_max = 0;
  double l_min = std::numeric_limits<double>::infinity(), l_max = 0;
  const int64_t R = d.R, S = d.S, F = d.F, stride = d.stride;
  const int64_t in_cols = (F - 1) * stride + S;  // ifmap columns a tile needs
  Tiling t;
  // Nesting N, M, C, E keeps enumeration order; every constraint is tested as soon as its factors
  // are known. Tuples are ascending in their first factor, so a constraint that only grows with
  // it ends its loop (C0 for the RFs, E1 for the PE array and the global buffer).
  for (size_t ni = 0; ni < n_count; ++ni) {
    t.n0 = s.n_tuples[2 * ni];
    t.n3 = s.n_tuples[2 * ni + 1];
    for (size_t mi = 0; mi < m_count; ++mi) {
      const int32_t* mt = &s.m_tuples[4 * mi];
      if (mt[0] > max_m0) break;  // M0 <= 16*mem
      t.m0 = mt[0];
      t.m1 = mt[1];
      t.m2 = mt[2];
      t.m3 = mt[3];
      for (size_t ci = 0; ci < c_count; ++ci) {
        const int32_t* ct = &s.c_tuples[3 * ci];
        const int64_t c0s = int64_t{ct[0]} * S;
        if (c0s >= ifmap_rf || t.m0 * c0s >= weight_rf) break;  // input RF, weight RF
        t.c0 = ct[0];
        t.c1 = ct[1];
        t.c2 = ct[2];
        t.c3 = 1;
        const int64_t pe_per_e1 = int64_t{t.m1} * t.c1 * R;
        const int64_t gb_in = int64_t{t.n0} * t.c1 * t.c0 * in_cols;
        const int64_t gb_out = int64_t{t.n0} * t.m2 * t.m1 * t.m0 * F;
        for (size_t ei = 0; ei < e_count; ++ei) {
          const int64_t e1 = s.e_tuples[2 * ei];
          if (e1 == 1 && !d.fc) continue;                // E1 != 1 unless FC
          if (pe_per_e1 * e1 >= pe_limit) break;           // PE array
          if (gb_in * ((e1 - 1) * stride + R) + gb_out * e1 >= gb_limit) break;  // global buffer
          t.e1 = static_cast<int32_t>(e1);
          t.e3 = s.e_tuples[2 * ei + 1];
          const double energy = tiling_energy(d, u, t).total_mj();
          const double cycles = static_cast<double>(tiling_cycles(d, t));
          s.candidates.push_back({energy, cycles, static_cast<uint32_t>(ni),
                                  static_cast<uint32_t>(mi), static_cast<uint32_t>(ci),
                                  static_cast<uint32_t>(ei)});
          e_min = std::min(e_min, energy);
          e_max = std::max(e_max, energy);
          l_min = std::min(l_min, cycles);
          l_max = std::max(l_max, cycles);
        }
      }
    }
  }
  NAS_CHECK(!s.candidates.empty(),
            "layer '" << layer.name << "' (" << layer.key() << "): no valid Eyeriss tiling at "
                      << bits << " bits (the kernel row or the tile does not fit the PE array, "
                                 "register files or global buffer)");

  // Latency enters the objective as cycles: t_unit is a common factor of L, Lmin and Lmax.
  const double e_scale = e_max > 0 ? 1.0 / e_max : 0.0;
  const double l_scale = l_max > 0 ? 1.0 / l_max : 0.0;
  const Candidate* best = nullptr;
  double best_objective = std::numeric_limits<double>::infinity();
  for (const Candidate& c : s.candidates) {
    const double objective = (c.energy - e_min) * e_scale + (c.cycles - l_min) * l_scale;
    if (objective < best_objective - kTieTolerance) {
      best_objective = objective;
      best = &c;
    }
  }

  NAS_CHECK(best, "layer '" << layer.name << "': the energy of every tiling is not a finite number (energy table '"
                              << table_.name << "' values too large?)");
  const int32_t* nt = &s.n_tuples[2 * best->n];
  const int32_t* mt = &s.m_tuples[4 * best->m];
  const int32_t* ct = &s.c_tuples[3 * best->c];
  const int32_t* et = &s.e_tuples[2 * best->e];
  Tiling chosen;
  chosen.n0 = nt[0];
  chosen.n3 = nt[1];
  chosen.m0 = mt[0];
  chosen.m1 = mt[1];
  chosen.m2 = mt[2];
  chosen.m3 = mt[3];
  chosen.c0 = ct[0];
  chosen.c1 = ct[1];
  chosen.c2 = ct[2];
  chosen.c3 = 1;
  chosen.e1 = et[0];
  chosen.e3 = et[1];

  LayerEnergy out;
  out.breakdown = tiling_energy(d, u, chosen);
  out.energy_mj = best->energy;
  out.latency_ms = static_cast<double>(tiling_cycles(d, chosen)) * t_unit_s * 1e3;
  out.macs = layer.macs() * batch;  // == N*M*C*E*F*R*S, checked in model_dims
  out.has_tiling = true;
  out.tiling = chosen;
  out.valid_tilings = static_cast<int64_t>(s.candidates.size());
  return out;
}

}  // namespace nas
