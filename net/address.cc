#include "eddy/net/address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace eddy {

namespace {

constexpr socklen_t kUnixPathOffset = offsetof(sockaddr_un, sun_path);
constexpr absl::string_view kUnixScheme = "unix:";

}  // namespace

absl::StatusOr<SocketAddress> SocketAddress::Parse(absl::string_view host,
                                                   uint16_t port) {
  if (absl::ConsumePrefix(&host, kUnixScheme)) {
    // sun_path holds the path and its NUL, or the NUL and an abstract name.
    if (host.empty() || host == "@" ||
        host.size() >= sizeof(sockaddr_un::sun_path)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "'unix:", host, "' is not a Unix socket address; pass unix:PATH ",
          "(at most ", sizeof(sockaddr_un::sun_path) - 1,
          " bytes) or unix:@NAME for the abstract namespace"));
    }
    SocketAddress address;
    address.storage_.un.sun_family = AF_UNIX;
    const bool abstract = host.front() == '@';
    // For an abstract name, the '@' becomes the leading NUL byte.
    std::memcpy(address.storage_.un.sun_path + (abstract ? 1 : 0),
                host.data() + (abstract ? 1 : 0),
                host.size() - (abstract ? 1 : 0));
    address.unix_length_ = kUnixPathOffset +
                           static_cast<socklen_t>(host.size()) +
                           (abstract ? 0 : 1);
    return address;
  }
  if (host == "localhost") host = "127.0.0.1";
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string text(host);
  SocketAddress address;
  if (::inet_pton(AF_INET, text.c_str(), &address.storage_.v4.sin_addr) == 1) {
    address.storage_.v4.sin_family = AF_INET;
    address.storage_.v4.sin_port = htons(port);
    return address;
  }
  if (::inet_pton(AF_INET6, text.c_str(), &address.storage_.v6.sin6_addr) ==
      1) {
    address.storage_.v6.sin6_family = AF_INET6;
    address.storage_.v6.sin6_port = htons(port);
    return address;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "'", host,
      "' is not a numeric IPv4 or IPv6 address; pass e.g. 127.0.0.1, 0.0.0.0, "
      "::1 or ::"));
}

absl::StatusOr<SocketAddress> SocketAddress::ParseHostPort(
    absl::string_view host_port) {
  if (absl::StartsWith(host_port, kUnixScheme)) return Parse(host_port, 0);
  const size_t colon = host_port.rfind(':');
  uint32_t port = 0;
  if (colon == absl::string_view::npos ||
      !absl::SimpleAtoi(host_port.substr(colon + 1), &port) || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", host_port, "' is not host:port; pass e.g. 127.0.0.1:8080"));
  }
  return Parse(host_port.substr(0, colon), static_cast<uint16_t>(port));
}

SocketAddress SocketAddress::FromSockaddr(const sockaddr* address,
                                          socklen_t length) {
  SocketAddress result;
  if (address->sa_family == AF_INET && length >= sizeof(sockaddr_in)) {
    std::memcpy(&result.storage_.v4, address, sizeof(sockaddr_in));
  } else if (address->sa_family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
    std::memcpy(&result.storage_.v6, address, sizeof(sockaddr_in6));
  } else if (address->sa_family == AF_UNIX && length >= sizeof(sa_family_t)) {
    result.unix_length_ = std::min<socklen_t>(length, sizeof(sockaddr_un));
    std::memcpy(&result.storage_.un, address, result.unix_length_);
  }
  return result;
}

namespace {

template <typename Getter>
absl::StatusOr<SocketAddress> AddressOf(int fd, Getter getter,
                                        const char* what) {
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  if (getter(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " failed: ", std::strerror(errno)));
  }
  return SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&storage),
                                     length);
}

}  // namespace

absl::StatusOr<SocketAddress> SocketAddress::LocalOf(int fd) {
  return AddressOf(fd, ::getsockname, "getsockname");
}

absl::StatusOr<SocketAddress> SocketAddress::PeerOf(int fd) {
  return AddressOf(fd, ::getpeername, "getpeername");
}

socklen_t SocketAddress::length() const {
  switch (family()) {
    case AF_INET6:
      return sizeof(sockaddr_in6);
    case AF_UNIX:
      return unix_length_;
    default:
      return sizeof(sockaddr_in);
  }
}

bool SocketAddress::is_abstract() const {
  return is_unix() && unix_length_ > kUnixPathOffset &&
         storage_.un.sun_path[0] == '\0';
}

std::string SocketAddress::unix_path() const {
  if (!is_unix() || is_abstract() || unix_length_ <= kUnixPathOffset) {
    return "";
  }
  return std::string(
      storage_.un.sun_path,
      ::strnlen(storage_.un.sun_path, unix_length_ - kUnixPathOffset));
}

uint16_t SocketAddress::port() const {
  if (is_unix()) return 0;
  return ntohs(is_v6() ? storage_.v6.sin6_port : storage_.v4.sin_port);
}

void SocketAddress::set_port(uint16_t port) {
  if (is_v6()) {
    storage_.v6.sin6_port = htons(port);
  } else if (family() == AF_INET) {
    storage_.v4.sin_port = htons(port);
  }
}

std::string SocketAddress::host() const {
  if (is_unix()) return ToString();
  char text[INET6_ADDRSTRLEN] = "";
  if (is_v6()) {
    ::inet_ntop(AF_INET6, &storage_.v6.sin6_addr, text, sizeof(text));
  } else if (family() == AF_INET) {
    ::inet_ntop(AF_INET, &storage_.v4.sin_addr, text, sizeof(text));
  } else {
    return "unspecified";
  }
  return text;
}

std::string SocketAddress::ToString() const {
  if (is_unix()) {
    if (is_abstract()) {
      return absl::StrCat(
          kUnixScheme, "@",
          absl::string_view(storage_.un.sun_path + 1,
                            unix_length_ - kUnixPathOffset - 1));
    }
    return absl::StrCat(kUnixScheme, unix_path());
  }
  return is_v6() ? absl::StrCat("[", host(), "]:", port())
                 : absl::StrCat(host(), ":", port());
}

}  // namespace eddy
