#ifndef EDDY_CORE_BUFFER_H_
#define EDDY_CORE_BUFFER_H_

#include <sys/types.h>

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace eddy {

// Buffer is a contiguous byte queue: bytes are appended at the back and
// consumed from the front, with a small reserve in front for cheap Prepend
// (e.g. a length prefix written after the payload).
//
// Storage is allocated lazily, on the first write, and can be handed back
// with ReleaseIfEmpty() so an idle connection costs no buffer memory. Common
// sizes come from a small per-thread cache, so the allocate/release cycle of a
// keep-alive connection does not reach malloc.
//
// Not thread-safe: a Buffer is owned by one thread at a time (a connection's
// buffers by its loop thread). It may be moved to another thread.
class Buffer {
 public:
  // Bytes kept free in front of the readable region for Prepend.
  static constexpr size_t kPrependReserve = 16;
  // The size of the first allocation (and of the cached blocks).
  static constexpr size_t kBlockSize = 4096;
  // The most ReadFromFd takes per call: the writable space plus a stack spill.
  static constexpr size_t kSpillSize = 64 * 1024;

  Buffer() = default;
  Buffer(Buffer&& other) noexcept;
  Buffer& operator=(Buffer&& other) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer();

  size_t readable_bytes() const { return write_ - read_; }
  bool empty() const { return write_ == read_; }
  size_t writable_bytes() const { return capacity_ - write_; }
  size_t prependable_bytes() const { return read_; }
  // Bytes of heap storage held, 0 when released.
  size_t capacity() const { return capacity_; }

  // The readable bytes. Valid until the next non-const call.
  const char* data() const { return storage_ + read_; }
  absl::string_view view() const { return {data(), readable_bytes()}; }
  std::string ToString() const { return std::string(view()); }

  // Drops `n` bytes from the front; `n` must not exceed readable_bytes().
  void Consume(size_t n);
  void ConsumeAll();

  void Append(absl::string_view bytes);
  void Append(const void* bytes, size_t n) {
    Append(absl::string_view(static_cast<const char*>(bytes), n));
  }
  // Moves all of `other`'s bytes to the back of this buffer; `other` ends
  // empty. Steals the storage instead of copying when this buffer is empty.
  void Append(Buffer&& other);

  // Writes `bytes` just before the readable region. Falls back to a copy when
  // the reserve is too small.
  void Prepend(absl::string_view bytes);

  // Makes room for at least `n` more bytes and returns the writable region;
  // after writing into it, call CommitWrite with the count actually written.
  absl::Span<char> PrepareWrite(size_t n);
  void CommitWrite(size_t n);

  // Reads from `fd` with one readv: into the writable space and a 64 KiB
  // stack spill, so one syscall takes a large burst without the buffer
  // growing first. Reads at most `max_bytes` (clamped to the spill size plus
  // the writable space). Returns what read(2) returns; on -1, errno is set.
  ssize_t ReadFromFd(int fd, size_t max_bytes);

  // Returns the storage to the allocator when no bytes are held.
  void ReleaseIfEmpty();

  void Swap(Buffer& other) noexcept;

 private:
  void EnsureWritable(size_t n);

  char* storage_ = nullptr;
  size_t capacity_ = 0;
  size_t read_ = 0;
  size_t write_ = 0;
};

}  // namespace eddy

#endif  // EDDY_CORE_BUFFER_H_
