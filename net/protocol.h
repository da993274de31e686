#ifndef EDDY_NET_PROTOCOL_H_
#define EDDY_NET_PROTOCOL_H_

#include <cstddef>
#include <memory>

#include "absl/functional/any_invocable.h"
#include "absl/strings/string_view.h"
#include "eddy/core/buffer.h"

namespace eddy {

class Connection;

// Why a connection ended; passed to Handler::OnClose.
enum class CloseReason {
  kPeerClosed,      // the peer closed (FIN) and we finished our side
  kLocalClose,      // Close() was called and the output was flushed
  kAborted,         // Abort() was called: RST, output discarded
  kReset,           // the peer reset the connection (ECONNRESET, EPIPE)
  kError,           // another socket error
  kIdleTimeout,     // nothing was read or written for the idle timeout
  kWriteTimeout,    // output could not be flushed within the write timeout
  kServerStopping,  // the server's shutdown deadline passed
};
// How many CloseReasons there are, e.g. to count closes by reason.
inline constexpr size_t kCloseReasonCount =
    static_cast<size_t>(CloseReason::kServerStopping) + 1;

absl::string_view CloseReasonName(CloseReason reason);

// Handler is the protocol's side of one connection: a new instance per
// connection, created by the ProtocolFactory on the worker that owns the
// connection. Every callback runs on that worker's thread, never
// concurrently, and never re-entrantly (a Send or Close inside a callback
// takes effect when it returns).
class Handler {
 public:
  virtual ~Handler() = default;

  // The connection is registered and may be written to.
  virtual void OnOpen(Connection& conn) {}

  // New bytes arrived. Consume what forms complete messages (input.Consume)
  // and leave the rest for the next call, which comes when more arrives.
  virtual void OnData(Connection& conn, Buffer& input) = 0;

  // The peer closed its write side (a zero-byte read); `input` holds what was
  // not consumed. The default finishes with a graceful Close(): the output
  // queued so far is flushed first. A protocol that answers asynchronously
  // overrides this to close once its last answer is sent.
  virtual void OnInputEnd(Connection& conn);

  // The output rose above the high-water mark; reading is paused until it
  // falls below the low-water mark, when OnDrained is called.
  virtual void OnHighWater(Connection& conn) {}
  virtual void OnDrained(Connection& conn) {}

  // No byte moved for the idle timeout (Connection::SetIdleTimeout). The
  // default closes the connection.
  virtual void OnIdleTimeout(Connection& conn);

  // The server began draining (Server::Drain; ServerState::kDraining): it
  // still serves, but will stop after its drain_delay, and a load balancer
  // is being told to send no more. Called once per connection: on those
  // open when draining began, and on those accepted while draining right
  // after OnOpen. A protocol that can say "go away" (a last response with
  // "Connection: close", a GOAWAY, a redirect to another server) does it
  // here or on its next message. The default does nothing: the connection
  // lasts until the client closes it or Stop asks it to end.
  virtual void OnDrain(Connection& conn) {}

  // The connection is older than ConnectionOptions::max_age: end it
  // gracefully so that the client reconnects (perhaps to another server of
  // the fleet). The default closes it once its queued output is flushed; a
  // protocol with requests in flight overrides this to end after the
  // current one (HTTP: "Connection: close" on the next response).
  virtual void OnMaxAge(Connection& conn);

  // The server is shutting down gracefully. The default closes the
  // connection once its output is flushed; a protocol with a request in
  // flight lets it finish first and then closes.
  virtual void OnServerStopping(Connection& conn);

  // The connection is closed; the fd is still open during the call but no
  // more bytes can be sent. The handler is destroyed after this.
  virtual void OnClose(Connection& conn, CloseReason reason) {}
};

// ProtocolFactory creates the Handler for each accepted connection.
//
// Threading: NewHandler is called on worker threads, concurrently from all
// workers; implementations must be thread-safe (usually they hold only
// immutable configuration). OverloadResponse is called on the acceptor
// thread.
class ProtocolFactory {
 public:
  virtual ~ProtocolFactory() = default;
  virtual std::unique_ptr<Handler> NewHandler(Connection& conn) = 0;

  // Bytes written (best effort, non-blocking) to a connection refused
  // because the server is at max_connections, before it is closed; e.g. an
  // HTTP 503. Empty means close silently.
  virtual absl::string_view OverloadResponse() const { return {}; }
};

// A factory from a function, for handlers without shared state:
//   MakeProtocolFactory([](Connection&) { return std::make_unique<Echo>(); })
std::unique_ptr<ProtocolFactory> MakeProtocolFactory(
    absl::AnyInvocable<std::unique_ptr<Handler>(Connection&) const> make);

}  // namespace eddy

#endif  // EDDY_NET_PROTOCOL_H_
