#include "cli/launcher.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <random>
#include <thread>
#include <vector>

#include "core/error.h"

extern "C" char** environ;

namespace nas::cli {

bool is_distributed_worker() {
  const char* world = std::getenv("WORLD_SIZE");
  return world && std::atoi(world) > 1;
}

namespace {

// Binds a TCP socket to `port` on the loopback interface (0: the kernel picks) and closes it;
// returns the port that was bound, or -1 (errno set) when the bind failed.
int bind_loopback_once(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t len = sizeof addr;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  const int saved_errno = errno;
  ::close(fd);
  errno = saved_errno;
  return ok ? ntohs(addr.sin_port) : -1;
}

}  // namespace

PortRange ephemeral_port_range() {
  PortRange range{32768, 60999};  // Linux's default
  if (std::FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    int low = 0, high = 0;
    if (std::fscanf(f, "%d %d", &low, &high) == 2 && low >= 1 && low <= high && high <= 65535) range = {low, high};
    std::fclose(f);
  }
  return range;
}

int free_loopback_port() {
  // The port is chosen here and bound later by rank 0, so between the two another process could
  // take it. A port the kernel hands out by itself (bind to port 0, every outgoing connection)
  // comes from the ephemeral range, so the port is drawn below that range, where only a process
  // that names the same port explicitly can collide with it.
  const PortRange ephemeral = ephemeral_port_range();
  const int low = 10000, high = ephemeral.low - 1;
  if (high - low >= 1000) {
    std::random_device entropy;
    std::uniform_int_distribution<int> pick(low, high);
    for (int attempt = 0; attempt < 64; ++attempt) {
      const int port = pick(entropy);
      if (bind_loopback_once(port) == port) return port;  // free now
    }
  }
  // No room below the ephemeral range (or all of it busy): let the kernel choose.
  const int port = bind_loopback_once(0);
  NAS_CHECK(port > 0, "launcher: cannot find a free port: " << std::strerror(errno));
  return port;
}

namespace {

std::string describe(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
                                  strsignal(WTERMSIG(status)) + ")";
  return "ended (status " + std::to_string(status) + ")";
}

}  // namespace

int launch_local_ranks(const std::string& program, int nproc, int argc, char** argv) {
  NAS_CHECK(nproc >= 2 && nproc <= 256, "--nproc must be in 2..256, got " << nproc);
  const std::string port = std::to_string(free_loopback_port());
  std::vector<pid_t> pids(static_cast<size_t>(nproc), -1);
  std::vector<char*> args(argv, argv + argc);
  args.push_back(nullptr);
  // Each rank's environment is built before fork: between fork and exec the child only calls
  // async-signal-safe functions (the launcher may have threads).
  std::vector<std::vector<std::string>> envs(static_cast<size_t>(nproc));
  std::vector<std::vector<char*>> envps(static_cast<size_t>(nproc));
  const char* const kOwn[] = {"RANK=", "LOCAL_RANK=", "WORLD_SIZE=", "LOCAL_WORLD_SIZE=", "MASTER_ADDR=", "MASTER_PORT="};
  for (int rank = 0; rank < nproc; ++rank) {
    std::vector<std::string>& env = envs[static_cast<size_t>(rank)];
    for (char** e = environ; *e; ++e) {
      const std::string entry = *e;
      bool own = false;
      for (const char* prefix : kOwn) own = own || entry.rfind(prefix, 0) == 0;
      if (!own) env.push_back(entry);
    }
    env.push_back("RANK=" + std::to_string(rank));
    env.push_back("LOCAL_RANK=" + std::to_string(rank));
    env.push_back("WORLD_SIZE=" + std::to_string(nproc));
    env.push_back("LOCAL_WORLD_SIZE=" + std::to_string(nproc));
    env.push_back("MASTER_ADDR=127.0.0.1");
    env.push_back("MASTER_PORT=" + port);
    for (std::string& e : env) envps[static_cast<size_t>(rank)].push_back(e.data());
    envps[static_cast<size_t>(rank)].push_back(nullptr);
  }
  const pid_t launcher = ::getpid();
  std::fflush(nullptr);
  for (int rank = 0; rank < nproc; ++rank) {
    const pid_t pid = ::fork();
    NAS_CHECK(pid >= 0, "launcher: fork failed: " << std::strerror(errno));
    if (pid == 0) {
      // A rank must not outlive its launcher (killed by a scheduler, a timeout, a terminal).
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != launcher) ::_exit(1);
      ::execve("/proc/self/exe", args.data(), envps[static_cast<size_t>(rank)].data());
      const char message[] = "launcher: cannot start a rank (execve failed)\n";
      (void)!::write(2, message, sizeof message - 1);
      ::_exit(127);
    }
    pids[static_cast<size_t>(rank)] = pid;
  }
  std::fprintf(stderr, "%s: launched %d ranks on this machine (127.0.0.1:%s)\n", program.c_str(), nproc, port.c_str());
  int exit_code = 0, running = nproc;
  bool stopping = false;
  auto stop_ahead = std::chrono::steady_clock::time_point::max();
  while (running > 0) {
    // Only our ranks are reaped (never another child of this process), polling every 50 ms.
    int status = 0;
    pid_t done = 0;
    for (pid_t p : pids)
      if (p > 0 && (done = ::waitpid(p, &status, WNOHANG)) != 0) break;
    if (done > 0) {
      --running;
      int rank = 0;
      while (rank < nproc && pids[static_cast<size_t>(rank)] != done) ++rank;
      if (rank < nproc) pids[static_cast<size_t>(rank)] = -1;
      const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      if (!ok && !stopping) {
        std::fprintf(stderr, "%s: launcher: rank %d %s; stopping the other ranks\n", program.c_str(), rank,
                     describe(status).c_str());
        exit_code = 1;
        stopping = true;
        for (pid_t p : pids)
          if (p > 0) ::kill(p, SIGTERM);
        stop_ahead = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      }
    } else if (done < 0 && errno != EINTR) {
      break;
    } else {
      if (stopping && std::chrono::steady_clock::now() > stop_ahead) {
        for (pid_t p : pids)
          if (p > 0) ::kill(p, SIGKILL);
        stop_ahead = std::chrono::steady_clock::time_point::max();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return exit_code;
}

}  // namespace nas::cli
