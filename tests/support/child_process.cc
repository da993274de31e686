#include "tests/support/child_process.h"

#include <signal.h>
#include <sys/wait.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"

namespace eddy::testing {

int TerminateAndWait(pid_t pid, absl::Duration timeout) {
  if (pid <= 0) return -1;
  ::kill(pid, SIGTERM);
  const absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (absl::Now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int PortInStartLine(absl::string_view line) {
  constexpr absl::string_view kHost = "127.0.0.1:";
  const size_t at = line.find(kHost);
  if (at == absl::string_view::npos) return 0;
  absl::string_view rest = line.substr(at + kHost.size());
  size_t digits = 0;
  while (digits < rest.size() && absl::ascii_isdigit(rest[digits])) ++digits;
  int port = 0;
  return absl::SimpleAtoi(rest.substr(0, digits), &port) ? port : 0;
}

}  // namespace eddy::testing
