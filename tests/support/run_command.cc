#include "tests/support/run_command.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>

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

std::string FindChromium() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    if (HaveTool(name)) return name;
  }
  return "";
}

CommandResult DumpDomWithChromium(const std::string& browser,
                                  const std::string& url,
                                  const std::string& extra_flags,
                                  absl::Duration virtual_time) {
  static std::atomic<int> profiles{0};
  const std::string profile =
      absl::StrCat(std::filesystem::temp_directory_path().string(),
                   "/eddy-chromium-", ::getpid(), "-", profiles++);
  std::string budget;
  if (virtual_time > absl::ZeroDuration()) {
    budget = absl::StrCat(" --virtual-time-budget=",
                          absl::ToInt64Milliseconds(virtual_time));
  }
  CommandResult dom = RunCommand(
      absl::StrCat(browser,
                   " --headless --no-sandbox --disable-gpu --disable-quic "
                   "--no-first-run --disable-background-networking "
                   "--disable-component-update --disable-sync",
                   budget, " ", extra_flags, " --user-data-dir=", profile,
                   " --dump-dom ", url),
      absl::Seconds(180));
  std::filesystem::remove_all(profile);
  return dom;
}

}  // namespace eddy::testing
