#include "cli/cli_common.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <mutex>
#include <sstream>

#include <unistd.h>

#include <iostream>

#include "cli/output_guards.h"
#include "core/error.h"

namespace nas::cli {

void add_common_flags(po::options_description& desc, CommonFlags& flags, unsigned which) {
  auto add = desc.add_options();
  if (which & kSeed)
    add("seed", po::value<uint64_t>(&flags.seed)->default_value(0), "random seed");
  if (which & kThreads)
    add("threads", po::value<int>(&flags.threads)->default_value(0),
        "CPU threads (0 = all cores)");
  if (which & kOut) add("out", po::value<std::string>(&flags.out_dir), "output directory");
  if (which & kJson)
    add("json", po::value<std::string>(&flags.json_path), "write the JSON result to this file");
}

bool parse_flags(int argc, char** argv, const std::string& program, const std::string& summary,
                 const po::options_description& desc, po::variables_map& vm,
                 const po::positional_options_description* positional) {
  po::options_description all(desc);
  all.add_options()("help,h", "show this help");
  try {
    po::command_line_parser parser(argc, argv);
    parser.options(all);
    if (positional) parser.positional(*positional);
    po::store(parser.run(), vm);
    if (vm.count("help")) {
      std::cout << program << ": " << summary << "\n\n" << all << "\n";
      return false;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    NAS_THROW(e.what() << " (see " << program << " --help)");
  }
  refuse_empty_values(vm);  // issue 32: `--budget ""` is an error, not an unbudgeted search
  return true;
}

namespace {
// Ranks of a data-parallel job on one machine share its cores (LOCAL_WORLD_SIZE, as torchrun).
long local_world_size() {
  const char* w = std::getenv("LOCAL_WORLD_SIZE");
  return w ? std::max(1L, std::atol(w)) : 1L;
}
}  // namespace

int resolve_threads(const CommonFlags& flags) {
  NAS_CHECK(flags.threads >= 0, "--threads must be >= 0, got " << flags.threads);
  if (flags.threads > 0) return flags.threads;
  const long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
  const long local_world = local_world_size();
  return cores > 0 ? static_cast<int>(std::max(1L, cores / local_world)) : 1;
}

CpuLoad read_cpu_load(const std::string& path) {
  CpuLoad load;
  std::ifstream in(path);
  if (!in) return load;
  // "0.52 0.58 0.59 3/412 12345": 1/5/15-minute averages, runnable/total entities, last pid.
  char buffer[256] = {};
  in.read(buffer, sizeof(buffer) - 1);  // the line is ~40 bytes: a bounded read, NUL-terminated
  // strtod / strtol, not sscanf: an out-of-range number is defined behaviour (clamped) for them.
  char* p = buffer;
  char* end = nullptr;
  double averages[3] = {};
  for (double& average : averages) {
    average = std::strtod(p, &end);
    if (end == p) return load;
    p = end;
  }
  const long runnable = std::strtol(p, &end, 10);
  if (end == p || *end != '/') return load;
  if (!(averages[0] >= 0.0 && averages[0] < 1e6) || runnable < 0 || runnable > 1000000) return load;
  load.load_1min = averages[0];
  load.runnable_now = static_cast<int>(runnable);
  load.known = true;
  return load;
}

std::string oversubscription_warning(int threads, long cores, const CpuLoad& load) {
  if (!load.known || threads <= 1 || cores <= 0) return {};
  const double others = std::min(load.load_1min, static_cast<double>(std::max(0, load.runnable_now - 1)));
  const long busy_others = static_cast<long>(others + 0.25);  // load 0.8 counts as a busy thread
  if (busy_others < 1 || threads + busy_others <= cores) return {};
  std::ostringstream out;
  out << threads << " threads on " << cores << " cores while about " << busy_others << " other thread"
      << (busy_others == 1 ? " is" : "s are") << " busy (load average " << std::fixed << std::setprecision(2)
      << load.load_1min << ", " << load.runnable_now << " runnable): thread teams that do not fit the cores "
      << "spin against each other and can slow every process several-fold; give concurrent jobs --threads "
      << "that sum to at most " << cores << " (NAS_NO_LOAD_WARNING=1 silences this)";
  return out.str();
}

void warn_if_oversubscribed(const std::string& program, int threads) {
  static std::once_flag once;
  std::call_once(once, [&] {
    if (std::getenv("NAS_NO_LOAD_WARNING")) return;
    if (local_world_size() > 1) return;
    const char* loadavg = std::getenv("NAS_LOADAVG_FILE");
    const std::string warning =
        oversubscription_warning(threads, ::sysconf(_SC_NPROCESSORS_ONLN), read_cpu_load(loadavg ? loadavg : "/proc/loadavg"));
    if (!warning.empty()) std::cerr << program << ": warning: " << warning << "\n";
  });
}

RunContext make_run_context(const std::string& program, int argc, char** argv,
                            const CommonFlags& flags, const std::string& device) {
  RunContext run;
  run.program = program;
  run.argv.assign(argv, argv + argc);
  run.seed = flags.seed;
  run.threads = resolve_threads(flags);
  run.device = device;
  return run;
}

nas::Error with_flag_names(const nas::Error& error, const std::vector<std::string>& prefixes) {
  std::string message = error.message();
  for (const std::string& prefix : prefixes) {
    const std::string key = prefix + ".";
    for (size_t at = message.find(key); at != std::string::npos; at = message.find(key, at)) {
      // Only a whole word: "trainer.x" at the start or after a space / quote / parenthesis.
      if (at > 0 && std::string(" '\"(").find(message[at - 1]) == std::string::npos) {
        at += key.size();
        continue;
      }
      size_t end = at + key.size();
      while (end < message.size() && (std::islower(static_cast<unsigned char>(message[end])) || message[end] == '_' ||
                                      std::isdigit(static_cast<unsigned char>(message[end]))))
        ++end;
      std::string flag = "--" + message.substr(at + key.size(), end - at - key.size());
      for (char& c : flag)
        if (c == '_') c = '-';
      message.replace(at, end - at, flag);
      at += flag.size();
    }
  }
  return nas::Error(message, error.file().c_str(), error.line());
}

std::string prepare_run_dir(const std::string& out_dir, const std::string& checkpoint_file, bool resume) {
  const std::filesystem::path out(out_dir);
  const std::string checkpoint = (out / checkpoint_file).string();
  std::error_code ec;
  NAS_CHECK(resume || !std::filesystem::exists(checkpoint, ec),
            out_dir << " already holds a run (" << checkpoint_file
                    << "): pass --resume to continue it, or choose another --out");
  std::filesystem::create_directories(out, ec);
  NAS_CHECK(!ec, "cannot create --out " << out_dir << ": " << ec.message());
  return checkpoint;
}

int guarded_main(const std::string& program, const std::function<int()>& body) {
  try {
    return body();
  } catch (const nas::Error& e) {
    std::cerr << program << ": error: " << e.message() << "\n";
  } catch (const std::exception& e) {
    // Torch errors carry a multi-line backtrace; keep the first line only.
    std::string what = e.what();
    const auto newline = what.find('\n');
    std::cerr << program << ": error: " << what.substr(0, newline) << "\n";
  }
  return 1;
}

double median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

void emit_json(const json& out, const CommonFlags& flags) {
  std::cout << out.dump(2) << "\n";
  if (!flags.json_path.empty()) write_json_file(flags.json_path, out);
}

RunLog::RunLog(const std::string& path, bool enabled) {
  if (enabled) out_.open(path, std::ios::app);
}

void RunLog::line(const std::string& text) {
  if (!out_.is_open()) return;
  out_ << "[" << utc_now_iso8601() << "] " << text << "\n";
  out_.flush();
}

}  // namespace nas::cli
