#ifndef EDDY_NET_SERVER_H_
#define EDDY_NET_SERVER_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/worker_pool.h"
#include "net/acceptor.h"
#include "net/address.h"
#include "net/connection.h"
#include "net/protocol.h"
#include "net/socket.h"
#include "net/worker.h"

namespace eddy {

// Everything a Server can be told, with safe defaults.
struct ServerOptions {
  std::string bind_address = "0.0.0.0";
  uint16_t port = 0;   // 0 picks a free port; see Server::port()
  size_t workers = 0;  // 0: one per online CPU
  bool pin_workers = false;
  int backlog = 0;  // 0: the system maximum
  bool reuse_port = false;
  bool tcp_nodelay = true;
  bool keepalive = false;
  // For protocols whose clients speak first (HTTP, Redis, echo): above
  // zero, the kernel hands a connection to the acceptor only once its first
  // bytes arrived (TCP_DEFER_ACCEPT, whole seconds; a client silent this
  // long is accepted anyway), and Start() sets connection.read_on_accept so
  // that the worker reads those bytes before registering the connection
  // with epoll. A connection that ends with its first answer (HTTP/1.0) then
  // costs no epoll_ctl and no extra loop iteration. Leave it zero where the
  // server speaks first.
  absl::Duration defer_accept = absl::ZeroDuration();
  // Connections open at once, over all workers; above it new ones are
  // closed at once (after ProtocolFactory::OverloadResponse).
  size_t max_connections = 100000;
  // Accepted fds waiting per worker; when every inbox is full the acceptor
  // sheds the connection instead of blocking.
  size_t inbox_depth = 4096;
  // The acceptor thread runs under SCHED_BATCH: it does not preempt a
  // running worker to accept one connection, but accepts the whole waiting
  // batch when the CPU is free, and wakes at once on an idle CPU. Where the
  // acceptor shares a CPU with a worker this saves ~20% of the server's CPU
  // per short-lived connection (docs/performance.md); turn it off to accept
  // with the lowest latency on a loaded CPU instead.
  bool acceptor_batch_scheduling = true;
  ConnectionOptions connection;
  // Stop() lets connections finish for this long, then aborts the rest.
  absl::Duration shutdown_timeout = absl::Seconds(10);
};

// Server is the multi-reactor TCP server: an acceptor thread that hands
// accepted connections round-robin to N worker threads, each with its own
// edge-triggered EventLoop and the connections it was given. The protocol is
// whatever the ProtocolFactory's handlers speak.
//
// Threading: Start and Stop are called from the owning thread (never from a
// worker or a handler). port(), local_address(), stats() and
// acceptor_stats() are safe from any thread after Start returned OK.
class Server {
 public:
  Server(ServerOptions options, std::unique_ptr<ProtocolFactory> factory);
  ~Server();  // Stop()s if running.
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens, starts the workers and then the acceptor. The error
  // says what to do, e.g. "port 8080 on 0.0.0.0 is in use; ...".
  absl::Status Start();

  // Graceful stop: stops accepting, asks every handler to finish
  // (Handler::OnServerStopping), waits until the connections closed or
  // shutdown_timeout passed, aborts the rest, and joins every thread.
  // Idempotent.
  void Stop();

  uint16_t port() const { return local_address_.port(); }
  const SocketAddress& local_address() const { return local_address_; }
  size_t worker_count() const { return workers_.size(); }
  std::vector<WorkerStats> stats() const;
  WorkerStats total_stats() const;
  AcceptorStats acceptor_stats() const;
  const ServerOptions& options() const { return options_; }

  // The loop of worker `i`, e.g. to Post work to it.
  EventLoop& worker_loop(size_t i) const { return pool_->loop(i); }
  // Worker `i`, e.g. to open outgoing connections on it (net/connector.h).
  Worker& worker(size_t i) const { return *workers_[i]; }

 private:
  ServerOptions options_;
  std::unique_ptr<ProtocolFactory> factory_;
  SocketAddress local_address_;
  std::atomic<int64_t> open_connections_{0};
  std::unique_ptr<WorkerPool> pool_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<Acceptor> acceptor_;
  bool running_ = false;
};

}  // namespace eddy

#endif  // EDDY_NET_SERVER_H_
