#include "search_space/arch_space.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.h"
#include "core/fnv1a.h"
#include "search_space/named_archs.h"
#include "search_space/strict_json.h"

namespace nas {

namespace {

using strict::child;
using strict::element;

template <typename T>
bool contains_value(const std::vector<T>& values, const T& v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

template <typename T>
size_t index_of(const std::vector<T>& values, const T& v) {
  return static_cast<size_t>(std::find(values.begin(), values.end(), v) - values.begin());
}

template <typename T>
const T& pick(const std::vector<T>& values, Rng& rng) {
  return values[rng.index(values.size())];
}

template <typename T>
const T& either(const T& a, const T& b, Rng& rng) {
  return rng.bernoulli(0.5) ? a : b;
}

// At most kListTextItems values: a list from a file can hold millions, and messages stay short.
constexpr size_t kListTextItems = 16;
template <typename T, typename Text>
std::string bounded_list_text(const std::vector<T>& values, Text&& text) {
  std::string s;
  for (size_t i = 0; i < values.size() && i < kListTextItems; ++i) s += (i ? ", " : "") + text(values[i]);
  if (values.size() > kListTextItems) s += ", ... (" + std::to_string(values.size()) + " values)";
  return s;
}
std::string list_text(const std::vector<int>& values) {
  return bounded_list_text(values, [](int v) { return std::to_string(v); });
}
std::string list_text(const std::vector<double>& values) {
  return bounded_list_text(values, [](double v) { return strict::format_number(v); });
}
std::string list_text(const std::vector<OpKind>& values) {
  return bounded_list_text(values, [](OpKind v) { return std::string(op_kind_name(v)); });
}

template <typename T>
void check_ascending(const std::vector<T>& values, const std::string& where,
                     const std::string& name) {
  NAS_CHECK(!values.empty(), where << ": " << name << " must not be empty");
  for (size_t i = 1; i < values.size(); ++i)
    NAS_CHECK(values[i - 1] < values[i], where << ": " << name
                                               << " must be strictly ascending, got ["
                                               << list_text(values) << "]");
}

void check_ops(const std::vector<OpKind>& ops, const std::string& where, const std::string& name) {
  NAS_CHECK(!ops.empty(), where << ": " << name << " must not be empty");
  for (size_t i = 0; i < ops.size(); ++i) {
    NAS_CHECK(ops[i] == OpKind::Mult || ops[i] == OpKind::Shift || ops[i] == OpKind::Add,
              where << ": " << element(name, i) << " is not a valid op kind");
    for (size_t j = 0; j < i; ++j)
      NAS_CHECK(ops[i] != ops[j], where << ": " << name << " lists '" << op_kind_name(ops[i])
                                        << "' twice");
  }
}

template <typename T>
void one_hot(std::vector<float>& out, size_t& pos, const std::vector<T>& choices, const T& value) {
  out[pos + index_of(choices, value)] = 1.0f;
  pos += choices.size();
}

}  // namespace

void ArchSpace::validate(const std::string& where) const {
  NAS_CHECK(in_channels >= 1 && in_channels <= kMaxChannels,
            where << ": in_channels must be in 1.." << kMaxChannels << ", got " << in_channels);
  NAS_CHECK(num_classes >= 1 && num_classes <= kMaxClasses,
            where << ": num_classes must be in 1.." << kMaxClasses << ", got " << num_classes);
  validate_stem(stem, where, "stem");
  NAS_CHECK(!stages.empty(), where << ": stages must not be empty");
  NAS_CHECK(static_cast<int>(stages.size()) <= kMaxStages,
            where << ": stages has " << stages.size() << " entries, at most " << kMaxStages);
  for (size_t s = 0; s < stages.size(); ++s) {
    const StageSpace& st = stages[s];
    const std::string sp = element("stages", s);
    NAS_CHECK(st.stride == 1 || st.stride == 2,
              where << ": " << sp << ".stride must be 1 or 2, got " << st.stride);
    NAS_CHECK(st.out_channels >= 1 && st.out_channels <= kMaxChannels,
              where << ": " << sp << ".out_channels must be in 1.." << kMaxChannels << ", got "
                    << st.out_channels);
    check_ascending(st.depths, where, sp + ".depths");
    NAS_CHECK(st.depths.front() >= 1 && st.depths.back() <= kMaxDepth,
              where << ": " << sp << ".depths must lie in 1.." << kMaxDepth << ", got ["
                    << list_text(st.depths) << "]");
    check_ascending(st.kernels, where, sp + ".kernels");
    for (int k : st.kernels)
      NAS_CHECK(k == 3 || k == 5 || k == 7, where << ": " << sp
                                                  << ".kernels must be among 3, 5, 7, got ["
                                                  << list_text(st.kernels) << "]");
    check_ascending(st.expands, where, sp + ".expands");
    NAS_CHECK(st.expands.front() >= 1 && st.expands.back() <= kMaxExpand,
              where << ": " << sp << ".expands must lie in 1.." << kMaxExpand << ", got ["
                    << list_text(st.expands) << "]");
  }
  NAS_CHECK(head_channels >= 0 && head_channels <= kMaxChannels,
            where << ": head_channels must be in 0.." << kMaxChannels << ", got " << head_channels);
  NAS_CHECK(classifier_op == OpKind::Mult || classifier_op == OpKind::Shift ||
                classifier_op == OpKind::Add,
            where << ": classifier_op is not a valid op kind");
  check_ascending(resolutions, where, "resolutions");
  NAS_CHECK(resolutions.front() >= 1 && resolutions.back() <= kMaxResolution,
            where << ": resolutions must lie in 1.." << kMaxResolution << ", got ["
                  << list_text(resolutions) << "]");
  check_ascending(widths, where, "widths");
  for (double w : widths)
    NAS_CHECK(std::isfinite(w) && w > 0.0 && w <= kMaxWidthMult,
              where << ": widths must lie in (0, " << kMaxWidthMult << "], got ["
                    << list_text(widths) << "]");
  check_ops(ops, where, "ops");
  check_ops(head_ops, where, "head_ops");
}

namespace {

ArchConfig skeleton(const ArchSpace& space) {
  ArchConfig arch;
  arch.in_channels = space.in_channels;
  arch.num_classes = space.num_classes;
  arch.stem = space.stem;
  arch.head.channels = space.head_channels;
  arch.head.classifier_op = space.classifier_op;
  for (const StageSpace& st : space.stages) {
    StageConfig stage;
    stage.stride = st.stride;
    stage.out_channels = st.out_channels;
    arch.stages.push_back(std::move(stage));
  }
  return arch;
}

BlockConfig sample_block(const ArchSpace& space, const StageSpace& st, Rng& rng) {
  BlockConfig block;
  block.op = pick(space.ops, rng);
  block.kernel = pick(st.kernels, rng);
  block.expand = pick(st.expands, rng);
  return block;
}

}  // namespace

ArchConfig ArchSpace::sample(Rng& rng) const {
  validate();
  ArchConfig arch = skeleton(*this);
  arch.resolution = pick(resolutions, rng);
  arch.width_mult = pick(widths, rng);
  for (size_t s = 0; s < stages.size(); ++s) {
    const int depth = pick(stages[s].depths, rng);
    for (int b = 0; b < depth; ++b) arch.stages[s].blocks.push_back(sample_block(*this, stages[s], rng));
  }
  arch.head.op = pick(head_ops, rng);
  return arch;
}

ArchConfig ArchSpace::mutate(const ArchConfig& parent, Rng& rng, double prob) const {
  NAS_CHECK(std::isfinite(prob) && prob >= 0.0 && prob <= 1.0,
            "mutate: probability must be in [0, 1], got " << prob);
  check_contains(parent, "mutate: parent");
  ArchConfig child = parent;
  if (rng.bernoulli(prob)) child.resolution = pick(resolutions, rng);
  if (rng.bernoulli(prob)) child.width_mult = pick(widths, rng);
  for (size_t s = 0; s < stages.size(); ++s) {
    const StageSpace& st = stages[s];
    std::vector<BlockConfig>& blocks = child.stages[s].blocks;
    const int old_depth = static_cast<int>(blocks.size());
    const int depth = rng.bernoulli(prob) ? pick(st.depths, rng) : old_depth;
    blocks.resize(std::min(depth, old_depth));
    for (BlockConfig& block : blocks) {
      if (rng.bernoulli(prob)) block.op = pick(ops, rng);
      if (rng.bernoulli(prob)) block.kernel = pick(st.kernels, rng);
      if (rng.bernoulli(prob)) block.expand = pick(st.expands, rng);
    }
    while (static_cast<int>(blocks.size()) < depth) blocks.push_back(sample_block(*this, st, rng));
  }
  if (rng.bernoulli(prob)) child.head.op = pick(head_ops, rng);
  return child;
}

ArchConfig ArchSpace::crossover(const ArchConfig& a, const ArchConfig& b, Rng& rng) const {
  check_contains(a, "crossover: first parent");
  check_contains(b, "crossover: second parent");
  ArchConfig child = skeleton(*this);
  child.resolution = either(a.resolution, b.resolution, rng);
  child.width_mult = either(a.width_mult, b.width_mult, rng);
  for (size_t s = 0; s < stages.size(); ++s) {
    const std::vector<BlockConfig>& ba = a.stages[s].blocks;
    const std::vector<BlockConfig>& bb = b.stages[s].blocks;
    const size_t depth = either(ba.size(), bb.size(), rng);
    std::vector<BlockConfig>& blocks = child.stages[s].blocks;
    for (size_t i = 0; i < depth; ++i) {
      if (i < ba.size() && i < bb.size()) {
        BlockConfig block;
        block.op = either(ba[i].op, bb[i].op, rng);
        block.kernel = either(ba[i].kernel, bb[i].kernel, rng);
        block.expand = either(ba[i].expand, bb[i].expand, rng);
        blocks.push_back(block);
      } else {
        blocks.push_back(i < ba.size() ? ba[i] : bb[i]);
      }
    }
  }
  child.head.op = either(a.head.op, b.head.op, rng);
  return child;
}

std::string ArchSpace::violation(const ArchConfig& arch) const {
  try {
    arch.validate();
  } catch (const Error& e) {
    return e.message();
  }
  std::ostringstream why;
  if (arch.in_channels != in_channels)
    why << "in_channels " << arch.in_channels << " differs from the space's " << in_channels;
  else if (arch.num_classes != num_classes)
    why << "num_classes " << arch.num_classes << " differs from the space's " << num_classes;
  else if (arch.stem != stem)
    why << "stem " << stem_to_json(arch.stem).dump() << " differs from the space's "
        << stem_to_json(stem).dump();
  else if (arch.head.channels != head_channels)
    why << "head.channels " << arch.head.channels << " differs from the space's " << head_channels;
  else if (arch.head.classifier_op != classifier_op)
    why << "head.classifier_op " << op_kind_name(arch.head.classifier_op)
        << " differs from the space's " << op_kind_name(classifier_op);
  else if (!contains_value(head_ops, arch.head.op))
    why << "head.op " << op_kind_name(arch.head.op) << " is not one of " << list_text(head_ops);
  else if (!contains_value(resolutions, arch.resolution))
    why << "resolution " << arch.resolution << " is not one of " << list_text(resolutions);
  else if (!contains_value(widths, arch.width_mult))
    why << "width_mult " << strict::format_number(arch.width_mult) << " is not one of "
        << list_text(widths);
  else if (arch.stages.size() != stages.size())
    why << "it has " << arch.stages.size() << " stages, the space " << stages.size();
  if (!why.str().empty()) return why.str();

  for (size_t s = 0; s < stages.size(); ++s) {
    const StageSpace& st = stages[s];
    const StageConfig& stage = arch.stages[s];
    const std::string sp = element("stages", s);
    if (stage.stride != st.stride)
      return sp + ".stride " + std::to_string(stage.stride) + " differs from the space's " +
             std::to_string(st.stride);
    if (stage.out_channels != st.out_channels)
      return sp + ".out_channels " + std::to_string(stage.out_channels) +
             " differs from the space's " + std::to_string(st.out_channels);
    if (!contains_value(st.depths, stage.depth()))
      return sp + ".depth " + std::to_string(stage.depth()) + " is not one of " +
             list_text(st.depths);
    for (size_t b = 0; b < stage.blocks.size(); ++b) {
      const BlockConfig& block = stage.blocks[b];
      const std::string bp = element(sp + ".blocks", b);
      if (!contains_value(ops, block.op))
        return bp + ".op " + op_kind_name(block.op) + " is not one of " + list_text(ops);
      if (!contains_value(st.kernels, block.kernel))
        return bp + ".kernel " + std::to_string(block.kernel) + " is not one of " +
               list_text(st.kernels);
      if (!contains_value(st.expands, block.expand))
        return bp + ".expand " + std::to_string(block.expand) + " is not one of " +
               list_text(st.expands);
    }
  }
  return {};
}

void ArchSpace::check_contains(const ArchConfig& arch, const std::string& where) const {
  const std::string why = violation(arch);
  NAS_CHECK(why.empty(), where << ": architecture is not in the search space: " << why);
}

size_t ArchSpace::encoding_size() const {
  size_t n = resolutions.size() + widths.size() + head_ops.size();
  for (const StageSpace& st : stages)
    n += st.depths.size() +
         static_cast<size_t>(st.max_depth()) * (ops.size() + st.kernels.size() + st.expands.size());
  return n;
}

std::vector<float> ArchSpace::encode(const ArchConfig& arch) const {
  check_contains(arch, "encode");
  std::vector<float> out(encoding_size(), 0.0f);
  size_t pos = 0;
  one_hot(out, pos, resolutions, arch.resolution);
  one_hot(out, pos, widths, arch.width_mult);
  for (size_t s = 0; s < stages.size(); ++s) {
    const StageSpace& st = stages[s];
    const StageConfig& stage = arch.stages[s];
    one_hot(out, pos, st.depths, stage.depth());
    const size_t slot = ops.size() + st.kernels.size() + st.expands.size();
    for (int b = 0; b < st.max_depth(); ++b) {
      if (b >= stage.depth()) {
        pos += slot;
        continue;
      }
      const BlockConfig& block = stage.blocks[b];
      one_hot(out, pos, ops, block.op);
      one_hot(out, pos, st.kernels, block.kernel);
      one_hot(out, pos, st.expands, block.expand);
    }
  }
  one_hot(out, pos, head_ops, arch.head.op);
  return out;
}

std::vector<std::string> ArchSpace::encoding_names() const {
  std::vector<std::string> names;
  names.reserve(encoding_size());
  for (int r : resolutions) names.push_back("resolution=" + std::to_string(r));
  for (double w : widths) names.push_back("width_mult=" + strict::format_number(w));
  for (size_t s = 0; s < stages.size(); ++s) {
    const StageSpace& st = stages[s];
    const std::string sp = "stage" + std::to_string(s);
    for (int d : st.depths) names.push_back(sp + ".depth=" + std::to_string(d));
    for (int b = 0; b < st.max_depth(); ++b) {
      const std::string bp = sp + ".block" + std::to_string(b);
      for (OpKind op : ops) names.push_back(bp + ".op=" + op_kind_name(op));
      for (int k : st.kernels) names.push_back(bp + ".kernel=" + std::to_string(k));
      for (int e : st.expands) names.push_back(bp + ".expand=" + std::to_string(e));
    }
  }
  for (OpKind op : head_ops) names.push_back(std::string("head.op=") + op_kind_name(op));
  return names;
}

namespace {

ArchConfig extreme(const ArchSpace& space, std::optional<OpKind> op, bool largest,
                   const char* who) {
  space.validate();
  const OpKind block_op = op.value_or(space.ops.front());
  NAS_CHECK(contains_value(space.ops, block_op),
            who << ": op '" << op_kind_name(block_op) << "' is not one of the space's ops ("
                << list_text(space.ops) << ")");
  const OpKind head_op = contains_value(space.head_ops, block_op) ? block_op : space.head_ops.front();
  ArchConfig arch = skeleton(space);
  arch.resolution = largest ? space.resolutions.back() : space.resolutions.front();
  arch.width_mult = largest ? space.widths.back() : space.widths.front();
  for (size_t s = 0; s < space.stages.size(); ++s) {
    const StageSpace& st = space.stages[s];
    const BlockConfig block{block_op, largest ? st.kernels.back() : st.kernels.front(),
                            largest ? st.expands.back() : st.expands.front()};
    arch.stages[s].blocks.assign(largest ? st.depths.back() : st.depths.front(), block);
  }
  arch.head.op = head_op;
  return arch;
}

}  // namespace

ArchConfig ArchSpace::smallest(std::optional<OpKind> op) const {
  return extreme(*this, op, false, "smallest");
}

ArchConfig ArchSpace::largest(std::optional<OpKind> op) const {
  return extreme(*this, op, true, "largest");
}

double ArchSpace::log10_size() const {
  double total = std::log10(static_cast<double>(resolutions.size())) +
                 std::log10(static_cast<double>(widths.size())) +
                 std::log10(static_cast<double>(head_ops.size()));
  for (const StageSpace& st : stages) {
    const double per_block = static_cast<double>(ops.size() * st.kernels.size() * st.expands.size());
    // sum over depths d of per_block^d, summed in log space to stay finite.
    double max_log = 0.0;
    for (int d : st.depths) max_log = std::max(max_log, d * std::log10(per_block));
    double sum = 0.0;
    for (int d : st.depths) sum += std::pow(10.0, d * std::log10(per_block) - max_log);
    total += max_log + std::log10(sum);
  }
  return total;
}

std::string ArchSpace::fingerprint() const { return fnv1a64_text(to_json().dump()); }

json ArchSpace::to_json() const {
  json stage_array = json::array();
  for (const StageSpace& st : stages)
    stage_array.push_back({{"stride", st.stride},
                           {"out_channels", st.out_channels},
                           {"depths", st.depths},
                           {"kernels", st.kernels},
                           {"expands", st.expands}});
  json op_names = json::array(), head_op_names = json::array();
  for (OpKind op : ops) op_names.push_back(op_kind_name(op));
  for (OpKind op : head_ops) head_op_names.push_back(op_kind_name(op));
  return {{"in_channels", in_channels},
          {"num_classes", num_classes},
          {"stem", stem_to_json(stem)},
          {"stages", std::move(stage_array)},
          {"head_channels", head_channels},
          {"classifier_op", op_kind_name(classifier_op)},
          {"resolutions", resolutions},
          {"widths", widths},
          {"ops", std::move(op_names)},
          {"head_ops", std::move(head_op_names)}};
}

ArchSpace ArchSpace::from_json(const json& j, const std::string& where) {
  strict::check_fields(j, where, "",
                       {"classifier_op", "head_channels", "head_ops", "in_channels",
                        "num_classes", "ops", "resolutions", "stages", "stem", "widths"});
  ArchSpace space;
  space.in_channels = strict::get_int(j, "in_channels", where, "");
  space.num_classes = strict::get_int(j, "num_classes", where, "");
  space.stem = stem_from_json(j.at("stem"), where, "stem");
  const json& stage_array = strict::get_array(j, "stages", where, "");
  for (size_t s = 0; s < stage_array.size(); ++s) {
    const std::string sp = element("stages", s);
    const json& sj = stage_array[s];
    strict::check_fields(sj, where, sp, {"depths", "expands", "kernels", "out_channels", "stride"});
    StageSpace st;
    st.stride = strict::get_int(sj, "stride", where, sp);
    st.out_channels = strict::get_int(sj, "out_channels", where, sp);
    st.depths = strict::get_int_list(sj, "depths", where, sp);
    st.kernels = strict::get_int_list(sj, "kernels", where, sp);
    st.expands = strict::get_int_list(sj, "expands", where, sp);
    space.stages.push_back(std::move(st));
  }
  space.head_channels = strict::get_int(j, "head_channels", where, "");
  space.classifier_op = strict::get_op(j, "classifier_op", where, "");
  space.resolutions = strict::get_int_list(j, "resolutions", where, "");
  space.widths = strict::get_number_list(j, "widths", where, "");
  space.ops = strict::get_op_list(j, "ops", where, "");
  space.head_ops = strict::get_op_list(j, "head_ops", where, "");
  space.validate(where);
  return space;
}

ArchSpace default_space(int resolution, int in_channels, int num_classes) {
  const ArchConfig base = named_arch("mbv2-tiny", resolution, in_channels, num_classes);
  ArchSpace space;
  space.in_channels = in_channels;
  space.num_classes = num_classes;
  space.stem = base.stem;
  space.head_channels = base.head.channels;
  space.classifier_op = base.head.classifier_op;
  const int step = std::max(4, resolution / 8 / 4 * 4);
  for (int r : {resolution - 2 * step, resolution - step, resolution})
    if (r >= 8) space.resolutions.push_back(r);
  space.widths = {0.25, 0.35, 0.5};
  space.ops = {OpKind::Shift, OpKind::Add};
  space.head_ops = space.ops;
  const size_t last = base.stages.size() - 1;
  for (size_t s = 0; s < base.stages.size(); ++s) {
    const StageConfig& stage = base.stages[s];
    StageSpace st;
    st.stride = stage.stride;
    st.out_channels = stage.out_channels;
    if (s == 0) {  // MobileNetV2's first block: depthwise-separable, fixed
      st.depths = {1};
      st.kernels = {3};
      st.expands = {1};
    } else {
      if (s == last)
        st.depths = {1};
      else if (stage.depth() <= 2)
        st.depths = {1, 2, 3};
      else
        st.depths = {2, 3, 4};
      st.kernels = {3, 5, 7};
      st.expands = {3, 4, 6};
    }
    space.stages.push_back(std::move(st));
  }
  space.validate("default space");
  return space;
}

ArchSpace read_space_file(const std::string& path) {
  return ArchSpace::from_json(read_json_file(path, kMaxSpaceFileBytes), path);
}

}  // namespace nas
