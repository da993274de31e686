#include "eddy/net/worker.h"

#include <sys/socket.h>

#include <atomic>
#include <thread>

#include "absl/time/clock.h"
#include "eddy/net/echo.h"
#include "eddy/net/internal/worker_access.h"
#include "gtest/gtest.h"

namespace eddy {
namespace {

// The acceptor-to-worker hand-off: a bounded spsc inbox plus a wakeup.
TEST(Worker, HandOffFillsTheInboxThenRefusesAndTheLoopOpensWhatWasQueued) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  auto factory = MakeEchoFactory();
  ConnectionOptions options;
  std::atomic<int64_t> open{0};
  std::unique_ptr<Worker> owned = WorkerAccess::Create(
      0, **loop, factory.get(), options, /*inbox_depth=*/4, open);
  Worker& worker = *owned;

  int peers[5];
  for (int i = 0; i < 5; ++i) {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    peers[i] = fds[1];
    if (i < 4) {
      EXPECT_TRUE(WorkerAccess::HandOff(worker, fds[0]));
      open.fetch_add(1);
    } else {
      EXPECT_FALSE(WorkerAccess::HandOff(worker, fds[0]))
          << "a full inbox must refuse";
      ::close(fds[0]);
    }
  }
  EXPECT_TRUE(WorkerAccess::HasPendingHandOffs(worker));
  std::thread thread([&] { (*loop)->Run(); });
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (worker.stats().accepted < 4 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_EQ(worker.stats().accepted, 4u);
  // The echo handler answers on the handed-off sockets.
  ASSERT_EQ(::send(peers[0], "hi", 2, 0), 2);
  char reply[2] = {};
  while (::recv(peers[0], reply, 2, MSG_DONTWAIT) != 2 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_EQ(std::string(reply, 2), "hi");
  for (int peer : peers) ::close(peer);
  while (worker.stats().active > 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_EQ(worker.stats().closed, 4u);
  EXPECT_EQ(open.load(), 0);
  (*loop)->Stop();
  thread.join();
}

TEST(Worker, ManyHandOffsFromAnotherThreadAreAllOpened) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  auto factory = MakeEchoFactory();
  ConnectionOptions options;
  std::atomic<int64_t> open{0};
  std::unique_ptr<Worker> owned =
      WorkerAccess::Create(0, **loop, factory.get(), options, 64, open);
  Worker& worker = *owned;
  std::thread thread([&] { (*loop)->Run(); });
  constexpr int kHandOffs = 2000;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  std::vector<int> peers;
  for (int i = 0; i < kHandOffs; ++i) {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    open.fetch_add(1);
    while (!WorkerAccess::HandOff(worker, fds[0])) {
      ASSERT_LT(absl::Now(), deadline) << "inbox never drained";
      std::this_thread::yield();
    }
    ::close(fds[1]);  // the peer's EOF closes the server side too
  }
  while (worker.stats().closed < kHandOffs && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_EQ(worker.stats().accepted, uint64_t{kHandOffs});
  EXPECT_EQ(worker.stats().closed, uint64_t{kHandOffs});
  (*loop)->Stop();
  thread.join();
}

}  // namespace
}  // namespace eddy
