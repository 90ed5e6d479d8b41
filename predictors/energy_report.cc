#include "predictors/energy_report.h"

#include <ostream>

#include <nlohmann/json.hpp>

#include "core/string_format.h"

namespace nas {

EnergyBreakdown& EnergyBreakdown::operator+=(const EnergyBreakdown& o) {
  dram_mj += o.dram_mj;
  gb_mj += o.gb_mj;
  noc_mj += o.noc_mj;
  rf_mj += o.rf_mj;
  compute_mj += o.compute_mj;
  return *this;
}

std::string Tiling::str() const {
  return string_printf("N0=%d N3=%d M0=%d M1=%d M2=%d M3=%d C0=%d C1=%d C2=%d C3=%d E1=%d E3=%d",
                       n0, n3, m0, m1, m2, m3, c0, c1, c2, c3, e1, e3);
}

bool Tiling::operator==(const Tiling& o) const {
  return n0 == o.n0 && n3 == o.n3 && m0 == o.m0 && m1 == o.m1 && m2 == o.m2 && m3 == o.m3 &&
         c0 == o.c0 && c1 == o.c1 && c2 == o.c2 && c3 == o.c3 && e1 == o.e1 && e3 == o.e3;
}

const char* op_totals_key(const LayerSpec& layer) {
  if (layer.type == LayerType::AvgPool || layer.type == LayerType::MaxPool) return "pool";
  return op_kind_name(layer.op);
}

nlohmann::json breakdown_to_json(const EnergyBreakdown& b) {
  return {{"dram", b.dram_mj}, {"gb", b.gb_mj}, {"noc", b.noc_mj}, {"rf", b.rf_mj},
          {"compute", b.compute_mj}};
}

nlohmann::json tiling_to_json(const Tiling& t) {
  return {{"N0", t.n0}, {"N3", t.n3}, {"M0", t.m0}, {"M1", t.m1}, {"M2", t.m2}, {"M3", t.m3},
          {"C0", t.c0}, {"C1", t.c1}, {"C2", t.c2}, {"C3", t.c3}, {"E1", t.e1}, {"E3", t.e3}};
}

nlohmann::json report_to_json(const EnergyReport& r) {
  nlohmann::json j;
  j["model"] = {{"tier", r.model},
                {"table", {{"name", r.table_name}, {"version", r.table_version},
                           {"source", r.table_source}}},
                {"bits", r.bits == 0 ? nlohmann::json("per-layer") : nlohmann::json(r.bits)},
                {"batch", r.batch},
                {"latency_modelled", r.latency_modelled}};
  j["total_energy_mj"] = r.total_energy_mj;
  j["total_energy_per_image_mj"] = r.energy_per_image_mj();
  j["total_latency_ms"] = r.total_latency_ms;
  j["total_macs"] = r.total_macs;
  j["breakdown_mj"] = breakdown_to_json(r.breakdown);
  nlohmann::json per_op = nlohmann::json::object();
  for (const auto& [key, t] : r.per_op)
    per_op[key] = {{"energy_mj", t.energy_mj}, {"latency_ms", t.latency_ms}, {"macs", t.macs},
                   {"layers", t.layers}};
  j["per_op"] = per_op;
  nlohmann::json layers = nlohmann::json::array();
  for (const LayerReport& l : r.layers) {
    nlohmann::json lj = layer_to_json(l.layer);
    lj["bits"] = l.bits;
    lj["energy_mj"] = l.energy.energy_mj;
    lj["latency_ms"] = l.energy.latency_ms;
    lj["macs"] = l.energy.macs;
    lj["breakdown_mj"] = breakdown_to_json(l.energy.breakdown);
    if (l.energy.has_tiling) {
      lj["tiling"] = tiling_to_json(l.energy.tiling);
      lj["valid_tilings"] = l.energy.valid_tilings;
    }
    layers.push_back(std::move(lj));
  }
  j["layers"] = std::move(layers);
  return j;
}

namespace {

std::string number(double value) { return string_printf("%.6g", value); }

std::string percent(double part, double total) {
  return string_printf("%.1f%%", total > 0 ? 100.0 * part / total : 0.0);
}

}  // namespace

void print_report_table(std::ostream& os, const EnergyReport& r) {
  os << string_printf("energy model: %s, table %s v%s, %s, batch %lld\n", r.model.c_str(),
                      r.table_name.c_str(), r.table_version.c_str(),
                      r.bits == 0 ? "per-layer bits" : (std::to_string(r.bits) + "-bit").c_str(),
                      static_cast<long long>(r.batch));
  os << string_printf("%4s  %-22s %-7s %11s %9s %3s %2s %5s %4s %13s %12s %12s %7s\n", "#", "layer",
                      "op", "c_in>c_out", "input", "k", "s", "g", "bits", "MACs", "energy_mJ",
                      "latency_ms", "share");
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const LayerReport& l = r.layers[i];
    const LayerSpec& s = l.layer;
    const std::string channels = std::to_string(s.c_in) + ">" + std::to_string(s.c_out);
    const std::string input = std::to_string(s.h_in) + "x" + std::to_string(s.w_in);
    std::string op = layer_op_name(s);
    if (s.type == LayerType::FC && s.op != OpKind::Mult)
      op += std::string("/") + op_kind_name(s.op);
    os << string_printf(
        "%4zu  %-22.22s %-7s %11s %9s %3lld %2lld %5lld %4d %13lld %12.6g %12s %7s\n", i,
        s.name.c_str(), op.c_str(), channels.c_str(), input.c_str(),
        static_cast<long long>(s.kernel), static_cast<long long>(s.stride),
        static_cast<long long>(s.groups), l.bits, static_cast<long long>(l.energy.macs),
        l.energy.energy_mj, r.latency_modelled ? number(l.energy.latency_ms).c_str() : "-",
        percent(l.energy.energy_mj, r.total_energy_mj).c_str());
  }
  os << string_printf("total: %.6g mJ (%.6g mJ per image), %lld MACs", r.total_energy_mj,
                      r.energy_per_image_mj(), static_cast<long long>(r.total_macs));
  if (r.latency_modelled) os << string_printf(", latency %.6g ms", r.total_latency_ms);
  os << "\n";
  os << "per op:";
  for (const auto& [key, t] : r.per_op) {
    os << string_printf(" %s %.6g mJ (%lld layers, %s)", key.c_str(), t.energy_mj,
                        static_cast<long long>(t.layers),
                        percent(t.energy_mj, r.total_energy_mj).c_str());
  }
  os << "\n";
  const EnergyBreakdown& b = r.breakdown;
  os << string_printf(
      "breakdown: DRAM %.6g mJ (%s), GB %.6g mJ (%s), NoC %.6g mJ (%s), RF %.6g mJ (%s), "
      "compute %.6g mJ (%s)\n",
      b.dram_mj, percent(b.dram_mj, r.total_energy_mj).c_str(), b.gb_mj,
      percent(b.gb_mj, r.total_energy_mj).c_str(), b.noc_mj,
      percent(b.noc_mj, r.total_energy_mj).c_str(), b.rf_mj,
      percent(b.rf_mj, r.total_energy_mj).c_str(), b.compute_mj,
      percent(b.compute_mj, r.total_energy_mj).c_str());
}

}  // namespace nas
