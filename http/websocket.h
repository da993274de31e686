#ifndef EDDY_HTTP_WEBSOCKET_H_
#define EDDY_HTTP_WEBSOCKET_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "eddy/http/request.h"
#include "eddy/http/router.h"
#include "eddy/http/websocket_frame.h"
#include "eddy/net/connection_ref.h"

namespace eddy {
class Connection;
}  // namespace eddy

namespace eddy::http {

enum class WebSocketMessageType { kText, kBinary };

class WebSocketRef;

// WebSocketSession is one open WebSocket connection as its handler sees it:
// the way to send messages and to close. Made by eddy after the handshake.
//
// Threading: the connection's loop thread only (inside WebSocketHandler
// callbacks, connection timers or tasks posted to the connection); other
// threads use ref().
class WebSocketSession {
 public:
  // Send one message (a single frame). Ignored once the session is closing.
  virtual void SendText(std::string text) = 0;
  virtual void SendBinary(std::string data) = 0;
  virtual void Ping(std::string payload) = 0;
  // Starts the close handshake with `code` (1000-1003, 1007-1014 or
  // 3000-4999; anything else is sent as 1000) and `reason` (UTF-8, cut to
  // 123 bytes). The connection closes when the peer answers, or after
  // WebSocketOptions::close_timeout. OnClose follows.
  virtual void Close(int code = WebSocketStatus::kNormal,
                     absl::string_view reason = {}) = 0;

  // The output is above the connection's high-water mark: a handler with
  // more to send waits for OnDrained. Reading the peer's messages pauses
  // meanwhile, so an echo to a slow reader holds its sender.
  virtual bool is_full() const = 0;
  // A close frame was sent or received, or the connection is closing.
  virtual bool closing() const = 0;
  // The subprotocol chosen in the handshake ("" if none).
  virtual const std::string& subprotocol() const = 0;
  // A handle for other threads.
  virtual WebSocketRef ref() const = 0;
  virtual Connection& connection() = 0;

 protected:
  ~WebSocketSession() = default;
};

// WebSocketRef names a session from any thread: each call is posted to
// the connection's loop and runs there as the session's own call would.
// Returns false if the connection is known to be closed already (see
// ConnectionRef::Post). Copyable.
class WebSocketRef {
 public:
  WebSocketRef() = default;
  explicit WebSocketRef(ConnectionRef connection) : connection_(connection) {}

  bool SendText(std::string text) const;
  bool SendBinary(std::string data) const;
  bool Close(int code = WebSocketStatus::kNormal,
             std::string reason = {}) const;
  bool alive() const { return connection_.alive(); }

 private:
  ConnectionRef connection_;
};

// The application's side of one WebSocket connection, made per handshake
// by the route's factory. Callbacks run on the connection's loop thread,
// one at a time.
class WebSocketHandler {
 public:
  virtual ~WebSocketHandler() = default;
  // The handshake's 101 is on its way; messages may be sent.
  virtual void OnOpen(WebSocketSession& session) {}
  // A whole message (fragments reassembled; text checked to be UTF-8).
  virtual void OnMessage(WebSocketSession& session, WebSocketMessageType type,
                         std::string data) = 0;
  // The output fell below the low-water mark after is_full().
  virtual void OnDrained(WebSocketSession& session) {}
  // The session ended: `code` is the peer's close code (kNoStatus if its
  // close frame had none), the code eddy closed with when the peer broke
  // the protocol (1002, 1007, 1009) or timed out (1001), or kAbnormal when
  // the connection ended without a close frame. Called once; nothing can
  // be sent any more.
  virtual void OnClose(WebSocketSession& session, int code,
                       absl::string_view reason) {}
};

struct WebSocketOptions {
  // A message above this many bytes closes the connection with 1009.
  size_t max_message_bytes = 1 << 20;
  // Subprotocols the server speaks: the first one the client offers (in
  // the client's order) is chosen; none in common means none is used.
  std::vector<std::string> subprotocols;
  // A ping goes out after this long without a frame from the peer; a
  // second such period without one closes the connection (1001).
  // InfiniteDuration: no pings.
  absl::Duration ping_interval = absl::Seconds(30);
  // How long a close handshake eddy started waits for the peer's answer.
  absl::Duration close_timeout = absl::Seconds(5);
};

// Makes the handler for an accepted handshake; null refuses it (403).
// Called on worker threads concurrently: it must be thread-safe.
using WebSocketFactory = absl::AnyInvocable<std::unique_ptr<WebSocketHandler>(
    const Request& request) const>;

// A route handler that answers the WebSocket handshake (RFC 6455 4.2) and
// hands the connection to the factory's handler:
//
//   router.Handle("GET", "/ws", WebSocketRoute(factory, options));
//
// A request that is not a valid version-13 handshake gets 400 (426 with
// "Sec-WebSocket-Version: 13" for another version).
Router::Handler WebSocketRoute(WebSocketFactory factory,
                               WebSocketOptions options = {});

// The Sec-WebSocket-Accept value for a client's Sec-WebSocket-Key.
std::string WebSocketAcceptKey(absl::string_view client_key);

}  // namespace eddy::http

#endif  // EDDY_HTTP_WEBSOCKET_H_
