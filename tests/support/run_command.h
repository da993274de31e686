#ifndef EDDY_TESTS_SUPPORT_RUN_COMMAND_H_
#define EDDY_TESTS_SUPPORT_RUN_COMMAND_H_

#include <string>

#include "absl/time/time.h"

namespace eddy::testing {

struct CommandResult {
  int exit_code = -1;  // -1: it did not exit normally (or could not start)
  std::string output;
};

// Which of the command's streams RunCommand returns.
enum class Output { kStdout, kStdoutAndStderr };

// Runs `command` through the shell, killed by timeout(1) after `timeout`,
// and returns what it printed and its exit status. Any thread.
CommandResult RunCommand(const std::string& command,
                         absl::Duration timeout = absl::Seconds(120),
                         Output output = Output::kStdoutAndStderr);

// Whether `name` is a command on the PATH.
bool HaveTool(const std::string& name);

}  // namespace eddy::testing

#endif  // EDDY_TESTS_SUPPORT_RUN_COMMAND_H_
