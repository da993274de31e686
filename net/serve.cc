#include "eddy/net/serve.h"

#include <signal.h>

#include <cstdio>
#include <string>

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
  int signal_number;
  while ((signal_number = reloads ? WaitForTerminationOrReloadSignal()
                                  : WaitForTerminationSignal()) == SIGHUP) {
    const absl::Status reloaded = server.ReloadTls();
    std::printf("%s\n", absl::StrCat(program, ": SIGHUP, ",
                                     reloaded.ok() ? "TLS certificate reloaded"
                                                   : reloaded.ToString())
                            .c_str());
    std::fflush(stdout);
  }
  std::printf(
      "%s\n",
      absl::StrCat(program, ": signal ", signal_number, ", draining").c_str());
  std::fflush(stdout);
  server.Stop();
  return 0;
}

}  // namespace eddy
