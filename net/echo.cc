#include "eddy/net/echo.h"

#include <utility>

namespace eddy {

void EchoHandler::OnData(Connection& conn, Buffer& input) {
  conn.Send(std::move(input));
}

std::unique_ptr<ProtocolFactory> MakeEchoFactory() {
  return MakeProtocolFactory(
      [](Connection&) { return std::make_unique<EchoHandler>(); });
}

}  // namespace eddy
