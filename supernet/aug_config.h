#pragma once
// Augmentation of a tiny network (NetAug / ShiftAddAug): the augmented network is a wider copy of
// the tiny one that contains it as its first channels. One augmented network is described by a
// width multiplier per width unit (the stem, every stage, the head conv) and an expand multiplier
// per block; the trainer samples one per step from the augmentation lists. Torch-free.
#include <cstdint>
#include <string>
#include <vector>

#include "core/json_util.h"
#include "core/rng.h"
#include "search_space/arch_layers.h"

namespace nas {

struct AugOptions {
  std::vector<double> expand_mults{1.0, 1.6, 2.2, 2.8};  // NetAug's expand augmentation list
  std::vector<double> width_mults{1.0, 1.8, 2.6};        // NetAug's width augmentation list
  bool cross_term = true;  // tiny outputs also see the augmented inputs (DESIGN.md §5)

  // Every multiplier must be >= 1 and finite; lists non-empty (1.0 is added when missing, so the
  // tiny width is always a choice).
  void validate() const;
  json to_json() const;
  static AugOptions from_json(const json& j, const std::string& where);
};

// Parses "1.0,1.6,2.2" into multipliers; errors name `flag`.
std::vector<double> parse_multiplier_list(const std::string& text, const std::string& flag);

// One augmented network. All multipliers 1 is the tiny network itself.
struct AugConfig {
  double stem_width = 1.0;
  std::vector<double> stage_width;   // one per stage
  std::vector<double> block_expand;  // one per block, in network order
  double head_width = 1.0;

  bool is_tiny() const;
  json to_json() const;
  std::string str() const;  // "w1.8|1,2.6,...|e2.2,1,...|h1"

  static AugConfig tiny(const ArchConfig& arch);
  // Every unit at its largest multiplier.
  static AugConfig largest(const ArchConfig& arch, const AugOptions& options);
  // Every unit drawn independently and uniformly from its list.
  static AugConfig sample(const ArchConfig& arch, const AugOptions& options, Rng& rng);
};

bool operator==(const AugConfig& a, const AugConfig& b);

// Channel counts of one layer group: tiny (t) and augmented (a) widths.
struct BlockWidths {
  int64_t in_t = 0, mid_t = 0, out_t = 0;
  int64_t in_a = 0, mid_a = 0, out_a = 0;
};

struct NetWidths {
  int64_t stem_t = 0, stem_a = 0;
  std::vector<BlockWidths> blocks;
  int64_t head_t = 0, head_a = 0;  // 0 when the architecture has no head conv
  int64_t classifier_in_t = 0, classifier_in_a = 0;
};

// augment(c_t, m) = max(c_t, make_divisible(c_t * m, 8)); the hidden width of an augmented block
// is max(mid_t, make_divisible(round(expand * e * in_a), 8)) (blocks with expand == 1 have no
// expand conv: mid = in). The tiny widths are those of resolve_arch().
int64_t augment_channels(int64_t tiny_channels, double multiplier);
NetWidths resolve_widths(const ResolvedArch& arch, const AugConfig& config);

}  // namespace nas
