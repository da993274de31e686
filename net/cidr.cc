#include "eddy/net/cidr.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace eddy {
namespace {

constexpr uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0,    0,
                                         0, 0, 0, 0, 0xff, 0xff};

// Whether the first `bits` bits of `a` and `b` are equal.
bool PrefixMatches(const uint8_t* a, const uint8_t* b, int bits) {
  const int whole = bits / 8;
  if (std::memcmp(a, b, whole) != 0) return false;
  const int rest = bits % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

absl::StatusOr<Cidr> Cidr::Parse(absl::string_view text) {
  const auto invalid = [text](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a network (", why,
                     "); pass e.g. 10.0.0.0/8, 127.0.0.1 or ::1/128"));
  };
  absl::string_view address = text;
  absl::string_view bits;
  const size_t slash = text.find('/');
  if (slash != absl::string_view::npos) {
    address = text.substr(0, slash);
    bits = text.substr(slash + 1);
  }
  Cidr cidr;
  const std::string host(address);
  if (::inet_pton(AF_INET, host.c_str(), cidr.bytes_) == 1) {
    cidr.v6_ = false;
  } else if (::inet_pton(AF_INET6, host.c_str(), cidr.bytes_) == 1) {
    cidr.v6_ = true;
  } else {
    return invalid("not a numeric IPv4 or IPv6 address");
  }
  const int max_bits = cidr.v6_ ? 128 : 32;
  cidr.prefix_bits_ = max_bits;
  if (slash != absl::string_view::npos &&
      (bits.empty() || bits.size() > 3 ||
       !std::all_of(bits.begin(), bits.end(), absl::ascii_isdigit) ||
       !absl::SimpleAtoi(bits, &cidr.prefix_bits_) ||
       cidr.prefix_bits_ > max_bits)) {
    return invalid(absl::StrCat("the prefix length must be 0 to ", max_bits));
  }
  uint8_t network[16] = {};
  std::memcpy(network, cidr.bytes_, sizeof(network));
  const int whole = cidr.prefix_bits_ / 8;
  if (whole < 16) {
    if (cidr.prefix_bits_ % 8 != 0) {
      network[whole] &=
          static_cast<uint8_t>(0xff << (8 - cidr.prefix_bits_ % 8));
      std::memset(network + whole + 1, 0, 15 - whole);
    } else {
      std::memset(network + whole, 0, 16 - whole);
    }
  }
  if (std::memcmp(network, cidr.bytes_, max_bits / 8) != 0) {
    return invalid("bits are set after the prefix");
  }
  return cidr;
}

bool Cidr::Contains(const SocketAddress& address) const {
  const sockaddr* raw = address.sockaddr_ptr();
  if (address.family() == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(raw);
    return !v6_ &&
           PrefixMatches(reinterpret_cast<const uint8_t*>(&v4->sin_addr),
                         bytes_, prefix_bits_);
  }
  if (address.family() != AF_INET6) return false;
  const uint8_t* bytes = reinterpret_cast<const uint8_t*>(
      &reinterpret_cast<const sockaddr_in6*>(raw)->sin6_addr);
  if (v6_) return PrefixMatches(bytes, bytes_, prefix_bits_);
  return std::memcmp(bytes, kV4MappedPrefix, sizeof(kV4MappedPrefix)) == 0 &&
         PrefixMatches(bytes + 12, bytes_, prefix_bits_);
}

std::string Cidr::ToString() const {
  char text[INET6_ADDRSTRLEN] = "";
  ::inet_ntop(v6_ ? AF_INET6 : AF_INET, bytes_, text, sizeof(text));
  return absl::StrCat(text, "/", prefix_bits_);
}

absl::StatusOr<std::vector<Cidr>> ParseCidrList(absl::string_view text) {
  std::vector<Cidr> networks;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    item = absl::StripAsciiWhitespace(item);
    if (item.empty()) continue;
    absl::StatusOr<Cidr> cidr = Cidr::Parse(item);
    if (!cidr.ok()) return cidr.status();
    networks.push_back(*cidr);
  }
  return networks;
}

bool AnyContains(const std::vector<Cidr>& networks,
                 const SocketAddress& address) {
  for (const Cidr& network : networks) {
    if (network.Contains(address)) return true;
  }
  return false;
}

}  // namespace eddy
