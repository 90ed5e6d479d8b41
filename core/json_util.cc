#include "core/json_util.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cmath>
#include <unistd.h>

#include <ctime>

#include "core/atomic_file.h"
#include "core/build_info.h"
#include "core/error.h"

namespace nas {

std::string utc_now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm tm_utc{};
  gmtime_r(&now, &tm_utc);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm_utc);
  return buffer;
}

std::string join_command_line(const std::vector<std::string>& argv) {
  std::string out;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (i) out += ' ';
    const std::string& a = argv[i];
    const bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`*?;&|<>()") == std::string::npos;
    if (plain) {
      out += a;
    } else {
      out += '\'';
      for (char c : a) out += (c == '\'') ? std::string("'\\''") : std::string(1, c);
      out += '\'';
    }
  }
  return out;
}

namespace {

// The CPU's model name from /proc/cpuinfo ("model name" on x86, "Hardware" / "CPU part" lines
// elsewhere), so that timings in a result say which machine made them; "unknown" when absent.
std::string cpu_model_name() {
  std::FILE* f = std::fopen("/proc/cpuinfo", "r");
  if (!f) return "unknown";
  std::string found;
  char line[512];
  for (int i = 0; i < 4096 && found.empty() && std::fgets(line, sizeof(line), f); ++i) {
    const std::string text(line);
    for (const char* key : {"model name", "Hardware"}) {
      if (text.rfind(key, 0) != 0) continue;
      const auto colon = text.find(':');
      if (colon == std::string::npos) continue;
      const auto begin = text.find_first_not_of(" \t", colon + 1);
      const auto end = text.find_last_not_of(" \t\r\n");
      if (begin != std::string::npos && end != std::string::npos && end >= begin) found = text.substr(begin, end - begin + 1);
    }
  }
  std::fclose(f);
  return found.empty() ? "unknown" : found;
}

}  // namespace

json make_context(const RunContext& run) {
  char host[256] = {0};
  if (::gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  json ctx;
  ctx["schema_version"] = kJsonSchemaVersion;
  ctx["program"] = run.program;
  ctx["git_commit"] = git_commit();
  ctx["build_type"] = build_type();
  ctx["libtorch_version"] = torch_version();
  ctx["compiler"] = compiler_version();
  ctx["device"] = run.device;
  ctx["threads"] = run.threads;
  ctx["seed"] = run.seed;
  ctx["command_line"] = join_command_line(run.argv);
  ctx["date"] = utc_now_iso8601();
  ctx["host"] = host;
  ctx["num_cpus"] = static_cast<int64_t>(::sysconf(_SC_NPROCESSORS_ONLN));
  static const std::string cpu_model = cpu_model_name();
  ctx["cpu_model"] = cpu_model;
  return ctx;
}

json parse_json_text(const std::string& text, const std::string& where) {
  // nlohmann's parser itself is iterative; the callback sees each container as it opens, with
  // `depth` = the number of containers around it, and stops the parse at the first too deep.
  const json::parser_callback_t limit_depth = [&](int depth, json::parse_event_t event, json&) {
    const bool opens =
        event == json::parse_event_t::array_start || event == json::parse_event_t::object_start;
    NAS_CHECK(!opens || depth < kMaxJsonDepth,
              where << ": JSON nested deeper than " << kMaxJsonDepth
                    << " levels (arrays/objects); the accepted maximum is " << kMaxJsonDepth);
    return true;
  };
  try {
    return json::parse(text, limit_depth);
  } catch (const json::parse_error& e) {
    // nlohmann's message carries "line L, column C"; keep just that part after the prefix, and
    // cut the text it quotes ("last read: '...'" can be megabytes of the input).
    std::string what = e.what();
    const auto pos = what.find("parse error at ");
    NAS_THROW(where << ": invalid JSON: "
                    << first_line_excerpt(pos == std::string::npos ? what : what.substr(pos), 240));
  } catch (const json::exception& e) {
    // out_of_range.406: a number too large for a double ("1e999").
    std::string what = e.what();
    const auto pos = what.find("] ");
    NAS_THROW(where << ": invalid JSON: "
                    << first_line_excerpt(pos == std::string::npos ? what : what.substr(pos + 2), 160));
  }
}

json read_json_file(const std::string& path, uint64_t max_bytes) {
  return parse_json_text(read_file(path, max_bytes), path);
}

namespace {

// Containers deeper than this print as [...] / {...}; bounds the recursion of the excerpt.
constexpr int kExcerptDepth = 4;

// Scalar text; invalid UTF-8 in a string is replaced rather than thrown on.
std::string scalar_text(const json& value) {
  if (value.is_string() && value.get_ref<const std::string&>().size() > kJsonExcerptChars)
    return json(value.get_ref<const std::string&>().substr(0, kJsonExcerptChars))
        .dump(-1, ' ', false, json::error_handler_t::replace);
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Appends the JSON text of `value`, stopping once `out` is past the excerpt length.
void append_excerpt(const json& value, int depth, std::string& out) {
  if (!value.is_structured()) {
    out += scalar_text(value);
    return;
  }
  const bool array = value.is_array();
  if (depth >= kExcerptDepth && !value.empty()) {
    out += array ? "[...]" : "{...}";
    return;
  }
  out += array ? '[' : '{';
  bool first = true;
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (out.size() > kJsonExcerptChars) break;
    if (!first) out += ',';
    first = false;
    if (!array) out += scalar_text(json(it.key())) + ':';
    append_excerpt(it.value(), depth + 1, out);
  }
  out += array ? ']' : '}';
}

}  // namespace

bool has_control_character(const std::string& text) {
  return std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

std::string quoted_excerpt(const std::string& text) {
  std::string out = "'";
  for (size_t i = 0; i < text.size() && i < kJsonExcerptChars; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);  // a newline must not break the message's line
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > kJsonExcerptChars) {
    // Never end inside a UTF-8 character: drop a cut sequence's lead and continuation bytes.
    size_t end = out.size();
    while (end > 1 && (static_cast<unsigned char>(out[end - 1]) & 0xC0) == 0x80) --end;
    if (end > 1 && (static_cast<unsigned char>(out[end - 1]) & 0xC0) == 0xC0) --end;
    out.resize(end);
    return out + "...'";
  }
  return out + "'";
}

namespace {

// A key as a path component: plain when it is a short printable name, else quoted and cut (a
// key from a file may hold a newline or megabytes).
std::string path_component(const std::string& key) {
  constexpr size_t kMaxPlainKeyChars = 64;
  return key.size() > kMaxPlainKeyChars || has_control_character(key) ? quoted_excerpt(key) : key;
}

}  // namespace

std::string first_json_difference(const json& a, const json& b, const std::string& path) {
  // The path stays one bounded line: deeper than this it is reported where it got too long.
  constexpr size_t kMaxPathChars = 400;
  if (a.is_object() && b.is_object()) {
    if (path.size() > kMaxPathChars) return a == b ? "" : path + ".(...)";
    for (auto it = a.begin(); it != a.end(); ++it) {
      if (!b.contains(it.key())) return path + "." + path_component(it.key());
      const std::string d = first_json_difference(*it, b[it.key()], path + "." + path_component(it.key()));
      if (!d.empty()) return d;
    }
    for (auto it = b.begin(); it != b.end(); ++it)
      if (!a.contains(it.key())) return path + "." + path_component(it.key());
    return "";
  }
  return a == b ? "" : path;
}

std::string json_excerpt(const json& value) {
  std::string out;
  append_excerpt(value, 0, out);
  if (out.size() > kJsonExcerptChars) {
    size_t cut = kJsonExcerptChars - 3;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
    out = out.substr(0, cut) + "...";
  }
  return out;
}

void write_json_file(const std::string& path, const json& value) {
  write_file_atomic(path, value.dump(2) + "\n");
}

namespace {
const json& field(const json& object, const std::string& name, const std::string& where) {
  NAS_CHECK(object.is_object(), where << ": expected a JSON object");
  auto it = object.find(name);
  NAS_CHECK(it != object.end(), where << ": field '" << name << "' is missing");
  return *it;
}
}  // namespace

int64_t json_int(const json& object, const std::string& name, const std::string& where) {
  const json& v = field(object, name, where);
  // An unsigned value above INT64_MAX would wrap to a negative one; a float outside the int64
  // range cannot be converted at all (undefined behaviour): both are errors, not values.
  if (v.is_number_unsigned()) {
    NAS_CHECK(v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX),
              where << ": field '" << name << "' is out of range (more than 2^63 - 1), got " << json_excerpt(v));
    return static_cast<int64_t>(v.get<uint64_t>());
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    NAS_CHECK(!(std::isfinite(d) && std::fabs(d) >= 9.2e18),
              where << ": field '" << name << "' is out of range, got " << json_excerpt(v));
    if (std::isfinite(d) && d == std::trunc(d)) return static_cast<int64_t>(d);
  }
  NAS_THROW(where << ": field '" << name << "' must be an integer, got " << json_excerpt(v));
}

double json_number(const json& object, const std::string& name, const std::string& where) {
  const json& v = field(object, name, where);
  NAS_CHECK(v.is_number(),
            where << ": field '" << name << "' must be a number, got " << json_excerpt(v));
  return v.get<double>();
}

std::string json_string(const json& object, const std::string& name, const std::string& where) {
  const json& v = field(object, name, where);
  NAS_CHECK(v.is_string(),
            where << ": field '" << name << "' must be a string, got " << json_excerpt(v));
  return v.get<std::string>();
}

}  // namespace nas
