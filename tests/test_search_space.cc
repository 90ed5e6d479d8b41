#include <doctest/doctest.h>

#include <filesystem>
#include <functional>
#include <iostream>
#include <set>
#include <string>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_util.h"
#include "core/rng.h"
#include "search_space/arch_config.h"
#include "search_space/arch_layers.h"
#include "search_space/arch_space.h"
#include "search_space/named_archs.h"

using nas::ArchConfig;
using nas::json;
using nas::OpKind;

namespace {

ArchConfig tiny28() { return nas::named_arch("mbv2-tiny", 28, 1, 10); }
ArchConfig tiny32() { return nas::named_arch("mbv2-tiny", 32, 3, 10); }

const nas::LayerSpec& find_layer(const std::vector<nas::LayerSpec>& layers, const std::string& name) {
  for (const auto& layer : layers)
    if (layer.name == name) return layer;
  FAIL("no layer " << name);
  return layers.front();
}

std::string temp_dir(const std::string& tag) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("nas_space_test_" + tag + "_" +
                                                    std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

}  // namespace

// ---- ArchConfig: JSON, key, validation ----------------------------------------------------------

TEST_CASE("make_divisible follows MobileNetV2's rounding") {
  using nas::make_divisible;
  CHECK(make_divisible(32 * 0.35) == 16);  // 11.2 rounds to 8, < 90 %, bumped to 16
  CHECK(make_divisible(16 * 0.35) == 8);
  CHECK(make_divisible(24 * 0.35) == 8);
  CHECK(make_divisible(64 * 0.35) == 24);
  CHECK(make_divisible(96 * 0.35) == 32);
  CHECK(make_divisible(160 * 0.35) == 56);
  CHECK(make_divisible(320 * 0.35) == 112);
  CHECK(make_divisible(1280 * 0.35) == 448);
  CHECK(make_divisible(100) == 104);
  CHECK(make_divisible(3) == 8);
  CHECK(make_divisible(0) == 8);
  CHECK(make_divisible(5, 8, 16) == 16);
  CHECK(make_divisible(35) == 32);
  CHECK(nas::hidden_channels(8, 6) == 48);
  CHECK(nas::hidden_channels(56, 6) == 336);
  CHECK(nas::hidden_channels(24, 1.6) == 40);  // round(38.4) = 38 -> 40
  CHECK_THROWS_AS(make_divisible(-1), nas::Error);
}

TEST_CASE("ArchConfig JSON round trip and key") {
  std::vector<ArchConfig> archs = {tiny28(), tiny32(), nas::named_arch("mbv2-micro", 28, 1, 10),
                                   nas::named_arch("mbv2-tiny", 224, 3, 1000)};
  const nas::ArchSpace space = nas::default_space(32, 3, 100);
  nas::Rng rng(3);
  for (int i = 0; i < 50; ++i) archs.push_back(space.sample(rng));
  for (const ArchConfig& arch : archs) {
    const json j = arch.to_json();
    const ArchConfig back = ArchConfig::from_json(j);
    CHECK(back == arch);
    CHECK(back.key() == arch.key());
    CHECK(back.to_json() == j);
    // Through text: the canonical dump is stable and parses back to the same value.
    const std::string text = j.dump();
    CHECK(ArchConfig::from_json(json::parse(text)) == arch);
    CHECK(ArchConfig::from_json(json::parse(text)).to_json().dump() == text);
  }
  // Canonical form: keys sorted.
  const std::string text = tiny28().to_json().dump();
  CHECK(text.find("\"head\"") < text.find("\"in_channels\""));
  CHECK(text.find("\"in_channels\"") < text.find("\"num_classes\""));
  MESSAGE("mbv2-tiny 28x28x1 key: " << tiny28().key());
  CHECK(tiny28().key() ==
        "r28.i1.n10.w0.35|stem:m.k3.s1.c32|s1.c16:m3e1|s1.c24:m3e6-m3e6|s2.c32:m3e6-m3e6-m3e6"
        "|s2.c64:m3e6-m3e6-m3e6-m3e6|s1.c96:m3e6-m3e6-m3e6|s2.c160:m3e6-m3e6-m3e6"
        "|s1.c320:m3e6|head:m.c1280.fc:m");
}

TEST_CASE("ArchConfig equality and key see every field") {
  const ArchConfig base = tiny28();
  std::vector<std::function<void(ArchConfig&)>> edits = {
      [](ArchConfig& a) { a.resolution = 32; },
      [](ArchConfig& a) { a.in_channels = 3; },
      [](ArchConfig& a) { a.num_classes = 100; },
      [](ArchConfig& a) { a.width_mult = 0.5; },
      [](ArchConfig& a) { a.stem.op = OpKind::Shift; },
      [](ArchConfig& a) { a.stem.out_channels = 16; },
      [](ArchConfig& a) { a.stem.kernel = 5; },
      [](ArchConfig& a) { a.stem.stride = 2; },
      [](ArchConfig& a) { a.stages[1].stride = 2; },
      [](ArchConfig& a) { a.stages[1].out_channels = 32; },
      [](ArchConfig& a) { a.stages[2].blocks.pop_back(); },
      [](ArchConfig& a) { a.stages[2].blocks[1].op = OpKind::Add; },
      [](ArchConfig& a) { a.stages[2].blocks[1].kernel = 5; },
      [](ArchConfig& a) { a.stages[2].blocks[1].expand = 4; },
      [](ArchConfig& a) { a.head.op = OpKind::Shift; },
      [](ArchConfig& a) { a.head.channels = 0; },
      [](ArchConfig& a) { a.head.classifier_op = OpKind::Add; },
  };
  std::set<std::string> keys = {base.key()};
  for (size_t i = 0; i < edits.size(); ++i) {
    CAPTURE(i);
    ArchConfig changed = base;
    edits[i](changed);
    CHECK(changed != base);
    CHECK(changed.key() != base.key());
    keys.insert(changed.key());
  }
  CHECK(keys.size() == edits.size() + 1);
}

TEST_CASE("ArchConfig::from_json names every bad field") {
  const json good = tiny28().to_json();
  struct Case {
    std::string what;
    std::function<void(json&)> edit;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"not an object", [](json& j) { j = json::array(); }, "arch must be a JSON object"},
      {"missing field", [](json& j) { j.erase("resolution"); }, "arch: resolution is missing"},
      {"missing nested field", [](json& j) { j["stages"][1]["blocks"][0].erase("kernel"); },
       "arch: stages[1].blocks[0].kernel is missing"},
      {"missing head field", [](json& j) { j["head"].erase("classifier_op"); },
       "arch: head.classifier_op is missing"},
      {"unknown top-level field", [](json& j) { j["name"] = "x"; },
       "arch has an unknown field 'name'"},
      {"unknown block field", [](json& j) { j["stages"][0]["blocks"][0]["kernal"] = 3; },
       "arch: stages[0].blocks[0] has an unknown field 'kernal'"},
      {"unknown stem field", [](json& j) { j["stem"]["padding"] = 1; },
       "arch: stem has an unknown field 'padding'"},
      {"string for int", [](json& j) { j["resolution"] = "28"; },
       "arch: resolution must be an integer, got \"28\""},
      {"bool for int", [](json& j) { j["num_classes"] = true; },
       "arch: num_classes must be an integer, got true"},
      {"float for int", [](json& j) { j["stages"][2]["blocks"][1]["kernel"] = 3.5; },
       "arch: stages[2].blocks[1].kernel must be an integer, got 3.5"},
      {"huge int", [](json& j) { j["stages"][2]["out_channels"] = 100000000000LL; },
       "arch: stages[2].out_channels is out of range"},
      {"bad kernel", [](json& j) { j["stages"][2]["blocks"][1]["kernel"] = 4; },
       "arch: stages[2].blocks[1].kernel must be one of 3, 5, 7, got 4"},
      {"unknown op", [](json& j) { j["stages"][0]["blocks"][0]["op"] = "mul"; },
       "arch: stages[0].blocks[0].op must be one of \"mult\", \"shift\", \"add\", got \"mul\""},
      {"op not a string", [](json& j) { j["head"]["op"] = 1; }, "arch: head.op must be one of"},
      {"bad classifier op", [](json& j) { j["head"]["classifier_op"] = "fc"; },
       "arch: head.classifier_op must be one of"},
      {"depth 0",
       [](json& j) {
         j["stages"][1]["depth"] = 0;
         j["stages"][1]["blocks"] = json::array();
       },
       "arch: stages[1].depth must be in 1..32, got 0"},
      {"depth disagrees with blocks", [](json& j) { j["stages"][1]["depth"] = 3; },
       "arch: stages[1].depth is 3 but stages[1].blocks has 2 entries"},
      {"blocks not an array", [](json& j) { j["stages"][1]["blocks"] = json::object(); },
       "arch: stages[1].blocks must be an array, got an object"},
      {"stage not an object", [](json& j) { j["stages"][3] = 5; },
       "arch: stages[3] must be a JSON object, got 5"},
      {"no stages", [](json& j) { j["stages"] = json::array(); }, "arch: stages must not be empty"},
      {"negative width", [](json& j) { j["width_mult"] = -0.5; },
       "arch: width_mult must be > 0 and <= 8, got -0.5"},
      {"zero width", [](json& j) { j["width_mult"] = 0; }, "arch: width_mult must be > 0"},
      {"width as string", [](json& j) { j["width_mult"] = "0.35"; },
       "arch: width_mult must be a number, got \"0.35\""},
      {"resolution 0", [](json& j) { j["resolution"] = 0; },
       "arch: resolution must be in 1..4096, got 0"},
      {"in_channels 0", [](json& j) { j["in_channels"] = 0; }, "arch: in_channels must be in 1.."},
      {"num_classes -1", [](json& j) { j["num_classes"] = -1; }, "arch: num_classes must be in 1.."},
      {"stride 3", [](json& j) { j["stages"][1]["stride"] = 3; },
       "arch: stages[1].stride must be 1 or 2, got 3"},
      {"out_channels 0", [](json& j) { j["stages"][4]["out_channels"] = 0; },
       "arch: stages[4].out_channels must be in 1..65536, got 0"},
      {"expand 0", [](json& j) { j["stages"][3]["blocks"][2]["expand"] = 0; },
       "arch: stages[3].blocks[2].expand must be in 1..16, got 0"},
      {"expand 17", [](json& j) { j["stages"][3]["blocks"][2]["expand"] = 17; },
       "arch: stages[3].blocks[2].expand must be in 1..16, got 17"},
      {"stem kernel", [](json& j) { j["stem"]["kernel"] = 4; },
       "arch: stem.kernel must be one of 1, 3, 5, 7, got 4"},
      {"stem stride", [](json& j) { j["stem"]["stride"] = 0; },
       "arch: stem.stride must be 1 or 2, got 0"},
      {"head channels", [](json& j) { j["head"]["channels"] = -1; },
       "arch: head.channels must be in 0..65536, got -1"},
      {"head not an object", [](json& j) { j["head"] = "mult"; },
       "arch: head must be a JSON object, got \"mult\""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    json bad = good;
    c.edit(bad);
    try {
      ArchConfig::from_json(bad);
      FAIL("accepted: " << c.what);
    } catch (const nas::Error& e) {
      CHECK_MESSAGE(e.message().find(c.expected) != std::string::npos,
                    "message: " << e.message() << "\nexpected: " << c.expected);
    }
  }
  // `where` prefixes the messages (file readers pass the file name).
  json bad = good;
  bad["stages"][2]["blocks"][1]["kernel"] = 4;
  CHECK_THROWS_WITH_AS(ArchConfig::from_json(bad, "arch file 'x.json'"),
                       doctest::Contains("arch file 'x.json': stages[2].blocks[1].kernel"),
                       nas::Error);
  // head.channels = 0 is valid (no head conv).
  json no_head = good;
  no_head["head"]["channels"] = 0;
  CHECK(ArchConfig::from_json(no_head).head.channels == 0);
}

TEST_CASE("arch files: write, read, errors name the file") {
  const std::string dir = temp_dir("files");
  const std::string path = dir + "/arch.json";
  ArchConfig arch = tiny32();
  nas::set_all_ops(arch, OpKind::Add);
  nas::write_arch_file(path, arch);
  CHECK(nas::read_arch_file(path) == arch);
  CHECK(nas::resolve_arch(path, 32, 3, 10) == arch);
  CHECK_THROWS_WITH_AS(nas::resolve_arch(path, 28, 1, 10),
                       doctest::Contains("is for 3 input channel(s), the data set has 1"),
                       nas::Error);
  CHECK_THROWS_WITH_AS(nas::resolve_arch(path, 32, 3, 100),
                       doctest::Contains("is for 10 classes, the data set has 100"), nas::Error);
  json j = arch.to_json();
  j["stages"][0]["blocks"][0]["op"] = "mul";
  nas::write_json_file(dir + "/bad.json", j);
  CHECK_THROWS_WITH_AS(nas::read_arch_file(dir + "/bad.json"),
                       doctest::Contains("bad.json': stages[0].blocks[0].op"), nas::Error);
  CHECK_THROWS_WITH_AS(nas::resolve_arch(dir + "/missing.json", 32, 3, 10),
                       doctest::Contains("missing.json"), nas::Error);
  std::filesystem::remove_all(dir);
}

TEST_CASE("arch files: deep nesting and huge values give short one-line errors") {
  const std::string dir = temp_dir("deep");
  // 100,000 nested arrays crashed nas_energy --arch with SIGSEGV.
  nas::write_file_atomic(dir + "/deep.json",
                         std::string(100000, '[') + std::string(100000, ']'));
  CHECK_THROWS_WITH_AS(nas::read_arch_file(dir + "/deep.json"),
                       doctest::Contains("deep.json: JSON nested deeper than 64 levels"),
                       nas::Error);
  // A field holding a large value is quoted only in part.
  json j = tiny32().to_json();
  json wide = json::array();
  for (int i = 0; i < 50000; ++i) wide.push_back(i);
  j["stages"][0]["blocks"][0]["kernel"] = wide;
  nas::write_json_file(dir + "/wide.json", j);
  // A file above the cap is refused before it is parsed (a parsed document takes ~50x its text).
  nas::write_json_file(dir + "/huge.json", json::array({std::string(nas::kMaxArchFileBytes, 'x')}));
  CHECK_THROWS_WITH_AS(nas::read_arch_file(dir + "/huge.json"),
                       doctest::Contains("bytes, more than the 1048576 bytes this file may have"), nas::Error);
  try {
    nas::read_arch_file(dir + "/wide.json");
    FAIL("accepted an array kernel");
  } catch (const nas::Error& e) {
    CAPTURE(e.message());
    CHECK(e.message().find("stages[0].blocks[0].kernel must be an integer, got [0,1,2") !=
          std::string::npos);
    CHECK(e.message().size() < 250);
    CHECK(e.message().find('\n') == std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("named architectures and --arch resolution") {
  const auto names = nas::named_arch_names();
  REQUIRE(names.size() >= 2);
  for (const std::string& name : names)
    for (int res : {28, 32, 64, 96, 224}) {
      CAPTURE(name);
      CAPTURE(res);
      const ArchConfig arch = nas::named_arch(name, res, 3, 10);
      CHECK(arch.resolution == res);
      CHECK(nas::resolve_arch(name, res, 3, 10) == arch);
      CHECK(!nas::to_layer_specs(arch).empty());
      CHECK(arch.stem.op == OpKind::Mult);
      CHECK(arch.head.classifier_op == OpKind::Mult);
    }
  try {
    nas::resolve_arch("mbv2-huge", 28, 1, 10);
    FAIL("accepted an unknown name");
  } catch (const nas::Error& e) {
    CHECK(e.message().find("unknown architecture 'mbv2-huge'") != std::string::npos);
    for (const std::string& name : names) CHECK(e.message().find(name) != std::string::npos);
  }
  CHECK_THROWS_AS(nas::named_arch("mbv2-tiny", 0, 1, 10), nas::Error);
  CHECK_THROWS_AS(nas::resolve_arch("", 28, 1, 10), nas::Error);
}

TEST_CASE("set_all_ops changes blocks and the head conv, not stem or classifier") {
  ArchConfig arch = tiny28();
  nas::set_all_ops(arch, OpKind::Shift);
  for (const auto& stage : arch.stages)
    for (const auto& block : stage.blocks) CHECK(block.op == OpKind::Shift);
  CHECK(arch.head.op == OpKind::Shift);
  CHECK(arch.stem.op == OpKind::Mult);
  CHECK(arch.head.classifier_op == OpKind::Mult);
  const auto counts = nas::count_layers(arch);
  REQUIRE(counts.by_op.count(OpKind::Mult) == 1);
  CHECK(counts.by_op.at(OpKind::Mult).layers == 2);  // stem conv + classifier
  CHECK(counts.by_op.at(OpKind::Shift).layers == static_cast<int64_t>(nas::to_layer_specs(arch).size()) - 3);
  CHECK(counts.by_op.count(OpKind::Add) == 0);
  CHECK(counts.to_json()["by_op"]["shift"]["macs"].get<int64_t>() ==
        counts.by_op.at(OpKind::Shift).macs);
}

// ---- LayerSpecs -------------------------------------------------------------------------------

TEST_CASE("mbv2-tiny layer specs at 28x28x1 and 32x32x3") {
  for (const ArchConfig& arch : {tiny28(), tiny32()}) {
    const int res = arch.resolution;
    CAPTURE(res);
    const auto layers = nas::to_layer_specs(arch);
    // stem: 3x3, stride 1 for small inputs, 32 * 0.35 -> 16 channels
    const auto& stem = layers.front();
    CHECK(stem.name == "stem.conv");
    CHECK(stem.c_in == arch.in_channels);
    CHECK(stem.c_out == 16);
    CHECK(stem.kernel == 3);
    CHECK(stem.stride == 1);
    CHECK(stem.h_out == res);
    // first block: depthwise separable, no expand conv
    CHECK(find_layer(layers, "stage0.block0.dw").groups == 16);
    CHECK(find_layer(layers, "stage0.block0.project").c_out == 8);
    for (const auto& l : layers) CHECK(l.name != "stage0.block0.expand");
    // the c=24 stage keeps the resolution for small inputs
    CHECK(find_layer(layers, "stage1.block0.expand").c_out == 48);
    CHECK(find_layer(layers, "stage1.block0.dw").stride == 1);
    CHECK(find_layer(layers, "stage1.block1.project").h_out == res);
    CHECK(find_layer(layers, "stage2.block0.dw").h_out == res / 2);
    CHECK(find_layer(layers, "stage3.block0.dw").h_out == (res / 2 + 1) / 2);
    CHECK(find_layer(layers, "stage5.block0.dw").h_out == 4);
    const auto& last_block = find_layer(layers, "stage6.block0.project");
    CHECK(last_block.c_in == 336);
    CHECK(last_block.c_out == 112);
    const auto& head = find_layer(layers, "head.conv");
    CHECK(head.c_in == 112);
    CHECK(head.c_out == 448);
    CHECK(head.h_in == 4);
    const auto& pool = find_layer(layers, "head.pool");
    CHECK(pool.type == nas::LayerType::AvgPool);
    CHECK(pool.h_in == 4);
    CHECK(pool.h_out == 1);
    const auto& fc = layers.back();
    CHECK(fc.name == "classifier");
    CHECK(fc.type == nas::LayerType::FC);
    CHECK(fc.c_in == 448);
    CHECK(fc.c_out == 10);
    // 1 stem + 1 separable block (2 layers) + 16 inverted blocks (3 layers) + head conv, pool, fc
    CHECK(layers.size() == 1 + 2 + 16 * 3 + 3);
    std::set<std::string> names;
    for (const auto& l : layers) {
      names.insert(l.name);
      CHECK_NOTHROW(l.validate());
    }
    CHECK(names.size() == layers.size());
    // Chained shapes.
    for (size_t i = 1; i + 1 < layers.size(); ++i) {
      CAPTURE(layers[i].name);
      CHECK(layers[i].c_in == layers[i - 1].c_out);
      CHECK(layers[i].h_in == layers[i - 1].h_out);
    }
    const auto counts = nas::count_layers(layers);
    MESSAGE("mbv2-tiny " << res << "x" << res << "x" << arch.in_channels << ": "
                         << counts.macs / 1e6 << " MMAC, " << counts.params / 1e6 << " M params");
    CHECK(counts.macs > 5'000'000);
    CHECK(counts.macs < 20'000'000);
    CHECK(counts.params > 200'000);
    CHECK(counts.params < 500'000);
    CHECK(counts.macs == nas::count_macs(arch));
    CHECK(counts.params == nas::count_params(arch));
  }
  // The ImageNet form (224 and NetAug's 144 input) keeps MobileNetV2's strides: 7x7 at 224.
  const ArchConfig imagenet = nas::named_arch("mbv2-tiny", 224, 3, 1000);
  const auto layers = nas::to_layer_specs(imagenet);
  CHECK(layers.front().stride == 2);
  CHECK(find_layer(layers, "head.conv").h_in == 7);
  const auto c144 = nas::count_layers(nas::named_arch("mbv2-tiny", 144, 3, 1000));
  MESSAGE("mbv2-tiny 144x144x3, 1000 classes: " << c144.macs / 1e6 << " MMAC, "
                                                 << c144.params / 1e6 << " M params");
  CHECK(c144.params > 600'000);
  CHECK(c144.params < 900'000);
}

TEST_CASE("mbv2-micro is small enough for quick CPU runs") {
  for (auto [res, ch] : {std::pair{28, 1}, std::pair{32, 3}}) {
    const ArchConfig arch = nas::named_arch("mbv2-micro", res, ch, 10);
    const auto layers = nas::to_layer_specs(arch);
    const auto counts = nas::count_layers(layers);
    MESSAGE("mbv2-micro " << res << "x" << res << "x" << ch << ": " << counts.macs / 1e6
                          << " MMAC, " << counts.params / 1e6 << " M params, feature map "
                          << find_layer(layers, "head.pool").h_in);
    CHECK(counts.macs > 500'000);
    CHECK(counts.macs < 2'000'000);
    CHECK(counts.macs < nas::count_macs(nas::named_arch("mbv2-tiny", res, ch, 10)) / 4);
    CHECK(find_layer(layers, "head.pool").h_in == 4);
  }
}

TEST_CASE("resolve_arch: residuals, hidden widths, no head conv") {
  ArchConfig arch = tiny28();
  const nas::ResolvedArch r = nas::resolve_arch(arch);
  REQUIRE(r.blocks.size() == 17);
  for (const auto& b : r.blocks) {
    CAPTURE(b.name);
    CHECK(b.residual == (b.index > 0));
    if (b.residual) {
      CHECK(b.stride == 1);
      CHECK(b.c_in == b.c_out);
    }
    CHECK(b.c_mid == (b.expand == 1 ? b.c_in : nas::hidden_channels(b.c_in, b.expand)));
  }
  CHECK(r.blocks[1].name == "stage1.block0");
  CHECK(r.blocks[1].c_in == 8);
  CHECK(r.blocks[1].residual == false);  // stride 1 and 8 -> 8, still no shortcut (NetAug)
  arch.head.channels = 0;
  const auto layers = nas::to_layer_specs(arch);
  for (const auto& l : layers) CHECK(l.name != "head.conv");
  CHECK(layers.back().c_in == 112);
  // bits are carried to every layer
  for (const auto& l : nas::to_layer_specs(arch, 8)) CHECK(l.bits == 8);
  CHECK_THROWS_AS(nas::to_layer_specs(arch, 0), nas::Error);
  // A kernel 7 on a tiny map is still valid (padding 3).
  ArchConfig small = tiny28();
  small.resolution = 1;
  for (auto& stage : small.stages)
    for (auto& block : stage.blocks) block.kernel = 7;
  CHECK(nas::to_layer_specs(small).back().c_in == 448);
}

// ---- ArchSpace ---------------------------------------------------------------------------------

TEST_CASE("default space contains mbv2-tiny with MF ops, not the mult version") {
  for (auto [res, ch] : {std::pair{28, 1}, std::pair{32, 3}}) {
    const nas::ArchSpace space = nas::default_space(res, ch, 10);
    ArchConfig arch = nas::named_arch("mbv2-tiny", res, ch, 10);
    CHECK_FALSE(space.contains(arch));
    CHECK(space.violation(arch).find("op mult is not one of shift, add") != std::string::npos);
    nas::set_all_ops(arch, OpKind::Shift);
    CHECK_MESSAGE(space.contains(arch), space.violation(arch));
    nas::set_all_ops(arch, OpKind::Add);
    CHECK(space.contains(arch));
    arch.stages[2].blocks[0].kernel = 5;
    arch.stages[2].blocks[1].expand = 3;
    CHECK(space.contains(arch));
    ArchConfig other = arch;
    other.num_classes = 100;
    CHECK(space.violation(other).find("num_classes") != std::string::npos);
    other = arch;
    other.stages[1].stride = 2;
    CHECK(space.violation(other) == "stages[1].stride 2 differs from the space's 1");
    other = arch;
    other.stages[3].blocks.resize(1);
    CHECK(space.violation(other) == "stages[3].depth 1 is not one of 2, 3, 4");
    other = arch;
    other.width_mult = 0.3;
    CHECK(space.violation(other).find("width_mult 0.3 is not one of 0.25, 0.35, 0.5") !=
          std::string::npos);
    other = arch;
    other.stages[0].blocks[0].expand = 6;
    CHECK(space.violation(other) == "stages[0].blocks[0].expand 6 is not one of 1");
    CHECK_THROWS_WITH_AS(space.encode(other),
                         doctest::Contains("encode: architecture is not in the search space"),
                         nas::Error);
  }
  const nas::ArchSpace space = nas::default_space(28, 1, 10);
  CHECK(space.resolutions == std::vector<int>{20, 24, 28});
  CHECK(nas::default_space(224, 3, 1000).resolutions == std::vector<int>{168, 196, 224});
  MESSAGE("default space 28x28x1: 10^" << space.log10_size() << " architectures, encoding "
                                       << space.encoding_size() << " features");
  CHECK(space.log10_size() > 10);
  CHECK(space.log10_size() < 60);
}

TEST_CASE("sample / mutate / crossover stay in the space and are deterministic per seed") {
  const nas::ArchSpace space = nas::default_space(32, 3, 10);
  auto run = [&](uint64_t seed) {
    nas::Rng rng(seed);
    std::vector<std::string> keys;
    std::vector<ArchConfig> population;
    for (int i = 0; i < 40; ++i) population.push_back(space.sample(rng));
    for (int i = 0; i < 200; ++i) {
      const ArchConfig& a = population[rng.index(population.size())];
      const ArchConfig& b = population[rng.index(population.size())];
      ArchConfig child = (i % 2) ? space.mutate(a, rng, 0.1) : space.crossover(a, b, rng);
      CHECK_MESSAGE(space.contains(child), space.violation(child));
      population.push_back(child);
    }
    for (const auto& arch : population) {
      CHECK(space.contains(arch));
      keys.push_back(arch.key());
    }
    return keys;
  };
  const auto k1 = run(7), k2 = run(7), k3 = run(8);
  CHECK(k1 == k2);
  CHECK(k1 != k3);
  // Samples are diverse.
  CHECK(std::set<std::string>(k1.begin(), k1.begin() + 40).size() == 40);
}

TEST_CASE("mutate: probability 0 keeps, 1 changes, crossover takes every gene from a parent") {
  const nas::ArchSpace space = nas::default_space(28, 1, 10);
  nas::Rng rng(11);
  int changed = 0;
  for (int i = 0; i < 50; ++i) {
    const ArchConfig a = space.sample(rng);
    const ArchConfig b = space.sample(rng);
    CHECK(space.mutate(a, rng, 0.0) == a);
    changed += space.mutate(a, rng, 1.0) != a;
    CHECK(space.crossover(a, a, rng) == a);
    const ArchConfig c = space.crossover(a, b, rng);
    CHECK((c.resolution == a.resolution || c.resolution == b.resolution));
    CHECK((c.width_mult == a.width_mult || c.width_mult == b.width_mult));
    CHECK((c.head.op == a.head.op || c.head.op == b.head.op));
    for (size_t s = 0; s < c.stages.size(); ++s) {
      const auto& cs = c.stages[s].blocks;
      const auto& as = a.stages[s].blocks;
      const auto& bs = b.stages[s].blocks;
      CHECK((cs.size() == as.size() || cs.size() == bs.size()));
      for (size_t i2 = 0; i2 < cs.size(); ++i2) {
        const bool in_a = i2 < as.size(), in_b = i2 < bs.size();
        CHECK(((in_a && cs[i2].kernel == as[i2].kernel) || (in_b && cs[i2].kernel == bs[i2].kernel)));
        CHECK(((in_a && cs[i2].expand == as[i2].expand) || (in_b && cs[i2].expand == bs[i2].expand)));
        CHECK(((in_a && cs[i2].op == as[i2].op) || (in_b && cs[i2].op == bs[i2].op)));
      }
    }
  }
  CHECK(changed >= 48);
  ArchConfig outside = tiny28();  // mult ops: not in the space
  CHECK_THROWS_WITH_AS(space.mutate(outside, rng), doctest::Contains("mutate: parent"), nas::Error);
  CHECK_THROWS_WITH_AS(space.crossover(space.sample(rng), outside, rng),
                       doctest::Contains("crossover: second parent"), nas::Error);
  CHECK_THROWS_AS(space.mutate(space.sample(rng), rng, 1.5), nas::Error);
}

TEST_CASE("encode: fixed length, one-hot sums, injective") {
  const nas::ArchSpace space = nas::default_space(28, 1, 10);
  const size_t n = space.encoding_size();
  const auto names = space.encoding_names();
  CHECK(names.size() == n);
  CHECK(std::set<std::string>(names.begin(), names.end()).size() == n);
  nas::Rng rng(5);
  std::set<std::vector<float>> codes;
  std::set<std::string> keys;
  for (int i = 0; i < 300; ++i) {
    const ArchConfig arch = space.sample(rng);
    const auto code = space.encode(arch);
    REQUIRE(code.size() == n);
    float sum = 0;
    for (float v : code) {
      CHECK((v == 0.0f || v == 1.0f));
      sum += v;
    }
    // resolution + width + one depth per stage + 3 per block + head op
    CHECK(sum == static_cast<float>(2 + arch.stages.size() + 3 * arch.num_blocks() + 1));
    codes.insert(code);
    keys.insert(arch.key());
  }
  CHECK(codes.size() == keys.size());
  // Spot check a position by name.
  ArchConfig arch = space.smallest(OpKind::Add);
  arch.stages[2].blocks[1].kernel = 5;
  const auto code = space.encode(arch);
  for (size_t i = 0; i < n; ++i) {
    if (names[i] == "stage2.block1.kernel=5") CHECK(code[i] == 1.0f);
    if (names[i] == "stage2.block1.kernel=3") CHECK(code[i] == 0.0f);
    if (names[i] == "stage2.block3.op=add") CHECK(code[i] == 0.0f);  // beyond the depth
    if (names[i] == "head.op=add") CHECK(code[i] == 1.0f);
    if (names[i] == "resolution=20") CHECK(code[i] == 1.0f);
  }
}

TEST_CASE("smallest / largest bound the MACs of the space") {
  for (auto [res, ch] : {std::pair{28, 1}, std::pair{32, 3}}) {
    const nas::ArchSpace space = nas::default_space(res, ch, 10);
    const ArchConfig lo = space.smallest(), hi = space.largest();
    CHECK(space.contains(lo));
    CHECK(space.contains(hi));
    CHECK(lo.head.op == space.ops.front());
    const int64_t lo_macs = nas::count_macs(lo), hi_macs = nas::count_macs(hi);
    nas::Rng rng(17);
    for (int i = 0; i < 300; ++i) {
      const int64_t m = nas::count_macs(space.sample(rng));
      CHECK(m >= lo_macs);
      CHECK(m <= hi_macs);
    }
    MESSAGE("default space " << res << "x" << res << "x" << ch << ": smallest " << lo_macs / 1e6
                             << " MMAC, largest " << hi_macs / 1e6 << " MMAC");
    const ArchConfig lo_add = space.smallest(OpKind::Add);
    CHECK(nas::count_macs(lo_add) == lo_macs);
    for (const auto& stage : lo_add.stages)
      for (const auto& block : stage.blocks) CHECK(block.op == OpKind::Add);
    CHECK_THROWS_WITH_AS(space.smallest(OpKind::Mult), doctest::Contains("not one of the space's ops"),
                         nas::Error);
  }
}

TEST_CASE("ArchSpace JSON round trip and validation") {
  const nas::ArchSpace space = nas::default_space(28, 1, 10);
  const json j = space.to_json();
  const nas::ArchSpace back = nas::ArchSpace::from_json(j);
  CHECK(back.to_json() == j);
  nas::Rng r1(9), r2(9);
  for (int i = 0; i < 20; ++i) CHECK(space.sample(r1) == back.sample(r2));

  struct Case {
    std::function<void(json&)> edit;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {[](json& s) { s.erase("widths"); }, "space: widths is missing"},
      {[](json& s) { s["extra"] = 1; }, "space has an unknown field 'extra'"},
      {[](json& s) { s["widths"] = json::array(); }, "space: widths must not be empty"},
      {[](json& s) { s["widths"] = {0.5, 0.25}; }, "space: widths must be strictly ascending"},
      {[](json& s) { s["widths"] = {-0.5, 0.25}; }, "space: widths must lie in (0, 8]"},
      {[](json& s) { s["ops"] = {"shift", "shift"}; }, "space: ops lists 'shift' twice"},
      {[](json& s) { s["ops"] = {"shift", "mul"}; }, "space: ops[1] must be one of"},
      {[](json& s) { s["stages"][2]["kernels"] = {3, 4}; },
       "space: stages[2].kernels must be among 3, 5, 7"},
      {[](json& s) { s["stages"][2]["depths"] = {0, 1}; },
       "space: stages[2].depths must lie in 1..32"},
      {[](json& s) { s["stages"][2]["depths"] = {"2"}; },
       "space: stages[2].depths[0] must be an integer, got \"2\""},
      {[](json& s) { s["stages"][1]["stride"] = 4; }, "space: stages[1].stride must be 1 or 2"},
      {[](json& s) { s["stem"]["kernel"] = 2; }, "space: stem.kernel must be one of 1, 3, 5, 7"},
      {[](json& s) { s["resolutions"] = {28, 24}; }, "space: resolutions must be strictly ascending"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(i);
    json bad = j;
    cases[i].edit(bad);
    try {
      nas::ArchSpace::from_json(bad);
      FAIL("accepted case " << i);
    } catch (const nas::Error& e) {
      CHECK_MESSAGE(e.message().find(cases[i].expected) != std::string::npos,
                    "message: " << e.message() << "\nexpected: " << cases[i].expected);
    }
  }
}
