#include "fuzz_engine.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <typeinfo>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/fnv1a.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

namespace nas::fuzz {
namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Mutations.

uint64_t Mutator::next() {  // splitmix64
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

namespace {

const char* const kInterestingNumbers[] = {
    "0", "-0", "1", "-1", "2", "3", "7", "8", "64", "65", "255", "256", "-2147483648", "2147483647",
    "2147483648", "4294967296", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
    "18446744073709551616", "1e308", "-1e308", "1e309", "1e-320", "0.5", "3.5", "1e999", "16777216",
    "65536", "65537", "16384", "16385", "1.0000000001"};
const char* const kInterestingTokens[] = {
    "null", "true", "false", "\"\"", "[]", "{}", "\"mult\"", "\"shift\"", "\"add\"", "\"conv\"",
    "\"fc\"", "\"avgpool\"", "[[[[[[[[[[[[[[[[[[[[", "{\"a\":", "\"\\u0000\"", "\"\\ud800\"", ",", ":"};
const uint8_t kInterestingBytes[] = {0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, '0', '9', '-', '"', '[',
                                     ']', '{', '}', ',', ':', '\\', '\n', 'e', '.'};

bool is_number_char(char c) {
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

}  // namespace

void Mutator::mutate(std::string& data, const std::string& other, bool text, int max_stacked,
                     size_t max_bytes) {
  const int count = 1 + static_cast<int>(below(static_cast<uint64_t>(std::max(1, max_stacked))));
  for (int i = 0; i < count; ++i) mutate_once(data, other, text, max_bytes);
  if (data.size() > max_bytes) data.resize(max_bytes);
}

void Mutator::mutate_once(std::string& data, const std::string& other, bool text, size_t max_bytes) {
  const int kinds = text ? 12 : 9;
  const uint64_t kind = below(kinds);
  const size_t n = data.size();
  auto pos = [&](size_t size) { return static_cast<size_t>(below(size + 1)); };
  switch (kind) {
    case 0:  // flip a bit
      if (n) data[below(n)] ^= static_cast<char>(1u << below(8));
      break;
    case 1:  // an interesting byte
      if (n) data[below(n)] = static_cast<char>(kInterestingBytes[below(sizeof kInterestingBytes)]);
      break;
    case 2:  // a random byte
      if (n) data[below(n)] = static_cast<char>(below(256));
      break;
    case 3: {  // delete a range
      if (!n) break;
      const size_t at = below(n);
      const size_t len = 1 + below(below(4) == 0 ? n - at : std::min<size_t>(16, n - at));
      data.erase(at, len);
      break;
    }
    case 4: {  // insert random bytes
      std::string bytes(1 + below(16), '\0');
      for (char& c : bytes) c = static_cast<char>(below(256));
      data.insert(pos(n), bytes);
      break;
    }
    case 5: {  // copy a range elsewhere (or repeat it many times: size limits)
      if (!n) break;
      const size_t at = below(n);
      const std::string chunk = data.substr(at, 1 + below(std::min<size_t>(64, n - at)));
      const size_t repeat = below(8) == 0 ? 1 + below(std::max<size_t>(1, max_bytes / (4 * chunk.size()))) : 1;
      std::string block;
      for (size_t r = 0; r < repeat && block.size() < max_bytes; ++r) block += chunk;
      data.insert(pos(n), block);
      break;
    }
    case 6: {  // overwrite 1/2/4/8 bytes with an interesting integer (little or big endian)
      if (n < 8) break;
      static const uint64_t values[] = {0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff,
                                        0x80000000, 0xffffffff, 0x7fffffffffffffffULL,
                                        0x8000000000000000ULL, ~0ULL, 3072, 3073, 28, 32};
      const uint64_t v = values[below(sizeof values / sizeof values[0])];
      const size_t width = size_t{1} << below(4);
      const size_t at = below(n - width + 1);
      const bool big = below(2);
      for (size_t b = 0; b < width; ++b)
        data[at + b] = static_cast<char>((v >> (8 * (big ? width - 1 - b : b))) & 0xff);
      break;
    }
    case 7: {  // splice with another corpus entry
      if (other.empty()) break;
      const size_t cut = pos(n), other_cut = below(other.size());
      data = data.substr(0, cut) + other.substr(other_cut);
      break;
    }
    case 8:  // truncate
      if (n) data.resize(below(n));
      break;
    case 9: {  // JSON: replace a number with an interesting one
      if (!n) break;
      size_t at = below(n);
      while (at < n && !(data[at] >= '0' && data[at] <= '9')) ++at;
      if (at >= n) break;
      size_t begin = at, end = at;
      while (begin > 0 && is_number_char(data[begin - 1])) --begin;
      while (end < n && is_number_char(data[end])) ++end;
      data.replace(begin, end - begin, kInterestingNumbers[below(sizeof kInterestingNumbers / sizeof(char*))]);
      break;
    }
    case 10: {  // JSON: replace a string value with a token, or make it long
      if (!n) break;
      size_t at = data.find('"', below(n));
      if (at == std::string::npos) break;
      const size_t end = data.find('"', at + 1);
      if (end == std::string::npos) break;
      if (below(4) == 0) {
        data.insert(at + 1, std::string(1 + below(std::min<size_t>(max_bytes / 2, 200000)), 'a'));
      } else {
        data.replace(at, end - at + 1, kInterestingTokens[below(sizeof kInterestingTokens / sizeof(char*))]);
      }
      break;
    }
    case 11: {  // JSON: deep nesting or a token anywhere
      if (below(3) == 0) {
        const size_t depth = 1 + below(below(2) ? 100 : 100000);
        const size_t at = pos(n);
        data.insert(at, std::string(depth, below(2) ? '[' : '{'));
      } else {
        data.insert(pos(n), kInterestingTokens[below(sizeof kInterestingTokens / sizeof(char*))]);
      }
      break;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Crash capture: the input being run is saved by the signal handler (async-signal-safe calls only).

namespace {

const std::string* g_current_input = nullptr;
char g_crash_path[4096] = {0};
char g_crash_note[512] = {0};

void write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t w = ::write(fd, data, size);
    if (w <= 0) return;
    data += w;
    size -= static_cast<size_t>(w);
  }
}

void save_current_input() {
  if (!g_current_input || !g_crash_path[0]) return;
  const int fd = ::open(g_crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    write_all(fd, g_current_input->data(), g_current_input->size());
    ::close(fd);
  }
  write_all(2, g_crash_note, std::strlen(g_crash_note));
  write_all(2, g_crash_path, std::strlen(g_crash_path));
  write_all(2, "\n", 1);
}

void on_crash_signal(int sig) {
  save_current_input();
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void on_timeout(int) {
  write_all(2, "fuzz: timeout\n", 14);
  save_current_input();
  ::_exit(3);
}

void install_handlers(const std::string& crash_path, const std::string& target) {
  std::snprintf(g_crash_path, sizeof g_crash_path, "%s", crash_path.c_str());
  std::snprintf(g_crash_note, sizeof g_crash_note, "fuzz: %s: the process died on an input; saved to ",
                target.c_str());
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer reports SEGV / BUS itself (with the stack); its death callback saves the input.
  __sanitizer_set_death_callback(save_current_input);
  for (int sig : {SIGFPE, SIGILL, SIGABRT}) ::signal(sig, on_crash_signal);
#else
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) ::signal(sig, on_crash_signal);
#endif
  ::signal(SIGALRM, on_timeout);
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string hex_name(const std::string& bytes) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a64(bytes)));
  return hex;
}

struct Outcome {
  std::string key;  // corpus feature
  std::string finding_kind, finding_detail;
};

std::string one_line(std::string s, size_t max_chars = 300) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  if (s.size() > max_chars) s = s.substr(0, max_chars) + "...";
  return s;
}

Outcome run_one(const FuzzTarget& target, const std::string& input, double timeout_seconds) {
  Outcome o;
  g_current_input = &input;
  if (timeout_seconds > 0) ::alarm(static_cast<unsigned>(std::max(1.0, timeout_seconds)));
  try {
    target.run(input);
    o.key = "accepted";
  } catch (const nas::Error& e) {
    o.key = std::string("rejected at ") + e.file() + ":" + std::to_string(e.line());
    const std::string& m = e.message();
    if (m.find('\n') != std::string::npos || m.size() > kMaxMessageChars) {
      o.finding_kind = "bad-message";
      o.finding_detail = o.key + ": message of " + std::to_string(m.size()) + " chars" +
                         (m.find('\n') != std::string::npos ? " with a newline" : "") + ": " + one_line(m);
    }
  } catch (const FuzzOracleFailure& f) {
    o.key = "oracle";
    o.finding_kind = "oracle";
    o.finding_detail = one_line(f.what);
  } catch (const std::exception& e) {
    o.key = std::string("escaped ") + typeid(e).name();
    o.finding_kind = "escaped-exception";
    o.finding_detail = std::string(typeid(e).name()) + ": " + one_line(e.what());
  } catch (...) {
    o.key = "escaped unknown";
    o.finding_kind = "escaped-exception";
    o.finding_detail = "an exception of unknown type";
  }
  if (timeout_seconds > 0) ::alarm(0);
  g_current_input = nullptr;
  return o;
}

}  // namespace

FuzzReport run_fuzzer(const FuzzTarget& target, const FuzzOptions& options) {
  using clock = std::chrono::steady_clock;
  FuzzReport report;
  report.target = target.name;
  fs::create_directories(options.findings_dir);
  install_handlers((fs::path(options.findings_dir) / ("crash-" + target.name)).string(), target.name);

  std::vector<std::string> corpus = target.seeds();
  std::set<std::string> features;
  std::set<std::string> finding_sites;
  const auto start = clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(clock::now() - start).count(); };

  auto execute = [&](const std::string& input, bool from_regression) {
    const auto t0 = clock::now();
    const Outcome o = run_one(target, input, options.timeout_seconds);
    const double dt = std::chrono::duration<double>(clock::now() - t0).count();
    report.slowest_input_seconds = std::max(report.slowest_input_seconds, dt);
    report.largest_input_bytes = std::max(report.largest_input_bytes, input.size());
    ++report.inputs;
    ++report.outcomes[o.key];
    if (o.key == "accepted") ++report.accepted;
    else if (o.key.rfind("rejected", 0) == 0) ++report.rejected;
    if (!o.finding_kind.empty() && finding_sites.insert(o.finding_kind + " " + o.key).second) {
      const fs::path file = fs::path(options.findings_dir) / (o.finding_kind + "-" + target.name + "-" + hex_name(input));
      write_bytes(file, input);
      report.findings.push_back({o.finding_kind, o.finding_detail, file.string()});
      if (options.progress)
        std::fprintf(stderr, "fuzz %s: FINDING %s: %s (input %s)\n", target.name.c_str(), o.finding_kind.c_str(),
                     o.finding_detail.c_str(), file.string().c_str());
    }
    const bool is_new = features.insert(o.key).second;
    if (is_new && !from_regression && corpus.size() < 4096) {
      corpus.push_back(input);
      if (!options.corpus_dir.empty()) write_bytes(fs::path(options.corpus_dir) / hex_name(input), input);
    }
  };

  // The seeds and regression inputs first.
  for (const std::string& s : std::vector<std::string>(corpus)) execute(s, true);
  for (const std::string& dir : options.regression_dirs) {
    if (!fs::is_directory(dir)) continue;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file()) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
      ++report.regression_inputs;
      execute(read_bytes(f), true);
    }
  }
  if (!options.corpus_dir.empty()) {
    fs::create_directories(options.corpus_dir);
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(options.corpus_dir))
      if (e.is_regular_file()) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) corpus.push_back(read_bytes(f));
  }

  Mutator mutator(options.seed ^ fnv1a64(target.name));
  double last_progress = 0;
  for (int64_t i = 0;; ++i) {
    if (options.max_iterations > 0 && i >= options.max_iterations) break;
    if (options.max_seconds > 0 && (i & 15) == 0 && elapsed() >= options.max_seconds) break;
    std::string input = corpus[mutator.below(corpus.size())];
    const std::string& other = corpus[mutator.below(corpus.size())];
    mutator.mutate(input, other, target.text, options.max_stacked_mutations, target.max_input_bytes);
    if (target.reseal && mutator.below(2)) target.reseal(input);
    execute(input, false);
    if (options.progress && elapsed() - last_progress >= 5) {
      last_progress = elapsed();
      std::fprintf(stderr, "fuzz %s: %lld inputs (%.0f/s), corpus %zu, outcomes %zu, findings %zu\n",
                   target.name.c_str(), static_cast<long long>(report.inputs), report.inputs / last_progress,
                   corpus.size(), features.size(), report.findings.size());
    }
  }
  report.seconds = elapsed();
  report.corpus_size = corpus.size();
  return report;
}

std::string report_json(const FuzzReport& r) {
  nlohmann::json j;
  j["target"] = r.target;
  j["inputs"] = r.inputs;
  j["regression_inputs"] = r.regression_inputs;
  j["seconds"] = r.seconds;
  j["inputs_per_s"] = r.seconds > 0 ? static_cast<double>(r.inputs) / r.seconds : 0.0;
  j["accepted"] = r.accepted;
  j["rejected"] = r.rejected;
  j["corpus_size"] = r.corpus_size;
  j["distinct_outcomes"] = r.outcomes.size();
  j["largest_input_bytes"] = r.largest_input_bytes;
  j["slowest_input_seconds"] = r.slowest_input_seconds;
  j["findings"] = nlohmann::json::array();
  for (const FuzzFinding& f : r.findings)
    j["findings"].push_back({{"kind", f.kind}, {"detail", f.detail}, {"input", f.input_file}});
  return j.dump();
}

}  // namespace nas::fuzz
