#include "search_space/strict_json.h"

#include <algorithm>
#include <climits>

#include "core/error.h"

namespace nas::strict {

namespace {

std::string subject(const std::string& where, const std::string& path) {
  return path.empty() ? where : where + ": " + path;
}

std::string join(std::initializer_list<const char*> names) {
  std::string out;
  for (const char* name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

int int_from_value(const json& v, const std::string& where, const std::string& name) {
  NAS_CHECK(v.is_number_integer(),
            where << ": " << name << " must be an integer, got " << json_excerpt(v));
  const bool fits = v.is_number_unsigned()
                        ? v.get<uint64_t>() <= static_cast<uint64_t>(INT_MAX)
                        : (v.get<int64_t>() >= INT_MIN && v.get<int64_t>() <= INT_MAX);
  NAS_CHECK(fits, where << ": " << name << " is out of range, got " << json_excerpt(v));
  return static_cast<int>(v.get<int64_t>());
}

double number_from_value(const json& v, const std::string& where, const std::string& name) {
  NAS_CHECK(v.is_number(), where << ": " << name << " must be a number, got " << json_excerpt(v));
  return v.get<double>();
}

template <typename T, typename Parse>
std::vector<T> get_list(const json& j, const char* field, const std::string& where,
                        const std::string& path, Parse parse) {
  const json& array = get_array(j, field, where, path);
  const std::string name = child(path, field);
  NAS_CHECK(!array.empty(), where << ": " << name << " must not be empty");
  std::vector<T> out;
  out.reserve(array.size());
  for (size_t i = 0; i < array.size(); ++i) out.push_back(parse(array[i], where, element(name, i)));
  return out;
}

}  // namespace

std::string child(const std::string& path, const std::string& field) {
  return path.empty() ? field : path + "." + field;
}

std::string element(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

void check_fields(const json& j, const std::string& where, const std::string& path,
                  std::initializer_list<const char*> fields) {
  NAS_CHECK(j.is_object(),
            subject(where, path) << " must be a JSON object, got " << json_excerpt(j));
  for (auto it = j.begin(); it != j.end(); ++it) {
    const bool known = std::any_of(fields.begin(), fields.end(),
                                   [&](const char* name) { return it.key() == name; });
    NAS_CHECK(known, subject(where, path) << " has an unknown field " << quoted_excerpt(it.key())
                                          << " (accepted: " << join(fields) << ")");
  }
  for (const char* name : fields)
    NAS_CHECK(j.contains(name), where << ": " << child(path, name) << " is missing");
}

int get_int(const json& j, const char* field, const std::string& where, const std::string& path) {
  return int_from_value(j.at(field), where, child(path, field));
}

double get_number(const json& j, const char* field, const std::string& where,
                  const std::string& path) {
  return number_from_value(j.at(field), where, child(path, field));
}

OpKind op_from_value(const json& v, const std::string& where, const std::string& name) {
  const bool ok = v.is_string() && (v.get<std::string>() == "mult" ||
                                    v.get<std::string>() == "shift" || v.get<std::string>() == "add");
  NAS_CHECK(ok, where << ": " << name << " must be one of \"mult\", \"shift\", \"add\", got "
                      << json_excerpt(v));
  return parse_op_kind(v.get<std::string>());
}

OpKind get_op(const json& j, const char* field, const std::string& where, const std::string& path) {
  return op_from_value(j.at(field), where, child(path, field));
}

const json& get_array(const json& j, const char* field, const std::string& where,
                      const std::string& path) {
  const json& v = j.at(field);
  NAS_CHECK(v.is_array(), where << ": " << child(path, field) << " must be an array, got "
                                << (v.is_object() ? std::string("an object") : json_excerpt(v)));
  return v;
}

std::vector<int> get_int_list(const json& j, const char* field, const std::string& where,
                              const std::string& path) {
  return get_list<int>(j, field, where, path, int_from_value);
}

std::vector<double> get_number_list(const json& j, const char* field, const std::string& where,
                                    const std::string& path) {
  return get_list<double>(j, field, where, path, number_from_value);
}

std::vector<OpKind> get_op_list(const json& j, const char* field, const std::string& where,
                                const std::string& path) {
  return get_list<OpKind>(j, field, where, path, op_from_value);
}

std::string format_number(double value) { return json(value).dump(); }

}  // namespace nas::strict
