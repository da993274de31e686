#include "eddy/net/serve.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "eddy/core/signals.h"

namespace eddy {

int ServeUntilSignal(Server& server, absl::string_view program,
                     absl::string_view address_prefix,
                     absl::string_view address_suffix,
                     absl::string_view detail) {
  BlockTerminationSignals();
  const bool reloads = server.options().tls.has_value();
  if (reloads) BlockReloadSignal();
  if (absl::Status status = server.Start(); !status.ok()) {
    std::fprintf(stderr, "%s\n",
                 absl::StrCat(program, ": ", status.ToString()).c_str());
    return 1;
  }
  std::printf("%s\n",
              absl::StrCat(program, " listening on ", address_prefix,
                           server.local_address().ToString(), address_suffix,
                           " with ", server.worker_count(), " workers", detail)
                  .c_str());
  std::fflush(stdout);
  // Signals are taken on a thread of their own, so that a drain may also
  // begin elsewhere (a hand-off calls Server::Drain) while a second signal
  // still cuts the drain delay short.
  std::atomic<bool> stopped{false};
  std::thread signals([&] {
    while (true) {
      const int signal_number = reloads ? WaitForTerminationOrReloadSignal()
                                        : WaitForTerminationSignal();
      if (stopped.load()) return;
      if (signal_number == SIGHUP) {
        const absl::Status reloaded = server.ReloadTls();
        std::printf("%s\n",
                    absl::StrCat(program, ": SIGHUP, ",
                                 reloaded.ok() ? "TLS certificate reloaded"
                                               : reloaded.ToString())
                        .c_str());
        std::fflush(stdout);
        continue;
      }
      std::printf("%s\n", absl::StrCat(program, ": signal ", signal_number,
                                       ", draining")
                              .c_str());
      std::fflush(stdout);
      server.Drain();
    }
  });
  server.WaitForDrainEnd();
  server.Stop();
  stopped.store(true);
  // The termination signals are blocked in every thread, so this one is
  // taken by the signal thread's sigwait, which then sees `stopped`.
  pthread_kill(signals.native_handle(), SIGTERM);
  signals.join();
  return 0;
}

}  // namespace eddy
