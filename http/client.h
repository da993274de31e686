#ifndef EDDY_HTTP_CLIENT_H_
#define EDDY_HTTP_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "eddy/net/worker.h"
#include "eddy/net/worker_group.h"

namespace eddy {
class Resolver;
}

namespace eddy::http {

struct ClientOptions {
  // Connections open or opening to one host:port, per worker. Requests
  // beyond what they can carry wait in a queue, in order.
  size_t max_connections_per_host = 6;
  // A pooled connection with nothing to do is closed after this long.
  absl::Duration idle_timeout = absl::Seconds(30);
  // Send idempotent requests (GET, HEAD, PUT, DELETE, OPTIONS) on a busy
  // connection, up to max_pipelined in flight, instead of waiting.
  bool pipelining = false;
  size_t max_pipelined = 8;
  // Deadlines by phase. Resolving the host is part of connecting, as in
  // Connect (net/connector.h); the TLS handshake of an https:// connection
  // runs from its connect to the server's verified Finished; first byte
  // runs from the request's hand-over to a connection to the first byte of
  // its response; total from Send to the end of the response, queueing and
  // retries included.
  absl::Duration resolve_timeout = absl::Seconds(5);
  absl::Duration connect_timeout = absl::Seconds(5);
  absl::Duration tls_handshake_timeout = absl::Seconds(10);
  absl::Duration first_byte_timeout = absl::Seconds(30);
  absl::Duration total_timeout = absl::Seconds(60);
  // Response bytes held in memory for one request, as received (head,
  // framing and body); beyond it the request fails with
  // absl::ResourceExhaustedError and the connection is closed. A body
  // passed to ClientRequest::on_body is not held and does not count.
  size_t max_response_bytes = 8 * 1024 * 1024;
  // Times a request is sent again after its connection closed before any
  // byte of the response came (the keep-alive race: the server closed a
  // pooled connection as it was reused). Only idempotent requests are; a
  // POST that may have reached the server fails instead.
  int max_retries = 1;
  // Resolves host names (null: Resolver::Default()); must outlive the
  // client.
  Resolver* resolver = nullptr;
  // https://: PEM file of the CAs a server's certificate must chain to;
  // empty: the system's store. The certificate must also name the URL's
  // host (or IP address).
  std::string ca_file;
  // Refuse a server whose certificate does not verify. Turn off only for
  // tests against servers you cannot name.
  bool verify_peer = true;
};

struct ClientRequest {
  std::string method = "GET";
  std::string url;  // http[s]://host[:port]/path?query
  // Extra header fields. Host, and Content-Length when there is a body, are
  // added by the client.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // If set, the response body is passed here piece by piece as it arrives
  // (on the worker thread) instead of being collected in
  // ClientResponse::body: for bodies too large to hold.
  absl::AnyInvocable<void(absl::string_view piece)> on_body;
};

struct ClientResponse {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // empty when the request had on_body
  // The first field named `name` (case-insensitive).
  std::optional<absl::string_view> FindHeader(absl::string_view name) const;
};

// Counters of a client, summed over its workers.
struct ClientStats {
  uint64_t requests = 0;            // sent to a connection (retries count)
  uint64_t connections_opened = 0;  // connections that opened
  uint64_t retries = 0;             // requests sent again after a close
  // https:// connections that resumed a TLS session instead of a full
  // handshake (counted in connections_opened too).
  uint64_t tls_resumed = 0;
};

namespace internal_client {
class WorkerState;
}

// Client is an HTTP/1.1 client on the workers of a WorkerGroup (or a
// Server's): each worker keeps its own pool of keep-alive connections per
// host:port, touched only on that worker's thread, so a request takes no
// lock. Connections are opened with Connect (net/connector.h): host names
// are resolved off the loop and every address is tried. Pools are kept per
// scheme and host:port; https:// connections share one client TLS context
// (net/tls_context.h), whose session cache lets a new connection to a host
// resume the TLS session of an earlier one, from any worker.
//
// A request sent from a worker's thread (e.g. from a Handler, or from a
// callback of this client) is served by that worker's pool and answered on
// that thread. A request sent from any other thread is posted to a worker,
// chosen round-robin, and answered on that worker's thread.
//
// Errors come as the callback's status: InvalidArgument (bad URL or
// request; for https://, a ca_file that cannot be used), NotFound (unknown
// host), Unavailable (refused, a failed TLS handshake, or the connection
// closed without an answer), Unauthenticated (the server's certificate did
// not verify: "certificate verify failed: hostname mismatch"),
// DeadlineExceeded (a phase deadline; the message says which),
// ResourceExhausted (response too large), DataLoss (not HTTP), Cancelled
// (the workers stopped).
//
// Threading: Send, Get and stats() may be called from any thread. The
// client must outlive its callbacks' thread use: destroy it from a thread
// that is not one of its workers; requests still in flight are abandoned
// (their callbacks never run) and their connections closed.
class Client {
 public:
  using Callback = absl::AnyInvocable<void(absl::StatusOr<ClientResponse>)>;

  // The workers must outlive the client. With no workers (a group not
  // started yet), Send answers FailedPrecondition at once, inside the call.
  // A pool is kept per host:port a worker has talked to, for the client's
  // life: a client for an unbounded set of hosts is not what this is for.
  Client(std::vector<Worker*> workers, ClientOptions options = {});
  explicit Client(WorkerGroup& group, ClientOptions options = {})
      : Client(group.workers(), std::move(options)) {}
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void Send(ClientRequest request, Callback callback);
  void Get(absl::string_view url, Callback callback);

  ClientStats stats() const;

 private:
  // The index of the worker whose thread this is, or workers_.size().
  size_t CallerWorker() const;

  std::vector<Worker*> workers_;
  std::vector<std::shared_ptr<internal_client::WorkerState>> states_;
  std::atomic<size_t> next_worker_{0};
};

}  // namespace eddy::http

#endif  // EDDY_HTTP_CLIENT_H_
