// bench_json: time of parse_json_text (core/json_util.h, every JSON reader of ours) on an array of
// n small objects shaped like pareto.json's points, for several n: linear time shows as a flat
// ns_per_object (issue 32: the callback parser it replaced took 3 s at 100k objects, 48 s at 400k).
// nlohmann's plain json::parse (no checks) on the same text is measured in the same run as the
// reference; --callback-sizes also times the callback parse the old reader used (quadratic: keep
// those sizes small). Median of --repeats runs each.
// Prints JSON {context, object_bytes, sizes: [{objects, bytes, seconds, seconds_runs, ns_per_object,
// mb_per_s, nlohmann_plain_seconds, ratio_to_plain}], linearity, callback_sizes, targets}.
//
//   build/bench/bench_json --json results/bench/json.json
#include <chrono>
#include <string>
#include <vector>

#include "apps/cli_common.h"
#include "core/error.h"
#include "core/json_util.h"
#include "core/output_guard.h"
#include "core/progress.h"
#include "core/string_format.h"

namespace {

constexpr const char* kProgram = "bench_json";

// {"points": [{"key": "P0", "energy_mj": ..., "predicted_top1": ..., "arch": {...}}, ...]}
std::string points_text(int64_t objects) {
  std::string text = "{\"points\": [";
  for (int64_t i = 0; i < objects; ++i) {
    if (i) text += ",\n";
    text += nas::string_printf(
        "{\"key\": \"P%lld\", \"energy_mj\": %.6f, \"predicted_top1\": %.4f, \"arch\": {\"width\": %lld, \"kernels\": [3, 5, 7]}}",
        static_cast<long long>(i), 0.001 * static_cast<double>(i % 9973), 50.0 + static_cast<double>(i % 37),
        static_cast<long long>(i % 4));
  }
  return text + "]}";
}

// Median seconds of `repeats` calls of `parse`, each checked to have read every object.
template <typename Parse>
std::vector<double> time_parse(const std::string& text, int64_t objects, int repeats, Parse parse) {
  std::vector<double> seconds;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const nas::json doc = parse(text);
    seconds.push_back(nas::seconds_since(t0));
    NAS_CHECK(doc["points"].size() == static_cast<size_t>(objects), "the parse lost objects");
  }
  return seconds;
}

std::vector<int64_t> parse_sizes(const std::string& flag, const std::string& text) {
  std::vector<int64_t> sizes;
  for (const std::string& item : nas::require_list(flag, text)) {
    size_t used = 0;
    long long n = -1;
    try {
      n = std::stoll(item, &used);
    } catch (const std::exception&) {
    }
    NAS_CHECK(used == item.size() && n >= 1 && n <= 20000000,
              flag << " must list object counts in [1, 20000000], got " << nas::quoted_excerpt(item));
    sizes.push_back(n);
  }
  return sizes;
}

nas::json measure(int64_t objects, int repeats, bool plain) {
  const std::string text = points_text(objects);
  const std::vector<double> runs =
      time_parse(text, objects, repeats, [](const std::string& t) { return nas::parse_json_text(t, "bench"); });
  const double s = nas::cli::median(runs);
  nas::json row = {{"objects", objects},
                   {"bytes", text.size()},
                   {"seconds", s},
                   {"seconds_runs", runs},
                   {"ns_per_object", 1e9 * s / static_cast<double>(objects)},
                   {"mb_per_s", static_cast<double>(text.size()) / 1e6 / s}};
  if (plain) {
    const double p = nas::cli::median(
        time_parse(text, objects, repeats, [](const std::string& t) { return nas::json::parse(t); }));
    row["nlohmann_plain_seconds"] = p;
    row["ratio_to_plain"] = s / p;
  }
  return row;
}

int run(int argc, char** argv) {
  namespace po = nas::cli::po;
  nas::cli::CommonFlags common;
  int repeats = 3;
  std::string sizes_text = "100000,200000,400000,1000000", callback_sizes_text;
  po::options_description desc("Options");
  desc.add_options()
      ("sizes", po::value(&sizes_text)->default_value(sizes_text), "object counts, comma-separated")
      ("repeats", po::value(&repeats)->default_value(repeats), "runs per size (median)")
      ("callback-sizes", po::value(&callback_sizes_text), "also time nlohmann's callback parse (quadratic) at these counts");
  nas::cli::add_common_flags(desc, common, nas::cli::kJson);
  po::variables_map vm;
  if (!nas::cli::parse_flags(argc, argv, kProgram, "JSON reading time against the number of objects", desc, vm))
    return 0;
  NAS_CHECK(repeats >= 1 && repeats <= 100, "--repeats must be in [1, 100], got " << repeats);
  const std::vector<int64_t> sizes = parse_sizes("--sizes", sizes_text);

  nas::json out;
  out["context"] = nas::make_context(nas::cli::make_run_context(kProgram, argc, argv, common));
  out["object_bytes"] = points_text(2).size() / 2;
  out["repeats"] = repeats;
  nas::json rows = nas::json::array();
  for (const int64_t n : sizes) rows.push_back(measure(n, repeats, true));
  out["sizes"] = rows;
  // ns per object at the largest size over that at the smallest: 1 is linear, n_max / n_min quadratic.
  out["linearity"] = {{"ns_per_object_ratio", rows.back()["ns_per_object"].get<double>() /
                                                  rows.front()["ns_per_object"].get<double>()},
                      {"objects_ratio", static_cast<double>(sizes.back()) / static_cast<double>(sizes.front())}};
  nas::json callback_rows = nas::json::array();
  if (vm.count("callback-sizes")) {
    for (const int64_t n : parse_sizes("--callback-sizes", callback_sizes_text)) {
      const std::string text = points_text(n);
      const auto keep_all = [](int, nas::json::parse_event_t, nas::json&) { return true; };
      const double s = nas::cli::median(time_parse(
          text, n, repeats, [&](const std::string& t) { return nas::json::parse(t, keep_all); }));
      callback_rows.push_back({{"objects", n}, {"seconds", s}, {"ns_per_object", 1e9 * s / static_cast<double>(n)}});
    }
  }
  out["callback_sizes"] = callback_rows;
  out["targets"] = {{"seconds_max_1m_objects", 5}};
  nas::cli::emit_json(out, common);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return nas::cli::guarded_main(kProgram, [&] { return run(argc, argv); });
}
