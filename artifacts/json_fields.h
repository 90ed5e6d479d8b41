#pragma once
// Strict field access for the run artifacts' readers: every error names the file, the place in it
// and the field (e.g. "pareto.json: points[3]: field 'energy_mj' must be > 0, got -1").
// Torch-free. (docs/DESIGN.md, "artifacts/")
#include <cstdint>
#include <string>

#include "core/json_util.h"

namespace nas::artifacts {

// The bytes of an input file, after checking that it exists, is a file and is at most max_bytes;
// `hint` says where such a file comes from, for the "does not exist" message.
std::string read_input(const std::string& path, const std::string& hint, uint64_t max_bytes);

// The field `name` of `object` as an object / an array (an error when missing or another type).
const json& object_field(const json& object, const std::string& name, const std::string& where);
const json& array_field(const json& object, const std::string& name, const std::string& where);

double finite_number(const json& object, const std::string& name, const std::string& where);
// A top-1 accuracy in percent (0..100).
double percent(const json& object, const std::string& name, const std::string& where);
double positive_number(const json& object, const std::string& name, const std::string& where);
// An integer >= 0.
int64_t count(const json& object, const std::string& name, const std::string& where);

// "<where>: <array>[<i>]", the place of an array element in error messages.
std::string element(const std::string& where, const char* array, size_t i);

}  // namespace nas::artifacts
