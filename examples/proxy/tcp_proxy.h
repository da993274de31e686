#ifndef EDDY_EXAMPLES_PROXY_TCP_PROXY_H_
#define EDDY_EXAMPLES_PROXY_TCP_PROXY_H_

#include <memory>
#include <string>

#include "eddy/net/address.h"
#include "eddy/net/connector.h"
#include "eddy/net/protocol.h"

namespace eddy::proxy {

// A TCP proxy on eddy: each accepted connection gets an outgoing connection
// to `upstream` ("host:port"; a name is resolved for each connect, off the
// loop: net/resolver.h), opened from the same worker (net/connector.h), so both
// halves live on one thread and talk through plain pointers. Bytes flow
// both ways with backpressure: when one side's output passes its high-water
// mark, the other side stops reading until it drains. A half-close is
// passed on (FIN for FIN) and so is a reset (RST for RST): when one side
// closes cleanly, the other closes after flushing its output; when one side
// is reset, fails or times out, the session is broken and the other is reset
// at once, even while backpressure has paused its reading, instead of
// holding its peer on a full socket until a timer fires.
//
// With `send_proxy_v2`, each upstream connection starts with a PROXY
// protocol v2 header naming the client (ConnectOptions::proxy_header), so
// an upstream that expects one (ServerOptions::proxy_protocol) sees the
// client's address instead of the proxy's.
//
// Threading: the factory is shared by the workers; each pair of handlers
// runs on its worker's thread.
std::unique_ptr<ProtocolFactory> MakeTcpProxyFactory(
    std::string upstream, ConnectOptions options, bool send_proxy_v2 = false);
// The same for a numeric or Unix address.
std::unique_ptr<ProtocolFactory> MakeTcpProxyFactory(
    SocketAddress upstream, ConnectOptions options, bool send_proxy_v2 = false);

}  // namespace eddy::proxy

#endif  // EDDY_EXAMPLES_PROXY_TCP_PROXY_H_
