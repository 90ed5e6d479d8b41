// nas_fuzz TARGET|all [--seconds S] [--iterations N] [--seed S] [--timeout S] [--corpus DIR]
//          [--findings DIR] [--regressions DIR] [--progress] [--list]
// Runs the seeded mutation fuzzer on one reader (or all); prints one JSON report per target on
// stdout and exits 1 when anything was found (inputs saved under --findings). ctest runs every
// target for a few seconds after replaying tests/data/fuzz/<target>/; by hand:
//   build/tests/fuzz/nas_fuzz arch_json --seconds 3600 --corpus fuzz-corpus/arch_json --progress
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "fuzz_engine.h"
#include "fuzz_targets_internal.h"

namespace {

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "nas_fuzz: error: %s (see the top of tests/fuzz/nas_fuzz.cc)\n", message.c_str());
  std::exit(2);
}

double parse_number(const std::string& flag, const char* text) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (!text[0] || *end || !(v >= 0) || v > 1e12) usage_error(flag + " must be a number >= 0, got '" + text + "'");
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace nas::fuzz;
  FuzzOptions options;
  std::string target_name;
  std::string regression_root;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--seconds") options.max_seconds = parse_number(a, value());
    else if (a == "--iterations") options.max_iterations = static_cast<int64_t>(parse_number(a, value()));
    else if (a == "--seed") options.seed = static_cast<uint64_t>(parse_number(a, value()));
    else if (a == "--timeout") options.timeout_seconds = parse_number(a, value());
    else if (a == "--corpus") options.corpus_dir = value();
    else if (a == "--findings") options.findings_dir = value();
    else if (a == "--regressions") regression_root = value();
    else if (a == "--progress") options.progress = true;
    else if (a == "--list") {
      for (const FuzzTarget& t : all_targets()) std::printf("%-18s %s\n", t.name.c_str(), t.description.c_str());
      return 0;
    } else if (!a.empty() && a[0] == '-') usage_error("unknown option " + a);
    else if (target_name.empty()) target_name = a;
    else usage_error("one target only (or 'all'), got '" + target_name + "' and '" + a + "'");
  }
  if (target_name.empty()) usage_error("name a target (--list shows them) or 'all'");
  if (options.max_seconds == 0 && options.max_iterations == 0) usage_error("--seconds 0 needs --iterations N");

  bool found_any = false, matched = false;
  for (const FuzzTarget& target : all_targets()) {
    if (target_name != "all" && target.name != target_name) continue;
    matched = true;
    FuzzOptions o = options;
    if (!regression_root.empty()) o.regression_dirs = {regression_root + "/" + target.name};
    if (!o.corpus_dir.empty() && target_name == "all") o.corpus_dir += "/" + target.name;
    const FuzzReport report = run_fuzzer(target, o);
    std::cout << report_json(report) << std::endl;
    // A valid seed that the reader refuses means the fuzzer only ever tests the outermost check.
    if (report.accepted == 0) {
      std::fprintf(stderr, "nas_fuzz: %s: no input was accepted, not even the seeds\n", target.name.c_str());
      found_any = true;
    }
    if (!report.findings.empty()) found_any = true;
  }
  remove_scratch_files();
  if (!matched) usage_error("unknown target '" + target_name + "' (--list shows them)");
  return found_any ? 1 : 0;
}
