#ifndef EDDY_TESTS_SUPPORT_CHILD_PROCESS_H_
#define EDDY_TESTS_SUPPORT_CHILD_PROCESS_H_

#include <sys/types.h>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace eddy::testing {

// Sends SIGTERM to the child `pid` and waits for it to exit, with SIGKILL
// once `timeout` has passed. Returns its exit status; -1 if it had to be
// killed or did not exit normally. Any thread.
int TerminateAndWait(pid_t pid, absl::Duration timeout);

// The port in a shipped program's start line ("eddy-echo listening on
// 127.0.0.1:PORT with ...", "... http://127.0.0.1:PORT/ ..."): the digits
// after "127.0.0.1:"; 0 if there are none.
int PortInStartLine(absl::string_view line);

}  // namespace eddy::testing

#endif  // EDDY_TESTS_SUPPORT_CHILD_PROCESS_H_
