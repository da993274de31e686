#include "eddy/net/protocol.h"

#include <utility>

#include "eddy/net/connection.h"

namespace eddy {

absl::string_view CloseReasonName(CloseReason reason) {
  switch (reason) {
    case CloseReason::kPeerClosed:
      return "peer closed";
    case CloseReason::kLocalClose:
      return "closed";
    case CloseReason::kAborted:
      return "aborted";
    case CloseReason::kReset:
      return "reset by peer";
    case CloseReason::kError:
      return "socket error";
    case CloseReason::kIdleTimeout:
      return "idle timeout";
    case CloseReason::kWriteTimeout:
      return "write timeout";
    case CloseReason::kServerStopping:
      return "server stopping";
  }
  return "unknown";
}

void Handler::OnInputEnd(Connection& conn) {
  conn.Close(CloseReason::kPeerClosed);
}
void Handler::OnIdleTimeout(Connection& conn) {
  conn.Close(CloseReason::kIdleTimeout);
}
void Handler::OnMaxAge(Connection& conn) { conn.Close(); }
void Handler::OnServerStopping(Connection& conn) {
  conn.Close(CloseReason::kServerStopping);
}

namespace {

class FunctionFactory final : public ProtocolFactory {
 public:
  explicit FunctionFactory(
      absl::AnyInvocable<std::unique_ptr<Handler>(Connection&) const> make)
      : make_(std::move(make)) {}
  std::unique_ptr<Handler> NewHandler(Connection& conn) override {
    return make_(conn);
  }

 private:
  absl::AnyInvocable<std::unique_ptr<Handler>(Connection&) const> make_;
};

}  // namespace

std::unique_ptr<ProtocolFactory> MakeProtocolFactory(
    absl::AnyInvocable<std::unique_ptr<Handler>(Connection&) const> make) {
  return std::make_unique<FunctionFactory>(std::move(make));
}

}  // namespace eddy
