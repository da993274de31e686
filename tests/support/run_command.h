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

// The first Chromium-like browser on the PATH; empty if none. Any thread.
std::string FindChromium();

// Loads `url` in headless `browser` with a throwaway profile, lets the page
// run for up to `virtual_time` (its timers and sockets, on the browser's
// virtual clock), and returns the DOM it printed. `extra_flags` go on the
// command line as they are. Any thread.
CommandResult DumpDomWithChromium(
    const std::string& browser, const std::string& url,
    const std::string& extra_flags = "",
    absl::Duration virtual_time = absl::ZeroDuration());

}  // namespace eddy::testing

#endif  // EDDY_TESTS_SUPPORT_RUN_COMMAND_H_
