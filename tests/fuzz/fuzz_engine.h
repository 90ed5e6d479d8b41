#pragma once
// A seeded mutation fuzzer for the readers of untrusted bytes (issue 13). No coverage
// instrumentation is needed: the feedback is the *outcome* of an input — accepted, or rejected by
// the nas::Error thrown at a given file:line — so an input that reaches a new check (a deeper
// field, a later validation) joins the corpus and is mutated further. libFuzzer would do better
// with clang's coverage; the targets keep libFuzzer's shape (bytes in, nothing out) so they can be
// linked into it unchanged.
//
// A finding is anything a reader must never do with untrusted bytes: crash (a signal, or an
// AddressSanitizer / UBSan report in the sanitizer build), hang past the timeout, let an exception
// other than nas::Error escape (a raw nlohmann / c10 / std error), or produce an error message that
// is not one bounded line (kMaxMessageChars, no newline). Every finding's input is written to the
// findings directory; crashing inputs are written from the signal handler before the process dies.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace nas::fuzz {

// Longest nas::Error message a reader may produce: a message quotes at most an excerpt of the
// input (kJsonExcerptChars) plus file names and field paths.
constexpr size_t kMaxMessageChars = 2000;

struct FuzzTarget {
  std::string name;
  std::string description;
  // Valid inputs the mutations start from (at least one).
  std::function<std::vector<std::string>()> seeds;
  // Reads the bytes as the program would; throws nas::Error for a rejected input. May check its
  // own oracles (round trips, finite results) by throwing FuzzOracleFailure.
  std::function<void(const std::string& bytes)> run;
  // Optional: recomputes the format's checksum after a mutation, so that the mutated bytes reach
  // the parser behind the checksum (half the inputs of a checksummed format are resealed).
  std::function<void(std::string& bytes)> reseal;
  bool text = false;  // JSON text: adds token-level mutations
  size_t max_input_bytes = size_t{1} << 20;
};

// Thrown by a target's own checks (a round trip that differs, an energy that is not finite).
struct FuzzOracleFailure {
  std::string what;
};

// Every target, in a stable order. Defined in fuzz_targets*.cc.
const std::vector<FuzzTarget>& all_targets();

struct FuzzOptions {
  uint64_t seed = 1;
  int64_t max_iterations = 0;   // 0: unbounded (then max_seconds bounds the run)
  double max_seconds = 10;      // 0: unbounded (then max_iterations bounds the run)
  double timeout_seconds = 20;  // per input
  int max_stacked_mutations = 4;
  std::string findings_dir = "fuzz-findings";
  std::string corpus_dir;       // optional: read at start, new corpus entries written there
  std::vector<std::string> regression_dirs;  // replayed first (every file must not be a finding)
  bool progress = false;        // a progress line on stderr every few seconds
};

struct FuzzFinding {
  std::string kind;     // "escaped-exception", "bad-message", "oracle", ...
  std::string detail;   // one line
  std::string input_file;
};

struct FuzzReport {
  std::string target;
  int64_t inputs = 0;            // executions, regressions included
  int64_t regression_inputs = 0;
  int64_t accepted = 0;
  int64_t rejected = 0;
  double seconds = 0;
  size_t corpus_size = 0;
  std::map<std::string, int64_t> outcomes;  // "accepted" / "rejected at file:line" -> count
  std::vector<FuzzFinding> findings;
  size_t largest_input_bytes = 0;
  double slowest_input_seconds = 0;
};

// Runs one target. Crashes and timeouts end the process (after the input is saved); the other
// findings are collected (the first of each kind and site) and the run goes on.
FuzzReport run_fuzzer(const FuzzTarget& target, const FuzzOptions& options);

// The report as one JSON object (text).
std::string report_json(const FuzzReport& report);

// Deterministic mutation of `data` (exposed for tests of the engine itself).
class Mutator {
 public:
  explicit Mutator(uint64_t seed) : state_(seed ? seed : 0x9e3779b97f4a7c15ULL) {}
  uint64_t next();
  uint64_t below(uint64_t n) { return n ? next() % n : 0; }
  // Applies 1..max_stacked random mutations; `other` is a corpus entry for splicing.
  void mutate(std::string& data, const std::string& other, bool text, int max_stacked, size_t max_bytes);

 private:
  void mutate_once(std::string& data, const std::string& other, bool text, size_t max_bytes);
  uint64_t state_;
};

}  // namespace nas::fuzz
