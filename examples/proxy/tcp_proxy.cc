#include "examples/proxy/tcp_proxy.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "eddy/core/log.h"
#include "eddy/net/connection.h"

namespace eddy::proxy {
namespace {

// The two connections of one proxied session. Both live on the same worker
// thread (the upstream is connected from the downstream's worker), so plain
// pointers suffice; each is cleared when its connection closes.
struct Session {
  Connection* down = nullptr;
  Connection* up = nullptr;
};

// Whether a connection that ended for `reason` delivered its output: only
// then may its partner finish gracefully.
bool EndedCleanly(CloseReason reason) {
  switch (reason) {
    case CloseReason::kPeerClosed:
    case CloseReason::kLocalClose:
    case CloseReason::kIdleTimeout:
    case CloseReason::kServerStopping:
      return true;
    case CloseReason::kAborted:
    case CloseReason::kReset:
    case CloseReason::kError:
    case CloseReason::kWriteTimeout:
      return false;
  }
  return false;
}

class ProxySide final : public Handler {
 public:
  enum class Role { kDown, kUp };

  ProxySide(std::shared_ptr<Session> session, Role role, std::string upstream,
            ConnectOptions options, bool send_proxy_v2 = false)
      : session_(std::move(session)),
        role_(role),
        upstream_(upstream),
        options_(options),
        send_proxy_v2_(send_proxy_v2) {}

  void OnOpen(Connection& conn) override {
    if (role_ == Role::kDown) {
      session_->down = &conn;
      // Nothing can be forwarded until the upstream answers.
      conn.PauseReading();
      auto session = session_;
      const std::string upstream = upstream_;
      ConnectOptions options = options_;
      if (send_proxy_v2_) options.proxy_header = ClientOf(conn);
      Connect(
          conn.worker(), upstream_, options,
          [session, upstream, options] {
            return std::make_unique<ProxySide>(session, Role::kUp, upstream,
                                               options);
          },
          [session, upstream](absl::Status status) {
            if (session->down == nullptr) return;
            // An upstream that cannot be reached or verified (a TLS
            // handshake that failed) is the operator's to fix: say which
            // and why, then close the client's connection.
            Connection& down = *session->down;
            const std::string message =
                absl::StrCat("upstream ", upstream, ": ", status.ToString());
            const std::string peer = down.peer().ToString();
            LogEvent event;
            event.severity = LogSeverity::kWarning;
            event.kind = "proxy.upstream_failed";
            event.connection = down.id();
            event.peer = peer;
            event.message = message;
            Log(event);
            down.Close();
          });
      return;
    }
    session_->up = &conn;
    Connection* down = session_->down;
    if (down == nullptr) {
      conn.Close();
      return;
    }
    // Forward what the client sent while we connected, then let it flow.
    if (!down->input().empty()) conn.Send(std::move(down->input()));
    down->ResumeReading();
  }

  void OnData(Connection& conn, Buffer& input) override {
    if (Connection* other = Other()) {
      other->Send(std::move(input));
    } else {
      conn.PauseReading();  // keep the bytes until the other side exists
    }
  }

  // Our output is full: stop reading the side that feeds it.
  void OnHighWater(Connection&) override {
    if (Connection* other = Other()) other->PauseReading();
  }
  void OnDrained(Connection&) override {
    if (Connection* other = Other()) other->ResumeReading();
  }

  // FIN for FIN; each connection closes once both its directions are done.
  void OnInputEnd(Connection& conn) override {
    if (Connection* other = Other()) {
      other->ShutdownWrite();
    } else {
      conn.Close(CloseReason::kPeerClosed);
    }
  }

  // RST for RST: after a reset, an error or a stalled write the session is
  // broken, and a graceful close would leave the other side's peer waiting
  // on a full socket until the linger or write timer.
  void OnClose(Connection&, CloseReason reason) override {
    (role_ == Role::kDown ? session_->down : session_->up) = nullptr;
    Connection* other = Other();
    if (other == nullptr) return;
    if (EndedCleanly(reason)) {
      other->Close();
    } else {
      other->Abort();
    }
  }

 private:
  // The client and the address it connected to, as the upstream should
  // see them: from the PROXY header this proxy received, if any, else from
  // the socket.
  static ConnectOptions::ProxyHeader ClientOf(Connection& conn) {
    ConnectOptions::ProxyHeader header;
    header.source = conn.peer();
    const ProxyInfo* info = conn.proxy_info();
    if (info != nullptr && !info->local) {
      header.destination = info->destination;
    } else if (absl::StatusOr<SocketAddress> local =
                   SocketAddress::LocalOf(conn.fd());
               local.ok()) {
      header.destination = *local;
    }
    return header;
  }

  Connection* Other() const {
    return role_ == Role::kDown ? session_->up : session_->down;
  }

  std::shared_ptr<Session> session_;
  const Role role_;
  const std::string upstream_;
  const ConnectOptions options_;
  const bool send_proxy_v2_;
};

class TcpProxyFactory final : public ProtocolFactory {
 public:
  TcpProxyFactory(std::string upstream, ConnectOptions options,
                  bool send_proxy_v2)
      : upstream_(std::move(upstream)),
        options_(options),
        send_proxy_v2_(send_proxy_v2) {}
  std::unique_ptr<Handler> NewHandler(Connection&) override {
    return std::make_unique<ProxySide>(std::make_shared<Session>(),
                                       ProxySide::Role::kDown, upstream_,
                                       options_, send_proxy_v2_);
  }

 private:
  const std::string upstream_;
  const ConnectOptions options_;
  const bool send_proxy_v2_;
};

}  // namespace

std::unique_ptr<ProtocolFactory> MakeTcpProxyFactory(std::string upstream,
                                                     ConnectOptions options,
                                                     bool send_proxy_v2) {
  return std::make_unique<TcpProxyFactory>(std::move(upstream), options,
                                           send_proxy_v2);
}

std::unique_ptr<ProtocolFactory> MakeTcpProxyFactory(SocketAddress upstream,
                                                     ConnectOptions options,
                                                     bool send_proxy_v2) {
  return MakeTcpProxyFactory(upstream.ToString(), options, send_proxy_v2);
}

}  // namespace eddy::proxy
