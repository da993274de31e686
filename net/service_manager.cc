#include "eddy/net/service_manager.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace eddy {
namespace {

// sd_listen_fds(3): the first passed descriptor.
constexpr int kFirstListenFd = 3;

}  // namespace

absl::StatusOr<std::vector<InheritedListener>> TakeInheritedListeners() {
  const char* pid_text = std::getenv("LISTEN_PID");
  const char* count_text = std::getenv("LISTEN_FDS");
  std::vector<InheritedListener> listeners;
  if (pid_text == nullptr || count_text == nullptr) return listeners;
  int64_t pid = 0;
  int64_t count = 0;
  if (!absl::SimpleAtoi(pid_text, &pid) ||
      !absl::SimpleAtoi(count_text, &count) || count < 0 || count > 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("LISTEN_PID=", pid_text, " LISTEN_FDS=", count_text,
                     " is not a socket-activation environment; unset them"));
  }
  // Variables meant for a parent that did not unset them.
  if (pid != ::getpid()) return listeners;
  const char* names_text = std::getenv("LISTEN_FDNAMES");
  std::vector<std::string> names;
  if (names_text != nullptr) {
    names = absl::StrSplit(names_text, ':');
    if (static_cast<int64_t>(names.size()) != count) {
      return absl::InvalidArgumentError(
          absl::StrCat("LISTEN_FDNAMES=", names_text, " names ", names.size(),
                       " sockets, but LISTEN_FDS=", count));
    }
  }
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  for (int i = 0; i < count; ++i) {
    const int fd = kFirstListenFd + i;
    if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("LISTEN_FDS=", count, " but fd ", fd,
                       " is not open: ", std::strerror(errno)));
    }
    listeners.push_back(
        InheritedListener{UniqueFd(fd), names.empty() ? "" : names[i]});
  }
  return listeners;
}

absl::StatusOr<UniqueFd> ChooseInheritedListener(
    std::vector<InheritedListener> listeners, absl::string_view name) {
  std::vector<std::string> passed;
  for (InheritedListener& listener : listeners) {
    if (name.empty() ? listeners.size() == 1 : listener.name == name) {
      return std::move(listener.fd);
    }
    passed.push_back(listener.name.empty() ? "(unnamed)" : listener.name);
  }
  if (listeners.empty()) {
    return absl::InvalidArgumentError(
        "no socket was passed (LISTEN_FDS and LISTEN_PID of this process)");
  }
  return absl::InvalidArgumentError(absl::StrCat(
      name.empty() ? absl::StrCat(listeners.size(),
                                  " sockets were passed; name the one to "
                                  "serve on")
                   : absl::StrCat("no passed socket is named ", name),
      " (passed: ", absl::StrJoin(passed, ", "), ")"));
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
