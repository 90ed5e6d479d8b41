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

namespace {

// A key as a path component: plain when it is a short printable name, else quoted and cut (a
// key from a file may hold a newline or megabytes).
std::string path_component(const std::string& key) {
  constexpr size_t kMaxPlainKeyChars = 64;
  return key.size() > kMaxPlainKeyChars || has_control_character(key) ? quoted_excerpt(key) : key;
}

// Builds the document from nlohmann's SAX events in one pass, refusing what our readers must
// not see (too deep, a duplicate key, too many elements) at the event that shows it. nlohmann's
// own callback parser (json::parse(text, callback)) is quadratic: after every object it scans the
// enclosing container for a discarded value, so an array of n objects costs n^2 / 2 steps.
class CheckedDomBuilder {
 public:
  CheckedDomBuilder(const std::string& where, const JsonLimits& limits) : where_(where), limits_(limits) {}
  json take() { return std::move(root_); }

  bool null() { return add(json(nullptr)) != nullptr; }
  bool boolean(bool value) { return add(json(value)) != nullptr; }
  bool number_integer(json::number_integer_t value) { return add(json(value)) != nullptr; }
  bool number_unsigned(json::number_unsigned_t value) { return add(json(value)) != nullptr; }
  bool number_float(json::number_float_t value, const json::string_t&) { return add(json(value)) != nullptr; }
  bool string(json::string_t& value) { return add(json(std::move(value))) != nullptr; }
  bool binary(json::binary_t& value) { return add(json(std::move(value))) != nullptr; }  // not in JSON text
  bool start_object(std::size_t) { return open(json::value_t::object); }
  bool start_array(std::size_t) { return open(json::value_t::array); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(json::string_t& name) {
    Level& level = levels_.back();
    auto& object = level.container->get_ref<json::object_t&>();
    check_count(object.size());
    auto [it, inserted] = object.try_emplace(std::move(name));  // `name` stays intact when present
    NAS_CHECK(inserted, where_ << ": duplicate key " << quoted_excerpt(name) << " in "
                               << (levels_.size() == 1 ? std::string("the top-level object")
                                                       : "the object at " + current_path(levels_.size()))
                               << "; every key may appear once");
    level.key = &it->first;
    slot_ = &it->second;
    return true;
  }

  // Syntax errors keep nlohmann's own exception (line and column), turned into our line outside.
  template <class Exception>
  bool parse_error(std::size_t, const std::string&, const Exception& error) {
    throw error;
  }

 private:
  struct Level {
    json* container;
    const std::string* key = nullptr;  // of an object: the member being read
  };

  // Places `value` where the text has it; returns where it now lives.
  json* add(json&& value) {
    if (levels_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    json& container = *levels_.back().container;
    if (container.is_array()) {
      auto& array = container.get_ref<json::array_t&>();
      check_count(array.size());
      array.push_back(std::move(value));
      return &array.back();  // stays valid: later elements go into it until it closes
    }
    *slot_ = std::move(value);
    return slot_;
  }

  bool open(json::value_t type) {
    NAS_CHECK(levels_.size() < static_cast<size_t>(kMaxJsonDepth),
              where_ << ": JSON nested deeper than " << kMaxJsonDepth
                     << " levels (arrays/objects); the accepted maximum is " << kMaxJsonDepth);
    levels_.push_back({add(json(type))});
    return true;
  }

  bool close() {
    levels_.pop_back();
    return true;
  }

  void check_count(size_t count_before) const {
    NAS_CHECK(count_before < limits_.max_elements,
              where_ << ": " << (levels_.size() == 1 ? std::string("the top-level value")
                                                     : current_path(levels_.size()))
                     << " holds more than " << limits_.max_elements << " elements; the accepted maximum is "
                     << limits_.max_elements);
  }

  // The path of the container at levels_[depth - 1] ("points[3].arch"), from the elements
  // being read at each level above it.
  std::string current_path(size_t depth) const {
    std::string path;
    for (size_t i = 0; i + 1 < depth; ++i) {
      const json& container = *levels_[i].container;
      if (container.is_array()) {
        path += "[" + std::to_string(container.size() - 1) + "]";
      } else {
        path += (path.empty() ? "" : ".") + path_component(*levels_[i].key);
      }
    }
    return path;
  }

  const std::string& where_;
  const JsonLimits& limits_;
  json root_;
  std::vector<Level> levels_;
  json* slot_ = nullptr;  // the value of the object member whose key came last
};

}  // namespace

json parse_json_text(const std::string& text, const std::string& where, const JsonLimits& limits) {
  CheckedDomBuilder builder(where, limits);
  try {
    json::sax_parse(text, &builder);
    return builder.take();
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

json parse_json_text(const std::string& text, const std::string& where) {
  return parse_json_text(text, where, JsonLimits{});
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
