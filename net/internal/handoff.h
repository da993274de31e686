#ifndef EDDY_NET_INTERNAL_HANDOFF_H_
#define EDDY_NET_INTERNAL_HANDOFF_H_

#include <atomic>
#include <string>
#include <thread>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "eddy/core/unique_fd.h"

namespace eddy {

// The listener hand-off between an old and a new server process
// (ServerOptions::handoff_socket), over a Unix stream socket at a path:
//
//   new -> old   "eddy-handoff 1\n"
//   old -> new   "eddy-handoff 1\n" with SCM_RIGHTS: [listener, handoff]
//                (the TCP listening socket and the hand-off socket itself)
//   new          starts serving on the listener (never closed, never
//                rebound: the accept queue survives) and answers on the
//                hand-off socket from now on
//   new -> old   "ready\n"
//   old          drains (Server::Drain) and exits after its drain_delay
//
// The old process only lets go after "ready": a new one that fails before
// (bad flags, a crash, a timeout) leaves it serving, and it answers the
// next one. The version in the greeting lets a newer build refuse an older
// peer it cannot talk to.

// The new process's side. Internal; Server uses it.
class HandoffClient {
 public:
  // Connects to `path` and receives the old server's sockets, waiting at
  // most `timeout`. NotFoundError when nobody serves there (no file, or a
  // stale one: connection refused): the caller binds its own.
  static absl::StatusOr<HandoffClient> Request(const std::string& path,
                                               absl::Duration timeout);

  UniqueFd TakeListener() { return std::move(listener_); }
  UniqueFd TakeHandoffListener() { return std::move(handoff_listener_); }
  // Tells the old server that this one accepts now: it drains.
  absl::Status SendReady();

 private:
  UniqueFd connection_;
  UniqueFd listener_;
  UniqueFd handoff_listener_;
};

// A listening Unix stream socket at `path` (close-on-exec). A file already
// there is replaced only if nobody accepts on it (a stale socket).
absl::StatusOr<UniqueFd> ListenForHandoff(const std::string& path);

// The running process's side: a thread that answers hand-off requests on
// the hand-off listener, one at a time, until one new process says ready;
// then it calls `on_ready` (on its own thread) and ends, closing its copy
// of the hand-off socket (the new process has its own).
//
// Threading: Start and Stop from the owner; handed_off() from any thread.
class HandoffServer {
 public:
  // `listener` (not owned) is passed to new processes and must stay open
  // until Stop.
  HandoffServer(UniqueFd handoff_listener, int listener,
                absl::AnyInvocable<void()> on_ready);
  ~HandoffServer();
  HandoffServer(const HandoffServer&) = delete;
  HandoffServer& operator=(const HandoffServer&) = delete;

  absl::Status Start();
  // Ends the thread (a hand-off in progress is abandoned: the new process
  // sees the connection close) and closes this process's hand-off socket.
  void Stop();
  bool handed_off() const { return handed_off_.load(); }

 private:
  void Run();
  // One new process on `connection`: true if it said ready.
  bool Serve(int connection);
  // Waits until `fd` is readable or Stop was called; false on Stop or
  // after `timeout`.
  bool WaitReadable(int fd, absl::Duration timeout);

  UniqueFd handoff_listener_;
  const int listener_;
  absl::AnyInvocable<void()> on_ready_;
  UniqueFd wake_;  // an eventfd that Stop writes
  std::thread thread_;
  std::atomic<bool> handed_off_{false};
};

}  // namespace eddy

#endif  // EDDY_NET_INTERNAL_HANDOFF_H_
