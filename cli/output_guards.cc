#include "cli/output_guards.h"

#include <boost/any.hpp>

namespace nas::cli {

OutputGuard guard_outputs(const std::string& program, const std::vector<Output>& outputs,
                          const std::vector<InputPath>& inputs, bool claim) {
  std::vector<InputPath> given;
  for (const InputPath& input : inputs)
    if (!input.path.empty()) given.push_back(input);
  for (const Output& output : outputs) {
    if (output.path.empty()) continue;
    if (output.is_directory)
      refuse_output_directory_over_inputs(output.flag, output.path, output.written_entries, given);
    else
      refuse_output_over_inputs(output.flag, output.path, given);
  }
  std::vector<OutputClaim> claims;
  if (!claim) return OutputGuard(std::move(claims));
  for (const Output& output : outputs) {
    if (output.path.empty()) continue;
    claims.push_back(output.is_directory ? OutputClaim::directory(output.flag, output.path, program)
                                         : OutputClaim::file(output.flag, output.path, program));
  }
  return OutputGuard(std::move(claims));
}

void refuse_empty_values(const boost::program_options::variables_map& vm) {
  for (const auto& [name, value] : vm) {
    if (value.defaulted()) continue;
    if (const auto* text = boost::any_cast<std::string>(&value.value())) require_value(name, *text);
  }
}

}  // namespace nas::cli
