#ifndef EDDY_EXAMPLES_PROGRAM_LOGS_H_
#define EDDY_EXAMPLES_PROGRAM_LOGS_H_

namespace eddy {

// The log flags every shipped server takes, defined with this function:
//   --log_format=json|text  the sink of eddy's log (core/log.h) on stderr:
//                           one JSON object per line (the default) or a
//                           line for a human
//   --log_level=debug|info|warning|error  the least severe event written
//                           (default: info)
// A value outside these is refused by ParseProgramFlags with the choices.
//
// Applies them: installs the sink and sets the level.
//
// Threading: call from main, after ParseProgramFlags and before the server
// starts.
void ApplyLogFlags();

}  // namespace eddy

#endif  // EDDY_EXAMPLES_PROGRAM_LOGS_H_
