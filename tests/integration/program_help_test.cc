// Every shipped program's --help: a one-line usage and the program's own
// flags (not Abseil's), exit status 0. The paths come from the build, one
// definition per program it built.
#include <sys/wait.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/run_command.h"

namespace {

struct Program {
  std::string name;
  std::string path;
  std::vector<std::string> flags;  // a few that --help must list
};

std::vector<Program> BuiltPrograms() {
  std::vector<Program> programs;
#ifdef EDDY_HTTPD_PATH
  programs.push_back({"eddy-httpd",
                      EDDY_HTTPD_PATH,
                      {"--port", "--bind", "--workers", "--root",
                       "--access_log", "--max_body"}});
#endif
#ifdef EDDY_ECHO_PATH
  programs.push_back({"eddy-echo",
                      EDDY_ECHO_PATH,
                      {"--port", "--bind", "--workers", "--idle_timeout"}});
#endif
#ifdef EDDY_REDIS_PATH
  programs.push_back({"eddy-redis",
                      EDDY_REDIS_PATH,
                      {"--port", "--bind", "--workers", "--max_connections"}});
#endif
#ifdef EDDY_PROXY_PATH
  programs.push_back({"eddy-proxy",
                      EDDY_PROXY_PATH,
                      {"--port", "--upstream", "--connect_timeout",
                       "--tls_cert", "--upstream_tls", "--upstream_ca"}});
#endif
#ifdef EDDY_CHAT_PATH
  programs.push_back(
      {"eddy-chat", EDDY_CHAT_PATH, {"--port", "--bind", "--workers"}});
#endif
#ifdef EDDY_LOAD_PATH
  programs.push_back({"eddy-load",
                      EDDY_LOAD_PATH,
                      {"--mode", "--threads", "--connections", "--duration"}});
#endif
#ifdef EDDY_FETCH_PATH
  programs.push_back({"eddy-fetch",
                      EDDY_FETCH_PATH,
                      {"--count", "--concurrency", "--workers", "--ca"}});
#endif
  return programs;
}

using ::eddy::testing::CommandResult;
using ::eddy::testing::Output;
using ::eddy::testing::RunCommand;

TEST(ProgramHelp, EveryBuiltProgramListsItsOwnFlagsAndExitsZero) {
  const std::vector<Program> programs = BuiltPrograms();
  ASSERT_FALSE(programs.empty()) << "the build defined no program path";
  for (const Program& program : programs) {
    SCOPED_TRACE(program.name);
    const CommandResult help =
        RunCommand(absl::StrCat("'", program.path, "' --help"),
                   absl::Seconds(60), Output::kStdout);
    EXPECT_EQ(help.exit_code, 0) << help.output;
    EXPECT_TRUE(
        absl::StrContains(help.output, absl::StrCat("Usage: ", program.name)))
        << help.output;
    for (const std::string& flag : program.flags) {
      EXPECT_TRUE(absl::StrContains(help.output, absl::StrCat(flag, " (")))
          << flag << " missing from:\n"
          << help.output;
    }
    // Abseil's own flags are for --helpfull.
    EXPECT_FALSE(absl::StrContains(help.output, "--flagfile")) << help.output;
  }
}

TEST(ProgramHelp, HelpshortListsTheSameFlags) {
  for (const Program& program : BuiltPrograms()) {
    SCOPED_TRACE(program.name);
    const CommandResult help =
        RunCommand(absl::StrCat("'", program.path, "' --helpshort"),
                   absl::Seconds(60), Output::kStdout);
    EXPECT_EQ(help.exit_code, 0) << help.output;
    EXPECT_TRUE(absl::StrContains(help.output,
                                  absl::StrCat(program.flags.front(), " (")))
        << help.output;
  }
}

}  // namespace
