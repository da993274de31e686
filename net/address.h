#ifndef EDDY_NET_ADDRESS_H_
#define EDDY_NET_ADDRESS_H_

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace eddy {

// SocketAddress is an IPv4 or IPv6 address with a port, or a Unix domain
// socket address (a path, or a name in Linux's abstract namespace): a small
// value type (about 112 bytes) that can be copied freely and used from any
// thread.
//
// Unix addresses are written "unix:/run/app.sock" (a file) and
// "unix:@name" (abstract: no file; '@' stands for the leading NUL byte).
// They have no port: port() is 0 and set_port does nothing.
class SocketAddress {
 public:
  // An unspecified address (family AF_UNSPEC).
  SocketAddress() : storage_{}, unix_length_(0) {}

  // Parses a numeric IPv4 ("127.0.0.1") or IPv6 ("::1", "[::1]") address;
  // "localhost" means 127.0.0.1. "unix:PATH" and "unix:@NAME" give a Unix
  // address and ignore `port`. No DNS lookups: a server binds to numeric
  // addresses, and a resolver call would block the caller.
  static absl::StatusOr<SocketAddress> Parse(absl::string_view host,
                                             uint16_t port);
  // Parses "host:port", "[v6]:port", or a Unix address as Parse does.
  static absl::StatusOr<SocketAddress> ParseHostPort(
      absl::string_view host_port);
  static SocketAddress FromSockaddr(const sockaddr* address, socklen_t length);

  // The local / remote address of a connected or bound socket.
  static absl::StatusOr<SocketAddress> LocalOf(int fd);
  static absl::StatusOr<SocketAddress> PeerOf(int fd);

  int family() const { return storage_.v4.sin_family; }
  bool is_v6() const { return family() == AF_INET6; }
  bool is_unix() const { return family() == AF_UNIX; }
  // A Unix address in the abstract namespace (no file on disk).
  bool is_abstract() const;
  // The file of a Unix address that names one; empty otherwise.
  std::string unix_path() const;
  uint16_t port() const;
  void set_port(uint16_t port);
  // The address without the port: "127.0.0.1" or "::1"; a Unix address is
  // its ToString().
  std::string host() const;
  // "127.0.0.1:8080", "[::1]:8080", "unix:/run/app.sock", "unix:@name", or
  // "unix:" for an unnamed Unix socket (e.g. a client's).
  std::string ToString() const;

  const sockaddr* sockaddr_ptr() const {
    return reinterpret_cast<const sockaddr*>(&storage_);
  }
  socklen_t length() const;

 private:
  union Storage {
    sockaddr_in v4;
    sockaddr_in6 v6;
    sockaddr_un un;
  } storage_;
  // For AF_UNIX: the length that goes with the sockaddr, since an abstract
  // name is counted, not NUL-terminated.
  socklen_t unix_length_;
};

}  // namespace eddy

#endif  // EDDY_NET_ADDRESS_H_
