#include "tests/support/descriptor_hog.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

namespace eddy::testing {

DescriptorHog::DescriptorHog(rlim_t limit) {
  ::getrlimit(RLIMIT_NOFILE, &original_);
  rlimit lowered = original_;
  lowered.rlim_cur = std::min(limit, original_.rlim_cur);
  ::setrlimit(RLIMIT_NOFILE, &lowered);
  for (int fd; (fd = ::dup(STDERR_FILENO)) >= 0;) held_.push_back(fd);
}

DescriptorHog::~DescriptorHog() {
  for (int fd : held_) ::close(fd);
  ::setrlimit(RLIMIT_NOFILE, &original_);
}

bool ConnectOpened(int fd, uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::connect(fd, reinterpret_cast<const sockaddr*>(&address),
                   sizeof(address)) == 0;
}

}  // namespace eddy::testing
