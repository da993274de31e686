#include "tests/support/run_command.h"

#include <sys/wait.h>

#include <cstdio>

#include "absl/strings/str_cat.h"

namespace eddy::testing {

CommandResult RunCommand(const std::string& command, absl::Duration timeout,
                         Output output) {
  CommandResult result;
  const std::string bounded = absl::StrCat(
      "timeout ", absl::ToInt64Seconds(absl::Ceil(timeout, absl::Seconds(1))),
      " ", command, output == Output::kStdoutAndStderr ? " 2>&1" : "");
  FILE* pipe = ::popen(bounded.c_str(), "r");
  if (pipe == nullptr) return result;
  char chunk[4096];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof(chunk), pipe)) > 0) {
    result.output.append(chunk, n);
  }
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

bool HaveTool(const std::string& name) {
  return RunCommand("sh -c 'command -v " + name + "'", absl::Seconds(10))
             .exit_code == 0;
}

}  // namespace eddy::testing
