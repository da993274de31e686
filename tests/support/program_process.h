#ifndef EDDY_TESTS_SUPPORT_PROGRAM_PROCESS_H_
#define EDDY_TESTS_SUPPORT_PROGRAM_PROCESS_H_

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace eddy::testing {

// How to start a shipped program for a test.
struct ProgramLaunch {
  // A file, or a name without '/' searched on the PATH (e.g. "haproxy").
  std::string path;
  std::vector<std::string> args;  // after argv[0]
  // Set in the child only, before exec.
  std::vector<std::pair<std::string, std::string>> env;
  // Listening sockets passed as fds 3, 4, ... under the systemd
  // socket-activation protocol: the child gets LISTEN_FDS=<count> and
  // LISTEN_PID=<its own pid>, which only the child can know, hence set
  // between fork and exec (names, if wanted, go in `env` as LISTEN_FDNAMES).
  std::vector<int> listen_fds;
  // Whether the program prints a start line that the constructor waits for
  // (eddy's programs); false for other tools (e.g. haproxy).
  bool has_start_line = true;
  // Where the child's stderr goes (created or truncated); empty: inherited,
  // so that it shows in the test's output.
  std::string stderr_path;
  // The child's RLIMIT_NOFILE (soft and hard), for a test of running out of
  // descriptors; 0: inherited.
  rlim_t max_open_files = 0;
};

// One of eddy's programs at `path` on a free loopback port with `workers`
// workers, given `flags` too; its start line says which port it got.
// Any thread.
ProgramLaunch LoopbackProgram(std::string path, int workers,
                              std::vector<std::string> flags = {});

// A shipped program running in a child process, its stdout on a pipe.
// The constructor waits (at most kTestDeadline) for the start line; a
// program that fails to start has no port and an exit status.
//
// Threading: one thread.
class ProgramProcess {
 public:
  explicit ProgramProcess(const ProgramLaunch& launch);
  ~ProgramProcess();  // Stop()s if still running
  ProgramProcess(const ProgramProcess&) = delete;
  ProgramProcess& operator=(const ProgramProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& start_line() const { return start_line_; }
  int port() const { return port_; }

  // Waits up to `timeout` for the child to exit by itself; its exit status,
  // or -1 if it did not exit (normally) in time (it keeps running).
  int WaitForExit(absl::Duration timeout);
  // SIGTERM, then the exit status (-1 if it had to be killed).
  int Stop();
  // The next line the program prints after its start line, waiting at most
  // `timeout`; empty at EOF or the deadline. Use after something that
  // makes it print (e.g. SIGHUP).
  std::string ReadLine(absl::Duration timeout);
  bool exited() const { return pid_ < 0; }

 private:
  pid_t pid_ = -1;
  FILE* stdout_ = nullptr;
  std::string start_line_;
  int port_ = 0;
};

}  // namespace eddy::testing

#endif  // EDDY_TESTS_SUPPORT_PROGRAM_PROCESS_H_
