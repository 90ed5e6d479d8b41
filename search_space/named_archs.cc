#include "search_space/named_archs.h"

#include <filesystem>
#include <system_error>

#include "core/error.h"

namespace nas {

namespace {

// One row of a MobileNetV2-style table.
struct StageRow {
  int expand, channels, depth, stride, small_input_stride;
};

struct Table {
  double width_mult;
  int stem_channels;
  int stem_stride, small_input_stem_stride;
  std::vector<StageRow> stages;
  int head_channels;
};

const Table& mbv2_tiny_table() {
  static const Table table{0.35,
                           32,
                           2,
                           1,
                           {{1, 16, 1, 1, 1},
                            {6, 24, 2, 2, 1},
                            {6, 32, 3, 2, 2},
                            {6, 64, 4, 2, 2},
                            {6, 96, 3, 1, 1},
                            {6, 160, 3, 2, 2},
                            {6, 320, 1, 1, 1}},
                           1280};
  return table;
}

const Table& mbv2_micro_table() {
  static const Table table{0.25,
                           32,
                           2,
                           1,
                           {{1, 16, 1, 1, 1},
                            {4, 24, 1, 2, 2},
                            {4, 32, 2, 2, 2},
                            {4, 64, 2, 2, 2},
                            {4, 96, 1, 1, 1},
                            {4, 160, 1, 2, 1}},
                           640};
  return table;
}

ArchConfig from_table(const Table& table, int resolution, int in_channels, int num_classes) {
  const bool small = resolution < kSmallInputResolution;
  ArchConfig arch;
  arch.resolution = resolution;
  arch.in_channels = in_channels;
  arch.num_classes = num_classes;
  arch.width_mult = table.width_mult;
  arch.stem = StemConfig{OpKind::Mult, table.stem_channels, 3,
                         small ? table.small_input_stem_stride : table.stem_stride};
  for (const StageRow& row : table.stages) {
    StageConfig stage;
    stage.stride = small ? row.small_input_stride : row.stride;
    stage.out_channels = row.channels;
    stage.blocks.assign(row.depth, BlockConfig{OpKind::Mult, 3, row.expand});
    arch.stages.push_back(std::move(stage));
  }
  arch.head = HeadConfig{OpKind::Mult, table.head_channels, OpKind::Mult};
  arch.validate("named arch");
  return arch;
}

std::string known_names() {
  std::string out;
  for (const std::string& name : named_arch_names()) out += (out.empty() ? "" : ", ") + name;
  return out;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::vector<std::string> named_arch_names() { return {"mbv2-tiny", "mbv2-micro"}; }

ArchConfig named_arch(const std::string& name, int resolution, int in_channels, int num_classes) {
  NAS_CHECK(resolution >= 1 && resolution <= kMaxResolution,
            "arch '" << name << "': resolution must be in 1.." << kMaxResolution << ", got "
                     << resolution);
  NAS_CHECK(in_channels >= 1, "arch '" << name << "': in_channels must be >= 1, got " << in_channels);
  NAS_CHECK(num_classes >= 1, "arch '" << name << "': num_classes must be >= 1, got " << num_classes);
  if (name == "mbv2-tiny") return from_table(mbv2_tiny_table(), resolution, in_channels, num_classes);
  if (name == "mbv2-micro")
    return from_table(mbv2_micro_table(), resolution, in_channels, num_classes);
  NAS_THROW("unknown architecture '" << name << "' (known: " << known_names()
                                     << "; or give a .json architecture file)");
}

ArchConfig resolve_arch(const std::string& name_or_file, int resolution, int in_channels,
                        int num_classes) {
  NAS_CHECK(!name_or_file.empty(),
            "the architecture name is empty (known: " << known_names() << "; or give a .json architecture file)");
  std::error_code ec;
  const bool is_file = ends_with(name_or_file, ".json") ||
                       std::filesystem::is_regular_file(name_or_file, ec);
  if (!is_file) return named_arch(name_or_file, resolution, in_channels, num_classes);
  ArchConfig arch = read_arch_file(name_or_file);
  NAS_CHECK(arch.in_channels == in_channels,
            "arch file '" << name_or_file << "' is for " << arch.in_channels
                          << " input channel(s), the data set has " << in_channels);
  NAS_CHECK(arch.num_classes == num_classes,
            "arch file '" << name_or_file << "' is for " << arch.num_classes
                          << " classes, the data set has " << num_classes);
  return arch;
}

}  // namespace nas
