#include "core/output_guard.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include <unistd.h>

#include "core/error.h"
#include "core/json_util.h"

namespace nas {
namespace fs = std::filesystem;

namespace {

std::string dashed(const std::string& flag) {
  return flag.rfind("-", 0) == 0 || flag.empty() ? flag : "--" + flag;
}

bool is_blank(const std::string& text) {
  return text.find_first_not_of(" \t\r\n\v\f") == std::string::npos;
}

std::string trimmed(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t\r\n\v\f");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t\r\n\v\f") - begin + 1);
}

// A path from the command line in quotes: whole (a user's paths are often longer than an
// excerpt), unless it holds control characters or is absurdly long.
std::string quoted_path(const std::string& path) {
  constexpr size_t kMaxPathChars = 4096;
  return path.size() <= kMaxPathChars && !has_control_character(path) ? "'" + path + "'" : quoted_excerpt(path);
}

}  // namespace

std::string require_value(const std::string& flag, const std::string& value) {
  NAS_CHECK(!value.empty(), dashed(flag) << " needs a value (got an empty string)");
  NAS_CHECK(!is_blank(value), dashed(flag) << " needs a value (got " << quoted_excerpt(value) << ")");
  return value;
}

std::vector<std::string> require_list(const std::string& flag, const std::string& value, char sep) {
  require_value(flag, value);
  std::vector<std::string> items;
  size_t begin = 0;
  while (true) {
    const size_t end = value.find(sep, begin);
    const std::string item = trimmed(value.substr(begin, end == std::string::npos ? std::string::npos : end - begin));
    NAS_CHECK(!item.empty(), dashed(flag) << " needs a list of values separated by '" << sep << "' (got "
                                          << quoted_excerpt(value) << ": item " << items.size() + 1
                                          << " is empty)");
    items.push_back(item);
    if (end == std::string::npos) return items;
    begin = end + 1;
  }
}

namespace {

// One path in the two resolved forms of the header.
struct Resolved {
  fs::path kept_name;  // resolved parent / last component (a symlink there is not followed)
  fs::path full;       // every symlink followed
};

Resolved resolve(const std::string& path) {
  std::error_code ec;
  const fs::path absolute = fs::absolute(fs::path(path), ec);
  NAS_CHECK(!ec, "cannot resolve the path " << quoted_path(path) << ": " << ec.message());
  Resolved out;
  out.full = fs::weakly_canonical(absolute, ec).lexically_normal();
  NAS_CHECK(!ec, "cannot resolve the path " << quoted_path(path) << ": " << ec.message());
  fs::path name = absolute.filename();
  if (name.empty() || name == "." || name == "..") {
    out.kept_name = out.full;  // "dir/", "dir/..": no last component of its own to keep
  } else {
    out.kept_name = (fs::weakly_canonical(absolute.parent_path(), ec) / name).lexically_normal();
    NAS_CHECK(!ec, "cannot resolve the path " << quoted_path(path) << ": " << ec.message());
  }
  // A trailing separator would make "a/" and "a" differ.
  if (out.full.filename().empty()) out.full = out.full.parent_path();
  if (out.kept_name.filename().empty()) out.kept_name = out.kept_name.parent_path();
  return out;
}

// True when `inner` is `outer` or lies below it (whole components: "/a/bc" is not in "/a/b").
bool is_within(const fs::path& inner, const fs::path& outer) {
  auto i = inner.begin();
  for (auto o = outer.begin(); o != outer.end(); ++o, ++i)
    if (i == inner.end() || *i != *o) return false;
  return true;
}

bool same_existing_file(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  return fs::exists(a, ec) && fs::exists(b, ec) && fs::equivalent(a, b, ec) && !ec;
}

bool path_is_directory(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

bool path_exists(const fs::path& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

// Why writing `output` would replace `input` ("" when it would not).
std::string overlap(const Resolved& output, const InputPath& input, const Resolved& in) {
  const bool input_is_directory = input.is_directory || path_is_directory(in.full);
  for (const fs::path& out : {output.kept_name, output.full}) {
    if (out == in.kept_name || out == in.full || same_existing_file(out, in.full)) return "is";
    if (!input_is_directory || !is_within(out, in.full)) continue;
    if (input.read_as_whole) return "lies inside";
    if (!input.files_read.empty()) {
      for (const std::string& name : input.files_read) {
        const fs::path read = in.full / name;
        if (out == read || same_existing_file(out, read)) return "would replace a file in";
      }
      continue;
    }
    if (path_exists(out) && !path_is_directory(out)) return "would replace a file in";
  }
  return "";
}

[[noreturn]] void refuse(const std::string& output_flag, const std::string& output_path, const std::string& how,
                         const InputPath& input) {
  NAS_THROW(dashed(output_flag) << " " << quoted_path(output_path) << " " << how << " the input of "
                                << dashed(input.flag) << " " << quoted_path(input.path)
                                << ": an output must not replace an input; choose another path");
}

}  // namespace

void refuse_output_over_inputs(const std::string& output_flag, const std::string& output_path,
                               const std::vector<InputPath>& inputs) {
  const Resolved output = resolve(output_path);
  for (const InputPath& input : inputs) {
    const std::string how = overlap(output, input, resolve(input.path));
    if (!how.empty()) refuse(output_flag, output_path, how, input);
  }
}

void refuse_output_directory_over_inputs(const std::string& output_flag, const std::string& output_dir,
                                         const std::vector<std::string>& written_entries,
                                         const std::vector<InputPath>& inputs) {
  const Resolved dir = resolve(output_dir);
  for (const InputPath& input : inputs) {
    const Resolved in = resolve(input.path);
    const bool input_is_file = path_exists(in.full) && !path_is_directory(in.full) && !input.is_directory;
    if (input_is_file && (dir.full == in.full || dir.kept_name == in.kept_name))
      refuse(output_flag, output_dir, "is", input);
    if (input.read_as_whole && (is_within(dir.full, in.full) || is_within(dir.kept_name, in.full)))
      refuse(output_flag, output_dir, "lies inside", input);
    if (written_entries.empty() && (is_within(in.full, dir.full) || is_within(in.kept_name, dir.full)))
      refuse(output_flag, output_dir, "holds", input);
    for (const std::string& entry : written_entries) {
      const fs::path written = dir.full / entry;
      if (is_within(in.full, written) || is_within(in.kept_name, written))
        refuse(output_flag, (fs::path(output_dir) / entry).string(), "would replace", input);
    }
  }
  for (const std::string& entry : written_entries)
    refuse_output_over_inputs(output_flag, (fs::path(output_dir) / entry).string(), inputs);
}

// ---- OutputClaim ---------------------------------------------------------------------------

namespace {

std::string own_program_name() {
  std::ifstream comm("/proc/self/comm");
  std::string name;
  std::getline(comm, name);
  return name.empty() ? "unknown" : name;
}

}  // namespace

std::string OutputClaim::file_lock_path(const std::string& path) {
  const Resolved resolved = resolve(path);
  return resolved.kept_name.parent_path() / (resolved.kept_name.filename().string() + ".lock");
}

std::string OutputClaim::recorded_holder(const std::string& lock_file) {
  std::ifstream in(lock_file);
  std::string line;
  std::getline(in, line);
  return trimmed(line);
}

OutputClaim OutputClaim::claim(const std::string& flag, const std::string& output, const std::string& lock_file,
                               RunLock::RemoveOnRelease remove, const std::string& program) {
  std::optional<RunLock> lock = RunLock::try_claim_file(lock_file, remove);
  if (!lock) {
    const std::string holder = recorded_holder(lock_file);
    NAS_THROW(dashed(flag) << " " << quoted_path(output) << " is in use by another process ("
                           << (holder.empty() ? "it has not recorded itself yet" : holder) << ", lock "
                           << lock_file << "); wait for it to finish or choose another path");
  }
  std::ostringstream holder;
  holder << "pid " << ::getpid() << " program " << (program.empty() ? own_program_name() : program) << " since "
         << utc_now_iso8601() << "\n";
  lock->record_holder(holder.str());
  return OutputClaim(std::move(*lock), lock_file);
}

OutputClaim OutputClaim::directory(const std::string& flag, const std::string& dir, const std::string& program) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  NAS_CHECK(!ec, "cannot create " << dashed(flag) << " " << quoted_path(dir) << ": " << ec.message());
  return claim(flag, dir, RunLock::lock_path(dir), RunLock::RemoveOnRelease::no, program);
}

OutputClaim OutputClaim::file(const std::string& flag, const std::string& path, const std::string& program) {
  const std::string lock_file = file_lock_path(path);
  std::error_code ec;
  fs::create_directories(fs::path(lock_file).parent_path(), ec);
  NAS_CHECK(!ec, "cannot create the directory of " << dashed(flag) << " " << quoted_path(path) << ": "
                                                    << ec.message());
  return claim(flag, path, lock_file, RunLock::RemoveOnRelease::yes, program);
}

}  // namespace nas
