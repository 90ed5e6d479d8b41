#pragma once
// Which retraining recipe the evidence supports (issue 33; docs/DESIGN.md, "workflow/"): ShiftAddAug
// (--aug shiftaddaug) costs 3.5-10x the training time of direct training (--aug none), so the
// product uses it only where a committed measurement shows that it pays. Pure, torch-free.
//
// The evidence is the gap-vs-epochs study (experiments/shiftaddaug/gap_vs_epochs.py writes
// results/shiftaddaug/gap-vs-epochs.json; the build and `cmake --install` copy it into the data
// directory, core/data_dir.h): paired Aug - direct top-1 differences at equal epochs.
//
// The rule, for an epoch budget E and the multiplication-free ops a network holds:
//   - an op's evidence: the points of the current trainer's family ("micro"), measured on the
//     VALIDATION split of a full-split run (a recipe is a hyper-parameter: never chosen on test),
//     with >= 2 paired seeds and a standard error, at epochs <= E; those of the data set being
//     trained when it has any, else every data set's; of them the longest schedule;
//   - augmentation pays for that op iff its mean difference > 2 standard errors (and > 0);
//   - --aug shiftaddaug is chosen iff it pays for every MF op of the network (no MF op, or an op
//     without evidence at <= E epochs: --aug none, the cheaper recipe);
//   - an explicit --aug (shiftaddaug or none) wins; "auto" or no --aug applies the rule.
#include <set>
#include <string>
#include <vector>

#include "core/json_util.h"
#include "search_space/arch_config.h"

namespace nas::workflow {

// The evidence file's name in the data directory (core/data_dir.h's find_data_file).
constexpr const char* kRecipeEvidenceFile = "gap-vs-epochs.json";

// The ops (op_kind_name spellings) of an architecture's blocks and head conv: the convolutions an
// op choice applies to (the stem stays multiplicative).
std::set<std::string> ops_of_blocks_and_head(const ArchConfig& arch);

// One paired measurement of the study, as the rule reads it.
struct RecipeEvidence {
  std::string dataset;  // canonical name: "cifar10", "fashion-mnist"
  std::string op;       // "Shift" or "Add" (the study's op labels)
  int epochs = 0;
  int paired_seeds = 0;
  double mean_points = 0;        // Aug - direct top-1, percentage points
  double std_error_points = -1;  // < 0: none (one seed)
  std::string source;            // the study's source name ("c10-30ep")
};

// The points of `path` (gap-vs-epochs.json) that the rule may use (the filter above: family
// "micro", metric val_top1, a full-split run, >= 2 seeds with a standard error). Throws nas::Error
// naming the file and the field for a malformed file.
std::vector<RecipeEvidence> read_recipe_evidence(const std::string& path);

struct RecipeChoice {
  std::string aug;        // "shiftaddaug" or "none"
  std::string chosen_by;  // "--aug" (given explicitly), "rule", or "default" (nas_retrain, one architecture)
  std::string reason;     // one line: the measurements behind the choice
  json to_json() const;   // {"aug", "chosen_by", "reason"} (retrain_summary.json, result.json)
};

// The recipe for a network with the ops `ops` (op_kind_name spellings: "shift", "add", "mult"),
// trained `epochs` epochs on `dataset`. `given_aug`: "shiftaddaug" / "none" (explicit: returned
// as it is), "auto" or "" (the rule). Throws nas::Error for another `given_aug`.
RecipeChoice choose_recipe(const std::vector<RecipeEvidence>& evidence, const std::set<std::string>& ops, int epochs,
                           const std::string& dataset, const std::string& given_aug);

}  // namespace nas::workflow
