#pragma once
// JSON helpers: the `context` block that heads every JSON output, file I/O with clear errors,
// and typed field access that names the missing/mistyped field.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nas {

using json = nlohmann::json;

// Version of the layout of our JSON outputs; bump when a field changes meaning.
constexpr int kJsonSchemaVersion = 1;

// What a command knows about its own run; the rest of the context comes from the build.
struct RunContext {
  std::string program;             // e.g. "nas_energy"
  std::vector<std::string> argv;   // the full command line
  uint64_t seed = 0;
  int threads = 1;
  std::string device = "cpu";      // "cpu", "cuda:0 (NVIDIA H100 ...)"
};

// {"schema_version", "program", "git_commit", "build_type", "libtorch_version", "compiler",
//  "device", "threads", "seed", "command_line", "date", "host"}
json make_context(const RunContext& run);

// Current UTC time as ISO 8601 ("2026-11-27T05:01:02Z").
std::string utc_now_iso8601();

// Joins argv with shell quoting where needed, so the command line can be pasted back.
std::string join_command_line(const std::vector<std::string>& argv);

// Parses a JSON file; errors name the file (and line/column for syntax errors).
json read_json_file(const std::string& path);

// Writes pretty JSON (2-space indent, trailing newline) atomically.
void write_json_file(const std::string& path, const json& value);

// Typed access: throws nas::Error "<where>: field 'name' is missing / must be <type>".
int64_t json_int(const json& object, const std::string& name, const std::string& where);
double json_number(const json& object, const std::string& name, const std::string& where);
std::string json_string(const json& object, const std::string& name, const std::string& where);

}  // namespace nas
