#include "eddy/http/access_log.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "eddy/core/json_string.h"

namespace eddy::http {
namespace {

constexpr size_t kFlushBytes = 32 * 1024;

std::atomic<uint64_t> next_log_id{1};

// A request line's method: what precedes its first space.
absl::string_view MethodOf(absl::string_view request_line) {
  return request_line.substr(0, request_line.find(' '));
}

}  // namespace

std::optional<AccessLogFormat> ParseAccessLogFormat(absl::string_view name) {
  if (name == "clf") return AccessLogFormat::kCommon;
  if (name == "json") return AccessLogFormat::kJson;
  return std::nullopt;
}

// The lines one worker has not written yet, and when it last wrote.
struct AccessLog::ThreadBuffer {
  std::string pending;
  time_t last_flush = 0;
  time_t stamp_second = -1;
  char stamp[40];
  size_t stamp_length = 0;

  void WriteTo(int fd) {
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
};

AccessLog::AccessLog(UniqueFd fd, AccessLogFormat format)
    : fd_(std::move(fd)), format_(format), id_(next_log_id.fetch_add(1)) {}

AccessLog::~AccessLog() { Flush(); }

absl::StatusOr<std::shared_ptr<AccessLog>> AccessLog::Open(
    const std::string& path, AccessLogFormat format) {
  UniqueFd fd(path == "-"
                  ? ::dup(STDOUT_FILENO)
                  : ::open(path.c_str(),
                           O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!fd) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot open access log '", path, "': ", std::strerror(errno),
        "; pass a writable path to --access_log"));
  }
  return std::shared_ptr<AccessLog>(new AccessLog(std::move(fd), format));
}

AccessLog::ThreadBuffer& AccessLog::BufferForThisThread(EventLoop& loop) {
  // Each thread remembers its buffer in every log it records into.
  thread_local std::vector<std::pair<uint64_t, ThreadBuffer*>> cache;
  for (const auto& [id, buffer] : cache) {
    if (id == id_) return *buffer;
  }
  ThreadBuffer* buffer;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    buffers_.push_back(std::make_unique<ThreadBuffer>());
    buffer = buffers_.back().get();
  }
  cache.emplace_back(id_, buffer);
  // Lines must not wait for more traffic: this log flushes this worker's
  // buffer once a second from the worker's own loop, for as long as the
  // log lives.
  loop.RunEvery(absl::Seconds(1), [log = weak_from_this(), buffer] {
    if (std::shared_ptr<AccessLog> alive = log.lock()) {
      if (!buffer->pending.empty()) buffer->WriteTo(alive->fd_.get());
    }
  });
  return *buffer;
}

void AccessLog::Record(EventLoop& loop, absl::string_view peer_host,
                       absl::string_view request_line, int status,
                       uint64_t body_bytes) {
  ThreadBuffer& buffer = BufferForThisThread(loop);
  timespec now;
  clock_gettime(CLOCK_REALTIME_COARSE, &now);
  if (now.tv_sec != buffer.stamp_second) {
    buffer.stamp_second = now.tv_sec;
    tm parts;
    gmtime_r(&now.tv_sec, &parts);
    buffer.stamp_length =
        strftime(buffer.stamp, sizeof(buffer.stamp),
                 format_ == AccessLogFormat::kJson ? "%Y-%m-%dT%H:%M:%SZ"
                                                   : "%d/%b/%Y:%H:%M:%S +0000",
                 &parts);
  }
  const absl::string_view stamp(buffer.stamp, buffer.stamp_length);
  if (format_ == AccessLogFormat::kJson) {
    std::string& out = buffer.pending;
    out.append("{\"time\":\"");
    out.append(stamp.data(), stamp.size());
    out.append("\",\"peer\":");
    AppendJsonString(&out, peer_host);
    out.append(",\"method\":");
    AppendJsonString(&out, MethodOf(request_line));
    out.append(",\"request\":");
    AppendJsonString(&out, request_line);
    absl::StrAppend(&out, ",\"status\":", status, ",\"bytes\":", body_bytes,
                    "}\n");
  } else {
    absl::StrAppend(&buffer.pending, peer_host, " - - [", stamp, "] \"",
                    request_line, "\" ", status, " ", body_bytes, "\n");
  }
  if (buffer.pending.size() >= kFlushBytes || now.tv_sec != buffer.last_flush) {
    buffer.last_flush = now.tv_sec;
    buffer.WriteTo(fd_.get());
  }
}

void AccessLog::Flush() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& buffer : buffers_) buffer->WriteTo(fd_.get());
}

}  // namespace eddy::http
