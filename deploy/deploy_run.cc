#include "deploy/deploy_run.h"

#include <chrono>
#include <filesystem>
#include <sstream>
#include <optional>

#include "core/error.h"
#include "core/run_lock.h"
#include "datasets/dataset_info.h"
#include "datasets/load_dataset.h"
#include "deploy/c_codegen.h"
#include "deploy/float_model.h"
#include "deploy/int_engine.h"
#include "deploy/torch_bridge.h"
#include "core/atomic_file.h"
#include "predictors/energy_model.h"
#include "search_space/arch_layers.h"

namespace nas::deploy {

void DeployOptions::validate() const {
  NAS_CHECK(!model_path.empty(), "deploy.model_path is required");
  NAS_CHECK(!out_dir.empty(), "deploy.out_dir is required");
  NAS_CHECK(calib_images >= 1 && calib_images <= 1000000, "deploy.calib_images must be in [1, 1000000], got " << calib_images);
  NAS_CHECK(limit_test >= 0, "deploy.limit_test must be >= 0, got " << limit_test);
  quantizer.validate();
}

std::vector<OpCounts> count_ops(const IntModel& model, OpCounts* resize_counts) {
  IntEngine engine(model);
  std::vector<uint8_t> image(static_cast<size_t>(model.source_bytes()), 0);
  std::vector<OpCounts> counts;
  engine.run(image.data(), &counts, resize_counts);
  return counts;
}

InterleavedImages interleaved_images(const datasets::Dataset& data, int64_t h, int64_t w, int64_t c, const std::string& what) {
  NAS_CHECK(data.channels() == c && data.height() == h && data.width() == w,
            what << " images are " << data.channels() << "x" << data.height() << "x" << data.width()
                 << ", the model takes " << c << "x" << h << "x" << w);
  InterleavedImages out;
  for (int64_t i = 0; i < data.size(); ++i) {
    out.images.push_back(interleave_planar(data.image(i), c, h, w));
    out.labels.push_back(data.label(i));
  }
  return out;
}

double int_top1(const IntModel& model, const InterleavedImages& data, std::vector<int64_t>* predictions) {
  IntEngine engine(model);
  int64_t correct = 0;
  for (size_t i = 0; i < data.images.size(); ++i) {
    const int64_t p = argmax(engine.run(data.images[i].data()));
    if (predictions) predictions->push_back(p);
    correct += p == data.labels[i];
  }
  return data.images.empty() ? 0.0 : 100.0 * static_cast<double>(correct) / static_cast<double>(data.images.size());
}

namespace {

json layer_table(const IntModel& m, const std::vector<OpCounts>& counts, OpCounts& total, int64_t& mf_multiplies) {
  json layers = json::array();
  for (size_t k = 0; k < m.steps.size(); ++k) {
    const IntStep& s = m.steps[k];
    total += counts[k];
    if (s.is_mf()) mf_multiplies += counts[k].mul;
    json l = {{"name", s.name}, {"kind", step_kind_name(s.kind)}, {"ops", counts[k].to_json()},
              {"weight_bytes", m.weight_bytes(s)},
              {"output_bytes", m.tensors[k + 1].elements() * (k + 1 == m.steps.size() ? 4 : m.act_bytes())},
              {"output_frac_bits", m.tensors[k + 1].frac_bits}, {"acc_bound", s.acc_bound}, {"acc_bits", s.acc_bits}};
    if (s.kind == StepKind::Conv) l["op"] = op_kind_name(s.op);
    layers.push_back(l);
  }
  return layers;
}

}  // namespace

DeployResult run_deploy(const DeployOptions& o, const json& context) {
  o.validate();
  const FloatModel float_model = load_float_model(o.model_path);
  const std::string dataset = o.dataset.empty() ? float_model.dataset : datasets::canonical_dataset_name(o.dataset);
  NAS_CHECK(dataset == float_model.dataset, "the model was trained on " << float_model.dataset << ", not " << dataset);
  NAS_CHECK(!o.out_dir.empty(), "--out DIR is required");
  {
    std::error_code ec;
    const std::filesystem::path model_abs = std::filesystem::weakly_canonical(o.model_path, ec);
    const std::filesystem::path out_abs = std::filesystem::weakly_canonical(o.out_dir, ec);
    NAS_CHECK(model_abs.parent_path() != out_abs || model_abs.filename() != "model.nasq",
              "--out " << o.out_dir << " would overwrite the input model");
  }
  std::optional<RunLock> claim = RunLock::try_claim(o.out_dir);
  NAS_CHECK(claim, "--out " << o.out_dir << " is being written by another process");
  // The data set's images as they are stored: a network at another resolution resizes them inside.
  const int64_t H = float_model.source_resolution, C = float_model.resolved.in_channels;
  const datasets::Dataset train = datasets::load_dataset(dataset, o.data_dir, datasets::Split::Train, o.calib_images);
  const InterleavedImages calib = interleaved_images(train, H, H, C, "calibration (" + dataset + " training split)");
  IntModel model = quantize(float_model, calib.images, o.quantizer);
  // Relative to the output folder (where model.nasq lies), so that no machine path is recorded.
  model.source["float_model"] = std::filesystem::absolute(o.model_path)
                                    .lexically_normal()
                                    .lexically_relative(std::filesystem::absolute(o.out_dir).lexically_normal())
                                    .generic_string();

  const datasets::Dataset test = datasets::load_dataset(dataset, o.data_dir, datasets::Split::Test, o.limit_test);
  const InterleavedImages test_images = interleaved_images(test, H, H, C, "test");
  std::vector<int64_t> int_pred;
  const double int_top = int_top1(model, test_images, &int_pred);
  const std::vector<int64_t> float_pred = libtorch_predictions(o.model_path, test);
  int64_t float_correct = 0, agree = 0;
  for (size_t i = 0; i < float_pred.size(); ++i) {
    float_correct += float_pred[i] == test_images.labels[i];
    agree += float_pred[i] == int_pred[i];
  }
  const double n = static_cast<double>(std::max<size_t>(float_pred.size(), 1));
  const double float_top = 100.0 * static_cast<double>(float_correct) / n;

  EnergyModelOptions energy_options;
  energy_options.bits = 8;
  const EnergyModel energy(EnergyTable::builtin(), energy_options);
  const double energy_8bit_mj = energy.report(to_layer_specs(float_model.arch)).energy_per_image_mj();

  OpCounts resize_ops;
  const std::vector<OpCounts> counts = count_ops(model, &resize_ops);
  OpCounts total = resize_ops;
  int64_t mf_multiplies = 0;
  const int64_t resize_buffer_bytes = model.resize_buffer_bytes(), resize_table_bytes = model.resize_table_bytes();
  json report;
  report["context"] = context;
  report["model"] = o.model_path;
  report["arch_key"] = float_model.arch.key();
  report["dataset"] = dataset;
  report["bits"] = model.bits;
  report["quantizer"] = o.quantizer.to_json();
  report["calibration"] = {{"split", "train"}, {"images", calib.images.size()}};
  // Preprocessing: the input resize (its multiplies are no MF layer's), in the totals.
  report["preprocessing"] = {{"name", "input.resize"},
                             {"source_image", {model.source_h, model.source_w, model.image_c}},
                             {"network_input", {model.image_h, model.image_w, model.image_c}},
                             {"resize", model.resizes() ? "bilinear, align_corners false" : "none"},
                             {"resize_frac_bits", model.resize_frac_bits},
                             {"ops", resize_ops.to_json()},
                             {"table_bytes", resize_table_bytes},
                             {"buffer_bytes", resize_buffer_bytes}};
  report["layers"] = layer_table(model, counts, total, mf_multiplies);
  report["total"] = {{"ops", total.to_json()}, {"mf_layer_multiplies", mf_multiplies},
                     {"preprocessing_multiplies", resize_ops.mul},
                     {"flash_weight_bytes", model.weight_bytes()},
                     {"flash_preprocessing_bytes", resize_table_bytes},
                     {"ram_arena_bytes", model.arena_bytes},
                     {"ram_peak_activation_bytes", model.arena_bytes + resize_buffer_bytes}};
  report["energy_8bit_mj"] = energy_8bit_mj;
  report["energy_model"] = "eyeriss, 8 bit, batch 1 (predictors/)";
  report["test_images"] = test_images.images.size();
  report["float_top1"] = float_top;
  report[model.bits == 8 ? "int8_top1" : "int16_top1"] = int_top;
  report["int_top1"] = int_top;
  report["top1_difference"] = int_top - float_top;
  report["int_float_agreement"] = 100.0 * static_cast<double>(agree) / n;
  report["logit_frac_bits"] = model.logit_frac_bits;
  report["files"] = {"model.nasq", "model.c", "model.h", "deploy.json"};

  const GeneratedC c = generate_c(model, "model.h");
  const std::filesystem::path dir(o.out_dir);
  save_int_model(model, (dir / "model.nasq").string());
  write_file_atomic((dir / "model.h").string(), c.header);
  write_file_atomic((dir / "model.c").string(), c.source);
  write_json_file((dir / "deploy.json").string(), report);
  DeployResult r;
  r.report = report;
  char line[512];
  std::snprintf(line, sizeof line,
                "flash %lld bytes, RAM %lld bytes, %lld multiplies per image (%lld in MF layers, %lld in the input resize), int%d top-1 %.2f%% (float %.2f%%, %+.2f)",
                static_cast<long long>(model.weight_bytes() + resize_table_bytes),
                static_cast<long long>(model.arena_bytes + resize_buffer_bytes), static_cast<long long>(total.mul),
                static_cast<long long>(mf_multiplies), static_cast<long long>(resize_ops.mul), model.bits, int_top, float_top,
                int_top - float_top);
  r.summary = line;
  return r;
}

IntEvalResult run_int_eval(const IntEvalOptions& o) {
  const IntModel model = load_int_model(o.model_path);
  IntEvalResult r;
  r.model_source = model.source;
  const std::string recorded = model.source.value("dataset", "");
  r.dataset = o.dataset.empty() ? recorded : datasets::canonical_dataset_name(o.dataset);
  NAS_CHECK(r.dataset == recorded, "the model was trained on " << recorded << ", not " << r.dataset);
  const datasets::Dataset test = datasets::load_dataset(r.dataset, o.data_dir, datasets::Split::Test, o.limit_test,
                                                           o.first_images ? datasets::SubsetMode::First : datasets::SubsetMode::Balanced);
  const InterleavedImages images = interleaved_images(test, model.source_h, model.source_w, model.image_c, "test");
  IntEngine engine(model);
  std::ostringstream logits_text;
  std::vector<int64_t> pred;
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < images.images.size(); ++i) {
    const std::vector<int32_t> logits = engine.run(images.images[i].data());
    pred.push_back(argmax(logits));
    r.correct += pred.back() == images.labels[i];
    if (!o.logits_path.empty())
      for (size_t k = 0; k < logits.size(); ++k) logits_text << (k ? " " : "") << logits[k] << (k + 1 == logits.size() ? "\n" : "");
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.total = static_cast<int64_t>(images.images.size());
  r.top1 = r.total ? 100.0 * static_cast<double>(r.correct) / static_cast<double>(r.total) : 0.0;
  std::string float_path = o.float_model;
  std::error_code ec;
  if (float_path.empty() && model.source.contains("float_model") && model.source["float_model"].is_string()) {
    // Recorded relative to the .nasq's folder (older files: absolute).
    const std::filesystem::path recorded_model = model.source["float_model"].get<std::string>();
    const std::filesystem::path resolved =
        recorded_model.is_absolute() ? recorded_model : std::filesystem::path(o.model_path).parent_path() / recorded_model;
    if (!recorded_model.empty() && std::filesystem::is_regular_file(resolved, ec)) float_path = resolved.string();
  }
  if (!float_path.empty()) {
    const std::vector<int64_t> float_pred = libtorch_predictions(float_path, test);
    int64_t agree = 0, float_correct = 0;
    for (size_t i = 0; i < pred.size(); ++i) {
      agree += float_pred[i] == pred[i];
      float_correct += float_pred[i] == images.labels[i];
    }
    r.has_float = true;
    r.agreement = r.total ? 100.0 * static_cast<double>(agree) / static_cast<double>(r.total) : 0.0;
    r.float_top1 = r.total ? 100.0 * static_cast<double>(float_correct) / static_cast<double>(r.total) : 0.0;
  }
  if (!o.logits_path.empty()) write_file_atomic(o.logits_path, logits_text.str());
  return r;
}

}  // namespace nas::deploy
