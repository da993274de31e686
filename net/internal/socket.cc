#include "eddy/net/internal/socket.h"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "eddy/core/clock.h"

namespace eddy {
namespace {

absl::Status SetIntOption(int fd, int level, int name, int value,
                          const char* what) {
  if (::setsockopt(fd, level, name, &value, sizeof(value)) != 0) {
    return absl::InternalError(
        absl::StrCat("setsockopt(", what, ") failed: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status ApplyTcpListenOptions(int fd, const SocketAddress& address,
                                   const ListenOptions& options) {
  if (options.reuse_address) {
    if (auto s = SetIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
        !s.ok()) {
      return s;
    }
  }
  if (options.reuse_port) {
    if (auto s = SetIntOption(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
        !s.ok()) {
      return s;
    }
  }
  if (address.is_v6()) {
    if (auto s = SetIntOption(fd, IPPROTO_IPV6, IPV6_V6ONLY,
                              options.ipv6_only ? 1 : 0, "IPV6_V6ONLY");
        !s.ok()) {
      return s;
    }
  }
  if (auto s = SetNoDelay(fd, options.tcp_nodelay); !s.ok()) return s;
  if (auto s = SetKeepAlive(fd, options.keepalive); !s.ok()) return s;
  if (options.defer_accept > absl::ZeroDuration()) {
    const int64_t seconds = absl::ToInt64Seconds(
        absl::Ceil(options.defer_accept, absl::Seconds(1)));
    if (auto s =
            SetIntOption(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT,
                         static_cast<int>(std::min<int64_t>(seconds, 3600)),
                         "TCP_DEFER_ACCEPT");
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

// After bind() said EADDRINUSE for a Unix socket file: the file may be left
// over from a server that died without removing it. Only a refused connect
// proves that no one listens there; then the file is removed and true
// returned. Anything else (a server answered, the file is not a socket) is
// the error to report.
absl::StatusOr<bool> RemoveStaleUnixSocketFile(const SocketAddress& address) {
  const std::string path = address.unix_path();
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) return false;  // gone: retry bind
  if (!S_ISSOCK(info.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " exists and is not a socket; remove it or pass another path"));
  }
  UniqueFd probe(
      ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!probe) {
    return absl::ResourceExhaustedError(
        absl::StrCat("socket() failed: ", std::strerror(errno)));
  }
  // A Unix connect never waits: it succeeds, or fails at once (EAGAIN when
  // a live server's backlog is full).
  if (::connect(probe.get(), address.sockaddr_ptr(), address.length()) != 0 &&
      errno == ECONNREFUSED) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return absl::PermissionDeniedError(absl::StrCat(
          "cannot remove the stale socket ", path, ": ", std::strerror(errno)));
    }
    return true;
  }
  return absl::FailedPreconditionError(absl::StrCat(
      address.ToString(),
      " is in use by a running server; stop it or pass another path"));
}

absl::Status BindError(const SocketAddress& address, int error) {
  if (error == EADDRINUSE) {
    if (address.is_unix()) {
      return absl::FailedPreconditionError(
          absl::StrCat(address.ToString(),
                       " is in use; stop the other server or pass "
                       "another name"));
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "port ", address.port(), " on ", address.host(),
        " is in use; pass another --port (0 picks a free one) or stop the "
        "other server"));
  }
  if (error == EACCES) {
    return absl::PermissionDeniedError(
        address.is_unix()
            ? absl::StrCat("binding ", address.ToString(),
                           " is not permitted; check the directory's "
                           "permissions")
            : absl::StrCat("binding ", address.ToString(),
                           " needs privileges; use a port above 1023"));
  }
  return absl::UnavailableError(absl::StrCat(
      "bind(", address.ToString(), ") failed: ", std::strerror(error),
      "; check --bind names an address of this machine"));
}

absl::Status Bind(int fd, const SocketAddress& address) {
  if (::bind(fd, address.sockaddr_ptr(), address.length()) == 0) {
    return absl::OkStatus();
  }
  const int error = errno;
  if (error != EADDRINUSE || !address.is_unix() || address.is_abstract()) {
    return BindError(address, error);
  }
  absl::StatusOr<bool> removed = RemoveStaleUnixSocketFile(address);
  if (!removed.ok()) return removed.status();
  if (::bind(fd, address.sockaddr_ptr(), address.length()) == 0) {
    return absl::OkStatus();
  }
  return BindError(address, errno);
}

}  // namespace

int SystemMaxBacklog() {
  int backlog = SOMAXCONN;
  if (FILE* file = std::fopen("/proc/sys/net/core/somaxconn", "re")) {
    int value = 0;
    if (std::fscanf(file, "%d", &value) == 1 && value > 0) backlog = value;
    std::fclose(file);
  }
  return backlog;
}

absl::StatusOr<UniqueFd> Listen(const SocketAddress& address,
                                const ListenOptions& options) {
  UniqueFd fd(::socket(address.family(),
                       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    return absl::ResourceExhaustedError(
        absl::StrCat("socket() failed: ", std::strerror(errno)));
  }
  if (!address.is_unix()) {
    if (auto s = ApplyTcpListenOptions(fd.get(), address, options); !s.ok()) {
      return s;
    }
  }
  if (auto s = Bind(fd.get(), address); !s.ok()) return s;
  if (options.unix_socket_mode != 0 && address.is_unix() &&
      !address.is_abstract()) {
    const std::string path = address.unix_path();
    if (::chmod(path.c_str(), options.unix_socket_mode) != 0) {
      const int error = errno;
      ::unlink(path.c_str());
      return absl::PermissionDeniedError(
          absl::StrCat("chmod(", path, ") failed: ", std::strerror(error)));
    }
  }
  const int backlog =
      options.backlog > 0 ? options.backlog : SystemMaxBacklog();
  if (::listen(fd.get(), backlog) != 0) {
    return absl::InternalError(
        absl::StrCat("listen() failed: ", std::strerror(errno)));
  }
  return fd;
}

absl::StatusOr<UniqueFd> ConnectWithTimeout(const SocketAddress& address,
                                            absl::Duration timeout) {
  UniqueFd fd(::socket(address.family(),
                       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    return absl::ResourceExhaustedError(
        absl::StrCat("socket() failed: ", std::strerror(errno)));
  }
  if (::connect(fd.get(), address.sockaddr_ptr(), address.length()) == 0) {
    return fd;
  }
  if (errno != EINPROGRESS) {
    return absl::UnavailableError(absl::StrCat(
        "connect(", address.ToString(), ") failed: ", std::strerror(errno)));
  }
  const int64_t deadline = MonotonicMillis() + DurationToMillisCeil(timeout);
  while (true) {
    pollfd pfd{fd.get(), POLLOUT, 0};
    const int64_t left = deadline - MonotonicMillis();
    if (left <= 0) {
      return absl::DeadlineExceededError(
          absl::StrCat("connect(", address.ToString(), ") timed out"));
    }
    const int ready =
        ::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left, INT_MAX)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    int error = 0;
    socklen_t length = sizeof(error);
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) {
      return absl::UnavailableError(absl::StrCat(
          "connect(", address.ToString(), ") failed: ", std::strerror(error)));
    }
    return fd;
  }
}

absl::StatusOr<UnixSocketFile> IdentifyUnixSocketFile(std::string path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    return absl::InternalError(
        absl::StrCat("stat(", path, ") failed: ", std::strerror(errno)));
  }
  return UnixSocketFile{std::move(path), info.st_dev, info.st_ino};
}

bool RemoveUnixSocketFileIfOurs(const UnixSocketFile& file) {
  struct stat info {};
  if (::lstat(file.path.c_str(), &info) != 0 || info.st_dev != file.device ||
      info.st_ino != file.inode) {
    return false;
  }
  return ::unlink(file.path.c_str()) == 0;
}

absl::Status SetNoDelay(int fd, bool on) {
  return SetIntOption(fd, IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0, "TCP_NODELAY");
}

absl::Status SetKeepAlive(int fd, bool on) {
  return SetIntOption(fd, SOL_SOCKET, SO_KEEPALIVE, on ? 1 : 0, "SO_KEEPALIVE");
}

absl::Status SetLingerZero(int fd) {
  linger value{1, 0};
  if (::setsockopt(fd, SOL_SOCKET, SO_LINGER, &value, sizeof(value)) != 0) {
    return absl::InternalError(
        absl::StrCat("setsockopt(SO_LINGER) failed: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

int TakeSocketError(int fd) {
  int error = 0;
  socklen_t length = sizeof(error);
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
    return errno;
  }
  return error;
}

}  // namespace eddy
