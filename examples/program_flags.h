#ifndef EDDY_EXAMPLES_PROGRAM_FLAGS_H_
#define EDDY_EXAMPLES_PROGRAM_FLAGS_H_

#include <vector>

#include "absl/strings/string_view.h"

namespace eddy {

// Parses the command line of a shipped eddy program (Abseil flags), like
// absl::ParseCommandLine, and returns the positional arguments, argv[0]
// first. `summary` says in a line what the program is (more lines may
// follow, e.g. an example).
//
// --help (or --helpshort) prints the summary, a one-line usage and the
// program's own flags with their defaults, then exits 0. Abseil's filter
// would list only flags defined in a file named like the program, which no
// eddy program has (eddy-httpd's flags live in eddy_httpd.cc). Abseil's
// other usage flags (--helpfull, --help=substring) keep their meaning.
//
// Threading: call once, from main, before any other thread starts.
std::vector<char*> ParseProgramFlags(int argc, char** argv,
                                     absl::string_view summary);

}  // namespace eddy

#endif  // EDDY_EXAMPLES_PROGRAM_FLAGS_H_
