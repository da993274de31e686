#ifndef EDDY_NET_OUTPUT_QUEUE_H_
#define EDDY_NET_OUTPUT_QUEUE_H_

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "eddy/core/buffer.h"
#include "eddy/core/unique_fd.h"

namespace eddy {

// OutputQueue is the ordered output of one connection: a chain of segments
// sent front to back. Small pieces are copied and coalesce in a byte Buffer;
// large bodies handed over as a std::string or a Buffer are moved in and
// sent from their own memory; file ranges are sent with sendfile(2).
// WriteTo sends consecutive memory segments with one sendmsg, so a response
// head and the body moved in after it leave in one system call.
//
// The common case (only small pieces) uses the front Buffer alone and
// allocates nothing else; ReleaseIfEmpty returns all memory when idle.
//
// Not thread-safe: owned by one thread at a time (a connection's loop).
class OutputQueue {
 public:
  // Strings and Buffers shorter than this are copied into the byte buffer:
  // below it a copy is cheaper than a segment of their own.
  static constexpr size_t kMoveThreshold = 4096;
  // The most iovecs one sendmsg is given (well below IOV_MAX).
  static constexpr size_t kMaxIovecs = 64;

  // Copies `bytes` to the back, coalescing with the bytes before it.
  void Append(absl::string_view bytes);
  // A string literal would be ambiguous between the views and the moves.
  void Append(const char* bytes) { Append(absl::string_view(bytes)); }
  // Moves `bytes` to the back without copying (from kMoveThreshold up). An
  // lvalue std::string binds to Append(string_view) and is copied.
  void Append(std::string&& bytes);
  // Moves `bytes`' readable bytes to the back; `bytes` ends empty. Its
  // storage is taken over, not copied, when it is large or the queue empty.
  void Append(Buffer&& bytes);
  // Queues `length` bytes of `file` from `offset`. The queue owns (and
  // closes) `file` until they are sent or the queue is cleared.
  void AppendFile(UniqueFd file, off_t offset, size_t length);

  // Bytes queued and not yet written.
  size_t size() const { return size_; }
  // File ranges queued and not yet fully sent: each holds a descriptor.
  size_t files() const { return files_; }
  bool empty() const { return size_ == 0; }

  // Fills `iov` with the memory segments at the front, up to the first file
  // range, as the next sendmsg would send them; returns how many it filled.
  // The pointers are valid until the next non-const call.
  size_t Gather(absl::Span<iovec> iov) const;

  // Why WriteTo stopped.
  enum class WriteStop {
    kDrained,     // everything queued was written
    kSocketFull,  // EAGAIN or a short write: wait for writability
    kError,       // the socket failed; WriteResult::error holds errno
    kFileShrank,  // a queued file ended before its promised length
  };
  struct WriteResult {
    size_t written = 0;   // bytes the socket accepted in this call
    size_t syscalls = 0;  // sendmsg and sendfile calls made
    WriteStop stop = WriteStop::kDrained;
    int error = 0;
  };
  // Writes to the non-blocking socket `fd` as much as it takes now, in
  // order: sendmsg (MSG_NOSIGNAL) for memory, sendfile for file ranges.
  // Written bytes leave the queue; EINTR is retried.
  WriteResult WriteTo(int fd);

  // For a transport that sends what it made of the queue rather than the
  // queue itself (TLS encrypts it): drops `n` bytes from the memory
  // segments at the front, as Gather returned them.
  void Consume(size_t n);
  // When a file range is at the front (Gather returns nothing): reads up to
  // `out.size()` of its bytes with pread(2) into `out` and drops them from
  // the queue. Returns the count, 0 if the file ended before its length, or
  // -1 with errno set.
  ssize_t ReadFrontFile(absl::Span<char> out);

  // Drops everything queued (closing queued files).
  void Clear();
  // Returns buffer and segment memory to the allocator when nothing is
  // queued, so an idle connection costs none.
  void ReleaseIfEmpty();

 private:
  struct StringSegment {
    std::string bytes;
    size_t consumed = 0;
  };
  struct FileSegment {
    UniqueFd file;
    off_t offset;
    size_t remaining;
  };
  using Segment = std::variant<Buffer, StringSegment, FileSegment>;

  // Where appended bytes go: the front buffer while no segment follows it,
  // else a Buffer segment at the back. `n` bytes are about to be appended.
  Buffer& BackBytes(size_t n);
  void PopFrontSegment();

  // Written first; then segments_[first_segment_...] in order.
  Buffer front_;
  std::vector<Segment> segments_;
  size_t first_segment_ = 0;  // segments before it are sent
  size_t size_ = 0;
  size_t files_ = 0;
};

}  // namespace eddy

#endif  // EDDY_NET_OUTPUT_QUEUE_H_
