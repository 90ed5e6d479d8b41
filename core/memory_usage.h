#pragma once
// Resident memory of this process, from /proc/self (Linux). Peak figures are what a user sizing a
// machine needs: the training benchmark and nas_retrain report them.
#include <cstdint>

namespace nas {

// Peak resident set (VmHWM) in bytes since the process started or since the last successful
// reset_peak_rss(); -1 where /proc is unavailable.
int64_t peak_rss_bytes();
// Resets the peak to the current resident set (writes "5" to /proc/self/clear_refs, Linux >=
// 4.0). Returns false where that is not possible (the peak then keeps counting from the start).
bool reset_peak_rss();

constexpr double bytes_to_mib(int64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

}  // namespace nas
