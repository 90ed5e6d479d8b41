#pragma once
// Local launcher of data-parallel training (nas_train_supernet / nas_retrain --nproc N): spawns N
// copies of the running program with the same arguments as ranks 0..N-1 of one job on this
// machine, with torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR
// 127.0.0.1, MASTER_PORT a free port), and waits. When a rank fails, the others are stopped
// (SIGTERM, then SIGKILL after a grace period) and the launcher says which rank failed and how.
// Torch-free.
#include <string>

namespace nas::cli {

// True when this process is a rank of a launched or torchrun-style job (WORLD_SIZE > 1 is set).
bool is_distributed_worker();

// The kernel's ephemeral port range (/proc/sys/net/ipv4/ip_local_port_range; Linux's default
// 32768-60999 when unreadable), inclusive.
struct PortRange {
  int low, high;
};
PortRange ephemeral_port_range();

// A TCP port free on the loopback interface now, drawn at random below the ephemeral range (so
// that no port the kernel assigns by itself in the meantime can take it before rank 0 binds it);
// a kernel-chosen one when there is no room below that range.
int free_loopback_port();

// Runs the job; returns the launcher's exit code (0 when every rank succeeded).
int launch_local_ranks(const std::string& program, int nproc, int argc, char** argv);

}  // namespace nas::cli
