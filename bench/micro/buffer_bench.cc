// Buffer: the cost of moving bytes through a connection's input and output.

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string>

#include "benchmark/benchmark.h"
#include "eddy/core/buffer.h"
#include "eddy/core/unique_fd.h"

namespace eddy {
namespace {

// The steady state of a connection that consumes everything it receives:
// every Append lands at the front of the already allocated storage.
void BM_BufferAppendConsume(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  const std::string piece(size, 'x');
  Buffer buffer;
  for (auto _ : state) {
    buffer.Append(piece);
    benchmark::DoNotOptimize(buffer.data());
    buffer.Consume(size);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(size));
}
BENCHMARK(BM_BufferAppendConsume)->Arg(64)->Arg(16 << 10);

// A protocol that always leaves half a message behind (a partial request
// waiting for its tail): the buffer has to compact its consumed front.
void BM_BufferAppendConsumeWithBacklog(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  const std::string piece(size, 'x');
  Buffer buffer;
  buffer.Append(piece.data(), size / 2);
  for (auto _ : state) {
    buffer.Append(piece);
    benchmark::DoNotOptimize(buffer.data());
    buffer.Consume(size);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(size));
}
BENCHMARK(BM_BufferAppendConsumeWithBacklog)->Arg(64)->Arg(16 << 10);

bool WriteAll(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// ReadFromFd from a socketpair. Only the reads are timed; the writes that
// fill the socket are not. With release=1 the buffer hands its storage back
// after each read, as an idle connection does, so every read goes through
// the stack spill and a block from the per-thread cache.
void BM_BufferReadFromFd(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  const bool release = state.range(1) != 0;
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   fds) != 0) {
    state.SkipWithError("socketpair failed");
    return;
  }
  const UniqueFd writer(fds[0]);
  const UniqueFd reader(fds[1]);
  const std::string payload(size, 'y');
  Buffer buffer;
  for (auto _ : state) {
    if (!WriteAll(writer.get(), payload)) {
      state.SkipWithError("write to the socketpair failed");
      break;
    }
    const auto start = std::chrono::steady_clock::now();
    size_t got = 0;
    while (got < size) {
      const ssize_t n = buffer.ReadFromFd(reader.get(), size - got);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    const auto end = std::chrono::steady_clock::now();
    if (got != size) {
      state.SkipWithError("short read from the socketpair");
      break;
    }
    benchmark::DoNotOptimize(buffer.data());
    buffer.ConsumeAll();
    if (release) buffer.ReleaseIfEmpty();
    state.SetIterationTime(std::chrono::duration<double>(end - start).count());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(size));
}
BENCHMARK(BM_BufferReadFromFd)
    ->ArgNames({"bytes", "release"})
    ->ArgsProduct({{64, 4 << 10, 64 << 10}, {0, 1}})
    ->UseManualTime();

}  // namespace
}  // namespace eddy
