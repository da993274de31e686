#include "tests/support/program_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/support/child_process.h"
#include "tests/support/server_testing.h"

namespace eddy::testing {
namespace {

// In the child, between fork and exec: only async-signal-safe calls and
// setenv (the child has one thread).
[[noreturn]] void ExecChild(const ProgramLaunch& launch, int stdout_fd) {
  ::dup2(stdout_fd, STDOUT_FILENO);
  if (!launch.stderr_path.empty()) {
    const int stderr_fd =
        ::open(launch.stderr_path.c_str(),
               O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (stderr_fd >= 0) ::dup2(stderr_fd, STDERR_FILENO);
  }
  if (!launch.listen_fds.empty()) {
    // Out of the way first, so that placing one cannot overwrite another
    // still to be placed; dup2 then leaves each placed fd open across exec.
    constexpr int kAboveTargets = 100;
    std::vector<int> moved;
    for (int fd : launch.listen_fds) {
      moved.push_back(::fcntl(fd, F_DUPFD_CLOEXEC, kAboveTargets));
    }
    for (size_t i = 0; i < moved.size(); ++i) {
      ::dup2(moved[i], 3 + static_cast<int>(i));
    }
    ::setenv("LISTEN_FDS", std::to_string(moved.size()).c_str(), 1);
    ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
  }
  for (const auto& [name, value] : launch.env) {
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  // Last: placing the listening sockets above may need descriptors above
  // the limit.
  if (launch.max_open_files > 0) {
    const rlimit limit{launch.max_open_files, launch.max_open_files};
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(launch.path.c_str()));
  for (const std::string& arg : launch.args) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);
  ::execvp(launch.path.c_str(), argv.data());
  ::_exit(127);
}

// One line from `file` (whose fd is `fd`), waiting at most until
// `deadline`; empty at EOF or the deadline.
std::string ReadLineBefore(FILE* file, absl::Time deadline) {
  std::string line;
  while (line.empty() || line.back() != '\n') {
    pollfd readable{::fileno(file), POLLIN, 0};
    const int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left <= 0 || ::poll(&readable, 1, static_cast<int>(left)) <= 0) break;
    const int c = std::fgetc(file);
    if (c == EOF) break;
    line.push_back(static_cast<char>(c));
  }
  return line;
}

}  // namespace

ProgramLaunch LoopbackProgram(std::string path, int workers,
                              std::vector<std::string> flags) {
  ProgramLaunch launch;
  launch.path = std::move(path);
  launch.args = {"--port=0", "--bind=127.0.0.1",
                 absl::StrCat("--workers=", workers)};
  for (std::string& flag : flags) launch.args.push_back(std::move(flag));
  return launch;
}

ProgramProcess::ProgramProcess(const ProgramLaunch& launch) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return;
  pid_ = ::fork();
  if (pid_ == 0) ExecChild(launch, out[1]);
  ::close(out[1]);
  if (pid_ < 0) {
    ::close(out[0]);
    return;
  }
  stdout_ = ::fdopen(out[0], "r");
  if (stdout_ == nullptr || !launch.has_start_line) return;
  // Unbuffered: poll() must see what fgetc has not taken yet.
  std::setvbuf(stdout_, nullptr, _IONBF, 0);
  start_line_ = ReadLineBefore(stdout_, absl::Now() + kTestDeadline);
  port_ = PortInStartLine(start_line_);
}

ProgramProcess::~ProgramProcess() {
  Stop();
  if (stdout_ != nullptr) std::fclose(stdout_);
}

int ProgramProcess::WaitForExit(absl::Duration timeout) {
  if (pid_ < 0) return -1;
  const absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (absl::Now() > deadline) return -1;
    absl::SleepFor(absl::Milliseconds(10));
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int ProgramProcess::Stop() {
  if (pid_ < 0) return -1;
  const int status = TerminateAndWait(pid_, kTestDeadline);
  pid_ = -1;
  return status;
}

std::string ProgramProcess::ReadLine(absl::Duration timeout) {
  if (stdout_ == nullptr) return "";
  return ReadLineBefore(stdout_, absl::Now() + timeout);
}

}  // namespace eddy::testing
