#pragma once
// AccuracyScorer: what the search sees of an accuracy predictor (OFA's EvolutionFinder sees an
// arch dict and a predictor's predict_accuracy(list)). Torch-free, so that evolution/ depends on
// this interface only; the LibTorch MLP (predictors/accuracy_predictor.h) and the tests' mock
// scorers implement it.
#include <string>
#include <vector>

#include "search_space/arch_config.h"

namespace nas {

class AccuracyScorer {
 public:
  virtual ~AccuracyScorer() = default;

  // Predicted top-1 accuracy in [0, 1] per architecture, in the order given. Deterministic:
  // the same architectures give the same values (the search's exact resume relies on it).
  // Called from one thread at a time, with the whole batch the search wants scored (the
  // implementation parallelises inside if it can). Every architecture is in the scorer's space.
  virtual std::vector<double> predict(const std::vector<ArchConfig>& archs) const = 0;

  // Identifies the scorer in pareto.json: {"file", "fingerprint", "kendall_tau", ...}; {} when
  // the scorer has nothing to say (a mock).
  virtual json describe() const { return json::object(); }
};

}  // namespace nas
