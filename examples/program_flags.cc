#include "examples/program_flags.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace eddy {
namespace {

bool AsksForHelp(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") return false;  // what follows is positional
    if (arg == "--help" || arg == "-help" || arg == "--helpshort" ||
        arg == "-helpshort") {
      return true;
    }
  }
  return false;
}

// Abseil registers flags of its own (--flagfile, --helpfull, ...) in every
// program; they are documented by Abseil and listed by --helpfull.
bool IsAbseilFlag(const absl::CommandLineFlag& flag) {
  return absl::StrContains(flag.Filename(), "absl/flags/");
}

std::string ProgramName(const char* argv0) {
  const absl::string_view path = argv0;
  const size_t slash = path.rfind('/');
  return std::string(slash == absl::string_view::npos ? path
                                                      : path.substr(slash + 1));
}

std::string HelpText(absl::string_view program, absl::string_view summary) {
  std::vector<const absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (!flag->IsRetired() && !IsAbseilFlag(*flag)) flags.push_back(flag);
  }
  std::sort(flags.begin(), flags.end(),
            [](const auto* a, const auto* b) { return a->Name() < b->Name(); });
  std::string text =
      absl::StrCat(program, ": ", summary, "\n\nUsage: ", program,
                   " [--flag=value]...\n\nFlags:\n");
  for (const absl::CommandLineFlag* flag : flags) {
    const std::string value = flag->DefaultValue();
    absl::StrAppend(
        &text, "  --", flag->Name(), " (", flag->Help(), "); default: ",
        flag->IsOfType<std::string>() ? absl::StrCat("\"", value, "\"") : value,
        "\n");
  }
  absl::StrAppend(&text, "\n--helpfull lists Abseil's flags too.\n");
  return text;
}

}  // namespace

std::vector<char*> ParseProgramFlags(int argc, char** argv,
                                     absl::string_view summary) {
  absl::SetProgramUsageMessage(summary);
  if (argc > 0 && AsksForHelp(argc, argv)) {
    const std::string text = HelpText(ProgramName(argv[0]), summary);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::exit(0);
  }
  return absl::ParseCommandLine(argc, argv);
}

}  // namespace eddy
