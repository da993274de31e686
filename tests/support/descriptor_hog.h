#ifndef EDDY_TESTS_SUPPORT_DESCRIPTOR_HOG_H_
#define EDDY_TESTS_SUPPORT_DESCRIPTOR_HOG_H_

#include <sys/resource.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace eddy::testing {

// Lowers this process's descriptor limit to `limit` and takes every
// descriptor left, until destroyed: a server in this process then cannot
// accept, and connections wait in its listener's queue. Not thread-safe;
// one at a time.
class DescriptorHog {
 public:
  explicit DescriptorHog(rlim_t limit);
  DescriptorHog(const DescriptorHog&) = delete;
  DescriptorHog& operator=(const DescriptorHog&) = delete;
  ~DescriptorHog();

  size_t held() const { return held_.size(); }

 private:
  rlimit original_{};
  std::vector<int> held_;
};

// Connects `fd`, a stream socket opened before a hog took the rest, to
// 127.0.0.1:`port`: connecting needs no descriptor, and the kernel
// completes it from the listen backlog while the server cannot accept.
bool ConnectOpened(int fd, uint16_t port);

}  // namespace eddy::testing

#endif  // EDDY_TESTS_SUPPORT_DESCRIPTOR_HOG_H_
