#include "eddy/net/service_manager.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace eddy {
namespace {

// sd_listen_fds(3): the first passed descriptor.
constexpr int kFirstListenFd = 3;

}  // namespace

absl::StatusOr<std::vector<UniqueFd>> TakeInheritedListeners() {
  const char* pid_text = std::getenv("LISTEN_PID");
  const char* count_text = std::getenv("LISTEN_FDS");
  std::vector<UniqueFd> fds;
  if (pid_text == nullptr || count_text == nullptr) return fds;
  int64_t pid = 0;
  int64_t count = 0;
  if (!absl::SimpleAtoi(pid_text, &pid) ||
      !absl::SimpleAtoi(count_text, &count) || count < 0 || count > 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("LISTEN_PID=", pid_text, " LISTEN_FDS=", count_text,
                     " is not a socket-activation environment; unset them"));
  }
  // Variables meant for a parent that did not unset them.
  if (pid != ::getpid()) return fds;
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  for (int fd = kFirstListenFd; fd < kFirstListenFd + count; ++fd) {
    if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("LISTEN_FDS=", count, " but fd ", fd,
                       " is not open: ", std::strerror(errno)));
    }
    fds.emplace_back(fd);
  }
  return fds;
}

absl::Status NotifyServiceManager(absl::string_view state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || path[0] == '\0') return absl::OkStatus();
  const absl::string_view name = path;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (name.size() >= sizeof(address.sun_path) ||
      (name[0] != '/' && name[0] != '@')) {
    return absl::InvalidArgumentError(absl::StrCat(
        "NOTIFY_SOCKET=", name, " is neither a path nor an @abstract name"));
  }
  std::memcpy(address.sun_path, name.data(), name.size());
  // An abstract name starts with a NUL byte and is not NUL-terminated.
  if (name[0] == '@') address.sun_path[0] = '\0';
  const socklen_t length = static_cast<socklen_t>(
      offsetof(sockaddr_un, sun_path) + name.size() + (name[0] == '@' ? 0 : 1));
  const UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return absl::InternalError(
        absl::StrCat("socket(AF_UNIX): ", std::strerror(errno)));
  }
  if (::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
               reinterpret_cast<const sockaddr*>(&address), length) < 0) {
    return absl::UnavailableError(
        absl::StrCat("could not notify the service manager at ", name, ": ",
                     std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace eddy
