#pragma once
// Shared command-line plumbing for every app and bench (google/benchmark style: each flag defined
// once; docs/DESIGN.md, "cli/").
// Every command has --help, --seed, --threads, --out and/or --json; errors print one line
// ("nas_energy: error: ...") and exit non-zero.
#include <cstdint>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "core/error.h"
#include "core/json_util.h"

namespace nas::cli {

namespace po = boost::program_options;

struct CommonFlags {
  uint64_t seed = 0;
  int threads = 0;        // 0 = all cores
  std::string out_dir;    // --out
  std::string json_path;  // --json
};

// Which of the common flags a command takes.
enum CommonFlagSet : unsigned {
  kSeed = 1u << 0,
  kThreads = 1u << 1,
  kOut = 1u << 2,
  kJson = 1u << 3,
};

void add_common_flags(po::options_description& desc, CommonFlags& flags, unsigned which);

// Parses argv into vm (and the bound variables). Returns false after printing help for --help.
// Unknown flags, bad values and missing required flags throw nas::Error with one clear line.
bool parse_flags(int argc, char** argv, const std::string& program, const std::string& summary,
                 const po::options_description& desc, po::variables_map& vm,
                 const po::positional_options_description* positional = nullptr);

// Number of threads to use: flags.threads, or the number of online cores when 0.
int resolve_threads(const CommonFlags& flags);

// What /proc/loadavg says of the machine: the 1-minute load average and the scheduling entities
// runnable right now (this process's reading thread included). known = false where unreadable.
struct CpuLoad {
  bool known = false;
  double load_1min = 0.0;
  int runnable_now = 0;
};
CpuLoad read_cpu_load(const std::string& path = "/proc/loadavg");

// The one-line warning (empty when none) for a process about to compute with `threads` threads on
// `cores` cores while others keep the CPU busy: OpenMP teams that do not fit the cores spin against
// each other and can slow every process several-fold (measured here: two 2-thread trainings on 2
// cores ran 7x slower than two 1-thread ones). The busy threads of others are estimated as the
// smaller of the load average and the runnable count less this process, so a short spike or an
// old load alone do not warn. A 1-thread process is not warned (it has no team to spin).
std::string oversubscription_warning(int threads, long cores, const CpuLoad& load);

// Prints oversubscription_warning to stderr as "program: warning: ..." (once per process), unless
// NAS_NO_LOAD_WARNING is set or this is one rank of a data-parallel job (LOCAL_WORLD_SIZE > 1,
// whose ranks split the cores by design). Call it where the app sets its thread count.
// NAS_LOADAVG_FILE names another file in /proc/loadavg's format (the CLI test of the warning).
void warn_if_oversubscribed(const std::string& program, int threads);

RunContext make_run_context(const std::string& program, int argc, char** argv,
                            const CommonFlags& flags, const std::string& device = "cpu");

// A library error that names option fields ("trainer.stop_width_aug_fraction must ...", "data.val_size
// ...") rewritten to name the command's flags ("--stop-width-aug-fraction must ..."), for the
// prefixes given (e.g. {"trainer", "data"}).
nas::Error with_flag_names(const nas::Error& error, const std::vector<std::string>& prefixes);

// Creates the run directory `out_dir` and returns out_dir/checkpoint_file; a directory that holds
// that checkpoint already is an error unless `resume` ("... pass --resume to continue it").
std::string prepare_run_dir(const std::string& out_dir, const std::string& checkpoint_file, bool resume);

// Runs body, turning any exception into "program: error: <message>" on stderr and exit code 1.
int guarded_main(const std::string& program, const std::function<int()>& body);

// Median of benchmark runs (the mean of the middle two for an even count; 0 for none).
double median(std::vector<double> values);

// Prints a benchmark's or report's JSON on stdout and writes it to --json when given.
void emit_json(const json& out, const CommonFlags& flags);

// A run directory's log.txt: timestamped lines, appended and flushed one by one (a killed run
// keeps what it wrote). Disabled, it writes nothing (data-parallel ranks other than 0).
class RunLog {
 public:
  RunLog(const std::string& path, bool enabled);
  void line(const std::string& text);

 private:
  std::ofstream out_;
};

}  // namespace nas::cli
