#ifndef EDDY_NET_ADDRESS_H_
#define EDDY_NET_ADDRESS_H_

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace eddy {

// SocketAddress is an IPv4 or IPv6 address with a port: a small value type
// (28 bytes) that can be copied freely and used from any thread.
class SocketAddress {
 public:
  // An unspecified address (family AF_UNSPEC).
  SocketAddress() : storage_{} {}

  // Parses a numeric IPv4 ("127.0.0.1") or IPv6 ("::1", "[::1]") address;
  // "localhost" means 127.0.0.1. No DNS lookups: a server binds to numeric
  // addresses, and a resolver call would block the caller.
  static absl::StatusOr<SocketAddress> Parse(absl::string_view host,
                                             uint16_t port);
  // Parses "host:port" or "[v6]:port".
  static absl::StatusOr<SocketAddress> ParseHostPort(
      absl::string_view host_port);
  static SocketAddress FromSockaddr(const sockaddr* address, socklen_t length);

  // The local / remote address of a connected or bound socket.
  static absl::StatusOr<SocketAddress> LocalOf(int fd);
  static absl::StatusOr<SocketAddress> PeerOf(int fd);

  int family() const { return storage_.v4.sin_family; }
  bool is_v6() const { return family() == AF_INET6; }
  uint16_t port() const;
  void set_port(uint16_t port);
  // The address without the port: "127.0.0.1" or "::1".
  std::string host() const;
  // "127.0.0.1:8080" or "[::1]:8080".
  std::string ToString() const;

  const sockaddr* sockaddr_ptr() const {
    return reinterpret_cast<const sockaddr*>(&storage_);
  }
  socklen_t length() const {
    return is_v6() ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  }

 private:
  union Storage {
    sockaddr_in v4;
    sockaddr_in6 v6;
  } storage_;
};

}  // namespace eddy

#endif  // EDDY_NET_ADDRESS_H_
