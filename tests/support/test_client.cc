#include "tests/support/test_client.h"

#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "eddy/net/address.h"
#include "eddy/net/internal/socket.h"

namespace eddy::testing {
namespace {

int MillisLeft(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(
      std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, INT_MAX));
}

}  // namespace

absl::StatusOr<TestClient> TestClient::Connect(uint16_t port,
                                               absl::Duration timeout,
                                               absl::string_view host) {
  absl::StatusOr<SocketAddress> address = SocketAddress::Parse(host, port);
  if (!address.ok()) return address.status();
  absl::StatusOr<UniqueFd> fd = ConnectWithTimeout(*address, timeout);
  if (!fd.ok()) return fd.status();
  return TestClient(*std::move(fd));
}

absl::StatusOr<TestClient> TestClient::ConnectFrom(absl::string_view source,
                                                   uint16_t port,
                                                   absl::Duration timeout) {
  absl::StatusOr<SocketAddress> from = SocketAddress::Parse(source, 0);
  if (!from.ok()) return from.status();
  absl::StatusOr<SocketAddress> to = SocketAddress::Parse("127.0.0.1", port);
  if (!to.ok()) return to.status();
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return absl::InternalError(std::strerror(errno));
  if (::bind(fd.get(), from->sockaddr_ptr(), from->length()) != 0) {
    return absl::UnavailableError(
        absl::StrCat("bind(", source, "): ", std::strerror(errno)));
  }
  TestClient client(std::move(fd));
  if (::connect(client.fd(), to->sockaddr_ptr(), to->length()) == 0) {
    return client;
  }
  if (errno != EINPROGRESS) {
    return absl::UnavailableError(
        absl::StrCat("connect: ", std::strerror(errno)));
  }
  if (!client.WaitFor(POLLOUT, absl::Now() + timeout)) {
    return absl::DeadlineExceededError("connect timed out");
  }
  const int error = TakeSocketError(client.fd());
  if (error != 0) {
    return absl::UnavailableError(
        absl::StrCat("connect: ", std::strerror(error)));
  }
  return client;
}

bool TestClient::WaitFor(short events, absl::Time deadline) {
  while (true) {
    pollfd pfd{fd_.get(), events, 0};
    const int n = ::poll(&pfd, 1, MillisLeft(deadline));
    if (n > 0) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

absl::Status TestClient::SendAll(absl::string_view data,
                                 absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!data.empty()) {
    const ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      if (!WaitFor(POLLOUT, deadline)) {
        return absl::DeadlineExceededError("send timed out");
      }
      continue;
    }
    return absl::UnavailableError(absl::StrCat("send: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> TestClient::ReceiveExactly(size_t n,
                                                       absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string result;
  result.reserve(n);
  char chunk[65536];
  while (result.size() < n) {
    const ssize_t got =
        ::recv(fd_.get(), chunk, std::min(sizeof(chunk), n - result.size()), 0);
    if (got > 0) {
      result.append(chunk, static_cast<size_t>(got));
      continue;
    }
    if (got == 0) {
      return absl::DataLossError(
          absl::StrCat("EOF after ", result.size(), " of ", n, " bytes"));
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      if (!WaitFor(POLLIN, deadline)) {
        return absl::DeadlineExceededError(absl::StrCat(
            "receive timed out after ", result.size(), " of ", n, " bytes"));
      }
      continue;
    }
    return absl::UnavailableError(absl::StrCat("recv: ", std::strerror(errno)));
  }
  return result;
}

absl::StatusOr<std::string> TestClient::ReceiveUntilClose(
    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string result;
  char chunk[65536];
  while (true) {
    const ssize_t got = ::recv(fd_.get(), chunk, sizeof(chunk), 0);
    if (got > 0) {
      result.append(chunk, static_cast<size_t>(got));
      continue;
    }
    if (got == 0) return result;
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      if (!WaitFor(POLLIN, deadline)) {
        return absl::DeadlineExceededError(absl::StrCat(
            "no EOF before the deadline; got ", result.size(), " bytes"));
      }
      continue;
    }
    if (errno == ECONNRESET) return result;
    return absl::UnavailableError(absl::StrCat("recv: ", std::strerror(errno)));
  }
}

absl::StatusOr<std::string> TestClient::ReceiveUntil(
    absl::string_view terminator, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string result;
  char chunk[65536];
  while (!absl::StrContains(result, terminator)) {
    const ssize_t got = ::recv(fd_.get(), chunk, sizeof(chunk), 0);
    if (got > 0) {
      result.append(chunk, static_cast<size_t>(got));
      continue;
    }
    if (got == 0)
      return absl::DataLossError(absl::StrCat("EOF; got: ", result));
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      if (!WaitFor(POLLIN, deadline)) {
        return absl::DeadlineExceededError(
            absl::StrCat("timed out; got: ", result));
      }
      continue;
    }
    return absl::UnavailableError(absl::StrCat("recv: ", std::strerror(errno)));
  }
  return result;
}

absl::StatusOr<std::string> TestClient::ReceiveSome(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  char chunk[65536];
  while (true) {
    const ssize_t got = ::recv(fd_.get(), chunk, sizeof(chunk), 0);
    if (got >= 0) return std::string(chunk, static_cast<size_t>(got));
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) return std::string();
    if (errno != EAGAIN) {
      return absl::UnavailableError(
          absl::StrCat("recv: ", std::strerror(errno)));
    }
    if (!WaitFor(POLLIN, deadline)) {
      return absl::DeadlineExceededError(
          "nothing received before the deadline");
    }
  }
}

bool TestClient::WaitForClose(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  char chunk[4096];
  while (true) {
    const ssize_t got = ::recv(fd_.get(), chunk, sizeof(chunk), 0);
    if (got == 0) return true;
    if (got > 0) continue;
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return true;  // RST counts as closed
    if (!WaitFor(POLLIN, deadline)) return false;
  }
}

void TestClient::ShutdownWrite() { ::shutdown(fd_.get(), SHUT_WR); }

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string bytes(n, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  return bytes;
}

absl::StatusOr<std::string> EchoRoundTrip(TestClient& client,
                                          absl::string_view data,
                                          absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string received;
  received.reserve(data.size());
  size_t sent = 0;
  char chunk[65536];
  while (received.size() < data.size()) {
    short events = POLLIN;
    if (sent < data.size()) events |= POLLOUT;
    pollfd pfd{client.fd(), events, 0};
    const int ready = ::poll(&pfd, 1, MillisLeft(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      return absl::DeadlineExceededError(
          absl::StrCat("echo timed out: sent ", sent, ", received ",
                       received.size(), " of ", data.size()));
    }
    if ((pfd.revents & POLLOUT) && sent < data.size()) {
      const ssize_t n =
          ::send(client.fd(), data.data() + sent,
                 std::min<size_t>(data.size() - sent, 65536), MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<size_t>(n);
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return absl::UnavailableError(
            absl::StrCat("send: ", std::strerror(errno)));
      }
    }
    if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = ::recv(client.fd(), chunk, sizeof(chunk), 0);
      if (n > 0) {
        received.append(chunk, static_cast<size_t>(n));
      } else if (n == 0) {
        return absl::DataLossError(absl::StrCat("EOF after ", received.size()));
      } else if (errno != EAGAIN && errno != EINTR) {
        return absl::UnavailableError(
            absl::StrCat("recv: ", std::strerror(errno)));
      }
    }
  }
  return received;
}

uint64_t RaiseFdLimit(uint64_t wanted) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < wanted) {
    limit.rlim_cur = std::min<rlim_t>(wanted, limit.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

}  // namespace eddy::testing
