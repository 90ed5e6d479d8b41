#pragma once
// Shared command-line plumbing for every app (google/benchmark style: each flag defined once).
// Every command has --help, --seed, --threads, --out and/or --json; errors print one line
// ("nas_energy: error: ...") and exit non-zero.
#include <cstdint>
#include <functional>
#include <string>

#include <boost/program_options.hpp>

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

RunContext make_run_context(const std::string& program, int argc, char** argv,
                            const CommonFlags& flags, const std::string& device = "cpu");

// Runs body, turning any exception into "program: error: <message>" on stderr and exit code 1.
int guarded_main(const std::string& program, const std::function<int()>& body);

}  // namespace nas::cli
