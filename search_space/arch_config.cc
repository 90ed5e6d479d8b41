#include "search_space/arch_config.h"

#include <cmath>
#include <sstream>

#include "core/error.h"
#include "search_space/strict_json.h"

namespace nas {

namespace {

using strict::child;
using strict::element;
using strict::get_array;
using strict::get_int;
using strict::get_op;

bool valid_op(OpKind op) {
  return op == OpKind::Mult || op == OpKind::Shift || op == OpKind::Add;
}

void check_range(int value, int lo, int hi, const std::string& where, const std::string& name) {
  NAS_CHECK(value >= lo && value <= hi,
            where << ": " << name << " must be in " << lo << ".." << hi << ", got " << value);
}

void check_op(OpKind op, const std::string& where, const std::string& name) {
  NAS_CHECK(valid_op(op), where << ": " << name << " is not a valid op kind (value "
                                << static_cast<int>(op) << ")");
}

BlockConfig block_from_json(const json& j, const std::string& where, const std::string& path) {
  strict::check_fields(j, where, path, {"expand", "kernel", "op"});
  BlockConfig block;
  block.op = get_op(j, "op", where, path);
  block.kernel = get_int(j, "kernel", where, path);
  block.expand = get_int(j, "expand", where, path);
  return block;
}

StageConfig stage_from_json(const json& j, const std::string& where, const std::string& path) {
  strict::check_fields(j, where, path, {"blocks", "depth", "out_channels", "stride"});
  StageConfig stage;
  stage.stride = get_int(j, "stride", where, path);
  stage.out_channels = get_int(j, "out_channels", where, path);
  const int depth = get_int(j, "depth", where, path);
  check_range(depth, 1, kMaxDepth, where, child(path, "depth"));
  const json& blocks = get_array(j, "blocks", where, path);
  NAS_CHECK(static_cast<int>(blocks.size()) == depth,
            where << ": " << child(path, "depth") << " is " << depth << " but "
                  << child(path, "blocks") << " has " << blocks.size() << " entries");
  for (size_t i = 0; i < blocks.size(); ++i)
    stage.blocks.push_back(block_from_json(blocks[i], where, element(child(path, "blocks"), i)));
  return stage;
}

}  // namespace

char op_kind_letter(OpKind op) {
  switch (op) {
    case OpKind::Mult: return 'm';
    case OpKind::Shift: return 's';
    case OpKind::Add: return 'a';
  }
  return '?';
}

json stem_to_json(const StemConfig& stem) {
  return {{"op", op_kind_name(stem.op)},
          {"out_channels", stem.out_channels},
          {"kernel", stem.kernel},
          {"stride", stem.stride}};
}

StemConfig stem_from_json(const json& j, const std::string& where, const std::string& path) {
  strict::check_fields(j, where, path, {"kernel", "op", "out_channels", "stride"});
  StemConfig stem;
  stem.op = get_op(j, "op", where, path);
  stem.out_channels = get_int(j, "out_channels", where, path);
  stem.kernel = get_int(j, "kernel", where, path);
  stem.stride = get_int(j, "stride", where, path);
  return stem;
}

void validate_stem(const StemConfig& stem, const std::string& where, const std::string& path) {
  check_op(stem.op, where, child(path, "op"));
  check_range(stem.out_channels, 1, kMaxChannels, where, child(path, "out_channels"));
  NAS_CHECK(stem.kernel == 1 || stem.kernel == 3 || stem.kernel == 5 || stem.kernel == 7,
            where << ": " << child(path, "kernel") << " must be one of 1, 3, 5, 7, got "
                  << stem.kernel);
  NAS_CHECK(stem.stride == 1 || stem.stride == 2,
            where << ": " << child(path, "stride") << " must be 1 or 2, got " << stem.stride);
}

int ArchConfig::num_blocks() const {
  int n = 0;
  for (const StageConfig& stage : stages) n += stage.depth();
  return n;
}

std::vector<int> ArchConfig::depths() const {
  std::vector<int> out;
  out.reserve(stages.size());
  for (const StageConfig& stage : stages) out.push_back(stage.depth());
  return out;
}

void ArchConfig::validate(const std::string& where) const {
  check_range(resolution, 1, kMaxResolution, where, "resolution");
  check_range(in_channels, 1, kMaxChannels, where, "in_channels");
  check_range(num_classes, 1, kMaxClasses, where, "num_classes");
  NAS_CHECK(std::isfinite(width_mult) && width_mult > 0.0 && width_mult <= kMaxWidthMult,
            where << ": width_mult must be > 0 and <= " << kMaxWidthMult << ", got "
                  << strict::format_number(width_mult));

  validate_stem(stem, where, "stem");

  NAS_CHECK(!stages.empty(), where << ": stages must not be empty");
  NAS_CHECK(static_cast<int>(stages.size()) <= kMaxStages,
            where << ": stages has " << stages.size() << " entries, at most " << kMaxStages
                  << " are accepted");
  for (size_t s = 0; s < stages.size(); ++s) {
    const StageConfig& stage = stages[s];
    const std::string sp = element("stages", s);
    NAS_CHECK(stage.stride == 1 || stage.stride == 2,
              where << ": " << sp << ".stride must be 1 or 2, got " << stage.stride);
    check_range(stage.out_channels, 1, kMaxChannels, where, sp + ".out_channels");
    check_range(stage.depth(), 1, kMaxDepth, where, sp + ".depth");
    for (size_t b = 0; b < stage.blocks.size(); ++b) {
      const BlockConfig& block = stage.blocks[b];
      const std::string bp = element(sp + ".blocks", b);
      check_op(block.op, where, bp + ".op");
      NAS_CHECK(block.kernel == 3 || block.kernel == 5 || block.kernel == 7,
                where << ": " << bp << ".kernel must be one of 3, 5, 7, got " << block.kernel);
      check_range(block.expand, 1, kMaxExpand, where, bp + ".expand");
    }
  }

  check_op(head.op, where, "head.op");
  check_range(head.channels, 0, kMaxChannels, where, "head.channels");
  check_op(head.classifier_op, where, "head.classifier_op");
}

json ArchConfig::to_json() const {
  json j = json::object();
  j["resolution"] = resolution;
  j["in_channels"] = in_channels;
  j["num_classes"] = num_classes;
  j["width_mult"] = width_mult;
  j["stem"] = stem_to_json(stem);
  json stage_array = json::array();
  for (const StageConfig& stage : stages) {
    json blocks = json::array();
    for (const BlockConfig& block : stage.blocks)
      blocks.push_back(
          {{"op", op_kind_name(block.op)}, {"kernel", block.kernel}, {"expand", block.expand}});
    stage_array.push_back({{"depth", stage.depth()},
                           {"stride", stage.stride},
                           {"out_channels", stage.out_channels},
                           {"blocks", std::move(blocks)}});
  }
  j["stages"] = std::move(stage_array);
  j["head"] = {{"op", op_kind_name(head.op)},
               {"channels", head.channels},
               {"classifier_op", op_kind_name(head.classifier_op)}};
  return j;
}

ArchConfig ArchConfig::from_json(const json& j, const std::string& where) {
  strict::check_fields(j, where, "",
               {"head", "in_channels", "num_classes", "resolution", "stages", "stem", "width_mult"});
  ArchConfig arch;
  arch.resolution = get_int(j, "resolution", where, "");
  arch.in_channels = get_int(j, "in_channels", where, "");
  arch.num_classes = get_int(j, "num_classes", where, "");
  arch.width_mult = strict::get_number(j, "width_mult", where, "");

  arch.stem = stem_from_json(j.at("stem"), where, "stem");

  const json& stages = get_array(j, "stages", where, "");
  NAS_CHECK(!stages.empty(), where << ": stages must not be empty");
  for (size_t s = 0; s < stages.size(); ++s)
    arch.stages.push_back(stage_from_json(stages[s], where, element("stages", s)));

  const json& head = j.at("head");
  strict::check_fields(head, where, "head", {"channels", "classifier_op", "op"});
  arch.head.op = get_op(head, "op", where, "head");
  arch.head.channels = get_int(head, "channels", where, "head");
  arch.head.classifier_op = get_op(head, "classifier_op", where, "head");

  arch.validate(where);
  return arch;
}

std::string ArchConfig::key() const {
  std::ostringstream s;
  s << 'r' << resolution << ".i" << in_channels << ".n" << num_classes << ".w"
    << strict::format_number(width_mult);
  s << "|stem:" << op_kind_letter(stem.op) << ".k" << stem.kernel << ".s" << stem.stride << ".c"
    << stem.out_channels;
  for (const StageConfig& stage : stages) {
    s << "|s" << stage.stride << ".c" << stage.out_channels << ':';
    for (size_t b = 0; b < stage.blocks.size(); ++b) {
      const BlockConfig& block = stage.blocks[b];
      if (b > 0) s << '-';
      s << op_kind_letter(block.op) << block.kernel << 'e' << block.expand;
    }
  }
  s << "|head:" << op_kind_letter(head.op) << ".c" << head.channels
    << ".fc:" << op_kind_letter(head.classifier_op);
  return s.str();
}

bool operator==(const BlockConfig& a, const BlockConfig& b) {
  return a.op == b.op && a.kernel == b.kernel && a.expand == b.expand;
}
bool operator==(const StageConfig& a, const StageConfig& b) {
  return a.stride == b.stride && a.out_channels == b.out_channels && a.blocks == b.blocks;
}
bool operator==(const StemConfig& a, const StemConfig& b) {
  return a.op == b.op && a.out_channels == b.out_channels && a.kernel == b.kernel &&
         a.stride == b.stride;
}
bool operator==(const HeadConfig& a, const HeadConfig& b) {
  return a.op == b.op && a.channels == b.channels && a.classifier_op == b.classifier_op;
}
bool operator==(const ArchConfig& a, const ArchConfig& b) {
  return a.resolution == b.resolution && a.in_channels == b.in_channels &&
         a.num_classes == b.num_classes && a.width_mult == b.width_mult && a.stem == b.stem &&
         a.stages == b.stages && a.head == b.head;
}

ArchConfig read_arch_file(const std::string& path) {
  return ArchConfig::from_json(read_json_file(path, kMaxArchFileBytes), "arch file '" + path + "'");
}

void write_arch_file(const std::string& path, const ArchConfig& arch) {
  arch.validate();
  write_json_file(path, arch.to_json());
}

void set_all_ops(ArchConfig& arch, OpKind op) {
  for (StageConfig& stage : arch.stages)
    for (BlockConfig& block : stage.blocks) block.op = op;
  arch.head.op = op;
}

}  // namespace nas
