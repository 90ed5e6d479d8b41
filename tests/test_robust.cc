// core/output_guard.h: required values, outputs that would replace inputs, output claims.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/error.h"
#include "core/json_util.h"
#include "core/output_guard.h"
#include "temp_dir.h"

namespace fs = std::filesystem;
using nas_test::TempDir;

namespace {

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// The message of the nas::Error `f` throws ("" when it throws none).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const nas::Error& e) {
    return e.message();
  }
  return "";
}

// Changes the working directory for one scope.
struct InDirectory {
  fs::path before = fs::current_path();
  explicit InDirectory(const fs::path& dir) { fs::current_path(dir); }
  ~InDirectory() { fs::current_path(before); }
};

}  // namespace

TEST_CASE("require_value: an empty or blank value is refused with the flag's name") {
  CHECK(nas::require_value("--budget", "10mJ") == "10mJ");
  CHECK(nas::require_value("budget", " 10mJ ") == " 10mJ ");  // the value itself is kept
  CHECK(error_of([] { nas::require_value("--budget", ""); }) == "--budget needs a value (got an empty string)");
  CHECK(error_of([] { nas::require_value("budget", ""); }) == "--budget needs a value (got an empty string)");
  CHECK(error_of([] { nas::require_value("--budget", " "); }) == "--budget needs a value (got ' ')");
  CHECK(error_of([] { nas::require_value("--out", "\t\n"); }) == "--out needs a value (got '\\x09\\x0a')");
}

TEST_CASE("require_list: items in order, without surrounding blanks, an empty item refused") {
  CHECK(nas::require_list("--keys", "P3") == std::vector<std::string>{"P3"});
  CHECK(nas::require_list("--keys", "P3,P7, P1 ") == std::vector<std::string>{"P3", "P7", "P1"});
  CHECK(nas::require_list("--keys", "P3,P3") == std::vector<std::string>{"P3", "P3"});
  CHECK(nas::require_list("--sizes", "1:2", ':') == std::vector<std::string>{"1", "2"});
  CHECK(error_of([] { nas::require_list("--keys", ""); }) == "--keys needs a value (got an empty string)");
  CHECK(error_of([] { nas::require_list("--keys", " "); }) == "--keys needs a value (got ' ')");
  CHECK(error_of([] { nas::require_list("--keys", ","); }) ==
        "--keys needs a list of values separated by ',' (got ',': item 1 is empty)");
  CHECK(error_of([] { nas::require_list("--keys", "a,,b"); }) ==
        "--keys needs a list of values separated by ',' (got 'a,,b': item 2 is empty)");
  CHECK(error_of([] { nas::require_list("--keys", "a,"); }).find("item 2 is empty") != std::string::npos);
  CHECK(error_of([] { nas::require_list("--keys", " ,a"); }).find("item 1 is empty") != std::string::npos);
  CHECK(error_of([] { nas::require_list("--keys", "a, ,b"); }).find("item 2 is empty") != std::string::npos);
}

// The refusal of writing `output` (as --json) over `inputs` ("" when it is allowed).
std::string refusal(const std::string& output, const std::vector<nas::InputPath>& inputs) {
  return error_of([&] { nas::refuse_output_over_inputs("--json", output, inputs); });
}

TEST_CASE("refuse_output_over_inputs: the same file by any name is refused, another file is not") {
  const TempDir tmp("nas_test_output_guard_file");
  write_text(tmp / "pareto.json", "{}");
  fs::create_directories(tmp.path / "sub");
  fs::create_symlink(tmp.path / "pareto.json", tmp.path / "link.json");
  fs::create_directory_symlink(tmp.path / "sub", tmp.path / "sublink");
  fs::create_hard_link(tmp.path / "pareto.json", tmp.path / "hard.json");
  const std::vector<nas::InputPath> inputs = {{"--pareto", tmp / "pareto.json"}};

  const std::string message = refusal(tmp / "pareto.json", inputs);
  CHECK(message == "--json '" + tmp / "pareto.json" + "' is the input of --pareto '" + tmp / "pareto.json" +
                       "': an output must not replace an input; choose another path");
  CHECK(refusal(tmp / "link.json", inputs) != "");       // a symlink to the input
  CHECK(refusal(tmp / "hard.json", inputs) != "");       // a hard link to it
  CHECK(refusal(tmp / "sub/../pareto.json", inputs) != "");
  CHECK(refusal(tmp / "sublink/../pareto.json", inputs) != "");  // ".." after a symlink: its target's parent
  CHECK(refusal(tmp / "nope/../pareto.json", inputs) != "");     // a missing directory, then ".."
  CHECK(refusal(tmp / "./pareto.json", inputs) != "");
  {
    const InDirectory here(tmp.path);
    CHECK(refusal("pareto.json", inputs) != "");  // relative output, absolute input
    CHECK(refusal(tmp / "pareto.json", {{"--pareto", "sub/../link.json"}}) != "");  // relative input
    CHECK(refusal("other.json", inputs) == "");
  }
  // The input named through the symlink: writing the link's target or the link itself is refused.
  CHECK(refusal(tmp / "pareto.json", {{"--pareto", tmp / "link.json"}}) != "");
  CHECK(refusal(tmp / "link.json", {{"--pareto", tmp / "link.json"}}) != "");

  CHECK(refusal(tmp / "report.json", inputs) == "");       // not yet existing, another file
  CHECK(refusal(tmp / "sub/pareto.json", inputs) == "");   // same name, another directory
  CHECK(refusal(tmp / "pareto.json.bak", inputs) == "");
  CHECK(refusal(tmp / "pareto.json", {}) == "");
  CHECK(refusal(tmp / "pareto.json", {{"--model", tmp / "missing.nasm"}}) == "");  // its reader says it is missing
  // Every input is checked, and the message names the one hit.
  CHECK(refusal(tmp / "link.json", {{"--model", tmp / "m.nasm"}, {"--history", tmp / "pareto.json"}})
            .find("the input of --history") != std::string::npos);
}

TEST_CASE("refuse_output_over_inputs: inside an input directory only an existing file, or anything when read whole") {
  const TempDir tmp("nas_test_output_guard_dir");
  fs::create_directories(tmp.path / "run/checkpoints");
  write_text(tmp / "run/pareto.json", "{}");
  fs::create_directory_symlink(tmp.path / "run", tmp.path / "runlink");
  const std::vector<nas::InputPath> run = {{"--search-dir", tmp / "run", true}};
  CHECK(refusal(tmp / "run/pareto.json", run).find("would replace a file in the input of --search-dir") !=
        std::string::npos);
  CHECK(refusal(tmp / "runlink/pareto.json", run) != "");
  CHECK(refusal(tmp / "run", run).find("is the input of --search-dir") != std::string::npos);
  CHECK(refusal(tmp / "runlink", run) != "");
  CHECK(refusal(tmp / "run/report.json", run) == "");     // a new file beside the inputs
  CHECK(refusal(tmp / "run/checkpoints/x", run) == "");
  CHECK(refusal(tmp / "elsewhere.json", run) == "");

  const std::vector<nas::InputPath> data = {{"--data-dir", tmp / "run", true, true}};
  CHECK(refusal(tmp / "run/report.json", data).find("lies inside the input of --data-dir") != std::string::npos);
  CHECK(refusal(tmp / "runlink/checkpoints/new/x.json", data) != "");
  CHECK(refusal(tmp / "run2/report.json", data) == "");  // a sibling whose name starts alike
  // A directory input given without is_directory is still recognised as one.
  CHECK(refusal(tmp / "run/pareto.json", {{"--search-dir", tmp / "run"}}) != "");
}

TEST_CASE("refuse_output_over_inputs: a directory's listed files are its only inputs, so a file beside them may be resumed") {
  const TempDir tmp("nas_test_output_guard_files_read");
  fs::create_directories(tmp.path / "sn");
  write_text(tmp / "sn/supernet.json", "{}");
  write_text(tmp / "sn/acc.jsonl", "{}\n");  // the program's own earlier output, resumed
  fs::create_directory_symlink(tmp.path / "sn", tmp.path / "snlink");
  const std::vector<nas::InputPath> sn = {{"--supernet", tmp / "sn", true, false, {"supernet.json", "space.json"}}};
  CHECK(refusal(tmp / "sn/acc.jsonl", sn) == "");
  CHECK(refusal(tmp / "sn/supernet.json", sn).find("would replace a file in the input of --supernet") !=
        std::string::npos);
  CHECK(refusal(tmp / "snlink/supernet.json", sn) != "");
  CHECK(refusal(tmp / "sn/space.json", sn) != "");  // listed, though not there yet
  CHECK(refusal(tmp / "sn", sn) != "");
  // Not listed: every existing file counts, so the same resume is refused.
  CHECK(refusal(tmp / "sn/acc.jsonl", {{"--supernet", tmp / "sn", true}}) != "");
}

TEST_CASE("refuse_output_directory_over_inputs: an output directory holding an input it would overwrite") {
  const TempDir tmp("nas_test_output_guard_outdir");
  fs::create_directories(tmp.path / "out/checkpoints");
  write_text(tmp / "out/pareto.json", "{}");
  write_text(tmp / "out/checkpoints/epoch1.ckpt", "x");
  write_text(tmp / "predictor.json", "{}");
  fs::create_directories(tmp.path / "data/train");
  const auto refused = [&](const std::string& dir, const std::vector<std::string>& written,
                           const std::vector<nas::InputPath>& inputs) {
    return error_of([&] { nas::refuse_output_directory_over_inputs("--out", dir, written, inputs); });
  };
  const std::vector<std::string> written = {"pareto.json", "history.json", "checkpoints"};
  CHECK(refused(tmp / "out", written, {{"--pareto", tmp / "out/pareto.json"}}) ==
        "--out '" + tmp / "out/pareto.json" + "' would replace the input of --pareto '" + tmp / "out/pareto.json" +
            "': an output must not replace an input; choose another path");
  CHECK(refused(tmp / "out", written, {{"--resume", tmp / "out/checkpoints/epoch1.ckpt"}}) != "");
  CHECK(refused(tmp / "out", written, {{"--resume", tmp / "out/checkpoints", true}}) != "");
  CHECK(refused(tmp / "out", written, {{"--predictor", tmp / "predictor.json"}}) == "");
  CHECK(refused(tmp / "out", {"report.json"}, {{"--pareto", tmp / "out/pareto.json"}}) == "");  // read, not written
  CHECK(refused(tmp / "out", {}, {{"--pareto", tmp / "out/pareto.json"}}).find("holds the input") != std::string::npos);
  CHECK(refused(tmp / "out", {}, {{"--dir", tmp / "out", true}}) != "");
  CHECK(refused(tmp / "predictor.json", written, {{"--predictor", tmp / "predictor.json"}}) != "");  // a file as the directory
  CHECK(refused(tmp / "data/run", {}, {{"--data-dir", tmp / "data", true, true}}).find("lies inside") !=
        std::string::npos);
  CHECK(refused(tmp / "data2", {}, {{"--data-dir", tmp / "data", true, true}}) == "");
  CHECK(refused(tmp / "out/../out", written, {{"--pareto", tmp / "out/pareto.json"}}) != "");
}

TEST_CASE("OutputClaim: one holder per directory or file, a second claim names the holder") {
  const TempDir tmp("nas_test_output_claim");
  {
    const nas::OutputClaim first = nas::OutputClaim::directory("--out", tmp / "run", "nas_search");
    CHECK(first.lock_file() == nas::RunLock::lock_path(tmp / "run"));
    CHECK(nas::OutputClaim::recorded_holder(first.lock_file()).find("pid " + std::to_string(::getpid()) +
                                                                    " program nas_search since 20") == 0);
    const std::string second = error_of([&] { nas::OutputClaim::directory("--out", tmp / "run", "nas_search"); });
    CHECK(second.find("--out '" + tmp / "run" + "' is in use by another process (pid " + std::to_string(::getpid()) +
                      " program nas_search since ") == 0);
    CHECK(second.find("wait for it to finish or choose another path") != std::string::npos);
    // RunLock (nas_retrain's queue) and OutputClaim claim the same file.
    CHECK_FALSE(nas::RunLock::try_claim(tmp / "run").has_value());
    CHECK(error_of([&] { nas::OutputClaim::directory("--out", tmp / "other", "nas_search"); }) == "");
  }
  CHECK(error_of([&] { nas::OutputClaim::directory("--out", tmp / "run", "nas_search"); }) == "");  // released

  const std::string out = tmp / "new/report.json";  // the parent does not exist yet
  {
    const nas::OutputClaim claim = nas::OutputClaim::file("--json", out, "nas_report");
    CHECK(claim.lock_file() == out + ".lock");
    CHECK(fs::exists(out + ".lock"));
    CHECK_FALSE(fs::exists(out));  // the claim does not create the output
    CHECK(error_of([&] { nas::OutputClaim::file("--json", out, "nas_report"); }).find("is in use by another process") !=
          std::string::npos);
    // Another name of the same file shares its lock.
    CHECK(error_of([&] { nas::OutputClaim::file("--json", tmp / "new/../new/report.json", ""); }) != "");
    CHECK(error_of([&] { nas::OutputClaim::file("--json", tmp / "new/other.json", ""); }) == "");
  }
  CHECK_FALSE(fs::exists(out + ".lock"));  // a file's lock goes with its claim
  CHECK(error_of([&] { nas::OutputClaim::file("--json", out, "nas_report"); }) == "");
  CHECK(fs::exists(tmp / "run/.run.lock"));  // a directory's stays (flock(1) in the run scripts shares it)

  // A process that opened FILE.lock just before its holder removed it locks a file nobody else
  // looks at: it must not stop the next claim, and the next claim takes a file the path names.
  {
    std::optional<nas::OutputClaim> first = nas::OutputClaim::file("--json", out, "nas_report");
    const int stale = ::open((out + ".lock").c_str(), O_RDWR);
    REQUIRE(stale >= 0);
    first.reset();  // removes the lock file while `stale` still has it open
    CHECK(::flock(stale, LOCK_EX | LOCK_NB) == 0);  // the orphan's lock is free for the taking
    {
      const nas::OutputClaim second = nas::OutputClaim::file("--json", out, "nas_report");
      CHECK(fs::exists(out + ".lock"));
      CHECK(error_of([&] { nas::OutputClaim::file("--json", out, ""); }).find("is in use by another process") !=
            std::string::npos);
    }
    ::close(stale);
  }
  // A lock file left by a killed process is reused, never a claim.
  { std::ofstream(out + ".lock") << "pid 1 program gone since 2026-01-01T00:00:00Z\n"; }
  CHECK(error_of([&] { nas::OutputClaim::file("--json", out, "nas_report"); }) == "");
  CHECK_FALSE(fs::exists(out + ".lock"));
}

TEST_CASE("OutputClaim: a second process is refused while the first holds the claim, and may claim after") {
  const TempDir tmp("nas_test_output_claim_fork");
  const std::string out = tmp / "pareto.json";
  int to_parent[2], to_child[2];
  REQUIRE(::pipe(to_parent) == 0);
  REQUIRE(::pipe(to_child) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {  // holds the claim until the parent writes a byte
    int status = 1;
    try {
      const nas::OutputClaim claim = nas::OutputClaim::file("--out", out, "holder_program");
      char byte = 'c';
      if (::write(to_parent[1], &byte, 1) == 1 && ::read(to_child[0], &byte, 1) == 1) status = 0;
    } catch (...) {
    }
    ::_exit(status);
  }
  char byte = 0;
  REQUIRE(::read(to_parent[0], &byte, 1) == 1);
  const std::string refused = error_of([&] { nas::OutputClaim::file("--out", out, "second"); });
  CHECK(refused.find("(pid " + std::to_string(child) + " program holder_program since ") != std::string::npos);
  byte = 'p';
  REQUIRE(::write(to_child[1], &byte, 1) == 1);
  int status = -1;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  for (int fd : {to_parent[0], to_parent[1], to_child[0], to_child[1]}) ::close(fd);
  CHECK(error_of([&] { nas::OutputClaim::file("--out", out, "second"); }) == "");  // the holder is gone
}

TEST_CASE("parse_json_text: a duplicate key is refused with the file, the key and where it is") {
  CHECK(error_of([] { nas::parse_json_text(R"({"points": [1], "budget_mj": 2, "points": [3]})", "pareto.json"); }) ==
        "pareto.json: duplicate key 'points' in the top-level object; every key may appear once");
  CHECK(error_of([] {
          nas::parse_json_text(R"({"points": [{"key": "P0"}, {"arch": {"width": 1, "width": 2}}]})", "p.json");
        }) == "p.json: duplicate key 'width' in the object at points[1].arch; every key may appear once");
  CHECK(error_of([] { nas::parse_json_text("[[{\"a\\nb\": {\"k\": 1, \"k\": 1}}]]", "x"); }) ==
        "x: duplicate key 'k' in the object at [0][0].'a\\x0ab'; every key may appear once");
  // The same key in two objects, or as a key and a value, is not a duplicate.
  const nas::json ok = nas::parse_json_text(R"({"a": {"k": 1}, "b": {"k": "k"}, "k": [{"k": 2}, {"k": 3}]})", "t");
  CHECK(ok["a"]["k"] == 1);
  CHECK(ok["k"][1]["k"] == 3);
  CHECK(ok.dump() == R"({"a":{"k":1},"b":{"k":"k"},"k":[{"k":2},{"k":3}]})");
}

TEST_CASE("parse_json_text: every JSON value reads back as nlohmann's own parser reads it") {
  const std::string text =
      R"({"s": "t\u00e9xt", "i": -3, "u": 18446744073709551615, "f": 0.25, "e": 1e-300, "n": null,)"
      R"( "b": [true, false], "o": {}, "a": [], "nested": [[1, [2, {"x": [3]}]], {"y": {"z": null}}]})";
  CHECK(nas::parse_json_text(text, "t") == nas::json::parse(text));
  CHECK(nas::parse_json_text("  7 ", "t") == 7);
  CHECK(nas::parse_json_text("\"only\"", "t") == "only");
  CHECK(error_of([] { nas::parse_json_text("[1] x", "trail.json"); }).find("trail.json: invalid JSON: parse error at line 1, column 5") == 0);
  CHECK(error_of([] { nas::parse_json_text("", "empty.json"); }).find("empty.json: invalid JSON") == 0);
  CHECK(error_of([] { nas::parse_json_text("[1e999]", "big.json"); }).find("big.json: invalid JSON: number overflow") == 0);
}

TEST_CASE("parse_json_text: the element limit refuses a too long array or object while it is read") {
  const nas::JsonLimits limits{3};
  CHECK(nas::parse_json_text("[1, 2, 3]", "t", limits).size() == 3);
  CHECK(nas::parse_json_text(R"({"points": [{"a": 1, "b": 2, "c": 3}, 2, 3]})", "t", limits).size() == 1);
  CHECK(error_of([&] { nas::parse_json_text(R"({"points": [1, 2, 3, 4]})", "p.json", limits); }) ==
        "p.json: points holds more than 3 elements; the accepted maximum is 3");
  CHECK(error_of([&] { nas::parse_json_text(R"([{"a": 1, "b": 2, "c": 3, "d": 4}])", "p.json", limits); }) ==
        "p.json: [0] holds more than 3 elements; the accepted maximum is 3");
  CHECK(error_of([&] { nas::parse_json_text("[1, 2, 3, 4]", "p.json", limits); }) ==
        "p.json: the top-level value holds more than 3 elements; the accepted maximum is 3");
}
