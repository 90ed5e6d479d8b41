#include "supernet/aug_config.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.h"

namespace nas {

namespace {

void validate_list(const std::vector<double>& list, const char* name) {
  NAS_CHECK(!list.empty(), "augmentation " << name << " list is empty");
  for (double m : list)
    NAS_CHECK(std::isfinite(m) && m >= 1.0 && m <= 16.0,
              "augmentation " << name << " multipliers must be in [1, 16], got " << m);
}

double pick(const std::vector<double>& list, Rng& rng) { return list[rng.index(list.size())]; }

double largest_of(const std::vector<double>& list) {
  return *std::max_element(list.begin(), list.end());
}

std::string join(const std::vector<double>& values) {
  std::ostringstream out;
  for (size_t i = 0; i < values.size(); ++i) out << (i ? "," : "") << values[i];
  return out.str();
}

}  // namespace

void AugOptions::validate() const {
  validate_list(expand_mults, "expand");
  validate_list(width_mults, "width");
}

json AugOptions::to_json() const {
  return {{"expand_mults", expand_mults}, {"width_mults", width_mults}, {"cross_term", cross_term}};
}

AugOptions AugOptions::from_json(const json& j, const std::string& where) {
  NAS_CHECK(j.is_object(), where << " must be an object");
  AugOptions o;
  for (const char* key : {"expand_mults", "width_mults"}) {
    NAS_CHECK(j.contains(key) && j[key].is_array() && !j[key].empty() && j[key].size() <= 64,
              where << "." << key << " must be a non-empty array of at most 64 numbers");
    std::vector<double>& dst = std::string(key) == "expand_mults" ? o.expand_mults : o.width_mults;
    dst.clear();
    for (const json& v : j[key]) {
      NAS_CHECK(v.is_number(), where << "." << key << " must hold numbers");
      dst.push_back(v.get<double>());
    }
  }
  NAS_CHECK(j.contains("cross_term") && j["cross_term"].is_boolean(), where << ".cross_term must be true or false");
  o.cross_term = j["cross_term"].get<bool>();
  o.validate();
  return o;
}

std::vector<double> parse_multiplier_list(const std::string& text, const std::string& flag) {
  std::vector<double> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t used = 0;
    double value = 0;
    try {
      value = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    while (used < item.size() && std::isspace(static_cast<unsigned char>(item[used]))) ++used;
    NAS_CHECK(!item.empty() && used == item.size(),
              flag << ": '" << text << "' is not a comma-separated list of numbers");
    NAS_CHECK(std::isfinite(value) && value >= 1.0 && value <= 16.0,
              flag << ": multipliers must be in [1, 16], got " << value);
    out.push_back(value);
  }
  NAS_CHECK(!out.empty(), flag << ": empty list");
  if (std::find(out.begin(), out.end(), 1.0) == out.end()) out.insert(out.begin(), 1.0);
  return out;
}

bool AugConfig::is_tiny() const {
  auto ones = [](const std::vector<double>& v) {
    return std::all_of(v.begin(), v.end(), [](double m) { return m == 1.0; });
  };
  return stem_width == 1.0 && head_width == 1.0 && ones(stage_width) && ones(block_expand);
}

json AugConfig::to_json() const {
  return {{"stem_width", stem_width},
          {"stage_width", stage_width},
          {"block_expand", block_expand},
          {"head_width", head_width}};
}

std::string AugConfig::str() const {
  std::ostringstream out;
  out << "w" << stem_width << "|" << join(stage_width) << "|e" << join(block_expand) << "|h"
      << head_width;
  return out.str();
}

AugConfig AugConfig::tiny(const ArchConfig& arch) {
  AugConfig c;
  c.stage_width.assign(arch.stages.size(), 1.0);
  c.block_expand.assign(static_cast<size_t>(arch.num_blocks()), 1.0);
  return c;
}

AugConfig AugConfig::largest(const ArchConfig& arch, const AugOptions& options) {
  options.validate();
  AugConfig c;
  const double w = largest_of(options.width_mults), e = largest_of(options.expand_mults);
  c.stem_width = w;
  c.head_width = w;
  c.stage_width.assign(arch.stages.size(), w);
  c.block_expand.assign(static_cast<size_t>(arch.num_blocks()), e);
  return c;
}

AugConfig AugConfig::sample(const ArchConfig& arch, const AugOptions& options, Rng& rng) {
  options.validate();
  AugConfig c;
  c.stem_width = pick(options.width_mults, rng);
  for (size_t s = 0; s < arch.stages.size(); ++s)
    c.stage_width.push_back(pick(options.width_mults, rng));
  for (int b = 0; b < arch.num_blocks(); ++b) c.block_expand.push_back(pick(options.expand_mults, rng));
  c.head_width = pick(options.width_mults, rng);
  return c;
}

bool operator==(const AugConfig& a, const AugConfig& b) {
  return a.stem_width == b.stem_width && a.stage_width == b.stage_width &&
         a.block_expand == b.block_expand && a.head_width == b.head_width;
}

int64_t augment_channels(int64_t tiny_channels, double multiplier) {
  if (multiplier == 1.0) return tiny_channels;
  return std::max(tiny_channels,
                  make_divisible(static_cast<double>(tiny_channels) * multiplier, 8));
}

NetWidths resolve_widths(const ResolvedArch& arch, const AugConfig& config) {
  NAS_CHECK(config.block_expand.size() == arch.blocks.size(),
            "augmentation config has " << config.block_expand.size() << " block entries, the "
                                       << "architecture has " << arch.blocks.size() << " blocks");
  int num_stages = 0;
  for (const ResolvedBlock& b : arch.blocks) num_stages = std::max(num_stages, b.stage + 1);
  NAS_CHECK(static_cast<int>(config.stage_width.size()) == num_stages,
            "augmentation config has " << config.stage_width.size() << " stage entries, the "
                                       << "architecture has " << num_stages << " stages");
  NetWidths w;
  w.stem_t = arch.stem_channels;
  w.stem_a = augment_channels(arch.stem_channels, config.stem_width);
  int64_t c_t = w.stem_t, c_a = w.stem_a;
  for (size_t i = 0; i < arch.blocks.size(); ++i) {
    const ResolvedBlock& rb = arch.blocks[i];
    BlockWidths bw;
    bw.in_t = c_t;
    bw.in_a = c_a;
    bw.mid_t = rb.c_mid;
    if (rb.has_expand_conv()) {
      const double e = config.block_expand[i];
      bw.mid_a = e == 1.0 && c_a == c_t
                     ? rb.c_mid
                     : std::max(rb.c_mid, hidden_channels(c_a, static_cast<double>(rb.expand) * e));
    } else {
      bw.mid_a = c_a;
    }
    bw.out_t = rb.c_out;
    bw.out_a = augment_channels(rb.c_out, config.stage_width[static_cast<size_t>(rb.stage)]);
    c_t = bw.out_t;
    c_a = bw.out_a;
    w.blocks.push_back(bw);
  }
  if (arch.head_channels > 0) {
    w.head_t = arch.head_channels;
    w.head_a = augment_channels(arch.head_channels, config.head_width);
    w.classifier_in_t = w.head_t;
    w.classifier_in_a = w.head_a;
  } else {
    w.classifier_in_t = c_t;
    w.classifier_in_a = c_a;
  }
  return w;
}

}  // namespace nas
