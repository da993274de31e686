// Starts an installed-eddy echo server on a free loopback port, echoes one
// message through it, and stops it. Exit status 0 means the package works.
// The consumer's own "net/server.h" and "http/router.h" are included beside
// eddy's, as in a user project with folders of those names.
#include <arpa/inet.h>
#include <eddy/http/router.h>
#include <eddy/net/echo.h>
#include <eddy/net/server.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "http/router.h"
#include "net/server.h"

int main() {
  std::printf("beside %s and %s\n", consumer::kOwnServerHeader,
              consumer::kOwnRouterHeader);
  eddy::ServerOptions options;
  options.bind_address = "127.0.0.1";
  options.workers = 2;
  eddy::Server server(options, eddy::MakeEchoFactory());
  if (absl::Status s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "start: %s\n", s.ToString().c_str());
    return 1;
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_port = htons(server.port());
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout = {10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
      0) {
    return 2;
  }
  const char message[] = "installed eddy works";
  if (::send(fd, message, sizeof(message), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(sizeof(message))) {
    return 3;
  }
  char reply[sizeof(message)] = {};
  size_t got = 0;
  while (got < sizeof(reply)) {
    const ssize_t n = ::recv(fd, reply + got, sizeof(reply) - got, 0);
    if (n <= 0) break;  // EOF, or nothing within the receive timeout
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  server.Stop();
  if (got != sizeof(message) || std::memcmp(reply, message, got) != 0) return 4;
  std::printf("%s\n", reply);
  return 0;
}
