#ifndef EDDY_NET_CIDR_H_
#define EDDY_NET_CIDR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eddy/net/address.h"

namespace eddy {

// Cidr is an IPv4 or IPv6 network: an address and a prefix length, as in
// "10.0.0.0/8" or "::1/128"; a bare address is a network of one. A value
// type, usable from any thread.
class Cidr {
 public:
  // Parses "ADDRESS/BITS" or "ADDRESS". Host bits set below the prefix are
  // an error ("10.0.0.1/8" is probably a typo for 10.0.0.0/8 or /32).
  static absl::StatusOr<Cidr> Parse(absl::string_view text);

  // Whether `address` lies in this network. An IPv4-mapped IPv6 address
  // (::ffff:10.0.0.1, what a "::" listener sees of an IPv4 client) counts
  // as the IPv4 address it maps. Unix addresses are in no network.
  bool Contains(const SocketAddress& address) const;

  // "10.0.0.0/8", "::1/128".
  std::string ToString() const;

 private:
  Cidr() = default;

  bool v6_ = false;
  int prefix_bits_ = 0;
  uint8_t bytes_[16] = {};  // the network, in network byte order
};

// Parses a comma-separated list ("10.0.0.0/8,::1"); empty text gives an
// empty list. Spaces around the items are ignored.
absl::StatusOr<std::vector<Cidr>> ParseCidrList(absl::string_view text);

// Whether any network of `networks` contains `address`.
bool AnyContains(const std::vector<Cidr>& networks,
                 const SocketAddress& address);

}  // namespace eddy

#endif  // EDDY_NET_CIDR_H_
