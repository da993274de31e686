#include "eddy/net/output_queue.h"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace eddy {
namespace {

// sendfile(2) moves at most about 2 GiB per call; ask for less.
constexpr size_t kMaxSendfileChunk = size_t{1} << 30;

// Segments already sent are compacted away once this many pile up in front,
// so a connection whose queue never empties (a proxy) stays bounded.
constexpr size_t kCompactAfter = 16;

}  // namespace

Buffer& OutputQueue::BackBytes(size_t n) {
  Buffer* back = first_segment_ < segments_.size()
                     ? std::get_if<Buffer>(&segments_.back())
                     : &front_;
  // Growing a large buffer would copy it: a new segment is cheaper then.
  if (back != nullptr && (back->writable_bytes() >= n ||
                          back->readable_bytes() < kMoveThreshold)) {
    return *back;
  }
  return std::get<Buffer>(segments_.emplace_back(std::in_place_type<Buffer>));
}

void OutputQueue::Append(absl::string_view bytes) {
  if (bytes.empty()) return;
  BackBytes(bytes.size()).Append(bytes);
  size_ += bytes.size();
}

void OutputQueue::Append(std::string&& bytes) {
  if (bytes.size() < kMoveThreshold) {
    Append(absl::string_view(bytes));
    return;
  }
  size_ += bytes.size();
  segments_.emplace_back(StringSegment{std::move(bytes), 0});
}

void OutputQueue::Append(Buffer&& bytes) {
  const size_t n = bytes.readable_bytes();
  if (n == 0) return;
  size_ += n;
  if (n < kMoveThreshold) {
    BackBytes(n).Append(std::move(bytes));
    return;
  }
  Buffer* back = first_segment_ < segments_.size()
                     ? std::get_if<Buffer>(&segments_.back())
                     : &front_;
  if (back != nullptr && back->empty()) {
    back->Append(std::move(bytes));  // takes the storage over
    return;
  }
  segments_.emplace_back(std::move(bytes));
}

void OutputQueue::AppendFile(UniqueFd file, off_t offset, size_t length) {
  if (length == 0) return;
  size_ += length;
  ++files_;
  segments_.emplace_back(FileSegment{std::move(file), offset, length});
}

size_t OutputQueue::Gather(absl::Span<iovec> iov) const {
  size_t count = 0;
  if (!front_.empty() && count < iov.size()) {
    iov[count++] = {const_cast<char*>(front_.data()), front_.readable_bytes()};
  }
  for (size_t i = first_segment_; i < segments_.size() && count < iov.size();
       ++i) {
    if (const Buffer* buffer = std::get_if<Buffer>(&segments_[i])) {
      iov[count++] = {const_cast<char*>(buffer->data()),
                      buffer->readable_bytes()};
    } else if (const auto* string = std::get_if<StringSegment>(&segments_[i])) {
      iov[count++] = {
          const_cast<char*>(string->bytes.data()) + string->consumed,
          string->bytes.size() - string->consumed};
    } else {
      break;  // a file range: sent by sendfile once it is at the front
    }
  }
  return count;
}

OutputQueue::WriteResult OutputQueue::WriteTo(int fd) {
  WriteResult result;
  while (!empty()) {
    FileSegment* file =
        front_.empty() ? std::get_if<FileSegment>(&segments_[first_segment_])
                       : nullptr;
    size_t want = 0;
    ssize_t n;
    if (file != nullptr) {
      want = std::min(file->remaining, kMaxSendfileChunk);
      n = ::sendfile(fd, file->file.get(), &file->offset, want);
      if (n == 0) {
        result.stop = WriteStop::kFileShrank;
        return result;
      }
      if (n > 0) {
        file->remaining -= static_cast<size_t>(n);
        size_ -= static_cast<size_t>(n);
        if (file->remaining == 0) PopFrontSegment();
      }
    } else {
      iovec iov[kMaxIovecs];
      const size_t count = Gather(absl::MakeSpan(iov));
      for (size_t i = 0; i < count; ++i) want += iov[i].iov_len;
      msghdr message{};
      message.msg_iov = iov;
      message.msg_iovlen = count;
      n = ::sendmsg(fd, &message, MSG_NOSIGNAL);
      if (n > 0) Consume(static_cast<size_t>(n));
    }
    ++result.syscalls;
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        result.stop = WriteStop::kSocketFull;
      } else {
        result.stop = WriteStop::kError;
        result.error = errno;
      }
      return result;
    }
    result.written += static_cast<size_t>(n);
    // A short write means the socket buffer is full: the caller waits for
    // the next writable edge instead of making a write that says EAGAIN.
    if (static_cast<size_t>(n) < want) {
      result.stop = WriteStop::kSocketFull;
      return result;
    }
  }
  result.stop = WriteStop::kDrained;
  return result;
}

void OutputQueue::Consume(size_t n) {
  size_ -= n;
  const size_t from_front = std::min(n, front_.readable_bytes());
  front_.Consume(from_front);
  n -= from_front;
  while (n > 0) {
    Segment& segment = segments_[first_segment_];
    if (Buffer* buffer = std::get_if<Buffer>(&segment)) {
      const size_t taken = std::min(n, buffer->readable_bytes());
      buffer->Consume(taken);
      n -= taken;
      if (buffer->empty()) PopFrontSegment();
    } else {
      StringSegment& string = std::get<StringSegment>(segment);
      const size_t taken = std::min(n, string.bytes.size() - string.consumed);
      string.consumed += taken;
      n -= taken;
      if (string.consumed == string.bytes.size()) PopFrontSegment();
    }
  }
}

ssize_t OutputQueue::ReadFrontFile(absl::Span<char> out) {
  FileSegment* file = front_.empty() && first_segment_ < segments_.size()
                          ? std::get_if<FileSegment>(&segments_[first_segment_])
                          : nullptr;
  if (file == nullptr) {
    errno = EINVAL;
    return -1;
  }
  const size_t want = std::min(out.size(), file->remaining);
  ssize_t n;
  do {
    n = ::pread(file->file.get(), out.data(), want, file->offset);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return n;
  file->offset += n;
  file->remaining -= static_cast<size_t>(n);
  size_ -= static_cast<size_t>(n);
  if (file->remaining == 0) PopFrontSegment();
  return n;
}

void OutputQueue::PopFrontSegment() {
  // Frees the bytes (or closes the file) now, not when the slot is reused.
  if (std::holds_alternative<FileSegment>(segments_[first_segment_])) --files_;
  segments_[first_segment_] = Buffer();
  ++first_segment_;
  if (first_segment_ == segments_.size()) {
    segments_.clear();
    first_segment_ = 0;
  } else if (first_segment_ >= kCompactAfter &&
             2 * first_segment_ >= segments_.size()) {
    segments_.erase(segments_.begin(), segments_.begin() + first_segment_);
    first_segment_ = 0;
  }
}

void OutputQueue::Clear() {
  front_.ConsumeAll();
  segments_.clear();
  first_segment_ = 0;
  size_ = 0;
  files_ = 0;
}

void OutputQueue::ReleaseIfEmpty() {
  if (!empty()) return;
  front_.ReleaseIfEmpty();
  std::vector<Segment>().swap(segments_);
}

}  // namespace eddy
