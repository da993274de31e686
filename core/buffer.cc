#include "eddy/core/buffer.h"

#include <sys/mman.h>
#include <sys/uio.h>

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>
#include <vector>

namespace eddy {
namespace {

// A per-thread stack of free kBlockSize blocks. A keep-alive connection
// allocates and releases its buffers on every request; the cache turns that
// into a push and a pop. Blocks freed on another thread simply join that
// thread's cache. It keeps at most kMaxCached blocks (256 KiB a thread).
//
// Large blocks (a buffered request body) are mapped from the kernel
// directly and unmapped when freed. From malloc they would stay in the
// process after a burst of large requests: glibc raises its mmap threshold
// to the largest block freed, so later blocks of that size come from
// arenas that are seldom trimmed (1 MiB bodies on 200 connections left
// 130 MiB behind).
// Under AddressSanitizer large blocks stay with malloc, whose memory ASan
// watches for overflows; mapped pages it would not.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kMapLargeBlocks = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kMapLargeBlocks = false;
#else
constexpr bool kMapLargeBlocks = true;
#endif
#else
constexpr bool kMapLargeBlocks = true;
#endif

class BlockCache {
 public:
  static constexpr size_t kMaxCached = 64;
  static constexpr size_t kMappedSize = 128 * 1024;

  ~BlockCache() {
    for (char* block : blocks_) std::free(block);
  }

  char* Allocate(size_t size) {
    if (size == Buffer::kBlockSize && !blocks_.empty()) {
      char* block = blocks_.back();
      blocks_.pop_back();
      return block;
    }
    if (kMapLargeBlocks && size >= kMappedSize) {
      void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) throw std::bad_alloc();
      return static_cast<char*>(p);
    }
    void* p = std::malloc(size);
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<char*>(p);
  }

  void Free(char* block, size_t size) {
    if (size == Buffer::kBlockSize && blocks_.size() < kMaxCached) {
      blocks_.push_back(block);
      return;
    }
    if (kMapLargeBlocks && size >= kMappedSize) {
      ::munmap(block, size);
      return;
    }
    std::free(block);
  }

 private:
  std::vector<char*> blocks_;
};

BlockCache& ThreadBlockCache() {
  thread_local BlockCache cache;
  return cache;
}

}  // namespace

Buffer::Buffer(Buffer&& other) noexcept
    : storage_(std::exchange(other.storage_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)),
      read_(std::exchange(other.read_, 0)),
      write_(std::exchange(other.write_, 0)) {}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    Buffer moved(std::move(other));
    Swap(moved);
  }
  return *this;
}

Buffer::~Buffer() {
  if (storage_ != nullptr) ThreadBlockCache().Free(storage_, capacity_);
}

void Buffer::Swap(Buffer& other) noexcept {
  std::swap(storage_, other.storage_);
  std::swap(capacity_, other.capacity_);
  std::swap(read_, other.read_);
  std::swap(write_, other.write_);
}

void Buffer::Consume(size_t n) {
  assert(n <= readable_bytes());
  read_ += n;
  if (read_ == write_) ConsumeAll();
}

void Buffer::ConsumeAll() {
  read_ = write_ = storage_ != nullptr ? kPrependReserve : 0;
}

void Buffer::Append(absl::string_view bytes) {
  if (bytes.empty()) return;
  EnsureWritable(bytes.size());
  std::memcpy(storage_ + write_, bytes.data(), bytes.size());
  write_ += bytes.size();
}

void Buffer::Append(Buffer&& other) {
  if (empty() && other.readable_bytes() >= readable_bytes()) {
    Swap(other);
    other.ConsumeAll();
    return;
  }
  Append(other.view());
  other.ConsumeAll();
}

void Buffer::Prepend(absl::string_view bytes) {
  if (bytes.size() <= read_ && storage_ != nullptr) {
    read_ -= bytes.size();
    std::memcpy(storage_ + read_, bytes.data(), bytes.size());
    return;
  }
  Buffer merged;
  merged.EnsureWritable(bytes.size() + readable_bytes());
  merged.Append(bytes);
  merged.Append(view());
  Swap(merged);
}

absl::Span<char> Buffer::PrepareWrite(size_t n) {
  EnsureWritable(n);
  return {storage_ + write_, writable_bytes()};
}

void Buffer::CommitWrite(size_t n) {
  assert(n <= writable_bytes());
  write_ += n;
}

void Buffer::EnsureWritable(size_t n) {
  if (writable_bytes() >= n) return;
  const size_t readable = readable_bytes();
  // Compacting is cheaper than growing when the consumed front has room.
  if (storage_ != nullptr && capacity_ >= kPrependReserve + readable + n &&
      read_ > kPrependReserve) {
    std::memmove(storage_ + kPrependReserve, storage_ + read_, readable);
    read_ = kPrependReserve;
    write_ = read_ + readable;
    return;
  }
  const size_t needed = kPrependReserve + readable + n;
  size_t new_capacity = std::max(kBlockSize, capacity_ * 2);
  while (new_capacity < needed) new_capacity *= 2;
  char* fresh = ThreadBlockCache().Allocate(new_capacity);
  if (readable > 0) std::memcpy(fresh + kPrependReserve, data(), readable);
  if (storage_ != nullptr) ThreadBlockCache().Free(storage_, capacity_);
  storage_ = fresh;
  capacity_ = new_capacity;
  read_ = kPrependReserve;
  write_ = read_ + readable;
}

ssize_t Buffer::ReadFromFd(int fd, size_t max_bytes) {
  char spill[kSpillSize];
  const size_t writable = writable_bytes();
  iovec iov[2];
  int iov_count = 0;
  if (writable > 0) {
    iov[iov_count++] = {storage_ + write_, std::min(writable, max_bytes)};
  }
  if (writable < max_bytes) {
    iov[iov_count++] = {spill, std::min(kSpillSize, max_bytes - writable)};
  }
  const ssize_t n = ::readv(fd, iov, iov_count);
  if (n <= 0) return n;
  const size_t got = static_cast<size_t>(n);
  if (got <= writable) {
    write_ += got;
  } else {
    write_ += writable;
    Append(absl::string_view(spill, got - writable));
  }
  return n;
}

void Buffer::ReleaseIfEmpty() {
  if (!empty() || storage_ == nullptr) return;
  ThreadBlockCache().Free(storage_, capacity_);
  storage_ = nullptr;
  capacity_ = read_ = write_ = 0;
}

}  // namespace eddy
