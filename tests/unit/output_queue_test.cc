#include "eddy/net/output_queue.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "eddy/core/buffer.h"
#include "eddy/core/unique_fd.h"
#include "gtest/gtest.h"

namespace eddy {
namespace {

// A connected, non-blocking pair: the queue writes to `writer`, the test
// reads what arrived from `reader`.
struct SocketPair {
  explicit SocketPair(int send_buffer = 0) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    writer.reset(fds[0]);
    reader.reset(fds[1]);
    if (send_buffer > 0) {
      EXPECT_EQ(::setsockopt(writer.get(), SOL_SOCKET, SO_SNDBUF, &send_buffer,
                             sizeof(send_buffer)),
                0);
    }
  }

  // Everything readable now.
  std::string ReadAvailable() {
    std::string out;
    char chunk[65536];
    ssize_t n;
    while ((n = ::read(reader.get(), chunk, sizeof(chunk))) > 0) {
      out.append(chunk, static_cast<size_t>(n));
    }
    return out;
  }

  UniqueFd writer;
  UniqueFd reader;
};

// Writes the whole queue, reading the other end whenever the socket is
// full; returns the bytes received. Bounded in rounds, not in time.
std::string DrainThroughPeer(OutputQueue& queue, SocketPair& pair) {
  std::string received;
  for (int round = 0; round < 100000 && !queue.empty(); ++round) {
    const size_t before = queue.size();
    const OutputQueue::WriteResult result = queue.WriteTo(pair.writer.get());
    EXPECT_EQ(before - queue.size(), result.written);
    if (result.stop != OutputQueue::WriteStop::kDrained &&
        result.stop != OutputQueue::WriteStop::kSocketFull) {
      ADD_FAILURE() << "write stopped with error " << result.error;
      break;
    }
    received += pair.ReadAvailable();
  }
  received += pair.ReadAvailable();
  return received;
}

// Distinct bytes per position, so a byte sent twice or skipped shows.
std::string Pattern(size_t size, char first) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<char>(first + (i * 7 + i / 251) % 26);
  }
  return bytes;
}

// A temporary file holding `content`, opened for reading.
UniqueFd TempFileWith(const std::string& content) {
  FILE* file = std::tmpfile();
  EXPECT_NE(file, nullptr);
  EXPECT_EQ(std::fwrite(content.data(), 1, content.size(), file),
            content.size());
  std::fflush(file);
  UniqueFd fd(::dup(::fileno(file)));
  std::fclose(file);
  EXPECT_EQ(::lseek(fd.get(), 0, SEEK_SET), 0);
  return fd;
}

TEST(OutputQueue, KeepsOrderAcrossBytesStringsBuffersAndFiles) {
  const std::string head = "HTTP/1.1 200 OK\r\n\r\n";
  const std::string body = Pattern(100000, 'a');
  const std::string buffered = Pattern(20000, 'A');
  const std::string file_content = Pattern(50000, 'a');
  const std::string small = "small string";
  OutputQueue queue;
  queue.Append(head);
  queue.Append(std::string(body));
  Buffer buffer;
  buffer.Append(buffered);
  queue.Append(std::move(buffer));
  queue.AppendFile(TempFileWith(file_content), 1000, 30000);
  queue.Append(std::string(small));
  queue.Append("tail");
  EXPECT_TRUE(buffer.empty());
  const std::string expected = absl::StrCat(
      head, body, buffered, file_content.substr(1000, 30000), small, "tail");
  EXPECT_EQ(queue.size(), expected.size());

  SocketPair pair;
  EXPECT_TRUE(DrainThroughPeer(queue, pair) == expected);
  EXPECT_TRUE(queue.empty());
}

TEST(OutputQueue, PartialWritesResumeAtTheRightByte) {
  OutputQueue queue;
  std::string expected;
  for (int i = 0; i < 20; ++i) {
    const std::string piece = Pattern(1000 + i * 3001, 'a' + i % 5);
    expected += piece;
    if (i % 2 == 0) {
      queue.Append(std::string(piece));
    } else {
      queue.Append(absl::string_view(piece));
    }
  }
  SocketPair pair(/*send_buffer=*/4096);
  const OutputQueue::WriteResult first = queue.WriteTo(pair.writer.get());
  EXPECT_EQ(first.stop, OutputQueue::WriteStop::kSocketFull);
  EXPECT_GT(first.written, 0u);
  EXPECT_LT(first.written, expected.size());
  EXPECT_EQ(queue.size(), expected.size() - first.written);
  const std::string received = DrainThroughPeer(queue, pair);
  EXPECT_EQ(received.size(), expected.size());
  EXPECT_TRUE(received == expected);
}

TEST(OutputQueue, MovedStringIsSentFromItsOwnMemoryAfterTheHead) {
  OutputQueue queue;
  std::string body = Pattern(200 * 1024, 'a');
  const char* const body_bytes = body.data();
  queue.Append("HTTP/1.1 200 OK\r\nContent-Length: 204800\r\n\r\n");
  queue.Append(std::move(body));
  iovec iov[OutputQueue::kMaxIovecs];
  // Head and body go to one sendmsg: the body as its own memory, uncopied.
  ASSERT_EQ(queue.Gather(absl::MakeSpan(iov)), 2u);
  EXPECT_EQ(iov[1].iov_base, body_bytes);
  EXPECT_EQ(iov[1].iov_len, 200u * 1024);
}

TEST(OutputQueue, LargeBufferIsTakenOverAndSmallPiecesCoalesce) {
  OutputQueue queue;
  queue.Append("head ");
  queue.Append(std::string("a short string is copied"));
  Buffer small;
  small.Append(" and a short buffer");
  queue.Append(std::move(small));
  iovec iov[OutputQueue::kMaxIovecs];
  EXPECT_EQ(queue.Gather(absl::MakeSpan(iov)), 1u);

  Buffer large;
  large.Append(Pattern(64 * 1024, 'a'));
  const char* const large_bytes = large.data();
  queue.Append(std::move(large));
  // The trailer fits the spare room of the buffer taken over: no copy of
  // the large bytes, no extra segment.
  queue.Append(" trailer");
  ASSERT_EQ(queue.Gather(absl::MakeSpan(iov)), 2u);
  EXPECT_EQ(iov[1].iov_base, large_bytes);
  EXPECT_EQ(iov[1].iov_len, 64u * 1024 + 8);
}

TEST(OutputQueue, ManySegmentsDrainInOrderBeyondOneSendmsg) {
  OutputQueue queue;
  std::string expected;
  for (int i = 0; i < 3 * static_cast<int>(OutputQueue::kMaxIovecs); ++i) {
    std::string piece = Pattern(OutputQueue::kMoveThreshold + i, 'a' + i % 7);
    expected += piece;
    queue.Append(std::move(piece));
    queue.Append(absl::StrCat("|", i, "|"));
  }
  iovec iov[OutputQueue::kMaxIovecs];
  EXPECT_EQ(queue.Gather(absl::MakeSpan(iov)), OutputQueue::kMaxIovecs);
  SocketPair pair(/*send_buffer=*/16384);
  std::string received = DrainThroughPeer(queue, pair);
  std::string expected_with_markers;
  size_t at = 0;
  for (int i = 0; i < 3 * static_cast<int>(OutputQueue::kMaxIovecs); ++i) {
    const size_t length = OutputQueue::kMoveThreshold + i;
    absl::StrAppend(&expected_with_markers, expected.substr(at, length), "|", i,
                    "|");
    at += length;
  }
  EXPECT_TRUE(received == expected_with_markers);
}

TEST(OutputQueue, FileRangeIsSentByOffsetAndClosedOnceSent) {
  const std::string content = Pattern(10000, 'a');
  UniqueFd file = TempFileWith(content);
  const int raw_fd = file.get();
  // A second descriptor sharing the file position: sendfile with an offset
  // leaves the position alone, a read() would move it.
  UniqueFd same_file(::dup(raw_fd));
  OutputQueue queue;
  queue.AppendFile(std::move(file), 123, 4567);
  SocketPair pair;
  EXPECT_TRUE(DrainThroughPeer(queue, pair) == content.substr(123, 4567));
  EXPECT_EQ(::lseek(same_file.get(), 0, SEEK_CUR), 0);
  EXPECT_EQ(::fcntl(raw_fd, F_GETFD), -1) << "the queue keeps the file open";
  EXPECT_EQ(errno, EBADF);
}

TEST(OutputQueue, FileShorterThanPromisedIsReported) {
  OutputQueue queue;
  queue.Append("head");
  queue.AppendFile(TempFileWith("only ten b"), 0, 100);
  SocketPair pair;
  // The short sendfile looks like a full socket; the next write finds the
  // end of the file.
  const OutputQueue::WriteResult first = queue.WriteTo(pair.writer.get());
  EXPECT_EQ(first.stop, OutputQueue::WriteStop::kSocketFull);
  EXPECT_EQ(first.written, 14u);
  const OutputQueue::WriteResult second = queue.WriteTo(pair.writer.get());
  EXPECT_EQ(second.stop, OutputQueue::WriteStop::kFileShrank);
  EXPECT_EQ(second.written, 0u);
  EXPECT_EQ(pair.ReadAvailable(), "headonly ten b");
}

TEST(OutputQueue, WriteToAClosedPeerReportsTheErrorWithoutSigpipe) {
  OutputQueue queue;
  queue.Append(Pattern(100000, 'a'));
  SocketPair pair;
  pair.reader.reset();
  const OutputQueue::WriteResult result = queue.WriteTo(pair.writer.get());
  EXPECT_EQ(result.stop, OutputQueue::WriteStop::kError);
  EXPECT_TRUE(result.error == EPIPE || result.error == ECONNRESET)
      << result.error;
  EXPECT_EQ(result.written, 0u);
  EXPECT_EQ(queue.size(), 100000u);
}

TEST(OutputQueue, ClearDropsEverythingAndTheQueueIsReusable) {
  OutputQueue queue;
  queue.Append("bytes");
  queue.Append(Pattern(10000, 'a'));
  queue.AppendFile(TempFileWith("file"), 0, 4);
  queue.Clear();
  EXPECT_TRUE(queue.empty());
  iovec iov[OutputQueue::kMaxIovecs];
  EXPECT_EQ(queue.Gather(absl::MakeSpan(iov)), 0u);
  queue.ReleaseIfEmpty();
  queue.Append("again");
  SocketPair pair;
  EXPECT_EQ(DrainThroughPeer(queue, pair), "again");
}

TEST(OutputQueue, AnEncryptingTransportTakesMemoryThenFileChunksInOrder) {
  OutputQueue queue;
  queue.Append("head ");
  queue.AppendFile(TempFileWith("0123456789"), 2, 6);
  queue.Append(" tail");
  iovec iov[OutputQueue::kMaxIovecs];
  std::string taken;
  for (int round = 0; round < 100 && !queue.empty(); ++round) {
    const size_t count = queue.Gather(absl::MakeSpan(iov));
    if (count == 0) {
      char chunk[4];
      const ssize_t n = queue.ReadFrontFile(absl::MakeSpan(chunk));
      ASSERT_GT(n, 0);
      taken.append(chunk, static_cast<size_t>(n));
      continue;
    }
    size_t n = 0;
    for (size_t i = 0; i < count; ++i) {
      taken.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
      n += iov[i].iov_len;
    }
    queue.Consume(n);
  }
  EXPECT_EQ(taken, "head 234567 tail");
  EXPECT_EQ(queue.files(), 0u);
}

TEST(OutputQueue, ReadFrontFileReportsAFileThatEndedEarly) {
  OutputQueue queue;
  queue.AppendFile(TempFileWith("abc"), 0, 10);
  char chunk[16];
  EXPECT_EQ(queue.ReadFrontFile(absl::MakeSpan(chunk)), 3);
  EXPECT_EQ(queue.ReadFrontFile(absl::MakeSpan(chunk)), 0);
}

}  // namespace
}  // namespace eddy
