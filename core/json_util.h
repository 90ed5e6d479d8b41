#pragma once
// JSON helpers: the `context` block that heads every JSON output, file I/O with clear errors,
// and typed field access that names the missing/mistyped field.
#include <cstddef>
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

// Deepest nesting of arrays/objects a JSON input may have; our formats need at most 4 levels.
// Deeper input is refused while parsing, before any code walks it recursively (json::dump, the
// readers' validation): 100,000 nested brackets would overflow the stack.
constexpr int kMaxJsonDepth = 64;

// What a reader accepts beyond the file's size, checked while parsing, before a too large
// document is built: at most max_elements in any one array or object (a pareto.json of 10^6
// points is refused at its 1001st point, not after building all of them).
struct JsonLimits {
  size_t max_elements = SIZE_MAX;
};

// Parses JSON text named `where` (e.g. the file) in messages, in time linear in its length.
// Errors give line/column for syntax errors; refused while parsing: nesting deeper than
// kMaxJsonDepth, a key that appears twice in one object ("where: duplicate key 'points' in the
// top-level object", "... in the object at points[3].arch"), more elements than `limits` allow.
json parse_json_text(const std::string& text, const std::string& where, const JsonLimits& limits);
json parse_json_text(const std::string& text, const std::string& where);

// Parses a JSON file (at most max_bytes; the formats set tighter caps) with parse_json_text;
// errors name the file. A parsed document takes up to ~50x its text in memory.
constexpr uint64_t kMaxJsonFileBytes = uint64_t{256} << 20;
json read_json_file(const std::string& path, uint64_t max_bytes = kMaxJsonFileBytes);

// At most kJsonExcerptChars characters of a value's JSON text ("..." marks a cut), for error
// messages: a value from a file may be megabytes long or deeply nested, and the excerpt never
// walks more than a few levels into it.
constexpr size_t kJsonExcerptChars = 80;
std::string json_excerpt(const json& value);
// True when `text` holds a byte below 0x20 (newline, tab, ...): names from files that appear in
// one-line messages and reports must not.
bool has_control_character(const std::string& text);

// A name from a file (a key, a layer name) in single quotes, cut to kJsonExcerptChars: 'kernal'.
std::string quoted_excerpt(const std::string& text);

// The first path at which two JSON values differ ("" when equal): `path` + ".key" for each level
// of objects ("settings.trainer.lr"); a key present in one object only is a difference. One
// bounded line: a long key or one with control characters is quoted and cut (quoted_excerpt), and
// the path stops growing after a few hundred characters.
std::string first_json_difference(const json& a, const json& b, const std::string& path);

// Writes pretty JSON (2-space indent, trailing newline) atomically.
void write_json_file(const std::string& path, const json& value);

// Typed access: throws nas::Error "<where>: field 'name' is missing / must be <type>".
int64_t json_int(const json& object, const std::string& name, const std::string& where);
double json_number(const json& object, const std::string& name, const std::string& where);
std::string json_string(const json& object, const std::string& name, const std::string& where);

}  // namespace nas
