// nas_train_predictor: the accuracy predictor (predictors/accuracy_predictor.h) from a data set
// of nas_build_acc_dataset. The records are split by --seed into a hold-out (--holdout, only
// ever used for the report), a validation part of the rest (--val-fraction, chooses the epoch)
// and the training part. Reports the hold-out RMSE and Kendall tau beside three baselines on the
// same hold-out: MACs, energy and parameters alone as a ranking of accuracy.
//
// Writes --out (the predictor, with its report inside) and --json (the report; default
// <out>.json).
#include <torch/utils.h>

#include <cmath>
#include <iostream>
#include <string>

#include "cli/cli_common.h"
#include "cli/output_guards.h"
#include "core/error.h"
#include "core/json_util.h"
#include "core/rng.h"
#include "core/string_format.h"
#include "predictors/accuracy_dataset.h"
#include "predictors/accuracy_predictor.h"

namespace {

namespace po = nas::cli::po;

constexpr const char* kProgram = "nas_train_predictor";

struct Flags {
  std::string data, out;
  double holdout = 0.2, val_fraction = 0.1;
  nas::PredictorTrainOptions train;
};

std::string tau_text(double tau) { return std::isnan(tau) ? std::string("n/a") : nas::format_double(tau, 3); }

int run(int argc, char** argv) {
  nas::cli::CommonFlags common;
  Flags f;
  po::options_description desc("Options");
  desc.add_options()
      ("data", po::value(&f.data)->required(), "accuracy data set (JSON lines of nas_build_acc_dataset)")
      ("out", po::value(&f.out)->required(), "the predictor file to write (e.g. predictor.pt)")
      ("holdout", po::value(&f.holdout)->default_value(f.holdout), "fraction of the records held out for the report")
      ("val-fraction", po::value(&f.val_fraction)->default_value(f.val_fraction),
       "fraction of the remaining records that chooses the epoch (0: train all epochs, keep the last)")
      ("epochs", po::value(&f.train.epochs)->default_value(f.train.epochs), "training epochs")
      ("hidden", po::value(&f.train.hidden_size)->default_value(f.train.hidden_size), "hidden layer width")
      ("layers", po::value(&f.train.hidden_layers)->default_value(f.train.hidden_layers), "hidden layers")
      ("lr", po::value(&f.train.lr)->default_value(f.train.lr), "Adam learning rate")
      ("batch-size", po::value(&f.train.batch_size)->default_value(f.train.batch_size), "batch size")
      ("weight-decay", po::value(&f.train.weight_decay)->default_value(f.train.weight_decay), "Adam weight decay");
  nas::cli::add_common_flags(desc, common, nas::cli::kSeed | nas::cli::kThreads | nas::cli::kJson);
  po::variables_map vm;
  if (!nas::cli::parse_flags(argc, argv, kProgram, "train the accuracy predictor on a data set of subnet accuracies",
                             desc, vm))
    return 0;
  NAS_CHECK(std::isfinite(f.holdout) && f.holdout > 0 && f.holdout < 1, "--holdout must be in (0, 1), got " << f.holdout);
  NAS_CHECK(std::isfinite(f.val_fraction) && f.val_fraction >= 0 && f.val_fraction < 1,
            "--val-fraction must be in [0, 1), got " << f.val_fraction);
  f.train.seed = common.seed;
  f.train.validate();
  const nas::cli::OutputGuard guard = nas::cli::guard_outputs(
      kProgram, {{"--out", f.out}, {"--json", common.json_path.empty() ? f.out + ".json" : common.json_path}},
      {{"--data", f.data}});
  const int threads = nas::cli::resolve_threads(common);
  torch::set_num_threads(threads);
  nas::cli::warn_if_oversubscribed(kProgram, threads);

  const nas::AccuracyDataset dataset = nas::read_accuracy_dataset(f.data);
  const auto n = static_cast<int64_t>(dataset.records.size());
  const auto n_holdout = static_cast<int64_t>(std::llround(f.holdout * static_cast<double>(n)));
  const auto n_val = static_cast<int64_t>(std::llround(f.val_fraction * static_cast<double>(n - n_holdout)));
  NAS_CHECK(n_holdout >= 2 && n - n_holdout - n_val >= 2,
            f.data << ": " << n << " records are too few for a hold-out of " << f.holdout << " and a validation part of "
                   << f.val_fraction);
  std::vector<nas::AccuracyRecord> holdout, val, train;
  const std::vector<int64_t> order = nas::seeded_permutation(n, common.seed);
  for (int64_t i = 0; i < n; ++i) {
    const nas::AccuracyRecord& r = dataset.records[static_cast<size_t>(order[static_cast<size_t>(i)])];
    (i < n_holdout ? holdout : i < n_holdout + n_val ? val : train).push_back(r);
  }
  std::cerr << kProgram << ": " << n << " records: " << train.size() << " train, " << val.size() << " validation, "
            << holdout.size() << " hold-out; encoding of " << dataset.header.space.encoding_size() << "\n";

  nas::AccuracyPredictor predictor = nas::AccuracyPredictor::train(
      dataset.header.space, train, val, f.train, [&](int epoch, double mse, double val_rmse) {
        if (epoch % 20 == 0 || epoch == f.train.epochs)
          std::cerr << kProgram << ": epoch " << epoch << "/" << f.train.epochs << " train rmse "
                    << nas::format_double(100.0 * std::sqrt(mse), 3) << " pt, val rmse "
                    << (std::isnan(val_rmse) ? std::string("n/a") : nas::format_double(val_rmse, 3)) << " pt\n";
      });
  const nas::PredictorEvaluation eval = nas::evaluate_predictor(predictor, holdout);
  const nas::PredictorEvaluation train_eval = nas::evaluate_predictor(predictor, train);

  nas::json report;
  report["context"] = nas::make_context(nas::cli::make_run_context(kProgram, argc, argv, common, "cpu"));
  report["data"] = {{"file", f.data}, {"records", n}, {"source", dataset.header.source}};
  report["space_fingerprint"] = dataset.header.space.fingerprint();
  report["split"] = {{"holdout", holdout.size()}, {"val", val.size()}, {"train", train.size()},
                     {"holdout_fraction", f.holdout}, {"val_fraction", f.val_fraction}, {"seed", common.seed}};
  report["train_options"] = f.train.to_json();
  report["best_epoch"] = predictor.meta().value("best_epoch", nas::json());
  report["holdout"] = eval.to_json();
  report["train"] = train_eval.to_json();
  predictor.meta()["holdout"] = report["holdout"];
  predictor.meta()["data"] = report["data"];
  predictor.meta()["split"] = report["split"];
  predictor.save(f.out);
  const std::string json_path = common.json_path.empty() ? f.out + ".json" : common.json_path;
  nas::write_json_file(json_path, report);

  std::cout << kProgram << ": hold-out of " << eval.count << ": RMSE " << nas::format_double(eval.rmse_top1, 3)
            << " pt, Kendall tau " << tau_text(eval.kendall_tau) << " (baselines: MACs " << tau_text(eval.macs_kendall_tau)
            << ", energy " << tau_text(eval.energy_kendall_tau) << ", params " << tau_text(eval.params_kendall_tau)
            << "); train RMSE " << nas::format_double(train_eval.rmse_top1, 3) << " pt\n"
            << kProgram << ": wrote " << f.out << " and " << json_path << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nas::cli::guarded_main(kProgram, [&] { return run(argc, argv); });
}
