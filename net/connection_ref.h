#ifndef EDDY_NET_CONNECTION_REF_H_
#define EDDY_NET_CONNECTION_REF_H_

#include <cstdint>
#include <string>

#include "absl/functional/any_invocable.h"

namespace eddy {

class Connection;
class Worker;

// ConnectionRef names a connection without owning it: the worker, the slot
// and the slot's generation. It may be copied to and used from any thread.
// Once the connection has closed, the generation no longer matches and every
// call is a safe no-op that returns false.
//
// Lifetime: a ConnectionRef points into its Server's workers. Using one
// after that Server was destroyed is undefined; threads that hold refs (or
// http::Responders) must finish before the Server is destroyed.
class ConnectionRef {
 public:
  ConnectionRef() = default;

  // Runs `fn` with the connection on its loop thread, if it is still open
  // then. Returns false when the connection is known to be closed already;
  // true means the call was queued (it is skipped if the connection closes
  // before it runs).
  bool Post(absl::AnyInvocable<void(Connection&) &&> fn) const;

  // Queues `data` for sending, moved (not copied) into the connection's
  // output; same return value as Post.
  bool Send(std::string data) const;
  // Graceful Close on the loop thread; same return value as Post.
  bool Close() const;

  // Whether the connection is still open (a snapshot: it may close right
  // after). Any thread.
  bool alive() const;
  bool valid() const { return worker_ != nullptr; }

  friend bool operator==(const ConnectionRef&, const ConnectionRef&) = default;

 private:
  friend class Connection;
  friend class Worker;
  ConnectionRef(Worker* worker, uint32_t slot, uint32_t generation)
      : worker_(worker), slot_(slot), generation_(generation) {}

  Worker* worker_ = nullptr;
  uint32_t slot_ = 0;
  uint32_t generation_ = 0;
};

}  // namespace eddy

#endif  // EDDY_NET_CONNECTION_REF_H_
