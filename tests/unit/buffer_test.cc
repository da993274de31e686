#include "eddy/core/buffer.h"

#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "eddy/core/unique_fd.h"
#include "gtest/gtest.h"

namespace eddy {
namespace {

TEST(Buffer, StartsWithoutStorage) {
  Buffer buffer;
  EXPECT_EQ(buffer.capacity(), 0u);
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.view(), "");
}

TEST(Buffer, AppendThenConsumeReturnsBytesInOrder) {
  Buffer buffer;
  buffer.Append("hello ");
  buffer.Append("world");
  EXPECT_EQ(buffer.view(), "hello world");
  buffer.Consume(6);
  EXPECT_EQ(buffer.view(), "world");
  buffer.Consume(5);
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.prependable_bytes(), Buffer::kPrependReserve);
}

TEST(Buffer, GrowsPastOneBlockAndKeepsContent) {
  Buffer buffer;
  std::string expected;
  for (int i = 0; i < 10000; ++i) {
    const std::string piece = std::to_string(i) + ",";
    buffer.Append(piece);
    expected += piece;
  }
  EXPECT_EQ(buffer.view(), expected);
  EXPECT_GE(buffer.capacity(), expected.size());
}

TEST(Buffer, CompactsInsteadOfGrowingWhenFrontIsFree) {
  Buffer buffer;
  buffer.Append(std::string(3000, 'a'));
  const size_t capacity = buffer.capacity();
  buffer.Consume(2990);
  buffer.Append(std::string(2000, 'b'));
  EXPECT_EQ(buffer.capacity(), capacity);
  EXPECT_EQ(buffer.view(), std::string(10, 'a') + std::string(2000, 'b'));
}

TEST(Buffer, PrependUsesReserveAndFallsBackToCopy) {
  Buffer buffer;
  buffer.Append("payload");
  buffer.Prepend("1234");
  EXPECT_EQ(buffer.view(), "1234payload");
  const std::string big(Buffer::kPrependReserve * 2, 'x');
  buffer.Prepend(big);
  EXPECT_EQ(buffer.view(), big + "1234payload");
  Buffer empty;
  empty.Prepend("ab");
  EXPECT_EQ(empty.view(), "ab");
}

TEST(Buffer, PrepareAndCommitWriteAppendInPlace) {
  Buffer buffer;
  absl::Span<char> space = buffer.PrepareWrite(5);
  ASSERT_GE(space.size(), 5u);
  std::memcpy(space.data(), "abcde", 5);
  buffer.CommitWrite(3);
  EXPECT_EQ(buffer.view(), "abc");
}

TEST(Buffer, AppendBufferStealsStorageWhenEmpty) {
  Buffer source;
  source.Append("moved bytes");
  Buffer target;
  target.Append(std::move(source));
  EXPECT_EQ(target.view(), "moved bytes");
  EXPECT_TRUE(source.empty());
  target.Append(std::move(source));
  EXPECT_EQ(target.view(), "moved bytes");
  Buffer more;
  more.Append(" and more");
  target.Append(std::move(more));
  EXPECT_EQ(target.view(), "moved bytes and more");
}

TEST(Buffer, ReleaseIfEmptyFreesStorageOnlyWhenEmpty) {
  Buffer buffer;
  buffer.Append("x");
  buffer.ReleaseIfEmpty();
  EXPECT_GT(buffer.capacity(), 0u);
  buffer.ConsumeAll();
  buffer.ReleaseIfEmpty();
  EXPECT_EQ(buffer.capacity(), 0u);
  buffer.Append("again");
  EXPECT_EQ(buffer.view(), "again");
}

TEST(Buffer, MoveLeavesSourceEmptyAndUsable) {
  Buffer a;
  a.Append("abc");
  Buffer b(std::move(a));
  EXPECT_EQ(b.view(), "abc");
  EXPECT_TRUE(a.empty());
  a.Append("new");
  EXPECT_EQ(a.view(), "new");
  a = std::move(b);
  EXPECT_EQ(a.view(), "abc");
}

class SocketPair {
 public:
  SocketPair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    reader.reset(fds[0]);
    writer.reset(fds[1]);
    int size = 1 << 20;
    ::setsockopt(writer.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    ::setsockopt(reader.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  }
  UniqueFd reader;
  UniqueFd writer;
};

TEST(Buffer, ReadvSpillsIntoHeapWhenWritableSpaceIsShort) {
  SocketPair pair;
  std::string payload(20000, '\0');
  for (size_t i = 0; i < payload.size(); ++i)
    payload[i] = static_cast<char>(i * 7);
  ASSERT_EQ(::write(pair.writer.get(), payload.data(), payload.size()),
            static_cast<ssize_t>(payload.size()));
  Buffer buffer;  // no storage: everything lands in the spill first
  const ssize_t n = buffer.ReadFromFd(pair.reader.get(), 1 << 20);
  ASSERT_EQ(n, static_cast<ssize_t>(payload.size()));
  EXPECT_EQ(buffer.view(), payload);
}

TEST(Buffer, ReadFromFdHonoursMaxBytes) {
  SocketPair pair;
  ASSERT_EQ(::write(pair.writer.get(), "0123456789", 10), 10);
  Buffer buffer;
  buffer.Append("ab");
  EXPECT_EQ(buffer.ReadFromFd(pair.reader.get(), 4), 4);
  EXPECT_EQ(buffer.view(), "ab0123");
  EXPECT_EQ(buffer.ReadFromFd(pair.reader.get(), 100), 6);
  EXPECT_EQ(buffer.view(), "ab0123456789");
}

TEST(Buffer, ReadFromFdReportsEagainAndEof) {
  SocketPair pair;
  Buffer buffer;
  errno = 0;
  EXPECT_EQ(buffer.ReadFromFd(pair.reader.get(), 100), -1);
  EXPECT_EQ(errno, EAGAIN);
  pair.writer.reset();
  EXPECT_EQ(buffer.ReadFromFd(pair.reader.get(), 100), 0);
}

}  // namespace
}  // namespace eddy
