#include "eddy/http/access_log.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace eddy::http {
namespace {

constexpr size_t kFlushBytes = 32 * 1024;

// One per thread and log: the lines not yet written, and when they were
// last written. Flushed by its destructor when the worker thread exits.
struct ThreadBuffer {
  int fd = -1;
  std::string pending;
  time_t last_flush = 0;
  time_t stamp_second = -1;
  char stamp[40];
  size_t stamp_length = 0;

  void Flush() {
    size_t done = 0;
    while (done < pending.size()) {
      const ssize_t n =
          ::write(fd, pending.data() + done, pending.size() - done);
      if (n > 0) {
        done += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        break;  // a full disk must not stop the server; drop the lines
      }
    }
    pending.clear();
  }
  ~ThreadBuffer() {
    if (fd >= 0 && !pending.empty()) Flush();
  }
};

ThreadBuffer& BufferFor(int fd) {
  thread_local std::vector<std::unique_ptr<ThreadBuffer>> buffers;
  for (auto& buffer : buffers) {
    if (buffer->fd == fd) return *buffer;
  }
  buffers.push_back(std::make_unique<ThreadBuffer>());
  buffers.back()->fd = fd;
  return *buffers.back();
}

}  // namespace

absl::StatusOr<std::shared_ptr<AccessLog>> AccessLog::Open(
    const std::string& path) {
  UniqueFd fd(path == "-"
                  ? ::dup(STDOUT_FILENO)
                  : ::open(path.c_str(),
                           O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!fd) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot open access log '", path, "': ", std::strerror(errno),
        "; pass a writable path to --access_log"));
  }
  return std::shared_ptr<AccessLog>(new AccessLog(std::move(fd)));
}

void AccessLog::Record(absl::string_view peer_host,
                       absl::string_view request_line, int status,
                       uint64_t body_bytes) {
  ThreadBuffer& buffer = BufferFor(fd_.get());
  timespec now;
  clock_gettime(CLOCK_REALTIME_COARSE, &now);
  if (now.tv_sec != buffer.stamp_second) {
    buffer.stamp_second = now.tv_sec;
    tm parts;
    gmtime_r(&now.tv_sec, &parts);
    buffer.stamp_length = strftime(buffer.stamp, sizeof(buffer.stamp),
                                   "%d/%b/%Y:%H:%M:%S +0000", &parts);
  }
  absl::StrAppend(&buffer.pending, peer_host, " - - [",
                  absl::string_view(buffer.stamp, buffer.stamp_length), "] \"",
                  request_line, "\" ", status, " ", body_bytes, "\n");
  if (buffer.pending.size() >= kFlushBytes || now.tv_sec != buffer.last_flush) {
    buffer.last_flush = now.tv_sec;
    buffer.Flush();
  }
}

void AccessLog::FlushThisThread() { BufferFor(fd_.get()).Flush(); }

}  // namespace eddy::http
