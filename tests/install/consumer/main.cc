// Starts an installed-eddy echo server on a free loopback port, echoes one
// message through it, and stops it. Exit status 0 means the package works.
#include <eddy/net/echo.h>
#include <eddy/net/server.h>
#include <eddy/net/socket.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

int main() {
  eddy::ServerOptions options;
  options.bind_address = "127.0.0.1";
  options.workers = 2;
  eddy::Server server(options, eddy::MakeEchoFactory());
  if (absl::Status s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "start: %s\n", s.ToString().c_str());
    return 1;
  }
  auto address = eddy::SocketAddress::Parse("127.0.0.1", server.port());
  auto fd = eddy::ConnectWithTimeout(*address, absl::Seconds(10));
  if (!fd.ok()) return 2;
  const char message[] = "installed eddy works";
  if (::send(fd->get(), message, sizeof(message), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(sizeof(message))) {
    return 3;
  }
  char reply[sizeof(message)] = {};
  size_t got = 0;
  for (int attempt = 0; got < sizeof(reply) && attempt < 10000; ++attempt) {
    const ssize_t n = ::recv(fd->get(), reply + got, sizeof(reply) - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
    if (n == 0) break;
    if (n < 0) ::usleep(1000);
  }
  server.Stop();
  if (got != sizeof(message) || std::memcmp(reply, message, got) != 0) return 4;
  std::printf("%s\n", reply);
  return 0;
}
