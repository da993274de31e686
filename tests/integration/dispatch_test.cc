// The dispatch contract (net/connection.h): no handler callback ever runs
// inside a call the handler (or anyone) made on a connection, whatever path
// the call came from: a callback, a connection timer, a task posted to the
// connection, a task posted through a ConnectionRef from another thread, or
// a plain loop task. Plus connection timers and Adopt's failure path.
#include <fcntl.h>
#include <sys/socket.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "eddy/net/connection.h"
#include "eddy/net/server.h"
#include "eddy/net/worker.h"
#include "gtest/gtest.h"
#include "tests/support/notification.h"
#include "tests/support/server_testing.h"
#include "tests/support/test_client.h"

namespace eddy {
namespace {

using ::eddy::testing::Eventually;
using ::eddy::testing::LoopbackServerOptions;
using ::eddy::testing::TestClient;

// What every probe shares with the test thread.
struct Record {
  std::atomic<int> callbacks_inside_a_call{0};
  std::atomic<int> high_water{0};
  std::atomic<int> closed{0};
  std::atomic<int> timer_runs{0};
  std::atomic<bool> ref_ready{false};
  ConnectionRef ref;  // written once before ref_ready
};

// More than the kernel's loopback socket buffers take from a client that
// does not read, so the rest stays queued above the high-water mark.
const std::string& Bulk() {
  static const std::string* bulk = new std::string(16 << 20, 'x');
  return *bulk;
}

// On its first byte of input, runs the action named by that byte on one of
// the paths; every connection call it makes is bracketed by `inside_call_`,
// and every callback counts a violation if it finds it set.
class Probe final : public Handler {
 public:
  explicit Probe(Record& record) : record_(record) {}

  void OnOpen(Connection& conn) override {
    Check();
    record_.ref = conn.ref();
    record_.ref_ready = true;
  }

  void OnData(Connection& conn, Buffer& input) override {
    Check();
    const char command = input.view()[0];
    input.ConsumeAll();
    switch (command) {
      case 's':  // send from the callback itself
        Call([&] { conn.Send(Bulk()); });
        break;
      case 't':  // send, then abort, from connection timers
        conn.RunAfter(absl::Milliseconds(1), [this](Connection& c) {
          ++record_.timer_runs;
          Call([&] { c.Send(Bulk()); });
          c.RunAfter(absl::Milliseconds(1), [this](Connection& c2) {
            ++record_.timer_runs;
            Call([&] { c2.Abort(); });
          });
        });
        break;
      case 'p':  // send, then abort, from tasks posted to the connection
        conn.Post([this](Connection& c) {
          Call([&] { c.Send(Bulk()); });
          c.Post([this](Connection& c2) { Call([&] { c2.Abort(); }); });
        });
        break;
      case 'l':  // send from a plain loop task, abort from a plain loop timer
        conn.loop().Post([this, &conn] {
          Call([&] { conn.Send(Bulk()); });
          conn.loop().RunAfter(absl::Milliseconds(20),
                               [this, &conn] { Call([&] { conn.Abort(); }); });
        });
        break;
      default:  // 'r': the test thread drives it through the ConnectionRef
        break;
    }
  }

  void OnHighWater(Connection&) override {
    Check();
    ++record_.high_water;
  }
  void OnDrained(Connection&) override { Check(); }
  void OnInputEnd(Connection& conn) override {
    Check();
    Call([&] { conn.Close(); });
  }
  void OnClose(Connection&, CloseReason) override {
    Check();
    ++record_.closed;
  }

 private:
  template <typename Fn>
  void Call(Fn fn) {
    inside_call_ = true;
    fn();
    inside_call_ = false;
  }
  void Check() {
    if (inside_call_) ++record_.callbacks_inside_a_call;
  }

  Record& record_;
  bool inside_call_ = false;
};

class DispatchTest : public ::testing::TestWithParam<char> {
 protected:
  void SetUp() override {
    ServerOptions options = LoopbackServerOptions(1);
    options.connection.high_water_mark = 64 * 1024;
    options.connection.low_water_mark = 16 * 1024;
    server_ = std::make_unique<Server>(
        options, MakeProtocolFactory([this](Connection&) {
          return std::make_unique<Probe>(record_);
        }));
    ASSERT_TRUE(server_->Start().ok());
  }

  Record record_;
  std::unique_ptr<Server> server_;
};

TEST_P(DispatchTest, NoCallbackRunsInsideAConnectionCall) {
  auto client = TestClient::Connect(server_->port());
  ASSERT_TRUE(client.ok());
  // A small receive buffer, never read: the output stays queued.
  const int small = 4096;
  ::setsockopt(client->fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  ASSERT_TRUE(Eventually([&] { return record_.ref_ready.load(); }));
  const char command = GetParam();
  ASSERT_TRUE(client->SendAll(absl::string_view(&command, 1)).ok());
  if (command == 'r') {
    ASSERT_TRUE(record_.ref.Send(Bulk()));
    ASSERT_TRUE(Eventually([&] { return record_.high_water.load() > 0; }));
    ASSERT_TRUE(record_.ref.Post([](Connection& conn) { conn.Abort(); }));
  }
  if (command == 's') {
    ASSERT_TRUE(Eventually([&] { return record_.high_water.load() > 0; }));
    client->Close();
  }
  ASSERT_TRUE(Eventually([&] { return record_.closed.load() == 1; }));
  EXPECT_GT(record_.high_water.load(), 0)
      << "the output never rose above the high-water mark";
  EXPECT_EQ(record_.callbacks_inside_a_call.load(), 0);
  if (command == 't') {
    EXPECT_EQ(record_.timer_runs.load(), 2);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryPath, DispatchTest,
                         ::testing::Values('s', 't', 'p', 'l', 'r'),
                         [](const ::testing::TestParamInfo<char>& info) {
                           switch (info.param) {
                             case 's':
                               return std::string("Callback");
                             case 't':
                               return std::string("ConnectionTimer");
                             case 'p':
                               return std::string("PostedToTheConnection");
                             case 'l':
                               return std::string("PlainLoopTask");
                             default:
                               return std::string(
                                   "ConnectionRefFromAnotherThread");
                           }
                         });

// A heartbeat on RunEvery needs no bookkeeping: closing the connection
// cancels it, so it never runs for a closed connection.
class Heartbeat final : public Handler {
 public:
  explicit Heartbeat(std::atomic<int>& beats_after_close)
      : beats_after_close_(beats_after_close) {}
  void OnOpen(Connection& conn) override {
    conn.RunEvery(absl::Milliseconds(5), [this](Connection& c) {
      if (closed_) ++beats_after_close_;
      c.Send("beat\n");
    });
  }
  void OnData(Connection& conn, Buffer& input) override { input.ConsumeAll(); }
  void OnClose(Connection&, CloseReason) override { closed_ = true; }

 private:
  std::atomic<int>& beats_after_close_;
  bool closed_ = false;
};

TEST(ConnectionTimers, RepeatUntilTheConnectionClosesAndNeverAfter) {
  std::atomic<int> beats_after_close{0};
  std::atomic<int> handlers{0};
  Server server(LoopbackServerOptions(1), MakeProtocolFactory([&](Connection&) {
                  ++handlers;
                  return std::make_unique<Heartbeat>(beats_after_close);
                }));
  ASSERT_TRUE(server.Start().ok());
  for (int round = 0; round < 3; ++round) {
    auto client = TestClient::Connect(server.port());
    ASSERT_TRUE(client.ok());
    auto beats = client->ReceiveExactly(15);  // three beats
    ASSERT_TRUE(beats.ok()) << beats.status();
    EXPECT_EQ(*beats, "beat\nbeat\nbeat\n");
  }
  ASSERT_TRUE(Eventually([&] { return server.total_stats().active == 0; }));
  // Give cancelled timers every chance to (wrongly) fire.
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(beats_after_close.load(), 0);
  EXPECT_EQ(handlers.load(), 3);
}

class Unopenable final : public Handler {
 public:
  explicit Unopenable(std::atomic<int>& callbacks) : callbacks_(callbacks) {}
  void OnOpen(Connection&) override { ++callbacks_; }
  void OnData(Connection&, Buffer&) override { ++callbacks_; }
  void OnClose(Connection&, CloseReason) override { ++callbacks_; }

 private:
  std::atomic<int>& callbacks_;
};

// epoll refuses a regular file: the adopted fd cannot become a connection.
// The caller hears why; the handler, never opened, gets no callback.
TEST(WorkerAdopt, ADescriptorEpollRefusesIsReportedAndGetsNoCallbacks) {
  WorkerGroup group(testing::ClientGroupOptions(1));
  ASSERT_TRUE(group.Start().ok());
  std::atomic<int> callbacks{0};
  absl::Status status;
  testing::Notification done;
  group.loop(0).Post([&] {
    UniqueFd file(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    status = group.worker(0).Adopt(std::move(file),
                                   std::make_unique<Unopenable>(callbacks));
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(testing::kTestDeadline));
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(callbacks.load(), 0);
  EXPECT_EQ(group.total_stats().active, 0u);
  EXPECT_EQ(group.total_stats().shed, 1u);
  EXPECT_EQ(group.open_connections().load(), 0);
  group.Stop();
}

// Output that OnDrained queues above the high-water mark gets its own
// OnHighWater: the marks are checked again after every water-mark callback
// (before, OnDrained's output was flushed and the marks were not looked at
// until the next event, which a client that stopped reading never sends).
class Refill final : public Handler {
 public:
  explicit Refill(std::atomic<int>& high_water) : high_water_(high_water) {}
  void OnOpen(Connection& conn) override { conn.Send(Bulk()); }
  void OnData(Connection&, Buffer& input) override { input.ConsumeAll(); }
  void OnHighWater(Connection&) override { ++high_water_; }
  void OnDrained(Connection& conn) override {
    if (!refilled_) conn.Send(Bulk());
    refilled_ = true;
  }

 private:
  std::atomic<int>& high_water_;
  bool refilled_ = false;
};

TEST(WaterMarks, OutputQueuedInOnDrainedAboveTheMarkGetsOnHighWater) {
  std::atomic<int> high_water{0};
  ServerOptions options = LoopbackServerOptions(1);
  options.connection.high_water_mark = 64 * 1024;
  options.connection.low_water_mark = 16 * 1024;
  Server server(options, MakeProtocolFactory([&](Connection&) {
                  return std::make_unique<Refill>(high_water);
                }));
  ASSERT_TRUE(server.Start().ok());
  auto client = TestClient::Connect(server.port());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(Eventually([&] { return high_water.load() == 1; }));
  // Read the first batch whole, then stop reading: the second batch, queued
  // by OnDrained, stays above the mark.
  auto first = client->ReceiveExactly(Bulk().size());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(Eventually([&] { return high_water.load() == 2; }))
      << "OnHighWater count: " << high_water.load();
}

}  // namespace
}  // namespace eddy
