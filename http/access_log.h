#ifndef EDDY_HTTP_ACCESS_LOG_H_
#define EDDY_HTTP_ACCESS_LOG_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eddy/core/event_loop.h"
#include "eddy/core/unique_fd.h"

namespace eddy::http {

// The line format of an AccessLog.
enum class AccessLogFormat {
  // Common Log Format:
  //   127.0.0.1 - - [22/Nov/2026:19:46:11 +0000] "GET / HTTP/1.1" 200 13
  kCommon,
  // One JSON object per line, strings escaped (invalid UTF-8 replaced):
  //   {"time":"2026-11-22T19:46:11Z","peer":"127.0.0.1","method":"GET",
  //    "request":"GET / HTTP/1.1","status":200,"bytes":13}
  kJson,
};

// "clf" or "json" (the names of eddy-httpd's --access_log_format); nullopt
// for any other text.
std::optional<AccessLogFormat> ParseAccessLogFormat(absl::string_view name);

// AccessLog writes one line per response, in an AccessLogFormat.
// Each log keeps one buffer per worker thread that records into it, so the
// hot path takes no lock. A buffer is written with one write(2) per 32 KiB
// and at least once a second: the first Record on a worker arms a timer on
// that worker's loop, owned by this log, which flushes that worker's
// buffer. The file is opened with O_APPEND so that the workers' writes never
// interleave within a line.
//
// Threading: Record is called on an EventLoop's thread (a worker's), any
// number of them at once. Flush is for the owner, once the threads that
// record have stopped; the destructor flushes too.
class AccessLog : public std::enable_shared_from_this<AccessLog> {
 public:
  // Opens (creating, appending) `path`; "-" means standard output.
  static absl::StatusOr<std::shared_ptr<AccessLog>> Open(
      const std::string& path,
      AccessLogFormat format = AccessLogFormat::kCommon);
  ~AccessLog();

  // On `loop`'s thread.
  void Record(EventLoop& loop, absl::string_view peer_host,
              absl::string_view request_line, int status, uint64_t body_bytes);

  // Writes every buffered line now. Not concurrently with Record.
  void Flush();

 private:
  struct ThreadBuffer;

  AccessLog(UniqueFd fd, AccessLogFormat format);
  ThreadBuffer& BufferForThisThread(EventLoop& loop);

  const UniqueFd fd_;
  const AccessLogFormat format_;
  // Tells this log's buffers apart in each thread's cache, also from a log
  // that later takes the same address.
  const uint64_t id_;
  // Taken once per worker thread, to add its buffer, and by Flush. A
  // std::mutex because Debian's Abseil has no TSan annotations.
  std::mutex mutex_;
  std::vector<std::unique_ptr<ThreadBuffer>> buffers_;  // guarded by mutex_
};

}  // namespace eddy::http

#endif  // EDDY_HTTP_ACCESS_LOG_H_
