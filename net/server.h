#ifndef EDDY_NET_SERVER_H_
#define EDDY_NET_SERVER_H_

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "eddy/core/metrics.h"
#include "eddy/net/address.h"
#include "eddy/net/connection.h"
#include "eddy/net/protocol.h"
#include "eddy/net/tls_context.h"
#include "eddy/net/worker.h"
#include "eddy/net/worker_group.h"

namespace eddy {

class Acceptor;
class ServerMetrics;

// What the acceptor counted; Server::acceptor_stats().
struct AcceptorStats {
  uint64_t accepted = 0;         // handed to a worker
  uint64_t rejected_at_cap = 0;  // closed because of max_connections
  uint64_t fd_exhausted = 0;     // EMFILE/ENFILE/ENOBUFS/ENOMEM episodes
  uint64_t dropped_no_fd = 0;    // accepted on the reserve fd and closed
  uint64_t accept_errors = 0;    // other accept4 failures
};

// Everything a Server can be told, with safe defaults: the workers' part
// (workers, pin_workers, inbox_depth, connection, shutdown_timeout) comes
// from WorkerGroupOptions.
struct ServerOptions : WorkerGroupOptions {
  std::string bind_address = "0.0.0.0";
  uint16_t port = 0;  // 0 picks a free port; see Server::port()
  int backlog = 0;    // 0: the system maximum
  bool reuse_port = false;
  bool tcp_nodelay = true;
  bool keepalive = false;
  // For protocols whose clients speak first (HTTP, Redis, echo): above
  // zero, the kernel hands a connection to the acceptor only once its first
  // bytes arrived (TCP_DEFER_ACCEPT, whole seconds; a client silent this
  // long is accepted anyway), and the Server sets connection.read_on_accept so
  // that the worker reads those bytes before registering the connection
  // with epoll. A connection that ends with its first answer (HTTP/1.0) then
  // costs no epoll_ctl and no extra loop iteration. Leave it zero where the
  // server speaks first.
  absl::Duration defer_accept = absl::ZeroDuration();
  // Connections open at once, over all workers; above it new ones are
  // closed at once (after ProtocolFactory::OverloadResponse).
  size_t max_connections = 100000;
  // The acceptor thread runs under SCHED_BATCH: it does not preempt a
  // running worker to accept one connection, but accepts the whole waiting
  // batch when the CPU is free, and wakes at once on an idle CPU. Where the
  // acceptor shares a CPU with a worker this saves ~20% of the server's CPU
  // per short-lived connection (docs/performance.md); turn it off to accept
  // with the lowest latency on a loaded CPU instead.
  bool acceptor_batch_scheduling = true;
  // Where the server exports its series (connections, bytes, loops, the
  // accept queue: docs/guide.md, "Metrics"), if set. It must outlive the
  // Server and have a writer per worker (writers() >= workers); worker i
  // writes as writer i.
  MetricsRegistry* metrics = nullptr;
  // Set: every connection speaks TLS (the handler sees plaintext; see
  // Connection::tls()). Start fails if a file cannot be used.
  std::optional<TlsServerOptions> tls;
};

// Server is the multi-reactor TCP server: a WorkerGroup (N worker threads,
// each with its own edge-triggered EventLoop and the connections it was
// given) plus an Acceptor thread that hands accepted connections to the
// workers round-robin. The protocol is whatever the ProtocolFactory's
// handlers speak.
//
// Threading: Start and Stop are called from the owning thread (never from a
// worker or a handler). port(), local_address(), stats(), acceptor_stats(),
// worker(i) and worker_loop(i) are safe from any thread after Start
// returned OK. Start and Stop log "server.start" and "server.stop"
// (core/log.h); Stop then flushes the log's suppressed counts.
class Server {
 public:
  Server(ServerOptions options, std::unique_ptr<ProtocolFactory> factory);
  ~Server();  // Stop()s if running.
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens, starts the workers and then the acceptor. The error
  // says what to do, e.g. "port 8080 on 0.0.0.0 is in use; ...".
  absl::Status Start();

  // Graceful stop: stops accepting, then stops the WorkerGroup (asks every
  // handler to finish with Handler::OnServerStopping, waits until the
  // connections closed or shutdown_timeout passed, aborts the rest, joins
  // every thread). Idempotent.
  void Stop();

  // Rebuilds the TLS context from the files named in ServerOptions::tls
  // (e.g. on SIGHUP, after the certificate was renewed): connections
  // accepted from now on get the new certificate, those in flight keep the
  // one they started with, and session tickets issued before still resume.
  // On an error (a bad or missing file) the old context stays and the
  // error says why.
  //
  // Threading: any thread, while the server runs (a worker's too). Every
  // connection accepted after it returned gets the new context.
  absl::Status ReloadTls();

  uint16_t port() const { return local_address_.port(); }
  const SocketAddress& local_address() const { return local_address_; }
  size_t worker_count() const { return group_.size(); }
  std::vector<WorkerStats> stats() const { return group_.stats(); }
  WorkerStats total_stats() const { return group_.total_stats(); }
  AcceptorStats acceptor_stats() const;
  const ServerOptions& options() const { return options_; }

  // The loop of worker `i`, e.g. to Post work to it.
  EventLoop& worker_loop(size_t i) const { return group_.loop(i); }
  // Worker `i`, e.g. to open outgoing connections on it (net/connector.h).
  Worker& worker(size_t i) const { return group_.worker(i); }

 private:
  const ServerOptions options_;
  const std::unique_ptr<ProtocolFactory> factory_;
  WorkerGroup group_;
  SocketAddress local_address_;
  std::unique_ptr<Acceptor> acceptor_;
  // Between a successful Start and the Stop after it.
  bool running_ = false;
  std::unique_ptr<ServerMetrics> metrics_;
  // The TLS context new connections get; null when not running or no TLS.
  std::mutex tls_mutex_;
  std::shared_ptr<const TlsContext> tls_context_;  // guarded by tls_mutex_
  void InstallTlsContext(const std::shared_ptr<const TlsContext>& context);
};

}  // namespace eddy

#endif  // EDDY_NET_SERVER_H_
