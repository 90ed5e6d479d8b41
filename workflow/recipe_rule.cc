#include "workflow/recipe_rule.h"

#include <cmath>
#include <map>
#include <sstream>

#include "core/error.h"
#include "core/string_format.h"
#include "search_space/op_kind.h"

namespace nas::workflow {

namespace {

constexpr size_t kMaxEvidencePoints = 10000;
constexpr int kMinPairedSeeds = 2;
constexpr double kStandardErrors = 2.0;

// The study's op labels, by the op_kind_name spelling of a network's ops.
const std::map<std::string, std::string>& study_op_labels() {
  static const std::map<std::string, std::string> labels = {{"shift", "Shift"}, {"add", "Add"}};
  return labels;
}

std::string point_where(const std::string& path, size_t i) { return path + ": points[" + std::to_string(i) + "]"; }

// The evidence the rule uses for one op: see the header.
const RecipeEvidence* deciding_point(const std::vector<RecipeEvidence>& evidence, const std::string& op_label, int epochs,
                                     const std::string& dataset) {
  const RecipeEvidence* same_dataset = nullptr;
  const RecipeEvidence* any_dataset = nullptr;
  for (const RecipeEvidence& e : evidence) {
    if (e.op != op_label || e.epochs > epochs) continue;
    const auto longer = [&](const RecipeEvidence* best) { return best == nullptr || e.epochs > best->epochs; };
    if (longer(any_dataset)) any_dataset = &e;
    if (e.dataset == dataset && longer(same_dataset)) same_dataset = &e;
  }
  return same_dataset ? same_dataset : any_dataset;
}

std::string describe(const RecipeEvidence& e, const std::string& op_label) {
  std::ostringstream s;
  s << op_label << "Aug - " << op_label << " = " << string_printf("%+.2f", e.mean_points) << " +- "
    << string_printf("%.2f", e.std_error_points) << " points (SE, " << e.paired_seeds << " seeds, " << e.dataset << " "
    << e.epochs << " epochs, validation, " << e.source << ")";
  return s.str();
}

}  // namespace

std::set<std::string> ops_of_blocks_and_head(const ArchConfig& arch) {
  std::set<std::string> ops;
  if (arch.head.channels != 0) ops.insert(op_kind_name(arch.head.op));
  for (const StageConfig& stage : arch.stages)
    for (const BlockConfig& block : stage.blocks) ops.insert(op_kind_name(block.op));
  return ops;
}

std::vector<RecipeEvidence> read_recipe_evidence(const std::string& path) {
  const json doc = read_json_file(path);
  NAS_CHECK(doc.is_object() && doc.contains("points") && doc["points"].is_array(),
            path << ": expected an object with a 'points' array (experiments/shiftaddaug/gap_vs_epochs.py's output)");
  const json& points = doc["points"];
  NAS_CHECK(points.size() <= kMaxEvidencePoints, path << ": more than " << kMaxEvidencePoints << " points");
  std::vector<RecipeEvidence> evidence;
  for (size_t i = 0; i < points.size(); ++i) {
    const std::string where = point_where(path, i);
    const json& p = points[i];
    NAS_CHECK(p.is_object(), where << ": must be an object");
    if (json_string(p, "family", where) != "micro" || json_string(p, "metric", where) != "val_top1" ||
        json_string(p, "split", where) != "full-split run")
      continue;
    NAS_CHECK(p.contains("seeds") && p["seeds"].is_array(), where << ": 'seeds' must be an array");
    NAS_CHECK(p.contains("std_error"), where << ": 'std_error' is missing");
    RecipeEvidence e;
    e.dataset = json_string(p, "dataset", where);
    e.op = json_string(p, "op", where);
    const int64_t epochs = json_int(p, "epochs", where);
    NAS_CHECK(epochs >= 1 && epochs <= 100000, where << ": 'epochs' must be in [1, 100000], got " << epochs);
    e.epochs = static_cast<int>(epochs);
    e.paired_seeds = static_cast<int>(p["seeds"].size());
    e.mean_points = json_number(p, "mean", where);
    e.source = p.contains("source") && p["source"].is_string() ? p["source"].get<std::string>() : std::string();
    if (p["std_error"].is_null() || e.paired_seeds < kMinPairedSeeds) continue;
    e.std_error_points = json_number(p, "std_error", where);
    NAS_CHECK(std::isfinite(e.mean_points) && std::isfinite(e.std_error_points) && e.std_error_points >= 0,
              where << ": 'mean' and 'std_error' must be finite, the error >= 0");
    evidence.push_back(e);
  }
  return evidence;
}

json RecipeChoice::to_json() const { return {{"aug", aug}, {"chosen_by", chosen_by}, {"reason", reason}}; }

RecipeChoice choose_recipe(const std::vector<RecipeEvidence>& evidence, const std::set<std::string>& ops, int epochs,
                           const std::string& dataset, const std::string& given_aug) {
  if (given_aug == "shiftaddaug" || given_aug == "none")
    return {given_aug, "--aug", "--aug " + given_aug + " given on the command line"};
  NAS_CHECK(given_aug.empty() || given_aug == "auto",
            "unknown --aug '" << given_aug << "' (accepted: auto, shiftaddaug, none)");
  NAS_CHECK(epochs >= 1, "the recipe rule needs epochs >= 1, got " << epochs);
  std::vector<std::string> findings;
  bool pays_for_every_op = true;
  size_t mf_ops = 0;
  for (const std::string& op : ops) {
    const auto label = study_op_labels().find(op);
    if (label == study_op_labels().end()) continue;  // mult: nothing to augment for
    ++mf_ops;
    const RecipeEvidence* e = deciding_point(evidence, label->second, epochs, dataset);
    if (e == nullptr) {
      pays_for_every_op = false;
      findings.push_back("no " + label->second + " measurement at <= " + std::to_string(epochs) + " epochs");
      continue;
    }
    const bool pays = e->mean_points > 0 && e->mean_points > kStandardErrors * e->std_error_points;
    pays_for_every_op = pays_for_every_op && pays;
    findings.push_back(describe(*e, label->second) + (pays ? " is above 2 SE" : " is not above 2 SE"));
  }
  RecipeChoice choice;
  choice.chosen_by = "rule";
  choice.aug = mf_ops > 0 && pays_for_every_op ? "shiftaddaug" : "none";
  std::string reason = "recipe rule (docs/DESIGN.md) at " + std::to_string(epochs) + (epochs == 1 ? " epoch: " : " epochs: ");
  if (mf_ops == 0) reason += "no multiplication-free op to augment";
  for (size_t i = 0; i < findings.size(); ++i) reason += (i ? "; " : "") + findings[i];
  choice.reason = reason + " -> --aug " + choice.aug;
  return choice;
}

}  // namespace nas::workflow
