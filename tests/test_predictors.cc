// Energy model (predictors/) and the LayerSpec it consumes (search_space/layer_spec).
// Reference numbers come from ../shared/energy-model.md.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <tbb/parallel_for.h>

#include "core/error.h"
#include "core/json_util.h"
#include "predictors/energy_model.h"
#include "predictors/energy_table.h"
#include "predictors/eyeriss_model.h"
#include "search_space/layer_spec.h"

using nas::EnergyModel;
using nas::EnergyModelOptions;
using nas::EnergyTier;
using nas::LayerSpec;
using nas::LayerType;
using nas::OpKind;

namespace {

LayerSpec conv(const char* name, OpKind op, int64_t c_in, int64_t c_out, int64_t hw,
               int64_t kernel = 3, int64_t stride = 1, int64_t groups = 1, int bits = 32) {
  return nas::make_layer(name, LayerType::Conv, op, c_in, c_out, hw, hw, kernel, stride,
                         kernel / 2, groups, bits);
}

LayerSpec fc(const char* name, int64_t c_in, int64_t c_out) {
  return nas::make_layer(name, LayerType::FC, OpKind::Mult, c_in, c_out, 1, 1, 1, 1, 0);
}

double rel_err(double got, double want) { return std::abs(got - want) / std::abs(want); }

EnergyModel make_model(EnergyTier tier = EnergyTier::Eyeriss, int bits = 0, int64_t batch = 1) {
  EnergyModelOptions o;
  o.tier = tier;
  o.bits = bits;
  o.batch = batch;
  return EnergyModel(nas::EnergyTable::builtin(), o);
}

// ResNet-20 on 32x32 (option A shortcuts): first conv and FC multiplicative, the rest `op`.
std::vector<LayerSpec> resnet20(OpKind op) {
  std::vector<LayerSpec> l;
  l.push_back(conv("conv1", OpKind::Mult, 3, 16, 32));
  for (int i = 0; i < 6; ++i) l.push_back(conv("s1", op, 16, 16, 32));
  l.push_back(conv("s2.down", op, 16, 32, 32, 3, 2));
  for (int i = 0; i < 5; ++i) l.push_back(conv("s2", op, 32, 32, 16));
  l.push_back(conv("s3.down", op, 32, 64, 16, 3, 2));
  for (int i = 0; i < 5; ++i) l.push_back(conv("s3", op, 64, 64, 8));
  l.push_back(fc("fc", 64, 10));
  return l;
}

// Expects fn to throw nas::Error whose message contains every fragment.
template <typename Fn>
void check_error(Fn&& fn, std::initializer_list<const char*> fragments) {
  try {
    fn();
    FAIL("no error thrown");
  } catch (const nas::Error& e) {
    for (const char* f : fragments) {
      CAPTURE(e.message());
      CHECK(e.message().find(f) != std::string::npos);
    }
    CHECK(e.message().find('\n') == std::string::npos);
  }
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("nas_test_predictors_" + name)).string();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

}  // namespace

// ---- the spec's check values --------------------------------------------------------------

TEST_CASE("eyeriss: check values of energy-model.md (32-bit, batch 1, padding k/2)") {
  EnergyModel model = make_model();
  struct Case {
    LayerSpec layer;
    double want_mj;
  } cases[] = {
      {conv("conv", OpKind::Mult, 64, 64, 32), 1.67494},
      {conv("add", OpKind::Add, 64, 64, 32), 1.30653},
      {conv("shift", OpKind::Shift, 64, 64, 32), 0.48468},
      {conv("conv_s2", OpKind::Mult, 16, 32, 28, 3, 2), 0.0480116},
  };
  for (const Case& c : cases) {
    CAPTURE(c.layer.name);
    const nas::LayerEnergy& e = model.cost_layer(c.layer);
    CHECK(rel_err(e.energy_mj, c.want_mj) < 1e-4);
    CHECK(e.has_tiling);
    CHECK(e.breakdown.total_mj() == doctest::Approx(e.energy_mj).epsilon(1e-12));
  }
}

TEST_CASE("eyeriss: chosen tilings and latency") {
  EnergyModel model = make_model();
  const nas::LayerEnergy& mult = model.cost_layer(conv("conv", OpKind::Mult, 64, 64, 32));
  nas::Tiling want;
  want.m0 = 16; want.m2 = 4; want.c1 = 4; want.c2 = 16; want.e1 = 8; want.e3 = 4;
  CHECK(mult.tiling == want);
  CHECK(mult.valid_tilings == 1392);
  // 16*4*16*4*32*3 cycles at 250 MHz.
  CHECK(mult.latency_ms == doctest::Approx(393216 / 250e6 * 1e3).epsilon(1e-12));
  // Shift runs 32/10 times faster with the same tiling.
  const nas::LayerEnergy& shift = model.cost_layer(conv("shift", OpKind::Shift, 64, 64, 32));
  CHECK(shift.tiling == want);
  CHECK(shift.latency_ms == doctest::Approx(mult.latency_ms / 3.2).epsilon(1e-12));
}

TEST_CASE("eyeriss: ties go to the first tiling in enumeration order") {
  // The adder layer has 71 tilings with the minimal objective (same energy and latency); the
  // first in (N, M, C, E) lexicographic order is M = 1*1*1*64, C = 1*1*64*1, E = 32*1.
  EnergyModel model = make_model();
  const nas::LayerEnergy& add = model.cost_layer(conv("add", OpKind::Add, 64, 64, 32));
  nas::Tiling want;
  want.m3 = 64; want.c2 = 64; want.e1 = 32;
  CHECK(add.tiling == want);
}

TEST_CASE("eyeriss: ResNet-20 totals (Mult / Add / Shift)") {
  EnergyModel model = make_model();
  const double mult = model.report(resnet20(OpKind::Mult)).total_energy_mj;
  const double add = model.report(resnet20(OpKind::Add)).total_energy_mj;
  const double shift = model.report(resnet20(OpKind::Shift)).total_energy_mj;
  // The issue asks for 2 %; the model reproduces the spec's four digits.
  CHECK(rel_err(mult, 1.9876) < 1e-4);
  CHECK(rel_err(add, 1.4146) < 1e-4);
  CHECK(rel_err(shift, 0.5981) < 1e-4);
  MESSAGE("ResNet-20 mJ: mult " << mult << ", add " << add << ", shift " << shift);
}

TEST_CASE("eyeriss: depthwise is modelled as N := N*C, C := 1, M := 1") {
  nas::EyerissModel eyeriss(nas::EnergyTable::builtin());
  const LayerSpec dw = conv("dw", OpKind::Mult, 32, 32, 16, 3, 1, 32);
  const LayerSpec single = conv("single", OpKind::Mult, 1, 1, 16);
  const nas::LayerEnergy a = eyeriss.cost(dw, 32, 1);
  const nas::LayerEnergy b = eyeriss.cost(single, 32, 32);
  CHECK(a.energy_mj == b.energy_mj);
  CHECK(a.tiling == b.tiling);
  CHECK(a.macs == dw.macs());
  CHECK(a.macs == 32 * 16 * 16 * 9);
}

// ---- invariants ---------------------------------------------------------------------------

TEST_CASE("eyeriss: energy grows with channels and with resolution") {
  EnergyModel model = make_model();
  for (OpKind op : {OpKind::Mult, OpKind::Shift, OpKind::Add}) {
    CAPTURE(nas::op_kind_name(op));
    double last = 0;
    for (int64_t c : {8, 16, 24, 32, 48, 64, 96, 128}) {
      const double e = model.cost_layer(conv("c", op, c, c, 16)).energy_mj;
      CAPTURE(c);
      CHECK(e > last);
      last = e;
    }
    last = 0;
    for (int64_t hw : {4, 8, 14, 16, 28, 32, 56}) {
      const double e = model.cost_layer(conv("r", op, 32, 32, hw)).energy_mj;
      CAPTURE(hw);
      CHECK(e > last);
      last = e;
    }
  }
}

TEST_CASE("unit tier: energy is MACs x unit energy") {
  const struct {
    OpKind op;
    int bits;
    double pj;
  } units[] = {{OpKind::Mult, 32, 3.7}, {OpKind::Add, 32, 0.9}, {OpKind::Shift, 32, 0.13},
               {OpKind::Mult, 8, 0.2},  {OpKind::Add, 8, 0.03}, {OpKind::Shift, 8, 0.024}};
  for (const auto& u : units) {
    CAPTURE(nas::op_kind_name(u.op));
    CAPTURE(u.bits);
    EnergyModel model = make_model(EnergyTier::Unit, u.bits, 2);
    const LayerSpec l = conv("l", u.op, 24, 40, 14, 5, 2);
    const nas::LayerEnergy& e = model.cost_layer(l);
    CHECK(e.macs == 2 * l.macs());
    CHECK(e.energy_mj == doctest::Approx(2.0 * l.macs() * u.pj * 1e-9).epsilon(1e-12));
    CHECK(e.breakdown.compute_mj == e.energy_mj);
    CHECK(!e.has_tiling);
  }
  EnergyModel model = make_model(EnergyTier::Unit);
  const LayerSpec pool =
      nas::make_layer("pool", LayerType::MaxPool, OpKind::Mult, 16, 16, 8, 8, 2, 2, 0);
  CHECK(model.cost_layer(pool).energy_mj == 0.0);
  const nas::EnergyReport r = model.report(resnet20(OpKind::Shift));
  CHECK_FALSE(r.latency_modelled);
  CHECK(r.per_op.at("mult").layers == 2);
  CHECK(r.per_op.at("shift").layers == 18);
}

TEST_CASE("8-bit path") {
  EnergyModel m32 = make_model(EnergyTier::Eyeriss, 32);
  EnergyModel m8 = make_model(EnergyTier::Eyeriss, 8);
  const LayerSpec mult = conv("m", OpKind::Mult, 64, 64, 32);
  const LayerSpec shift = conv("s", OpKind::Shift, 64, 64, 32);
  const nas::LayerEnergy& e8 = m8.cost_layer(mult);
  CHECK(e8.energy_mj > 0);
  CHECK(e8.energy_mj < m32.cost_layer(mult).energy_mj);
  // The 8-bit array is larger: more tilings are valid.
  CHECK(e8.valid_tilings > m32.cost_layer(mult).valid_tilings);
  // Known bias: shift layers keep 10-bit words, so at 8 bits they can cost more than mult.
  CHECK(m8.cost_layer(shift).energy_mj > e8.energy_mj);
  // Per-layer bits when the model does not force a precision.
  EnergyModel per_layer = make_model(EnergyTier::Eyeriss, 0);
  CHECK(per_layer.cost_layer(conv("m8", OpKind::Mult, 64, 64, 32, 3, 1, 1, 8)).energy_mj ==
        e8.energy_mj);
  // A precision the table lacks is a clear error.
  check_error([] { make_model(EnergyTier::Eyeriss, 16); }, {"16-bit", "32"});
  check_error([&] { per_layer.cost_layer(conv("m16", OpKind::Mult, 8, 8, 8, 3, 1, 1, 16)); },
              {"16-bit"});
}

TEST_CASE("batch: MACs scale, energies are for the whole batch") {
  EnergyModel b1 = make_model(EnergyTier::Eyeriss, 32, 1);
  EnergyModel b4 = make_model(EnergyTier::Eyeriss, 32, 4);
  const LayerSpec l = conv("l", OpKind::Mult, 16, 32, 16);
  CHECK(b4.cost_layer(l).macs == 4 * b1.cost_layer(l).macs);
  CHECK(b4.cost_layer(l).energy_mj > b1.cost_layer(l).energy_mj);
  // Weights are reused across the batch: never more than 4 separate images.
  CHECK(b4.cost_layer(l).energy_mj <= 4 * b1.cost_layer(l).energy_mj * (1 + 1e-12));
  const nas::EnergyReport r = b4.report({l});
  CHECK(r.energy_per_image_mj() == doctest::Approx(r.total_energy_mj / 4));
}

TEST_CASE("cache: a hit returns the same result without re-running the search") {
  EnergyModel model = make_model();
  const LayerSpec a = conv("a", OpKind::Shift, 32, 64, 16);
  const nas::LayerEnergy first = model.cost_layer(a);
  CHECK(model.layer_evaluations() == 1);
  const nas::LayerEnergy& again = model.cost_layer(a);
  CHECK(model.layer_evaluations() == 1);
  CHECK(again.energy_mj == first.energy_mj);
  CHECK(again.tiling == first.tiling);
  // The name is not part of the description.
  LayerSpec renamed = a;
  renamed.name = "other";
  model.cost_layer(renamed);
  CHECK(model.layer_evaluations() == 1);
  // Every other field is.
  model.cost_layer(conv("a", OpKind::Add, 32, 64, 16));
  model.cost_layer(conv("a", OpKind::Shift, 32, 64, 16, 3, 1, 1, 8));
  model.cost_layer(conv("a", OpKind::Shift, 32, 64, 16, 5));
  CHECK(model.layer_evaluations() == 4);
  CHECK(model.cache_size() == 4);
  // A whole network twice: the second pass is all hits.
  const auto net = resnet20(OpKind::Add);
  const double total = model.total_energy_mj(net);
  const int64_t after_first = model.layer_evaluations();
  CHECK(model.total_energy_mj(net) == total);
  CHECK(model.layer_evaluations() == after_first);
  CHECK(model.report(net).total_energy_mj == doctest::Approx(total).epsilon(1e-14));
  model.clear_cache();
  CHECK(model.cache_size() == 0);
}

TEST_CASE("cache: parallel scoring agrees with serial") {
  std::vector<std::vector<LayerSpec>> nets;
  for (OpKind op : {OpKind::Mult, OpKind::Shift, OpKind::Add})
    for (int i = 0; i < 8; ++i) nets.push_back(resnet20(op));
  EnergyModel serial = make_model();
  std::vector<double> want;
  for (const auto& n : nets) want.push_back(serial.total_energy_mj(n));
  EnergyModel parallel = make_model();
  std::vector<double> got(nets.size());
  tbb::parallel_for(size_t{0}, nets.size(),
                    [&](size_t i) { got[i] = parallel.total_energy_mj(nets[i]); });
  CHECK(got == want);
}

TEST_CASE("eyeriss: a layer with no valid tiling is a clear error") {
  EnergyModel model = make_model();
  // A 13-wide kernel row never fits the 12-word input RF.
  check_error([&] { model.cost_layer(conv("huge_k", OpKind::Mult, 4, 4, 32, 13)); },
              {"huge_k", "no valid Eyeriss tiling"});
}

// ---- LayerSpec ----------------------------------------------------------------------------

TEST_CASE("LayerSpec: shapes, MACs, key, JSON round trip") {
  const LayerSpec l = conv("blk", OpKind::Shift, 16, 32, 28, 3, 2);
  CHECK(l.h_out == 14);
  CHECK(l.w_out == 14);
  CHECK(l.padding == 1);
  CHECK(l.macs() == 14 * 14 * 32 * 9 * 16);
  CHECK(l.params() == 32 * 9 * 16);
  CHECK(l.key() == "shift c16>32 i28x28 k3 s2 p1 g1 b32");
  const LayerSpec dw = conv("dw", OpKind::Mult, 32, 32, 8, 3, 1, 32);
  CHECK(dw.depthwise());
  CHECK(dw.macs() == 8 * 8 * 32 * 9);
  const nas::json j = nas::layer_to_json(l);
  CHECK(j["op"] == "shift");
  const LayerSpec back = nas::layer_from_json(j, "test");
  CHECK(back.key() == l.key());
  CHECK(back.name == l.name);
  // padding defaults to kernel/2, groups to 1.
  const LayerSpec d = nas::layer_from_json(
      nas::json::parse(R"({"name":"x","op":"add","c_in":8,"c_out":8,"h_in":9,"w_in":9,
                           "kernel":5,"stride":1})"),
      "test");
  CHECK(d.padding == 2);
  CHECK(d.groups == 1);
  CHECK(d.op == OpKind::Add);
  CHECK(d.h_out == 9);
  // fc may omit the spatial fields; "arith" makes it multiplication-free.
  const LayerSpec f = nas::layer_from_json(
      nas::json::parse(R"({"name":"head","op":"fc","c_in":64,"c_out":10,"arith":"shift"})"), "t");
  CHECK(f.type == LayerType::FC);
  CHECK(f.op == OpKind::Shift);
  CHECK(nas::layer_from_json(nas::layer_to_json(f), "t").key() == f.key());
  CHECK(nas::layers_from_json(nas::json::array({j, nas::layer_to_json(f)}), "t").size() == 2);
  CHECK(nas::parse_op_kind("add") == OpKind::Add);
  check_error([] { nas::parse_op_kind("mul"); }, {"mul", "mult, shift, add"});
}

TEST_CASE("LayerSpec: every malformed layer is a clear error naming layer and field") {
  const nas::json good = nas::json::parse(
      R"({"name":"L7","op":"conv","c_in":8,"c_out":16,"h_in":8,"w_in":8,"kernel":3,"stride":1})");
  CHECK_NOTHROW(nas::layer_from_json(good, "net.json: layers[7]"));
  auto with = [&](const char* field, nas::json value) {
    nas::json j = good;
    j[field] = value;
    return j;
  };
  struct Bad {
    nas::json j;
    std::vector<const char*> fragments;
  };
  const std::vector<Bad> bad = {
      {with("c_in", 0), {"L7", "'c_in'", "positive"}},
      {with("c_out", -4), {"L7", "'c_out'", "positive"}},
      {with("h_in", 0), {"L7", "'h_in'"}},
      {with("w_in", -1), {"L7", "'w_in'"}},
      {with("kernel", 0), {"L7", "'kernel'"}},
      {with("stride", 0), {"L7", "'stride'"}},
      {with("groups", 0), {"L7", "'groups'"}},
      {with("padding", -1), {"L7", "'padding'"}},
      {with("bits", 0), {"L7", "'bits'"}},
      {[&] { nas::json j = with("kernel", 11); j["padding"] = 1; return j; }(),
       {"L7", "'kernel'", "larger than the padded input"}},
      {with("groups", 3), {"L7", "'groups'", "does not divide c_in"}},
      {[&] { nas::json j = with("groups", 8); j["c_out"] = 12; return j; }(),
       {"L7", "'groups'", "does not divide c_out"}},
      {with("op", "mul"), {"L7", "unknown op 'mul'", "conv, shift, add, fc, avgpool, maxpool"}},
      {with("kernal", 3), {"unknown field 'kernal'"}},
      {with("c_in", "8"), {"L7", "'c_in'", "integer"}},
      {with("h_out", 5), {"L7", "inconsistent"}},
      {with("arith", "shift"), {"L7", "'arith'"}},
      {[&] { nas::json j = good; j.erase("c_in"); return j; }(), {"L7", "'c_in'", "missing"}},
      {[&] { nas::json j = good; j.erase("name"); return j; }(), {"'name'", "missing"}},
      {[&] { nas::json j = with("op", "fc"); return j; }(), {"L7", "fc layer"}},
      {[&] { nas::json j = with("op", "maxpool"); return j; }(), {"L7", "c_out", "c_in"}},
      {nas::json::array({1}), {"JSON object"}},
      // Issue 13: an absurd padding used to pass and fail later with "no valid tiling".
      {with("padding", 5), {"L7", "'padding' = 5 is more than kernel - 1 = 2", "accepted: 0..2"}},
      {[&] { nas::json j = with("op", "maxpool"); j["c_out"] = j["c_in"]; j["padding"] = 2; return j; }(),
       {"L7", "'padding' = 2 is more than kernel / 2 = 1"}},
      // Names and unknown keys from a file are bounded in the message.
      {with("name", std::string(201, 'n')), {"'name' has 201 characters, more than the 200 accepted"}},
      {[&] { nas::json j = good; j[std::string(5000, 'k')] = 1; return j; }(), {"unknown field 'kkkk", "...'"}},
  };
  for (const Bad& b : bad) {
    CAPTURE(b.j.dump());
    try {
      nas::layer_from_json(b.j, "net.json: layers[7]");
      FAIL("accepted " << b.j.dump());
    } catch (const nas::Error& e) {
      CAPTURE(e.message());
      CHECK(e.message().size() < 600);
      CHECK(e.message().find("net.json: layers[7]") != std::string::npos);
      for (const char* f : b.fragments) CHECK(e.message().find(f) != std::string::npos);
    }
  }
  check_error([] { nas::layers_from_json(nas::json::array(), "net.json"); }, {"net.json", "empty"});
  check_error([&] { nas::layers_from_json(nas::json(nas::kMaxLayers + 1, good), "net.json"); },
              {"net.json", "50001 layers, more than the 50000 accepted"});
  check_error([] { nas::layers_from_json(nas::json::object(), "net.json"); },
              {"net.json", "array"});
  // make_layer validates too.
  check_error(
      [] { nas::make_layer("direct", LayerType::Conv, OpKind::Mult, 8, 8, 2, 2, 7, 1, 1); },
      {"direct", "'kernel'"});
  // A hand-built LayerSpec with a wrong output size is rejected by the model.
  LayerSpec l = conv("hand", OpKind::Mult, 8, 8, 8);
  l.h_out = 7;
  EnergyModel model = make_model();
  check_error([&] { model.cost_layer(l); }, {"hand", "output size"});
  l = conv("neg", OpKind::Mult, 8, 8, 8);
  l.c_in = -8;
  check_error([&] { model.cost_layer(l); }, {"neg", "'c_in'"});
}

TEST_CASE("LayerSpec: sizes above the limits and MAC overflow are clear errors") {
  auto layer = [](int64_t c, int64_t hw, int64_t kernel) {
    return nas::json{{"name", "big"}, {"op", "conv"}, {"c_in", c},         {"c_out", c},
                     {"h_in", hw},    {"w_in", hw},   {"kernel", kernel}, {"stride", 1}};
  };
  auto rejects = [](const nas::json& j, std::initializer_list<const char*> fragments) {
    check_error([&] { nas::layers_from_json(nas::json::array({j}), "net.json"); }, fragments);
  };
  // Issue 13: accepted up to 2^24 each, these wrapped to negative (and, all 2^24, zero) MACs.
  rejects(layer(16777215, 65535, 1),
          {"net.json: layers[0]: layer 'big'", "'c_in' = 16777215 exceeds the maximum 65536",
           "accepted: channels"});
  rejects(layer(8, 65535, 1), {"layer 'big'", "'h_in' = 65535 exceeds the maximum 16384"});
  rejects(layer(8, 64, 33), {"layer 'big'", "'kernel' = 33 exceeds the maximum 31"});
  rejects([&] { nas::json j = layer(8, 64, 3); j["padding"] = 20000; return j; }(),
          {"'padding' = 20000 exceeds the maximum 16384"});
  // Every size at its limit: the exact product overflows int64 and is refused, not wrapped.
  rejects(layer(65536, 16384, 31), {"layer 'big'", "MACs per image", "exceed the maximum"});
  // Fits int64 (1.5e14) but no real layer has that many MACs.
  rejects(layer(4096, 1024, 3), {"layer 'big'", "MACs per image", "17592186044416 (2^44)"});
  CHECK(nas::layer_from_json(layer(4096, 1024, 1), "t").macs() == nas::kMaxLayerMacs);
  // A global pool may have a window as large as the feature map.
  CHECK_NOTHROW(nas::make_layer("pool", LayerType::AvgPool, OpKind::Mult, 8, 8, 224, 224, 224,
                                224, 0));
  // The list as a whole: 65 layers of 2^44 MACs are more than 2^50.
  nas::json many = nas::json::array();
  for (int i = 0; i < 65; ++i) many.push_back(layer(4096, 1024, 1));
  check_error([&] { nas::layers_from_json(many, "net.json"); },
              {"net.json", "layers[0..64]", "MACs per image"});
  // A hand-built layer never validated: macs() throws instead of wrapping.
  LayerSpec raw;
  raw.name = "raw";
  raw.c_in = raw.c_out = raw.h_out = raw.w_out = int64_t{1} << 24;
  check_error([&] { (void)raw.macs(); }, {"layer 'raw'", "overflow"});
  check_error([&] { raw.validate(); }, {"layer 'raw'", "'c_in'", "exceeds the maximum"});
}

TEST_CASE("energy model: batch limits and access counts never wrap") {
  check_error([] { make_model(EnergyTier::Unit, 0, nas::kMaxEnergyBatch + 1); },
              {"batch must be in 1..1048576"});
  // The largest accepted layer at the largest batch: MACs x batch (2^64) would wrap.
  const LayerSpec huge = nas::make_layer("huge", LayerType::Conv, OpKind::Mult, 4096, 4096, 1024,
                                         1024, 1, 1, 0);
  EnergyModel unit = make_model(EnergyTier::Unit, 0, nas::kMaxEnergyBatch);
  check_error([&] { unit.cost_layer(huge); }, {"layer 'huge'", "x batch 1048576", "overflow"});
  // Depthwise folds groups into N: 65536 groups x batch 2^20 does not fit the search's int32.
  const LayerSpec dw = nas::make_layer("dw", LayerType::Conv, OpKind::Mult, 65536, 65536, 4, 4,
                                       3, 1, 1, 65536);
  EnergyModel eyeriss = make_model(EnergyTier::Eyeriss, 0, nas::kMaxEnergyBatch);
  check_error([&] { eyeriss.cost_layer(dw); }, {"layer 'dw'", "batch x groups", "maximum"});
  // The search's largest product (2 x batch x MACs) is checked before it enumerates anything.
  check_error([&] { eyeriss.cost_layer(huge); }, {"layer 'huge'", "overflow 64-bit"});
  // A valid large network still costs with exact, positive MAC counts.
  EnergyModel unit1 = make_model(EnergyTier::Unit);
  const nas::EnergyReport r = unit1.report({huge, huge});
  CHECK(r.total_macs == 2 * nas::kMaxLayerMacs);
  CHECK(r.total_energy_mj > 0);
}

// ---- energy table -------------------------------------------------------------------------

TEST_CASE("energy table: the data file and the built-in copy agree") {
  const std::string path = NAS_SOURCE_DIR "/predictors/energy_tables/default_v1.json";
  const nas::EnergyTable file = nas::EnergyTable::load(path);
  const nas::EnergyTable builtin = nas::EnergyTable::builtin();
  CHECK(file.same_values(builtin));
  CHECK(file.source == path);
  CHECK(builtin.source == "built-in");
  CHECK(nas::default_energy_table_path() == path);
  CHECK(file.compute_pj(OpKind::Mult, 32) == 3.7);
  CHECK(file.compute_pj(OpKind::Shift, 8) == 0.024);
  CHECK(file.supports_bits(8));
  CHECK_FALSE(file.supports_bits(16));
}

TEST_CASE("energy table: resolution order flag > $NAS_ENERGY_TABLE > source tree") {
  const std::string custom = temp_path("custom.json");
  nas::json j = nas::read_json_file(NAS_SOURCE_DIR "/predictors/energy_tables/default_v1.json");
  j["name"] = "custom";
  j["compute_pj"]["32"]["mult"] = 7.4;
  nas::write_json_file(custom, j);

  ::unsetenv("NAS_ENERGY_TABLE");
  CHECK(nas::resolve_energy_table("").source == nas::default_energy_table_path());
  CHECK(nas::resolve_energy_table(custom).name == "custom");
  ::setenv("NAS_ENERGY_TABLE", custom.c_str(), 1);
  CHECK(nas::resolve_energy_table("").name == "custom");
  CHECK(nas::resolve_energy_table(nas::default_energy_table_path()).name == "eyeriss-45nm");
  ::setenv("NAS_ENERGY_TABLE", "/nonexistent/table.json", 1);
  check_error([] { nas::resolve_energy_table(""); }, {"NAS_ENERGY_TABLE", "/nonexistent"});
  ::unsetenv("NAS_ENERGY_TABLE");

  // The table drives the model: doubling the mult energy doubles unit-tier conv energy.
  EnergyModelOptions o;
  o.tier = EnergyTier::Unit;
  EnergyModel base(nas::EnergyTable::builtin(), o), twice(nas::resolve_energy_table(custom), o);
  const LayerSpec l = conv("l", OpKind::Mult, 8, 8, 8);
  CHECK(twice.cost_layer(l).energy_mj == doctest::Approx(2 * base.cost_layer(l).energy_mj));
  std::filesystem::remove(custom);
}

TEST_CASE("energy table: a malformed table is a clear error") {
  const nas::json good =
      nas::read_json_file(NAS_SOURCE_DIR "/predictors/energy_tables/default_v1.json");
  CHECK_NOTHROW(nas::EnergyTable::from_json(good, "t.json"));
  auto edit = [&](auto&& fn) {
    nas::json j = good;
    fn(j);
    return j;
  };
  struct Bad {
    nas::json j;
    std::vector<const char*> fragments;
  };
  const std::vector<Bad> bad = {
      {edit([](nas::json& j) { j.erase("memory"); }), {"'memory'", "missing"}},
      {edit([](nas::json& j) { j["format"] = "other"; }), {"'format'"}},
      {edit([](nas::json& j) { j["format_version"] = 2; }), {"format_version 2", "not supported"}},
      {edit([](nas::json& j) { j["memory"]["dram_pj"] = -1; }), {"memory", "'dram_pj'", ">= 0"}},
      {edit([](nas::json& j) { j["memory"]["gb"] = "six"; }), {"memory", "'gb'", "number"}},
      {edit([](nas::json& j) { j["memory"]["add_offchip_free"] = 1; }), {"'add_offchip_free'"}},
      {edit([](nas::json& j) { j["hardware"]["clock_mhz"] = 0; }), {"hardware", "'clock_mhz'"}},
      {edit([](nas::json& j) { j["hardware"]["pe_count"] = 1.5; }), {"hardware", "'pe_count'"}},
      {edit([](nas::json& j) { j["compute_pj"]["32"].erase("shift"); }),
       {"compute_pj.32", "'shift'", "missing"}},
      {edit([](nas::json& j) { j["compute_pj"]["sixteen"] = j["compute_pj"]["8"]; }),
       {"compute_pj", "'sixteen'"}},
      {edit([](nas::json& j) { j["compute_pj"]["16"] = j["compute_pj"]["8"]; }),
       {"scale", "16 bits"}},
      {edit([](nas::json& j) { j["hardware"]["scale"].erase("8"); }), {"scale", "8 bits"}},
      {edit([](nas::json& j) { j["compute_pj"] = nas::json::object(); }), {"no precision"}},
      {edit([](nas::json& j) { j["unit"] = "pJ"; }), {"unknown field 'unit'"}},
      {edit([](nas::json& j) { j["memory"]["dram"] = 1; }), {"memory", "unknown field 'dram'"}},
      {nas::json::array(), {"JSON object"}},
  };
  for (const Bad& b : bad) {
    try {
      nas::EnergyTable::from_json(b.j, "t.json");
      FAIL("accepted " << b.j.dump());
    } catch (const nas::Error& e) {
      CAPTURE(e.message());
      CHECK(e.message().find("t.json") != std::string::npos);
      for (const char* f : b.fragments) CHECK(e.message().find(f) != std::string::npos);
    }
  }
  const std::string broken = temp_path("broken.json");
  write_text(broken, "{\"format\": ");
  check_error([&] { nas::EnergyTable::load(broken); }, {"broken.json", "invalid JSON"});
  std::filesystem::remove(broken);
  check_error([] { nas::EnergyTable::load("/nonexistent/t.json"); }, {"/nonexistent/t.json"});
}

TEST_CASE("energy tier names") {
  CHECK(nas::parse_energy_tier("unit") == EnergyTier::Unit);
  CHECK(std::string(nas::energy_tier_name(EnergyTier::Eyeriss)) == "eyeriss");
  check_error([] { nas::parse_energy_tier("timeloop"); }, {"timeloop", "eyeriss, unit"});
}

TEST_CASE("report: JSON fields and per-op totals") {
  EnergyModel model = make_model();
  const nas::EnergyReport r = model.report(resnet20(OpKind::Shift));
  const nas::json j = nas::report_to_json(r);
  CHECK(j["layers"].size() == 20);
  CHECK(j["layers"][1]["energy_mj"].get<double>() > 0);
  CHECK(j["layers"][1]["latency_ms"].get<double>() > 0);
  CHECK(j["layers"][1]["tiling"]["C3"] == 1);
  CHECK(j["total_energy_mj"].get<double>() == r.total_energy_mj);
  CHECK(j["model"]["tier"] == "eyeriss");
  double sum = 0;
  for (const auto& [k, t] : r.per_op) sum += t.energy_mj;
  CHECK(sum == doctest::Approx(r.total_energy_mj).epsilon(1e-12));
  CHECK(r.breakdown.total_mj() == doctest::Approx(r.total_energy_mj).epsilon(1e-12));
  std::ostringstream table;
  nas::print_report_table(table, r);
  CHECK(table.str().find("total: ") != std::string::npos);
  CHECK(table.str().find("s3.down") != std::string::npos);
}
