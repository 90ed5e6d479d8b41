#pragma once
// Shared by the fuzz target files.
#include <string>
#include <vector>

#include "fuzz_engine.h"

namespace nas::fuzz {

// A file in this process's scratch directory (the readers that take a path read it from there).
std::string scratch_file(const std::string& name);
// Removes the scratch directory (at the end of the program).
void remove_scratch_files();
// Writes bytes to a scratch file (throws FuzzOracleFailure when the disk refuses).
void write_scratch(const std::string& path, const std::string& bytes);

std::vector<FuzzTarget> basic_targets();  // fuzz_targets.cc
std::vector<FuzzTarget> torch_targets();  // fuzz_targets_torch.cc

}  // namespace nas::fuzz
