#ifndef EDDY_NET_INTERNAL_HAPPY_EYEBALLS_H_
#define EDDY_NET_INTERNAL_HAPPY_EYEBALLS_H_

#include <vector>

#include "absl/time/time.h"
#include "eddy/net/address.h"

namespace eddy {

// RFC 8305 section 5: how long a connection attempt runs alone before the
// next address is tried beside it.
inline constexpr absl::Duration kConnectionAttemptDelay =
    absl::Milliseconds(250);

// The order in which to try `addresses` (RFC 8305 section 4): keep the
// resolver's preference, but alternate the families, starting with the
// family of the first address, so that one broken family delays a connect
// by one attempt delay at most. Any thread.
std::vector<SocketAddress> InterleaveFamilies(
    const std::vector<SocketAddress>& addresses);

}  // namespace eddy

#endif  // EDDY_NET_INTERNAL_HAPPY_EYEBALLS_H_
