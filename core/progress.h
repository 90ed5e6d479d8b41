#pragma once
// A progress line on stderr for long work: "train epoch 3/10  1280/60000 img  412 img/s
// ETA 2m25s  loss 0.412". Rate-limited so it costs nothing in hot loops.
#include <chrono>
#include <cstdint>
#include <string>

namespace nas {

// Seconds of steady-clock time since t0 (timing fields of results and benches).
inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

class Progress {
 public:
  // `total` items of `unit` (e.g. "img"); total <= 0 means unknown (no ETA).
  Progress(std::string label, int64_t total, std::string unit = "it",
           double min_interval_s = 1.0);

  // Reports `done` items so far and an optional free-form suffix ("loss 0.41 acc 87.2%").
  // Prints at most once per min_interval_s unless `force`.
  void update(int64_t done, const std::string& extra = "", bool force = false);
  // Prints the final line with the total time and a newline.
  void finish(const std::string& extra = "");

  double elapsed_s() const;
  double rate_per_s() const;  // items per second so far

  // "1h02m", "2m25s", "14.2s"
  static std::string format_duration(double seconds);

 private:
  std::string line(const std::string& extra) const;

  std::string label_;
  int64_t total_;
  std::string unit_;
  double min_interval_s_;
  int64_t done_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_print_;
  bool printed_ = false;
  bool tty_;
};

}  // namespace nas
