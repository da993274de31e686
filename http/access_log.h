#ifndef EDDY_HTTP_ACCESS_LOG_H_
#define EDDY_HTTP_ACCESS_LOG_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eddy/core/unique_fd.h"

namespace eddy::http {

// AccessLog writes one Common Log Format line per response:
//   127.0.0.1 - - [22/Nov/2026:19:46:11 +0000] "GET / HTTP/1.1" 200 13
// Lines are buffered per thread (each worker has its own buffer) and written
// with one write(2) per 32 KiB, when FlushThisThread is called (the HTTP
// protocol does so every second on each worker), and when the thread exits,
// to a file opened with O_APPEND so that the workers' writes never
// interleave within a line.
//
// Threading: Record may be called from any number of threads at once.
class AccessLog {
 public:
  // Opens (creating, appending) `path`; "-" means standard output.
  static absl::StatusOr<std::shared_ptr<AccessLog>> Open(
      const std::string& path);

  void Record(absl::string_view peer_host, absl::string_view request_line,
              int status, uint64_t body_bytes);

  // Writes this thread's buffered lines now.
  void FlushThisThread();

  int fd() const { return fd_.get(); }

 private:
  explicit AccessLog(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace eddy::http

#endif  // EDDY_HTTP_ACCESS_LOG_H_
