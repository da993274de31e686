#include "eddy/net/connection_ref.h"

#include <utility>

#include "eddy/net/connection.h"
#include "eddy/net/worker.h"

namespace eddy {

bool ConnectionRef::alive() const {
  return worker_ != nullptr && worker_->IsAlive(slot_, generation_);
}

bool ConnectionRef::Post(absl::AnyInvocable<void(Connection&) &&> fn) const {
  if (!alive()) return false;
  Worker* worker = worker_;
  const uint32_t slot = slot_;
  const uint32_t generation = generation_;
  worker->loop().Post([worker, slot, generation, fn = std::move(fn)]() mutable {
    // The generation is checked again on the loop thread, where it cannot
    // change underneath: a connection closed in between is skipped.
    if (Connection* conn = worker->Find(slot, generation)) {
      conn->RunTask(std::move(fn));
    }
  });
  return true;
}

bool ConnectionRef::Send(std::string data) const {
  return Post([data = std::move(data)](Connection& conn) mutable {
    conn.Send(std::move(data));
  });
}

bool ConnectionRef::Close() const {
  return Post([](Connection& conn) { conn.Close(); });
}

}  // namespace eddy
