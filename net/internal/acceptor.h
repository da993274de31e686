#ifndef EDDY_NET_INTERNAL_ACCEPTOR_H_
#define EDDY_NET_INTERNAL_ACCEPTOR_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "eddy/core/event_loop.h"
#include "eddy/core/log.h"
#include "eddy/core/single_writer_counter.h"
#include "eddy/core/unique_fd.h"
#include "eddy/net/protocol.h"
#include "eddy/net/server.h"
#include "eddy/net/worker.h"

namespace eddy {

// Acceptor owns the listening socket and runs on its own thread with its own
// EventLoop. It accepts until EAGAIN and hands each fd to the next worker in
// round-robin order; a full inbox moves on to the next worker, and when all
// are full the connection is shed (closed and counted). Descriptor
// exhaustion never makes it spin: a reserve fd lets it accept-and-close one
// waiting peer, then it backs off with a timer and tries again, recovering
// when descriptors free up. Each of these is logged (core/log.h), rate
// limited per kind: exhaustion and its recovery, sheds, refusals at the
// cap, other accept errors.
//
// Threading: Start and Stop are called by the owner (not by the acceptor
// thread). stats() from any thread.
//
// Internal: servers own one through Server; not installed.
class Acceptor final : public IoHandler {
 public:
  struct Options {
    size_t max_connections = 100000;
    absl::Duration min_backoff = absl::Milliseconds(10);
    absl::Duration max_backoff = absl::Milliseconds(500);
    // Runs the acceptor thread under SCHED_BATCH (same priority, no wakeup
    // preemption): a connection that arrives while a worker is running on
    // the acceptor's CPU is accepted when that worker sleeps or its slice
    // ends, together with every other one that arrived meanwhile, instead
    // of switching threads for each. See ServerOptions.
    bool batch_scheduling = true;
  };

  // `workers` and `factory` must outlive the acceptor. `open_connections`
  // counts the connections handed out and not yet closed.
  Acceptor(UniqueFd listen_fd, std::vector<Worker*> workers,
           ProtocolFactory& factory, Options options,
           std::atomic<int64_t>& open_connections);
  ~Acceptor();

  absl::Status Start();
  // Stops accepting, joins the thread, hands the connections still queued
  // on the listener to the workers (which must still run) and closes the
  // listening socket.
  void Stop();

  AcceptorStats stats() const;
  // The listening socket, e.g. to pass it to another process. Owner thread,
  // until Stop.
  int listen_fd() const { return listen_fd_.get(); }
  // Connections waiting in the listener's accept queue now (TCP_INFO's
  // tcpi_unacked on a listening socket), 0 if the kernel would not say.
  // Any thread until Stop.
  uint32_t accept_queue_length() const;

  void HandleIo(uint32_t events) override;
  void HandleReady() override;

 private:
  void AcceptAll();
  // On the owner's thread once the acceptor thread ended: accepts what the
  // listener's queue holds and hands it off.
  void AcceptQueued();
  void AcceptBurst();
  void Dispatch(int fd);
  void WakeWorkersWithNewConnections();
  void OnDescriptorsExhausted(int error);
  // The end of an exhaustion episode, logged once.
  void LogRecoveryIfExhausted();
  // An accept error, with the pause before the next try.
  void LogAcceptError(LogSeverity severity, absl::string_view kind, int error,
                      absl::string_view what);
  // Retries accepting on a timer, backing off exponentially.
  void BackOff();

  UniqueFd listen_fd_;
  UniqueFd reserve_fd_;
  std::vector<Worker*> workers_;
  ProtocolFactory& factory_;
  const Options options_;
  std::atomic<int64_t>& open_connections_;
  std::unique_ptr<EventLoop> loop_;
  std::thread thread_;
  size_t next_worker_ = 0;
  // Workers given fds since they were last woken, and how many fds that is.
  std::vector<bool> unwoken_;
  size_t unwoken_fds_ = 0;
  bool backing_off_ = false;
  absl::Duration backoff_;
  // MonotonicMillis when descriptors ran out; -1 while they have not.
  int64_t exhausted_since_ms_ = -1;
  uint64_t failures_while_exhausted_ = 0;
  SingleWriterCounter accepted_;
  SingleWriterCounter rejected_at_cap_;
  SingleWriterCounter fd_exhausted_;
  SingleWriterCounter dropped_no_fd_;
  SingleWriterCounter accept_errors_;
};

}  // namespace eddy

#endif  // EDDY_NET_INTERNAL_ACCEPTOR_H_
