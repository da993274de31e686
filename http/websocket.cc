#include "eddy/http/websocket.h"

#include <array>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "eddy/http/internal/sha1.h"
#include "eddy/net/connection.h"
#include "eddy/net/protocol.h"

namespace eddy::http {
namespace {

// The connection's Handler once the handshake switched it to WebSocket:
// reads frames, answers pings, runs the close handshake, and is the
// session its WebSocketHandler sends through.
class WebSocketConnection final : public Handler, public WebSocketSession {
 public:
  WebSocketConnection(std::unique_ptr<WebSocketHandler> handler,
                      const WebSocketOptions& options, std::string subprotocol)
      : handler_(std::move(handler)),
        reader_({.max_message_bytes = options.max_message_bytes,
                 .expect_masked = true}),
        ping_interval_(options.ping_interval),
        close_timeout_(options.close_timeout),
        subprotocol_(std::move(subprotocol)) {}

  // Handler.
  void OnOpen(Connection& conn) override;
  void OnData(Connection& conn, Buffer& input) override;
  void OnDrained(Connection& conn) override;
  void OnInputEnd(Connection& conn) override;
  void OnIdleTimeout(Connection& conn) override;
  void OnServerStopping(Connection& conn) override;
  // A fleet that drains or rebalances wants the client on another server:
  // a WebSocket says so with 1001, as HTTP says it with Connection: close.
  void OnDrain(Connection& conn) override;
  void OnMaxAge(Connection& conn) override;
  void OnClose(Connection& conn, CloseReason reason) override;

  // WebSocketSession.
  void SendText(std::string text) override {
    SendFrame(WebSocketOpcode::kText, std::move(text));
  }
  void SendBinary(std::string data) override {
    SendFrame(WebSocketOpcode::kBinary, std::move(data));
  }
  void Ping(std::string payload) override {
    if (payload.size() > 125) payload.resize(125);
    SendFrame(WebSocketOpcode::kPing, std::move(payload));
  }
  void Close(int code, absl::string_view reason) override;
  bool is_full() const override { return conn_->output_full(); }
  bool closing() const override {
    return close_sent_ || close_received_ || conn_->closing();
  }
  const std::string& subprotocol() const override { return subprotocol_; }
  WebSocketRef ref() const override { return WebSocketRef(conn_->ref()); }
  Connection& connection() override { return *conn_; }

 private:
  void SendFrame(WebSocketOpcode opcode, std::string payload);
  void SendClose(int code, absl::string_view reason);
  // The peer broke the protocol: close with `code` at once.
  void Fail(int code, absl::string_view error);
  void OnPeerClose(int code, std::string reason);
  void OnPingTimer();
  void NotifyClosed(int code, absl::string_view reason);

  std::unique_ptr<WebSocketHandler> handler_;
  WebSocketReader reader_;
  const absl::Duration ping_interval_;
  const absl::Duration close_timeout_;
  const std::string subprotocol_;
  Connection* conn_ = nullptr;
  bool close_sent_ = false;
  bool close_received_ = false;
  bool close_notified_ = false;
  bool heard_from_peer_ = false;  // a frame arrived since the last ping tick
  bool ping_outstanding_ = false;
};

void WebSocketConnection::OnOpen(Connection& conn) {
  conn_ = &conn;
  if (ping_interval_ != absl::InfiniteDuration()) {
    conn.RunEvery(ping_interval_, [this](Connection&) { OnPingTimer(); });
  }
  handler_->OnOpen(*this);
}

void WebSocketConnection::OnData(Connection& conn, Buffer& input) {
  // Stopping at the high-water mark leaves the rest of the input for
  // OnDrained: a peer that does not read its answers is not read either.
  while (!input.empty() && !close_received_ && !conn.closing() &&
         !conn.output_full()) {
    size_t consumed = 0;
    WebSocketReader::Event event = reader_.Next(input.view(), consumed);
    input.Consume(consumed);
    if (consumed > 0) {
      heard_from_peer_ = true;
      ping_outstanding_ = false;
    }
    switch (event.type) {
      case WebSocketReader::EventType::kNeedMore:
        return;
      case WebSocketReader::EventType::kText:
        handler_->OnMessage(*this, WebSocketMessageType::kText,
                            std::move(event.payload));
        break;
      case WebSocketReader::EventType::kBinary:
        handler_->OnMessage(*this, WebSocketMessageType::kBinary,
                            std::move(event.payload));
        break;
      case WebSocketReader::EventType::kPing:
        if (!close_sent_) {
          conn.Send(WebSocketFrame(WebSocketOpcode::kPong, event.payload));
        }
        break;
      case WebSocketReader::EventType::kPong:
        break;
      case WebSocketReader::EventType::kClose:
        OnPeerClose(event.code, std::move(event.payload));
        return;
      case WebSocketReader::EventType::kError:
        Fail(event.code, event.error);
        return;
    }
  }
  input.ReleaseIfEmpty();
}

void WebSocketConnection::OnDrained(Connection& conn) {
  handler_->OnDrained(*this);
  OnData(conn, conn.input());
}

void WebSocketConnection::OnPeerClose(int code, std::string reason) {
  close_received_ = true;
  if (!close_sent_) {
    // Echo the peer's code (RFC 6455 5.5.1); a close without one gets an
    // empty close back.
    close_sent_ = true;
    conn_->Send(WebSocketFrame(WebSocketOpcode::kClose,
                               code == WebSocketStatus::kNoStatus
                                   ? std::string()
                                   : WebSocketClosePayload(code, "")));
  }
  // The server closes the TCP connection first (RFC 6455 7.1.1).
  conn_->Close();
  NotifyClosed(code, reason);
}

void WebSocketConnection::Fail(int code, absl::string_view error) {
  SendClose(code, error);
  conn_->input().ConsumeAll();
  conn_->Close();
  NotifyClosed(code, error);
}

void WebSocketConnection::Close(int code, absl::string_view reason) {
  if (close_sent_ || conn_->closing()) return;
  if (!IsValidWebSocketCloseCode(code)) code = WebSocketStatus::kNormal;
  SendClose(code, reason);
  conn_->RunAfter(close_timeout_, [](Connection& conn) { conn.Close(); });
}

void WebSocketConnection::SendClose(int code, absl::string_view reason) {
  if (close_sent_) return;
  close_sent_ = true;
  conn_->Send(WebSocketFrame(WebSocketOpcode::kClose,
                             WebSocketClosePayload(code, reason)));
}

void WebSocketConnection::SendFrame(WebSocketOpcode opcode,
                                    std::string payload) {
  if (close_sent_ || conn_->closing()) return;
  // At most 10 bytes: the string's own buffer holds it, no allocation.
  std::string header;
  AppendWebSocketFrameHeader(opcode, /*fin=*/true, payload.size(), header);
  conn_->Send(header);
  // Copied into the output when small, moved when large: either way no
  // frame is assembled on the side.
  conn_->Send(std::move(payload));
}

void WebSocketConnection::OnPingTimer() {
  if (closing()) return;
  if (heard_from_peer_) {
    heard_from_peer_ = false;
    return;
  }
  if (ping_outstanding_) {
    Fail(WebSocketStatus::kGoingAway, "no answer to ping");
    return;
  }
  ping_outstanding_ = true;
  Ping("");
}

void WebSocketConnection::OnInputEnd(Connection& conn) {
  conn.Close();
  NotifyClosed(
      close_received_ ? WebSocketStatus::kNormal : WebSocketStatus::kAbnormal,
      "");
}

void WebSocketConnection::OnIdleTimeout(Connection& conn) {
  Fail(WebSocketStatus::kGoingAway, "idle timeout");
}

void WebSocketConnection::OnServerStopping(Connection& conn) {
  Fail(WebSocketStatus::kGoingAway, "server stopping");
}

void WebSocketConnection::OnDrain(Connection& conn) {
  Fail(WebSocketStatus::kGoingAway, "server draining");
}

void WebSocketConnection::OnMaxAge(Connection& conn) {
  Fail(WebSocketStatus::kGoingAway, "connection max age");
}

void WebSocketConnection::OnClose(Connection& conn, CloseReason reason) {
  NotifyClosed(WebSocketStatus::kAbnormal, CloseReasonName(reason));
}

void WebSocketConnection::NotifyClosed(int code, absl::string_view reason) {
  if (close_notified_) return;
  close_notified_ = true;
  handler_->OnClose(*this, code, reason);
}

// Whether some field `name` lists `token` (comma-separated, any case).
bool HasToken(const Request& request, absl::string_view name,
              absl::string_view token) {
  for (const Header& header : request.headers()) {
    if (!absl::EqualsIgnoreCase(header.name, name)) continue;
    for (absl::string_view item : absl::StrSplit(header.value, ',')) {
      if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(item), token)) {
        return true;
      }
    }
  }
  return false;
}

// The first subprotocol the client offers that the server speaks.
std::string ChooseSubprotocol(const Request& request,
                              const std::vector<std::string>& supported) {
  for (const Header& header : request.headers()) {
    if (!absl::EqualsIgnoreCase(header.name, "Sec-WebSocket-Protocol")) {
      continue;
    }
    for (absl::string_view item : absl::StrSplit(header.value, ',')) {
      const absl::string_view offered = absl::StripAsciiWhitespace(item);
      for (const std::string& mine : supported) {
        if (offered == mine) return mine;
      }
    }
  }
  return "";
}

void Refuse(Response& response, int status, absl::string_view why) {
  response.set_status(status);
  response.set_content_type("text/plain");
  response.set_body(absl::StrCat(status, " ", ReasonPhrase(status),
                                 ": WebSocket handshake: ", why, "\n"));
}

void AnswerHandshake(const Request& request, Response& response,
                     const WebSocketFactory& factory,
                     const WebSocketOptions& options) {
  if (request.method() != "GET" || request.version() != Version::kHttp11) {
    Refuse(response, 400, "needs GET over HTTP/1.1");
    return;
  }
  if (!HasToken(request, "Upgrade", "websocket") ||
      !HasToken(request, "Connection", "upgrade")) {
    Refuse(response, 400, "needs Upgrade: websocket and Connection: Upgrade");
    return;
  }
  const std::optional<absl::string_view> version =
      request.FindHeader("Sec-WebSocket-Version");
  if (!version.has_value()) {
    Refuse(response, 400, "no Sec-WebSocket-Version");
    return;
  }
  if (absl::StripAsciiWhitespace(*version) != "13") {
    Refuse(response, 426, "only version 13 is spoken");
    response.AddHeader("Sec-WebSocket-Version", "13");
    return;
  }
  const std::optional<absl::string_view> key =
      request.FindHeader("Sec-WebSocket-Key");
  std::string nonce;
  if (!key.has_value() ||
      !absl::Base64Unescape(absl::StripAsciiWhitespace(*key), &nonce) ||
      nonce.size() != 16) {
    Refuse(response, 400, "Sec-WebSocket-Key must be 16 bytes in base64");
    return;
  }
  std::unique_ptr<WebSocketHandler> handler = factory(request);
  if (handler == nullptr) {
    Refuse(response, 403, "refused by the application");
    return;
  }
  std::string subprotocol = ChooseSubprotocol(request, options.subprotocols);
  response.AddHeader("Upgrade", "websocket");
  response.AddHeader("Sec-WebSocket-Accept",
                     WebSocketAcceptKey(absl::StripAsciiWhitespace(*key)));
  if (!subprotocol.empty()) {
    response.AddHeader("Sec-WebSocket-Protocol", subprotocol);
  }
  response.SwitchProtocols(std::make_unique<WebSocketConnection>(
      std::move(handler), options, std::move(subprotocol)));
}

// Runs `fn` with the session on the connection's loop, if the connection
// still speaks WebSocket.
template <typename Fn>
bool PostToSession(const ConnectionRef& connection, Fn fn) {
  return connection.Post([fn = std::move(fn)](Connection& conn) mutable {
    if (auto* session = dynamic_cast<WebSocketSession*>(conn.handler())) {
      fn(*session);
    }
  });
}

}  // namespace

std::string WebSocketAcceptKey(absl::string_view client_key) {
  const std::array<uint8_t, 20> digest =
      Sha1(absl::StrCat(client_key, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"));
  return absl::Base64Escape(absl::string_view(
      reinterpret_cast<const char*>(digest.data()), digest.size()));
}

Router::Handler WebSocketRoute(WebSocketFactory factory,
                               WebSocketOptions options) {
  return [factory = std::move(factory), options = std::move(options)](
             const Request& request, Response& response) {
    AnswerHandshake(request, response, factory, options);
  };
}

bool WebSocketRef::SendText(std::string text) const {
  return PostToSession(connection_,
                       [text = std::move(text)](WebSocketSession& s) mutable {
                         s.SendText(std::move(text));
                       });
}

bool WebSocketRef::SendBinary(std::string data) const {
  return PostToSession(connection_,
                       [data = std::move(data)](WebSocketSession& s) mutable {
                         s.SendBinary(std::move(data));
                       });
}

bool WebSocketRef::Close(int code, std::string reason) const {
  return PostToSession(connection_,
                       [code, reason = std::move(reason)](WebSocketSession& s) {
                         s.Close(code, reason);
                       });
}

}  // namespace eddy::http
