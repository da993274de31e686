#include "eddy/core/signals.h"

#include <pthread.h>
#include <signal.h>

namespace eddy {
namespace {

sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

sigset_t TerminationAndReloadSignals() {
  sigset_t set = TerminationSignals();
  sigaddset(&set, SIGHUP);
  return set;
}

int Wait(const sigset_t& set) {
  int signal_number = 0;
  while (sigwait(&set, &signal_number) != 0) {
  }
  return signal_number;
}

}  // namespace

void BlockTerminationSignals() {
  const sigset_t set = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForTerminationSignal() { return Wait(TerminationSignals()); }

void BlockReloadSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForTerminationOrReloadSignal() {
  return Wait(TerminationAndReloadSignals());
}

}  // namespace eddy
