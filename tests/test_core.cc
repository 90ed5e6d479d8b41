#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <filesystem>
#include <set>
#include <thread>
#include <atomic>
#include <chrono>

#include "cli/cli_common.h"
#include "cli/launcher.h"
#include "core/atomic_file.h"
#include "core/checked_math.h"
#include "core/energy_units.h"
#include "core/error.h"
#include "core/fnv1a.h"
#include "core/sealed_file.h"
#include "core/json_util.h"
#include "core/progress.h"
#include "core/rng.h"
#include "core/run_lock.h"
#include "core/string_format.h"

using nas::parse_energy_j;

TEST_CASE("NAS_CHECK throws nas::Error with file:line") {
  try {
    NAS_CHECK(1 + 1 == 3, "arithmetic is " << "broken");
    FAIL("no throw");
  } catch (const nas::Error& e) {
    CHECK(e.message() == "arithmetic is broken");
    CHECK(e.file() == "test_core.cc");
    CHECK(e.line() > 0);
    CHECK(std::string(e.what()).find("test_core.cc:") != std::string::npos);
  }
}

TEST_CASE("energy units: accepted forms") {
  CHECK(parse_energy_j("10mJ") == doctest::Approx(10e-3));
  CHECK(parse_energy_j("10 mJ") == doctest::Approx(10e-3));
  CHECK(parse_energy_j("250uJ") == doctest::Approx(250e-6));
  CHECK(parse_energy_j("250\xC2\xB5J") == doctest::Approx(250e-6));
  CHECK(parse_energy_j("1e-3J") == doctest::Approx(1e-3));
  CHECK(parse_energy_j("5nJ") == doctest::Approx(5e-9));
  CHECK(parse_energy_j("3pJ") == doctest::Approx(3e-12));
  CHECK(parse_energy_j("  0.5 J ") == doctest::Approx(0.5));
  CHECK(parse_energy_j("0mJ") == 0.0);
}

TEST_CASE("energy units: rejected forms name what is accepted") {
  for (const char* bad : {"", "   ", "-1mJ", "-0mJ", "nan mJ", "NaNmJ", "inf J", "10", "10 m",
                          "10 kJ", "10mJx", "10 mJ extra", "mJ", "1e999mJ", "0x10mJ", "10 mj"}) {
    CAPTURE(bad);
    try {
      parse_energy_j(bad);
      FAIL("accepted " << bad);
    } catch (const nas::Error& e) {
      CHECK(e.message().find("accepted:") != std::string::npos);
    }
  }
}

TEST_CASE("format_energy picks a readable unit") {
  CHECK(nas::format_energy(0.0123) == "12.3 mJ");
  CHECK(nas::format_energy(2.5e-6) == "2.5 uJ");
  CHECK(nas::format_energy(1.5) == "1.5 J");
}

TEST_CASE("Rng: deterministic, range-correct, resumable") {
  nas::Rng a(42), b(42), c(43);
  CHECK(a.next_u64() == b.next_u64());
  CHECK(a.next_u64() != c.next_u64());
  std::set<int64_t> seen;
  for (int i = 0; i < 2000; ++i) {
    const int64_t v = a.uniform_int(-3, 3);
    CHECK(v >= -3);
    CHECK(v <= 3);
    seen.insert(v);
    const double u = a.uniform();
    CHECK(u >= 0.0);
    CHECK(u < 1.0);
  }
  CHECK(seen.size() == 7);
  const std::string saved = a.state();
  const uint64_t x1 = a.next_u64(), x2 = a.next_u64();
  nas::Rng restored(0);
  restored.restore(saved);
  CHECK(restored.next_u64() == x1);
  CHECK(restored.next_u64() == x2);
  CHECK_THROWS_AS(restored.restore("not a state"), nas::Error);
  double sum = 0, sum_sq = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const double z = a.normal();
    sum += z;
    sum_sq += z * z;
  }
  CHECK(std::fabs(sum / n) < 0.05);
  CHECK(std::fabs(sum_sq / n - 1.0) < 0.05);
}

TEST_CASE("seeded_permutation is a permutation and depends on the seed") {
  auto p = nas::seeded_permutation(100, 7);
  auto q = nas::seeded_permutation(100, 7);
  auto r = nas::seeded_permutation(100, 8);
  CHECK(p == q);
  CHECK(p != r);
  std::set<int64_t> s(p.begin(), p.end());
  CHECK(s.size() == 100);
  CHECK(*s.begin() == 0);
  CHECK(*s.rbegin() == 99);
}

TEST_CASE("atomic writes replace the file and leave no temporaries") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("nas_core_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string path = (dir / "sub" / "out.json").string();
  nas::write_file_atomic(path, "first");
  CHECK(nas::read_file(path) == "first");
  nas::write_json_file(path, nas::json{{"a", 1}});
  CHECK(nas::read_json_file(path)["a"] == 1);
  int files = 0;
  for (auto& entry : fs::directory_iterator(dir / "sub")) {
    (void)entry;
    ++files;
  }
  CHECK(files == 1);
  nas::write_file_atomic((dir / "bad.json").string(), "{\"a\": ");
  CHECK_THROWS_WITH_AS(nas::read_json_file((dir / "bad.json").string()),
                       doctest::Contains("invalid JSON"), nas::Error);
  CHECK_THROWS_WITH_AS(nas::read_file((dir / "missing.json").string()),
                       doctest::Contains("missing.json"), nas::Error);
  // Sizes are checked before reading; a directory is not read as a file.
  CHECK(nas::read_file(path, 100).size() == nas::read_file(path).size());
  CHECK_THROWS_WITH_AS(nas::read_file(path, 3), doctest::Contains("bytes, more than the 3 bytes"), nas::Error);
  CHECK_THROWS_WITH_AS(nas::read_file((dir / "sub").string()), doctest::Contains(doctest::Contains("sub: is a directory, not a file")), nas::Error);
  fs::remove_all(dir);
}

TEST_CASE("context block has every documented field") {
  nas::RunContext run;
  run.program = "test";
  run.argv = {"prog", "--out", "a dir"};
  run.seed = 5;
  run.threads = 2;
  const nas::json ctx = nas::make_context(run);
  for (const char* key : {"schema_version", "program", "git_commit", "build_type",
                          "libtorch_version", "device", "threads", "seed", "command_line", "date", "host",
                          "num_cpus", "cpu_model"}) {
    CAPTURE(key);
    CHECK(ctx.contains(key));
  }
  // The machine behind a result's timings: a name from /proc/cpuinfo, one line.
  CHECK(ctx["cpu_model"].is_string());
  CHECK(!ctx["cpu_model"].get<std::string>().empty());
  CHECK(ctx["cpu_model"].get<std::string>().find('\n') == std::string::npos);
  CHECK(ctx["command_line"] == "prog --out 'a dir'");
  CHECK(ctx["seed"] == 5);
}

TEST_CASE("json typed access names the field") {
  nas::json j = {{"n", 3}, {"x", 1.5}, {"s", "hi"}, {"f", 2.5}};
  CHECK(nas::json_int(j, "n", "layer 0") == 3);
  CHECK(nas::json_number(j, "x", "layer 0") == 1.5);
  CHECK(nas::json_string(j, "s", "layer 0") == "hi");
  CHECK_THROWS_WITH_AS(nas::json_int(j, "missing", "layer 0"),
                       doctest::Contains("field 'missing' is missing"), nas::Error);
  CHECK_THROWS_WITH_AS(nas::json_int(j, "f", "layer 0"), doctest::Contains("must be an integer"),
                       nas::Error);
  CHECK_THROWS_AS(nas::json_string(j, "n", "layer 0"), nas::Error);
}

TEST_CASE("checked arithmetic detects every int64 overflow") {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  CHECK(nas::checked_mul(3, 4) == 12);
  CHECK(nas::checked_mul(-3, 4) == -12);
  CHECK(nas::checked_mul(int64_t{1} << 31, int64_t{1} << 31) == int64_t{1} << 62);
  CHECK_FALSE(nas::checked_mul(int64_t{1} << 32, int64_t{1} << 31).has_value());
  CHECK_FALSE(nas::checked_mul(kMax, -2).has_value());
  CHECK(nas::checked_add(kMax - 1, 1) == kMax);
  CHECK_FALSE(nas::checked_add(kMax, 1).has_value());
  CHECK(nas::checked_product({}) == 1);
  CHECK(nas::checked_product({7, 11, 13}) == 1001);
  // The wrapped product of these is negative (what nas_energy reported as MACs before).
  CHECK_FALSE(nas::checked_product({65535, 65535, 16777215, 16777215}).has_value());
  // 2^96 wraps to exactly 0: the "0 mJ" of an all-2^24 layer.
  CHECK_FALSE(nas::checked_product({1 << 24, 1 << 24, 1 << 24, 1 << 24}).has_value());
}

TEST_CASE("JSON readers refuse deep nesting before anything recurses") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("nas_core_json_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto nested = [](int depth, char open, char close) {
    return std::string(static_cast<size_t>(depth), open) +
           std::string(static_cast<size_t>(depth), close);
  };
  // 100,000 levels overflowed the stack (SIGSEGV) in json::dump of an error message.
  const std::string deep = (dir / "deep.json").string();
  nas::write_file_atomic(deep, nested(100000, '[', ']'));
  CHECK_THROWS_WITH_AS(nas::read_json_file(deep),
                       doctest::Contains("deep.json: JSON nested deeper than 64 levels"),
                       nas::Error);
  CHECK(nas::parse_json_text(nested(nas::kMaxJsonDepth, '[', ']'), "t").is_array());
  CHECK_THROWS_WITH_AS(nas::parse_json_text(nested(nas::kMaxJsonDepth + 1, '[', ']'), "in.json"),
                       doctest::Contains("in.json: JSON nested deeper than 64"), nas::Error);
  std::string objects;
  for (int i = 0; i < 1000; ++i) objects += "{\"a\":";
  objects += "1" + std::string(1000, '}');
  CHECK_THROWS_WITH_AS(nas::parse_json_text(objects, "obj.json"),
                       doctest::Contains("obj.json: JSON nested deeper"), nas::Error);
  // Syntax errors keep their line/column.
  CHECK_THROWS_WITH_AS(nas::parse_json_text("[1,\n 2", "s.json"),
                       doctest::Contains("s.json: invalid JSON: parse error at line 2"),
                       nas::Error);
  fs::remove_all(dir);
}

TEST_CASE("first_json_difference names the first differing path") {
  const nas::json a = {{"trainer", {{"lr", 0.1}, {"epochs", 15}}}, {"aug", "shiftaddaug"}};
  CHECK(nas::first_json_difference(a, a, "settings").empty());
  nas::json b = a;
  b["trainer"]["lr"] = 0.2;
  CHECK(nas::first_json_difference(a, b, "settings") == "settings.trainer.lr");
  nas::json c = a;
  c["trainer"].erase("epochs");
  CHECK(nas::first_json_difference(a, c, "settings") == "settings.trainer.epochs");  // missing in b
  CHECK(nas::first_json_difference(c, a, "settings") == "settings.trainer.epochs");  // extra in b
  CHECK(nas::first_json_difference(nas::json(1), nas::json("1"), "v") == "v");       // type differs
  // Keys from a file stay on one bounded line.
  const nas::json odd = {{"line\nbreak", 1}};
  CHECK(nas::first_json_difference(odd, nas::json::object(), "s") == "s.'line\\x0abreak'");
  nas::json deep = 1, deep_other = 2;
  for (int i = 0; i < 60; ++i) {
    deep = nas::json{{std::string(60, 'k'), deep}};
    deep_other = nas::json{{std::string(60, 'k'), deep_other}};
  }
  const std::string path = nas::first_json_difference(deep, deep_other, "s");
  CHECK(path.size() < 600);
  CHECK(path.find("(...)") != std::string::npos);
}

TEST_CASE("json_excerpt bounds what an error message prints") {
  CHECK(nas::json_excerpt(nas::json(3)) == "3");
  CHECK(nas::json_excerpt(nas::json{{"a", {1, 2}}}) == "{\"a\":[1,2]}");
  nas::json wide = nas::json::array();
  for (int i = 0; i < 100000; ++i) wide.push_back(i);
  const std::string w = nas::json_excerpt(wide);
  CHECK(w.size() <= nas::kJsonExcerptChars);
  CHECK(w.rfind("[0,1,2,", 0) == 0);
  CHECK(w.substr(w.size() - 3) == "...");
  CHECK(nas::json_excerpt(nas::json(std::string(1000000, 'x'))).size() <= nas::kJsonExcerptChars);
  // A value built in memory can be deeper than any file we read; the excerpt stops early.
  nas::json deep = nas::json::array();
  for (int i = 0; i < 100000; ++i) deep = nas::json::array({std::move(deep)});
  CHECK(nas::json_excerpt(deep) == "[[[[[...]]]]]");
  // Typed access prints excerpts too.
  const nas::json holder = {{"n", wide}};
  try {
    nas::json_int(holder, "n", "layer 0");
    FAIL("accepted an array");
  } catch (const nas::Error& e) {
    CHECK(e.message().size() < 200);
  }
  // A cut never splits a UTF-8 character (dump() throws on invalid UTF-8).
  std::string accents = "a";
  for (int i = 0; i < 200; ++i) accents += "\xC3\xA9";
  const std::string cut = nas::json_excerpt(nas::json(accents));
  CHECK(cut.size() <= nas::kJsonExcerptChars);
  CHECK_NOTHROW(nas::json(cut).dump());
}

TEST_CASE("string_printf and format_double never cut the text") {
  CHECK(nas::string_printf("%d-%s", 7, "x") == "7-x");
  CHECK(nas::string_printf("%s", "") == "");
  const std::string long_text(5000, 'a');
  CHECK(nas::string_printf("<%s>", long_text.c_str()).size() == 5002);
  CHECK(nas::format_double(12.345, 1) == "12.3");
  // 1e30 in %.1f is 33 characters: a 32-byte buffer cut it.
  const std::string big = nas::format_double(1e30, 1);
  CHECK(big.size() == 33);
  CHECK(big.substr(big.size() - 2) == ".0");
  CHECK(nas::format_energy(1e-30) == "1e-18 pJ");
}

TEST_CASE("progress formats durations") {
  CHECK(nas::Progress::format_duration(14.2) == "14.2s");
  CHECK(nas::Progress::format_duration(145) == "2m25s");
  CHECK(nas::Progress::format_duration(3720) == "1h02m");
}

TEST_CASE("cli: guarded_main turns exceptions into exit code 1") {
  CHECK(nas::cli::guarded_main("t", [] { return 0; }) == 0);
  CHECK(nas::cli::guarded_main("t", []() -> int { NAS_THROW("boom"); }) == 1);
  nas::cli::CommonFlags flags;
  flags.threads = 3;
  CHECK(nas::cli::resolve_threads(flags) == 3);
  flags.threads = 0;
  CHECK(nas::cli::resolve_threads(flags) >= 1);
}

TEST_CASE("cli: oversubscription warning when thread teams do not fit the cores") {
  using nas::cli::CpuLoad;
  using nas::cli::oversubscription_warning;
  const auto load = [](double avg, int runnable) {
    CpuLoad l;
    l.known = true;
    l.load_1min = avg;
    l.runnable_now = runnable;
    return l;
  };
  // One other 1-thread training (load ~1, it and this process runnable) against a 2-thread team.
  const std::string w = oversubscription_warning(2, 2, load(1.02, 2));
  CHECK(w.find("2 threads on 2 cores while about 1 other thread is busy (load average 1.02, 2 runnable)") == 0);
  CHECK(w.find("at most 2") != std::string::npos);
  CHECK(w.find('\n') == std::string::npos);
  CHECK(oversubscription_warning(4, 2, load(0.9, 3)).find("4 threads on 2 cores while about 1 other thread is busy") == 0);
  CHECK(oversubscription_warning(2, 4, load(3.0, 4)).find("2 threads on 4 cores while about 3 other threads are busy") == 0);
  // Fits: an idle machine, a 1-thread process, or threads + others <= cores.
  CHECK(oversubscription_warning(2, 2, load(0.05, 1)).empty());
  CHECK(oversubscription_warning(1, 2, load(2.0, 3)).empty());
  CHECK(oversubscription_warning(2, 4, load(2.0, 3)).empty());
  // Both estimates must agree: an old load with nothing runnable now, or a momentary spike.
  CHECK(oversubscription_warning(2, 2, load(1.5, 1)).empty());
  CHECK(oversubscription_warning(2, 2, load(0.1, 5)).empty());
  CHECK(oversubscription_warning(2, 2, CpuLoad{}).empty());  // /proc/loadavg unreadable
  // This machine's reading parses (Linux), or says it does not know.
  const CpuLoad here = nas::cli::read_cpu_load();
  if (here.known) CHECK(here.runnable_now >= 1);
}

TEST_CASE("cli: read_cpu_load parses /proc/loadavg's format and refuses anything else") {
  const auto dir = std::filesystem::temp_directory_path() / "nas_test_core_loadavg";
  std::filesystem::create_directories(dir);
  const auto read = [&](const std::string& text) {
    const std::string path = (dir / "loadavg").string();
    std::ofstream(path, std::ios::binary) << text;
    return nas::cli::read_cpu_load(path);
  };
  const nas::cli::CpuLoad ok = read("1.52 0.98 0.40 3/412 12345\n");
  CHECK(ok.known);
  CHECK(ok.load_1min == doctest::Approx(1.52));
  CHECK(ok.runnable_now == 3);
  CHECK_FALSE(read("").known);
  CHECK_FALSE(read("1.5 1.0\n").known);                             // fields missing
  CHECK_FALSE(read("1.5 1.0 0.5 3 412\n").known);                   // no runnable/total
  CHECK_FALSE(read("-1 1.0 0.5 3/412 1\n").known);                  // negative load
  CHECK_FALSE(read("nan 1.0 0.5 3/412 1\n").known);
  CHECK_FALSE(read("1e300 1 1 3/412 1\n").known);                   // out of range
  CHECK_FALSE(read("1 1 1 99999999999999999999999/412 1\n").known);  // clamped by strtol, refused
  CHECK_FALSE(read(std::string(100000, '7')).known);                // one huge number, read bounded
  CHECK_FALSE(nas::cli::read_cpu_load((dir / "absent").string()).known);
  std::filesystem::remove_all(dir);
}

TEST_CASE("cli: library errors naming option fields are rewritten to name the flags") {
  const nas::Error e("trainer.stop_width_aug_fraction must be in [0, 1], got 2; data.val_size 7 leaves no "
                     "training images (subtrainer.epochs untouched)",
                     "f.cc", 3);
  const nas::Error r = nas::cli::with_flag_names(e, {"trainer", "data"});
  CHECK(r.message() ==
        "--stop-width-aug-fraction must be in [0, 1], got 2; --val-size 7 leaves no training images "
        "(subtrainer.epochs untouched)");
  CHECK(r.line() == 3);
  // Prefixes not asked for stay.
  CHECK(nas::cli::with_flag_names(e, {"data"}).message().rfind("trainer.stop_width_aug_fraction", 0) == 0);
}

TEST_CASE("cli: prepare_run_dir refuses a directory holding a run unless resuming") {
  const auto dir = std::filesystem::temp_directory_path() / "nas_test_core_run_dir";
  std::filesystem::remove_all(dir);
  const std::string ckpt = nas::cli::prepare_run_dir(dir.string(), "run.ckpt", false);
  CHECK(std::filesystem::is_directory(dir));
  CHECK(ckpt == (dir / "run.ckpt").string());
  nas::write_file_atomic(ckpt, "x");
  CHECK_THROWS_WITH_AS(nas::cli::prepare_run_dir(dir.string(), "run.ckpt", false),
                       doctest::Contains("already holds a run (run.ckpt): pass --resume"), nas::Error);
  CHECK(nas::cli::prepare_run_dir(dir.string(), "run.ckpt", true) == ckpt);
  std::filesystem::remove_all(dir);
}

TEST_CASE("RunLock: one claim per run directory, released with its owner, claim() waits") {
  const auto dir = std::filesystem::temp_directory_path() / "nas_test_core_run_lock";
  std::filesystem::remove_all(dir);
  {
    std::optional<nas::RunLock> first = nas::RunLock::try_claim(dir.string());
    REQUIRE(first.has_value());
    CHECK(std::filesystem::exists(nas::RunLock::lock_path(dir.string())));
    CHECK_FALSE(nas::RunLock::try_claim(dir.string()).has_value());      // held: refused, not waited for
    CHECK(nas::RunLock::try_claim((dir / "other").string()).has_value());  // another run is free
    nas::RunLock moved = std::move(*first);                                // moving keeps the claim
    first.reset();
    CHECK_FALSE(nas::RunLock::try_claim(dir.string()).has_value());
    // claim() waits until the owner lets go.
    std::atomic<bool> released{false}, claimed_after_release{false};
    std::thread waiter([&] {
      const nas::RunLock waited = nas::RunLock::claim(dir.string());
      claimed_after_release = released.load();
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    released = true;
    { nas::RunLock drop = std::move(moved); }
    waiter.join();
    CHECK(claimed_after_release);
  }
  CHECK(nas::RunLock::try_claim(dir.string()).has_value());  // every claim above is gone
  std::filesystem::remove_all(dir);
}

TEST_CASE("cli: the launcher's port is free and outside the kernel's ephemeral range") {
  // Outside that range no port the kernel assigns by itself (bind to port 0, an outgoing
  // connection) can take it between the pick and rank 0's bind.
  const nas::cli::PortRange ephemeral = nas::cli::ephemeral_port_range();
  CHECK(ephemeral.low >= 1);
  CHECK(ephemeral.low <= ephemeral.high);
  CHECK(ephemeral.high <= 65535);
  std::set<int> seen;
  for (int i = 0; i < 20; ++i) {
    const int port = nas::cli::free_loopback_port();
    CHECK(port >= 1024);
    CHECK(port <= 65535);
    if (ephemeral.low - 1 - 10000 >= 1000) {
      CHECK(port >= 10000);
      CHECK(port < ephemeral.low);
    }
    seen.insert(port);
  }
  CHECK(seen.size() >= 10);  // drawn at random: concurrent launchers rarely meet
}

TEST_CASE("fnv1a64 is the standard FNV-1a 64 (reference test vectors)") {
  CHECK(nas::fnv1a64("") == 0xcbf29ce484222325ULL);
  CHECK(nas::fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(nas::fnv1a64("foobar") == 0x85944171f73967e8ULL);
  CHECK(nas::fnv1a64_text("a") == "fnv1a64:af63dc4c8601ec8c");
  // The legacy basis stays what the first file versions used.
  CHECK(nas::fnv1a64_legacy("") == 1469598103934665603ULL);
}

TEST_CASE("sealed files: the standard checksum, a legacy one reported, anything else refused") {
  const std::string magic = "NASTEST1";
  std::string bytes = nas::seal(magic, "{\"a\":1}", "payload");
  nas::SealedFile f = nas::open_sealed(bytes, magic, "x", "a test", "the test");
  CHECK(!f.legacy_checksum);
  CHECK(f.data == "payload");
  CHECK(f.header.at("a") == 1);
  // The same file sealed with the legacy basis (what the first versions wrote).
  const std::string body = bytes.substr(0, bytes.size() - 8);
  std::string legacy = body;
  const uint64_t h = nas::fnv1a64_legacy(body);
  for (int i = 0; i < 8; ++i) legacy += static_cast<char>((h >> (8 * i)) & 0xff);
  CHECK(nas::open_sealed(legacy, magic, "x", "a test", "the test").legacy_checksum);
  bytes[17] ^= 1;
  CHECK_THROWS_WITH_AS(nas::open_sealed(bytes, magic, "x", "a test", "the test"),
                       doctest::Contains("x: checksum mismatch: the file is corrupt or truncated"), nas::Error);
}

TEST_CASE("first_line_excerpt keeps one bounded line of a foreign error") {
  CHECK(nas::first_line_excerpt("short") == "short");
  CHECK(nas::first_line_excerpt("one\ntwo\nthree") == "one");
  CHECK(nas::first_line_excerpt(std::string(500, 'x'), 10) == std::string(10, 'x') + "...");
}
