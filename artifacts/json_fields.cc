#include "artifacts/json_fields.h"

#include <cmath>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"

namespace nas::artifacts {

namespace fs = std::filesystem;

// The bytes of an input file, after checking that it exists and is not larger than the cap.
// `hint` says where the file comes from, for the "does not exist" message.
std::string read_input(const std::string& path, const std::string& hint, uint64_t max_bytes) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  NAS_CHECK(fs::exists(status), path << " does not exist (" << hint << ")");
  NAS_CHECK(fs::is_regular_file(status), path << " is not a file (" << hint << ")");
  return read_file(path, max_bytes);
}

namespace {

// The field `name` of `object`, which must hold an array or an object (`type`).
const json& container_field(const json& object, const std::string& name, const std::string& where, json::value_t type) {
  NAS_CHECK(object.is_object(), where << ": expected a JSON object");
  const auto it = object.find(name);
  NAS_CHECK(it != object.end(), where << ": field '" << name << "' is missing");
  NAS_CHECK(it->type() == type, where << ": field '" << name << "' must be "
                                      << (type == json::value_t::array ? "an array" : "an object") << ", got "
                                      << json_excerpt(*it));
  return *it;
}

}  // namespace

const json& object_field(const json& object, const std::string& name, const std::string& where) {
  return container_field(object, name, where, json::value_t::object);
}

const json& array_field(const json& object, const std::string& name, const std::string& where) {
  return container_field(object, name, where, json::value_t::array);
}

double finite_number(const json& object, const std::string& name, const std::string& where) {
  const double v = json_number(object, name, where);
  NAS_CHECK(std::isfinite(v), where << ": field '" << name << "' must be finite");
  return v;
}

// A top-1 accuracy in percent.
double percent(const json& object, const std::string& name, const std::string& where) {
  const double v = finite_number(object, name, where);
  NAS_CHECK(v >= 0 && v <= 100, where << ": field '" << name << "' must be a top-1 in % (0..100), got " << v);
  return v;
}

double positive_number(const json& object, const std::string& name, const std::string& where) {
  const double v = finite_number(object, name, where);
  NAS_CHECK(v > 0, where << ": field '" << name << "' must be > 0, got " << v);
  return v;
}

int64_t count(const json& object, const std::string& name, const std::string& where) {
  const int64_t v = json_int(object, name, where);
  NAS_CHECK(v >= 0, where << ": field '" << name << "' must be >= 0, got " << v);
  return v;
}

std::string element(const std::string& where, const char* array, size_t i) {
  return where + ": " + array + "[" + std::to_string(i) + "]";
}

}  // namespace nas::artifacts
