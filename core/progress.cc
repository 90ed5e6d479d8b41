#include "core/progress.h"

#include <unistd.h>

#include <cstdio>

#include "core/string_format.h"

namespace nas {

Progress::Progress(std::string label, int64_t total, std::string unit, double min_interval_s)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      min_interval_s_(min_interval_s),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_),
      tty_(::isatty(STDERR_FILENO) != 0) {}

double Progress::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

double Progress::rate_per_s() const {
  const double t = elapsed_s();
  return t > 0 ? static_cast<double>(done_) / t : 0.0;
}

std::string Progress::format_duration(double seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 60) return string_printf("%.1fs", seconds);
  if (seconds < 3600)
    return string_printf("%dm%02ds", static_cast<int>(seconds) / 60,
                         static_cast<int>(seconds) % 60);
  return string_printf("%dh%02dm", static_cast<int>(seconds) / 3600,
                       (static_cast<int>(seconds) / 60) % 60);
}

std::string Progress::line(const std::string& extra) const {
  const double rate = rate_per_s();
  std::string eta;
  if (total_ > 0 && rate > 0 && done_ < total_) {
    eta = "  ETA " + format_duration(static_cast<double>(total_ - done_) / rate);
  }
  std::string out;
  if (total_ > 0) {
    out = string_printf("%s  %lld/%lld %s  %.1f %s/s  %s%s", label_.c_str(),
                        static_cast<long long>(done_), static_cast<long long>(total_),
                        unit_.c_str(), rate, unit_.c_str(), format_duration(elapsed_s()).c_str(),
                        eta.c_str());
  } else {
    out = string_printf("%s  %lld %s  %.1f %s/s  %s", label_.c_str(),
                        static_cast<long long>(done_), unit_.c_str(), rate, unit_.c_str(),
                        format_duration(elapsed_s()).c_str());
  }
  if (!extra.empty()) out += "  " + extra;
  return out;
}

void Progress::update(int64_t done, const std::string& extra, bool force) {
  done_ = done;
  const auto now = std::chrono::steady_clock::now();
  if (!force && std::chrono::duration<double>(now - last_print_).count() < min_interval_s_) return;
  last_print_ = now;
  printed_ = true;
  // On a terminal the line is rewritten in place; in a log file each update is its own line.
  std::fprintf(stderr, tty_ ? "\r%s\033[K" : "%s\n", line(extra).c_str());
  std::fflush(stderr);
}

void Progress::finish(const std::string& extra) {
  if (total_ > 0) done_ = total_;
  std::fprintf(stderr, tty_ ? "\r%s\033[K\n" : "%s\n", line(extra).c_str());
  std::fflush(stderr);
}

}  // namespace nas
