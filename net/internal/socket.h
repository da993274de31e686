#ifndef EDDY_NET_INTERNAL_SOCKET_H_
#define EDDY_NET_INTERNAL_SOCKET_H_

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "eddy/core/unique_fd.h"
#include "eddy/net/address.h"

namespace eddy {

// Options of a listening socket. Accepted sockets inherit TCP_NODELAY and
// SO_KEEPALIVE from the listener on Linux, which saves two setsockopt calls
// per connection.
struct ListenOptions {
  bool reuse_address = true;
  // Lets several processes (or servers) share the port; the kernel spreads
  // connections over them.
  bool reuse_port = false;
  // 0 means the system maximum (/proc/sys/net/core/somaxconn): bursts of
  // connects must not overflow the queue.
  int backlog = 0;
  bool tcp_nodelay = true;
  bool keepalive = false;
  // Above zero: TCP_DEFER_ACCEPT, rounded up to whole seconds. The kernel
  // queues a connection for accept only once its first bytes arrived, or
  // after about this long without any.
  absl::Duration defer_accept = absl::ZeroDuration();
  // For "::": accept IPv6 only (true) or IPv4-mapped too (false).
  bool ipv6_only = false;
  // For a Unix socket file: its mode (e.g. 0660), set after bind; 0 leaves
  // what the umask gave.
  uint32_t unix_socket_mode = 0;
};

// The system's maximum listen backlog.
int SystemMaxBacklog();

// Creates a non-blocking, close-on-exec socket bound to `address` and
// listening. The error says what to do, e.g. when the port is taken.
// On a Unix address the TCP options (reuse, Nagle, keepalive, defer-accept,
// v6-only) do not apply and are skipped. A Unix socket file left behind by a
// server that is gone is replaced, but only once a connect to it was refused
// (no one listens); a file that a server answers on, or that is not a
// socket, is an error.
absl::StatusOr<UniqueFd> Listen(const SocketAddress& address,
                                const ListenOptions& options);

// Connects a blocking-free socket to `address`, waiting at most `timeout`.
// Returns a non-blocking connected socket. For clients and tests.
absl::StatusOr<UniqueFd> ConnectWithTimeout(const SocketAddress& address,
                                            absl::Duration timeout);

// The file a Unix listener is bound to, identified so that it is removed
// at stop only while it is still that file: a newer server may have
// replaced it in the meantime.
struct UnixSocketFile {
  std::string path;
  dev_t device = 0;
  ino_t inode = 0;
};
absl::StatusOr<UnixSocketFile> IdentifyUnixSocketFile(std::string path);
// Unlinks `file.path` if it still is the file identified; false otherwise.
bool RemoveUnixSocketFileIfOurs(const UnixSocketFile& file);

absl::Status SetNoDelay(int fd, bool on);
absl::Status SetKeepAlive(int fd, bool on);
// Makes close() send RST instead of FIN (SO_LINGER with zero timeout).
absl::Status SetLingerZero(int fd);
// The socket's pending error (SO_ERROR, which also clears it), 0 if none;
// errno if the query itself fails.
int TakeSocketError(int fd);

}  // namespace eddy

#endif  // EDDY_NET_INTERNAL_SOCKET_H_
