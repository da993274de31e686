#ifndef EDDY_NET_INTERNAL_WORKER_ACCESS_H_
#define EDDY_NET_INTERNAL_WORKER_ACCESS_H_

#include <atomic>
#include <memory>

#include "eddy/net/worker.h"

namespace eddy {

// WorkerAccess reaches the members of Worker that only eddy's own parts may
// call: the acceptor's hand-off, the connector's bookkeeping of connects in
// progress, and the tests of both. Internal; not installed.
class WorkerAccess {
 public:
  static inline const std::atomic<ServerState> kReady{ServerState::kReady};

  // A worker on `loop`, registered as its work source, whose server is
  // always ready (for tests; a WorkerGroup makes its own). Before the loop
  // runs.
  static std::unique_ptr<Worker> Create(size_t index, EventLoop& loop,
                                        ProtocolFactory* factory,
                                        const ConnectionOptions& options,
                                        size_t inbox_depth,
                                        std::atomic<int64_t>& open) {
    std::unique_ptr<Worker> worker(
        new Worker(index, loop, factory, options, inbox_depth, open, kReady));
    loop.AddWorkSource(worker.get());
    return worker;
  }

  // Acceptor thread.
  static bool HandOff(Worker& worker, int fd) { return worker.HandOff(fd); }
  static bool QueueHandOff(Worker& worker, int fd) {
    return worker.QueueHandOff(fd);
  }
  static void WakeForHandOffs(Worker& worker) { worker.WakeForHandOffs(); }
  static void CountShed(Worker& worker) { worker.CountShedByAcceptor(); }

  // Loop thread.
  static bool HasPendingHandOffs(const Worker& worker) {
    return worker.HasPendingWork();
  }
  static void AddPending(Worker& worker, PendingConnection* pending) {
    worker.AddPending(pending);
  }
  static void RemovePending(Worker& worker, PendingConnection* pending) {
    worker.RemovePending(pending);
  }
  // Adopt with a registration made for the connect handed over.
  // With `tls` (may be null), the connection starts with a TLS handshake.
  static absl::Status AdoptRegistered(Worker& worker, UniqueFd fd,
                                      std::unique_ptr<Handler> handler,
                                      TlsStart* tls = nullptr) {
    return worker.OpenConnection(std::move(fd), std::move(handler),
                                 /*registered=*/true, tls);
  }
  static absl::Status Adopt(Worker& worker, UniqueFd fd,
                            std::unique_ptr<Handler> handler, TlsStart* tls) {
    return worker.OpenConnection(std::move(fd), std::move(handler),
                                 /*registered=*/false, tls);
  }
  // Any thread: the server's TLS context for connections opened from now.
  static void SetTlsContext(Worker& worker,
                            std::shared_ptr<const TlsContext> context) {
    worker.SetTlsContext(std::move(context));
  }
};

// A connect in progress on a worker (net/connector.cc), not yet a
// connection. The worker tracks it so that shutting down ends it: nothing
// may outlive the loop, and no connection may open once the drain began.
class PendingConnection {
 public:
  // Loop thread: give up at once; the connect's failure callback gets
  // absl::CancelledError. The worker has already forgotten it.
  virtual void CancelForShutdown() = 0;

 protected:
  ~PendingConnection() = default;

 private:
  friend class Worker;
  size_t pending_index_ = 0;
};

}  // namespace eddy

#endif  // EDDY_NET_INTERNAL_WORKER_ACCESS_H_
