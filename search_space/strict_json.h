#pragma once
// Strict field access for the search-space JSON formats (ArchConfig, ArchSpace): exact types (an
// integer field rejects 3.5, "3" and true), no unknown fields, and every error names the field's
// path: "<where>: stages[2].blocks[1].kernel must be an integer, got \"3\"".
// `path` is the dotted path of the object being read ("" for the top level).
#include <initializer_list>
#include <string>
#include <vector>

#include "core/json_util.h"
#include "search_space/op_kind.h"

namespace nas::strict {

// "<path>.<field>" ("field" at the top level) and "<path>[i]".
std::string child(const std::string& path, const std::string& field);
std::string element(const std::string& path, size_t index);

// Checks that `j` is an object with exactly `fields` (all required).
void check_fields(const json& j, const std::string& where, const std::string& path,
                  std::initializer_list<const char*> fields);

int get_int(const json& j, const char* field, const std::string& where, const std::string& path);
double get_number(const json& j, const char* field, const std::string& where,
                  const std::string& path);
// "mult" | "shift" | "add".
OpKind get_op(const json& j, const char* field, const std::string& where, const std::string& path);
OpKind op_from_value(const json& v, const std::string& where, const std::string& name);
const json& get_array(const json& j, const char* field, const std::string& where,
                      const std::string& path);
// A non-empty array of integers / numbers / ops.
std::vector<int> get_int_list(const json& j, const char* field, const std::string& where,
                              const std::string& path);
std::vector<double> get_number_list(const json& j, const char* field, const std::string& where,
                                    const std::string& path);
std::vector<OpKind> get_op_list(const json& j, const char* field, const std::string& where,
                                const std::string& path);

// Shortest text that reads back as the same double ("0.35").
std::string format_number(double value);

}  // namespace nas::strict
