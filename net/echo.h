#ifndef EDDY_NET_ECHO_H_
#define EDDY_NET_ECHO_H_

#include <memory>

#include "eddy/net/connection.h"
#include "eddy/net/protocol.h"

namespace eddy {

// The echo protocol: every byte received is sent back, in order. The
// smallest complete Handler: the input buffer is handed to the output
// without a copy, backpressure comes from the connection's water marks, and
// a peer's half-close is answered by flushing and closing.
class EchoHandler final : public Handler {
 public:
  void OnData(Connection& conn, Buffer& input) override;
};

// Thread-safe (stateless).
std::unique_ptr<ProtocolFactory> MakeEchoFactory();

}  // namespace eddy

#endif  // EDDY_NET_ECHO_H_
