#include "eddy/net/internal/handoff.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "eddy/core/log.h"

namespace eddy {
namespace {

constexpr absl::string_view kGreeting = "eddy-handoff 1\n";
constexpr absl::string_view kReady = "ready\n";
// A line of the protocol is short; anything longer is not a peer of ours.
constexpr size_t kMaxLine = 64;
// How long the old process waits for each message of a new one. Starting a
// server takes well under this; a new process that hangs must not keep the
// hand-off socket busy forever.
constexpr absl::Duration kPeerTimeout = absl::Seconds(60);
// The sockets passed: the TCP listener and the hand-off listener.
constexpr int kPassedFds = 2;

std::string ErrnoText(absl::string_view what, int error) {
  return absl::StrCat(what, ": ", std::strerror(error));
}

absl::StatusOr<sockaddr_un> UnixAddress(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("handoff socket path \"", path, "\" must have 1 to ",
                     sizeof(address.sun_path) - 1, " bytes"));
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  return address;
}

// Waits until `fd` is readable, `wake` (if valid) is signalled, or
// `timeout` passed; true only for the first.
bool PollReadable(int fd, int wake, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {wake, POLLIN, 0}};
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    const int timeout_ms = left == absl::InfiniteDuration()
                               ? -1
                               : static_cast<int>(absl::ToInt64Milliseconds(
                                     absl::Ceil(left, absl::Milliseconds(1))));
    const int n = ::poll(fds, wake >= 0 ? 2 : 1, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    if (wake >= 0 && fds[1].revents != 0) return false;
    return fds[0].revents != 0;
  }
}

// Reads one line (with its '\n') from `fd`, keeping the descriptors that
// come with it in `fds`. An error for EOF, a timeout or an overlong line.
absl::StatusOr<std::string> ReceiveLine(int fd, int wake,
                                        absl::Duration timeout,
                                        std::vector<UniqueFd>* fds) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string line;
  while (line.empty() || line.back() != '\n') {
    if (line.size() >= kMaxLine) {
      return absl::InvalidArgumentError("handoff peer sent an overlong line");
    }
    if (!PollReadable(fd, wake, deadline - absl::Now())) {
      return absl::DeadlineExceededError("handoff peer did not answer");
    }
    char byte;
    iovec io{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kPassedFds)];
    msghdr message{};
    message.msg_iov = &io;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    const ssize_t n = ::recvmsg(fd, &message, MSG_CMSG_CLOEXEC);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return absl::UnavailableError(ErrnoText("handoff recv", errno));
    for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr;
         c = CMSG_NXTHDR(&message, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int passed;
        std::memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        if (fds != nullptr) {
          fds->emplace_back(passed);
        } else {
          ::close(passed);
        }
      }
    }
    if (n == 0) return absl::UnavailableError("handoff peer closed");
    line.push_back(byte);
  }
  return line;
}

absl::Status SendAll(int fd, absl::string_view data, const int* passed,
                     int passed_count) {
  iovec io{const_cast<char*>(data.data()), data.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kPassedFds)] = {};
  msghdr message{};
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  if (passed_count > 0) {
    message.msg_control = control;
    message.msg_controllen = CMSG_SPACE(sizeof(int) * passed_count);
    cmsghdr* c = CMSG_FIRSTHDR(&message);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * passed_count);
    std::memcpy(CMSG_DATA(c), passed, sizeof(int) * passed_count);
  }
  // Messages are a line each, far below a socket buffer: one call sends it
  // all (or fails).
  ssize_t n;
  do {
    n = ::sendmsg(fd, &message, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(data.size())) {
    return absl::UnavailableError(ErrnoText("handoff send", errno));
  }
  return absl::OkStatus();
}

// A connected Unix stream socket; NotFound when nobody listens at `path`.
absl::StatusOr<UniqueFd> ConnectUnix(const std::string& path) {
  absl::StatusOr<sockaddr_un> address = UnixAddress(path);
  if (!address.ok()) return address.status();
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return absl::InternalError(ErrnoText("socket(AF_UNIX)", errno));
  }
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*address),
                sizeof(*address)) != 0) {
    const int error = errno;
    if (error == ENOENT || error == ECONNREFUSED) {
      return absl::NotFoundError(absl::StrCat("no server hands off at ", path));
    }
    return absl::UnavailableError(
        ErrnoText(absl::StrCat("connect to handoff socket ", path), error));
  }
  return fd;
}

}  // namespace

absl::StatusOr<HandoffClient> HandoffClient::Request(const std::string& path,
                                                     absl::Duration timeout) {
  absl::StatusOr<UniqueFd> connection = ConnectUnix(path);
  if (!connection.ok()) return connection.status();
  HandoffClient client;
  client.connection_ = *std::move(connection);
  const int fd = client.connection_.get();
  if (absl::Status s = SendAll(fd, kGreeting, nullptr, 0); !s.ok()) return s;
  std::vector<UniqueFd> fds;
  absl::StatusOr<std::string> reply = ReceiveLine(fd, -1, timeout, &fds);
  if (!reply.ok()) return reply.status();
  if (*reply != kGreeting || fds.size() != kPassedFds) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the server at ", path, " answered the hand-off with \"",
        absl::StripSuffix(*reply, "\n"), "\" and ", fds.size(),
        " sockets; is it an eddy server of a compatible version?"));
  }
  client.listener_ = std::move(fds[0]);
  client.handoff_listener_ = std::move(fds[1]);
  return client;
}

absl::Status HandoffClient::SendReady() {
  absl::Status s = SendAll(connection_.get(), kReady, nullptr, 0);
  connection_.reset();
  return s;
}

absl::StatusOr<UniqueFd> ListenForHandoff(const std::string& path) {
  absl::StatusOr<sockaddr_un> address = UnixAddress(path);
  if (!address.ok()) return address.status();
  absl::StatusOr<UniqueFd> probe = ConnectUnix(path);
  if (probe.ok()) {
    return absl::AlreadyExistsError(absl::StrCat(
        "a server already answers on handoff socket ", path,
        "; its hand-off failed, or pass another --handoff_socket"));
  }
  // Nobody accepts there: a file left by a process that died is stale.
  if (absl::IsNotFound(probe.status())) ::unlink(path.c_str());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return absl::InternalError(ErrnoText("socket(AF_UNIX)", errno));
  }
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&*address),
             sizeof(*address)) != 0 ||
      ::listen(fd.get(), 8) != 0) {
    return absl::FailedPreconditionError(
        ErrnoText(absl::StrCat("handoff socket ", path), errno));
  }
  return fd;
}

HandoffServer::HandoffServer(UniqueFd handoff_listener, int listener,
                             absl::AnyInvocable<void()> on_ready)
    : handoff_listener_(std::move(handoff_listener)),
      listener_(listener),
      on_ready_(std::move(on_ready)) {}

HandoffServer::~HandoffServer() { Stop(); }

absl::Status HandoffServer::Start() {
  wake_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_.valid()) return absl::InternalError(ErrnoText("eventfd", errno));
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void HandoffServer::Stop() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_.get(), &one, sizeof(one));
    thread_.join();
  }
  handoff_listener_.reset();
}

bool HandoffServer::WaitReadable(int fd, absl::Duration timeout) {
  return PollReadable(fd, wake_.get(), timeout);
}

void HandoffServer::Run() {
  while (WaitReadable(handoff_listener_.get(), absl::InfiniteDuration())) {
    UniqueFd connection(
        ::accept4(handoff_listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!connection.valid()) continue;
    if (Serve(connection.get())) {
      handed_off_.store(true);
      // The new process accepts on the hand-off socket from now on.
      handoff_listener_.reset();
      Log(LogSeverity::kInfo, "handoff.done",
          "a new process serves the listener now; draining");
      on_ready_();
      return;
    }
  }
}

bool HandoffServer::Serve(int connection) {
  absl::StatusOr<std::string> greeting =
      ReceiveLine(connection, wake_.get(), kPeerTimeout, nullptr);
  if (!greeting.ok() || *greeting != kGreeting) {
    (void)SendAll(connection, "error unsupported\n", nullptr, 0);
    return false;
  }
  const int passed[kPassedFds] = {listener_, handoff_listener_.get()};
  if (!SendAll(connection, kGreeting, passed, kPassedFds).ok()) return false;
  absl::StatusOr<std::string> ready =
      ReceiveLine(connection, wake_.get(), kPeerTimeout, nullptr);
  if (!ready.ok() || *ready != kReady) {
    Log(LogSeverity::kWarning, "handoff.failed",
        absl::StrCat("a new process took the listener but did not become "
                     "ready (",
                     ready.ok() ? "it said something else"
                                : std::string(ready.status().message()),
                     "); still serving"));
    return false;
  }
  return true;
}

}  // namespace eddy
