#pragma once
// The guards every program runs on its flags before it writes anything (issue 32, classes 1-3;
// the mechanism is core/output_guard.h; docs/DESIGN.md, "cli/"):
//   - a string flag given on the command line holds a value (parse_flags calls
//     refuse_empty_values: `--budget ""` is an error, not an unbudgeted search);
//   - no output resolves (after symlinks) to one of the command's inputs, or into an input
//     directory where it would replace a file;
//   - each output (a run directory or a result file) is claimed against a second process, which
//     gets one line naming the holder, and nothing of the first is touched.
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "core/output_guard.h"

namespace nas::cli {

// An output of a command as its flags name it.
struct Output {
  std::string flag;  // "--out", printed in messages
  std::string path;  // as given; "" (an optional flag not given): not guarded
  bool is_directory = false;
  // A directory's entries the command writes ({}: it may write anything there).
  std::vector<std::string> written_entries;
};

// The claims of a command's outputs, held while it lives (released when the process ends,
// however it ends).
class OutputGuard {
 public:
  OutputGuard() = default;
  explicit OutputGuard(std::vector<OutputClaim> claims) : claims_(std::move(claims)) {}
  size_t claims() const { return claims_.size(); }

 private:
  std::vector<OutputClaim> claims_;
};

// Refuses each given output that would replace one of `inputs` (inputs with an empty path are
// skipped), then, when `claim`, claims each output for `program`. `claim` false: the refusal only
// (a data-parallel rank other than 0, which writes nothing; a command whose run directories are
// claimed one by one, as nas_retrain --pareto's points).
OutputGuard guard_outputs(const std::string& program, const std::vector<Output>& outputs,
                          const std::vector<InputPath>& inputs, bool claim = true);

// Throws nas::Error (core/output_guard.h's require_value) for the first string flag given on the
// command line whose value is empty or blank.
void refuse_empty_values(const boost::program_options::variables_map& vm);

}  // namespace nas::cli
