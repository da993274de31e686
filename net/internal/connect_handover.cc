#include "eddy/net/internal/connect_handover.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "eddy/net/internal/tls_transport.h"
#include "eddy/net/internal/worker_access.h"
#include "eddy/net/proxy_protocol.h"

namespace eddy {

absl::Status SendConnectProxyHeader(int fd, const ConnectOptions& options,
                                    absl::string_view target) {
  if (!options.proxy_header.has_value()) return absl::OkStatus();
  const std::string header = EncodeProxyV2Header(
      options.proxy_header->source, options.proxy_header->destination);
  const ssize_t n = ::send(fd, header.data(), header.size(), MSG_NOSIGNAL);
  if (n == static_cast<ssize_t>(header.size())) return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat("sending the PROXY header to ", target,
                   " failed: ", n < 0 ? std::strerror(errno) : "short write"));
}

void AdoptConnected(Worker& worker, UniqueFd fd, bool registered,
                    const ConnectOptions& options,
                    absl::string_view default_server_name,
                    std::unique_ptr<Handler> handler,
                    absl::AnyInvocable<void(absl::Status)> on_failure) {
  TlsStart tls;
  TlsStart* start = nullptr;
  if (options.tls != nullptr) {
    tls.context = options.tls;
    tls.server_name = options.tls_server_name.empty()
                          ? std::string(default_server_name)
                          : options.tls_server_name;
    // The worker takes it only if the connection opens.
    tls.on_failure = std::move(on_failure);
    start = &tls;
  }
  absl::Status opened =
      registered ? WorkerAccess::AdoptRegistered(worker, std::move(fd),
                                                 std::move(handler), start)
                 : WorkerAccess::Adopt(worker, std::move(fd),
                                       std::move(handler), start);
  if (opened.ok()) return;
  // A connection the worker could not take never opened: the caller hears
  // of it as of any other failure.
  absl::AnyInvocable<void(absl::Status)>& report =
      start != nullptr ? tls.on_failure : on_failure;
  if (report) report(std::move(opened));
}

}  // namespace eddy
