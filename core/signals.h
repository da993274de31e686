#ifndef EDDY_CORE_SIGNALS_H_
#define EDDY_CORE_SIGNALS_H_

namespace eddy {

// Blocks SIGINT and SIGTERM in the calling thread and in every thread it
// creates afterwards, so that WaitForTerminationSignal can take them
// synchronously. Call it first thing in main, before any thread starts.
void BlockTerminationSignals();

// Waits for SIGINT or SIGTERM (blocked beforehand with
// BlockTerminationSignals) and returns its number. For the main thread of a
// server program: wait, then stop the server gracefully.
int WaitForTerminationSignal();

// For a program that reloads its configuration on SIGHUP: blocks it too
// (call first thing in main, like BlockTerminationSignals), and waits for
// SIGINT, SIGTERM or SIGHUP, returning its number.
void BlockReloadSignal();
int WaitForTerminationOrReloadSignal();

}  // namespace eddy

#endif  // EDDY_CORE_SIGNALS_H_
