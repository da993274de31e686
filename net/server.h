#ifndef EDDY_NET_SERVER_H_
#define EDDY_NET_SERVER_H_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "eddy/core/metrics.h"
#include "eddy/net/address.h"
#include "eddy/net/cidr.h"
#include "eddy/net/connection.h"
#include "eddy/net/protocol.h"
#include "eddy/net/proxy_protocol.h"
#include "eddy/net/server_state.h"
#include "eddy/net/tls_context.h"
#include "eddy/net/worker.h"
#include "eddy/net/worker_group.h"

namespace eddy {

class Acceptor;
class HandoffClient;
class HandoffServer;
class ServerMetrics;
struct UnixSocketFile;

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
  // A numeric IP address, or a Unix socket: "unix:/run/app.sock" (a file)
  // or "unix:@name" (Linux's abstract namespace); a Unix socket has no
  // port, and the TCP options below do not apply to it.
  std::string bind_address = "0.0.0.0";
  uint16_t port = 0;  // 0 picks a free port; see Server::port()
  // The mode of a Unix socket file (e.g. 0660: owner and group may
  // connect), set right after bind; 0 leaves what the umask gave. The file
  // is removed at Stop if it is still this server's.
  uint32_t unix_socket_mode = 0;
  int backlog = 0;  // 0: the system maximum
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
  // Drain() keeps the server accepting and serving this long (while
  // readiness fails, so that load balancers stop sending) before
  // WaitForDrainEnd returns and the program Stop()s. Zero: stop at once.
  absl::Duration drain_delay = absl::ZeroDuration();
  // A socket already listening, to serve on instead of binding one: from
  // socket activation (TakeInheritedListeners, net/service_manager.h) or a
  // hand-off (net/handoff.h). The Server owns it from construction. Start
  // checks that it is a listening stream socket, and on `port` when that is
  // not 0; bind_address, backlog, reuse_port and defer_accept are then the
  // listener's own. -1: bind as configured.
  int listen_fd = -1;
  // A Unix socket path for restarts that lose nothing (net/internal/
  // handoff.h): Start first asks a server answering there for its
  // listening socket and, when one does, serves on that socket (no bind:
  // its accept queue is never closed) and then tells the old server to
  // drain. Either way this server then answers there for the next one, and
  // drains itself when a new one took over. Empty: off.
  std::string handoff_socket;
  // The PROXY protocol (v1 and v2, net/proxy_protocol.h): whether accepted
  // connections start with a header naming the client. The header is read
  // before the handler opens, so OnOpen and everything after see the client
  // in Connection::peer() (the balancer stays in transport_peer()). Off by
  // default. kOptional waits for a connection's first bytes to tell, so
  // suits protocols whose clients speak first.
  ProxyProtocolMode proxy_protocol = ProxyProtocolMode::kOff;
  // The sources (the transport peers) allowed to send a header; empty: any.
  // A header from another source closes the connection, and so does any
  // connection from one when the header is required. Unix socket peers
  // are trusted (the file's mode says who may connect).
  std::vector<Cidr> proxy_trusted;
  // A connection whose header (or, when optional, first bytes) has not
  // arrived within this is closed.
  absl::Duration proxy_header_timeout = absl::Seconds(5);
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
// Lifecycle (ServerState): starting, ready once Start succeeded, draining
// after Drain(), stopping once Stop() began. When NOTIFY_SOCKET is set
// (systemd's Type=notify), Start sends "READY=1" and Drain (or a Stop
// without one) "STOPPING=1" to the service manager. After a hand-off
// (ServerOptions::handoff_socket) the new server sends "MAINPID=<its pid>"
// before it tells the old one to drain, then "READY=1", and the old one
// drains without "STOPPING=1": the service goes on in the new process.
//
// Threading: Start, WaitForDrainEnd and Stop are called from the owning
// thread (never from a worker or a handler). state() and Drain() from any
// thread at any time; port(), local_address(), stats(), acceptor_stats(),
// Live(), worker(i) and worker_loop(i) from any thread after Start returned
// OK. Start, Drain (with a drain_delay) and Stop log "server.start",
// "server.drain" and "server.stop" (core/log.h); Stop then flushes the
// log's suppressed counts.
class Server {
 public:
  Server(ServerOptions options, std::unique_ptr<ProtocolFactory> factory);
  ~Server();  // Stop()s if running.
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens, starts the workers and then the acceptor. The error
  // says what to do, e.g. "port 8080 on 0.0.0.0 is in use; ...".
  absl::Status Start();

  // Enters draining (from ready; otherwise it only counts as a request, see
  // WaitForDrainEnd): readiness fails at once, accepting and serving go
  // on, and every connection gets Handler::OnDrain (those accepted later,
  // right after OnOpen). Returns at once. Any thread, e.g. a signal
  // handler's thread or a hand-off.
  void Drain();

  // Blocks until Drain() was called and then drain_delay passed, or Drain()
  // was called a second time (an impatient operator's second SIGTERM).
  // The owner calls Stop() next.
  void WaitForDrainEnd();

  // The lifecycle, one atomic load. Any thread.
  ServerState state() const { return group_.state(); }
  // Whether every worker loop turned within `bound` (WorkerGroup::Live):
  // for a liveness probe.
  bool Live(absl::Duration bound) const { return group_.Live(bound); }

  // Graceful stop: stops accepting (after taking the connections already
  // queued on the listener), then stops the WorkerGroup (asks every
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
  // The connections' options point at it (ConnectionOptions::proxy_trusted);
  // declared first so that it exists when options_ is made.
  const std::vector<Cidr> proxy_trusted_;

  // The listening socket: the inherited one, or a new one bound as
  // configured.
  absl::StatusOr<UniqueFd> ListenOrInherit();
  // With a handoff_socket: takes the listener of a server answering there
  // (into inherited_listener_) and the hand-off socket, or makes one.
  absl::StatusOr<UniqueFd> PrepareHandoff(std::unique_ptr<HandoffClient>* old);
  void StartHandoffServer(UniqueFd handoff_listener);
  void BeginDrain(bool tell_service_manager);

  const ServerOptions options_;
  const std::unique_ptr<ProtocolFactory> factory_;
  WorkerGroup group_;
  SocketAddress local_address_;
  std::unique_ptr<Acceptor> acceptor_;
  // Between a successful Start and the Stop after it.
  bool running_ = false;
  std::unique_ptr<ServerMetrics> metrics_;
  // Answers the next process on ServerOptions::handoff_socket.
  std::unique_ptr<HandoffServer> handoff_;
  // ServerOptions::listen_fd until Start takes it.
  UniqueFd inherited_listener_;
  // Drain() calls so far, for WaitForDrainEnd.
  std::mutex drain_mutex_;
  std::condition_variable drain_requested_;
  int drain_requests_ = 0;
  // The socket file of a Unix listener, removed at Stop.
  std::unique_ptr<UnixSocketFile> unix_socket_file_;
  // The TLS context new connections get; null when not running or no TLS.
  std::mutex tls_mutex_;
  std::shared_ptr<const TlsContext> tls_context_;  // guarded by tls_mutex_
  void InstallTlsContext(const std::shared_ptr<const TlsContext>& context);
};

}  // namespace eddy

#endif  // EDDY_NET_SERVER_H_
