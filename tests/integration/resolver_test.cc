// Name resolution (net/resolver.h) and connecting to host:port with the
// addresses raced (net/connector.h, net/internal/happy_eyeballs.cc).
#include "eddy/net/resolver.h"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "eddy/net/connector.h"
#include "eddy/net/echo.h"
#include "eddy/net/internal/happy_eyeballs.h"
#include "eddy/net/server.h"
#include "eddy/net/worker_group.h"
#include "gtest/gtest.h"
#include "tests/support/notification.h"
#include "tests/support/server_testing.h"

namespace eddy {
namespace {

using ::eddy::testing::Eventually;
using ::eddy::testing::kTestDeadline;
using ::eddy::testing::LoopbackServerOptions;
using ::eddy::testing::Notification;

using Addresses = Resolver::Addresses;

SocketAddress Address(absl::string_view host, uint16_t port) {
  absl::StatusOr<SocketAddress> address = SocketAddress::Parse(host, port);
  EXPECT_TRUE(address.ok()) << address.status();
  return address.ok() ? *address : SocketAddress();
}

// A lookup that blocks until released, and counts and records its threads.
class GatedLookup {
 public:
  explicit GatedLookup(absl::StatusOr<Addresses> answer)
      : answer_(std::move(answer)) {}

  Resolver::Lookup AsLookup() {
    return [this](const std::string&, uint16_t) {
      std::unique_lock lock(mutex_);
      ++calls_;
      thread_ = std::this_thread::get_id();
      started_.notify_all();
      released_.wait(lock, [this] { return open_; });
      return answer_;
    };
  }
  void Open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    released_.notify_all();
  }
  bool WaitForCalls(int calls) {
    std::unique_lock lock(mutex_);
    return started_.wait_for(lock, absl::ToChronoMilliseconds(kTestDeadline),
                             [&] { return calls_ >= calls; });
  }
  int calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  std::thread::id thread() {
    std::lock_guard lock(mutex_);
    return thread_;
  }

 private:
  const absl::StatusOr<Addresses> answer_;
  std::mutex mutex_;
  std::condition_variable started_;
  std::condition_variable released_;
  int calls_ = 0;
  bool open_ = false;
  std::thread::id thread_;
};

// Runs `task` on `loop` and waits for it.
void RunOn(EventLoop& loop, absl::AnyInvocable<void()> task) {
  Notification done;
  loop.Post([&] {
    task();
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kTestDeadline));
}

TEST(SplitHostPort, AcceptsNamesNumbersAndBracketedV6) {
  std::string host;
  uint16_t port = 0;
  ASSERT_TRUE(SplitHostPort("localhost:8080", &host, &port).ok());
  EXPECT_EQ(host, "localhost");
  EXPECT_EQ(port, 8080);
  ASSERT_TRUE(SplitHostPort("[::1]:80", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 80);
  EXPECT_FALSE(SplitHostPort("::1:80", &host, &port).ok());
  EXPECT_FALSE(SplitHostPort("host", &host, &port).ok());
  EXPECT_FALSE(SplitHostPort("host:70000", &host, &port).ok());
  EXPECT_FALSE(SplitHostPort(":80", &host, &port).ok());
}

TEST(InterleaveFamilies, AlternatesFamiliesStartingWithTheFirst) {
  const std::vector<SocketAddress> ordered =
      InterleaveFamilies({Address("::1", 1), Address("::2", 1),
                          Address("127.0.0.1", 1), Address("127.0.0.2", 1)});
  ASSERT_EQ(ordered.size(), 4u);
  EXPECT_EQ(ordered[0].ToString(), "[::1]:1");
  EXPECT_EQ(ordered[1].ToString(), "127.0.0.1:1");
  EXPECT_EQ(ordered[2].ToString(), "[::2]:1");
  EXPECT_EQ(ordered[3].ToString(), "127.0.0.2:1");
}

class ResolverTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(group_.Start().ok()); }
  EventLoop& loop() { return group_.loop(0); }
  WorkerGroup group_{eddy::testing::ClientGroupOptions(1)};
};

TEST_F(ResolverTest, ANumericAddressIsAnsweredOnTheLoopWithoutALookup) {
  GatedLookup lookup(Addresses{});
  Resolver resolver(
      Resolver::Options{.threads = 1, .lookup = lookup.AsLookup()});
  Notification answered;
  absl::StatusOr<Addresses> result;
  bool on_loop = false;
  resolver.Resolve(loop(), "[::1]", 80, [&](absl::StatusOr<Addresses> r) {
    on_loop = loop().IsInLoopThread();
    result = std::move(r);
    answered.Notify();
  });
  ASSERT_TRUE(answered.WaitForNotificationWithTimeout(kTestDeadline));
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->size(), 1u);
  EXPECT_EQ((*result)[0].ToString(), "[::1]:80");
  EXPECT_TRUE(on_loop);
  EXPECT_EQ(resolver.lookups(), 0u);
  EXPECT_EQ(lookup.calls(), 0);
}

TEST_F(ResolverTest, ANameIsLookedUpOffTheLoopAndAnsweredOnIt) {
  GatedLookup lookup(Addresses{Address("127.0.0.1", 80)});
  Resolver resolver(
      Resolver::Options{.threads = 1, .lookup = lookup.AsLookup()});
  std::thread::id loop_thread;
  RunOn(loop(), [&] { loop_thread = std::this_thread::get_id(); });
  Notification answered;
  bool on_loop = false;
  resolver.Resolve(loop(), "service.test", 80,
                   [&](absl::StatusOr<Addresses> result) {
                     EXPECT_TRUE(result.ok()) << result.status();
                     on_loop = loop().IsInLoopThread();
                     answered.Notify();
                   });
  lookup.Open();
  ASSERT_TRUE(answered.WaitForNotificationWithTimeout(kTestDeadline));
  EXPECT_TRUE(on_loop);
  EXPECT_NE(lookup.thread(), loop_thread);
  EXPECT_EQ(resolver.lookups(), 1u);
}

TEST_F(ResolverTest, AnUnknownNameIsNotFound) {
  Resolver resolver;
  Notification answered;
  absl::Status status;
  resolver.Resolve(loop(), "no-such-host.invalid", 80,
                   [&](absl::StatusOr<Addresses> result) {
                     status = std::move(result).status();
                     answered.Notify();
                   });
  ASSERT_TRUE(answered.WaitForNotificationWithTimeout(kTestDeadline));
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
  EXPECT_NE(status.message().find("no-such-host.invalid"), std::string::npos);
}

TEST_F(ResolverTest, ACancelledLookupCallsNothing) {
  GatedLookup lookup(Addresses{Address("127.0.0.1", 80)});
  Resolver resolver(
      Resolver::Options{.threads = 1, .lookup = lookup.AsLookup()});
  std::atomic<bool> called{false};
  Resolver::Handle handle;
  RunOn(loop(), [&] {
    handle =
        resolver.Resolve(loop(), "service.test", 80,
                         [&](absl::StatusOr<Addresses>) { called = true; });
  });
  ASSERT_TRUE(lookup.WaitForCalls(1));
  RunOn(loop(), [&] { handle.Cancel(); });
  lookup.Open();
  // A second lookup on the one pool thread ends after the first one's
  // answer would have been posted; a round trip through the loop after it
  // would have run that answer.
  Notification second;
  resolver.Resolve(loop(), "other.test", 80,
                   [&](absl::StatusOr<Addresses>) { second.Notify(); });
  ASSERT_TRUE(second.WaitForNotificationWithTimeout(kTestDeadline));
  EXPECT_FALSE(called.load());
}

// A Connect to host:port from the group's one worker; returns its failure
// or OK once the echo handler opened.
class HostConnectTest : public ResolverTest {
 protected:
  absl::Status ConnectAndWait(absl::string_view host_port,
                              ConnectOptions options) {
    Notification done;
    absl::Status result = absl::OkStatus();
    Connect(
        group_.worker(0), host_port, options,
        [&]() -> std::unique_ptr<Handler> {
          done.Notify();
          return std::make_unique<EchoHandler>();
        },
        [&](absl::Status status) {
          result = status;
          done.Notify();
        });
    EXPECT_TRUE(done.WaitForNotificationWithTimeout(kTestDeadline));
    group_.Stop();  // joins: `result` is safe to read
    return result;
  }
};

TEST_F(HostConnectTest, ConnectsToLocalhostByName) {
  Server echo(LoopbackServerOptions(1), MakeEchoFactory());
  ASSERT_TRUE(echo.Start().ok());
  const absl::Status status = ConnectAndWait(
      absl::StrCat("localhost:", echo.local_address().port()), {});
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_TRUE(Eventually([&] { return echo.total_stats().accepted == 1; }));
}

TEST_F(HostConnectTest, ConnectsToANumericAddress) {
  Server echo(LoopbackServerOptions(1), MakeEchoFactory());
  ASSERT_TRUE(echo.Start().ok());
  const absl::Status status = ConnectAndWait(
      absl::StrCat("127.0.0.1:", echo.local_address().port()), {});
  EXPECT_TRUE(status.ok()) << status;
}

TEST_F(HostConnectTest, TheSecondAddressWinsWhenTheFirstRefuses) {
  Server echo(LoopbackServerOptions(1), MakeEchoFactory());
  ASSERT_TRUE(echo.Start().ok());
  const uint16_t port = echo.local_address().port();
  // Nothing listens on ::1 at that port (the server is on 127.0.0.1 only).
  GatedLookup lookup(
      Addresses{Address("::1", port), Address("127.0.0.1", port)});
  lookup.Open();
  Resolver resolver(
      Resolver::Options{.threads = 1, .lookup = lookup.AsLookup()});
  ConnectOptions options;
  options.resolver = &resolver;
  const absl::Status status =
      ConnectAndWait(absl::StrCat("dual-stack.test:", port), options);
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_TRUE(Eventually([&] { return echo.total_stats().accepted == 1; }));
}

TEST_F(HostConnectTest, AnUnresolvableNameFailsWithNotFound) {
  ConnectOptions options;
  options.timeout = kTestDeadline;
  const absl::Status status =
      ConnectAndWait("no-such-host.invalid:80", options);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
}

TEST_F(HostConnectTest, EachRetryResolvesAgain) {
  GatedLookup lookup(absl::NotFoundError("not here"));
  lookup.Open();
  Resolver resolver(
      Resolver::Options{.threads = 1, .lookup = lookup.AsLookup()});
  ConnectOptions options;
  options.resolver = &resolver;
  options.max_attempts = 3;
  options.initial_backoff = absl::Milliseconds(1);
  const absl::Status status = ConnectAndWait("flaky.test:80", options);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
  EXPECT_EQ(lookup.calls(), 3);
}

TEST_F(HostConnectTest, ALookupSlowerThanTheTimeoutIsADeadlineExceeded) {
  GatedLookup lookup(Addresses{Address("127.0.0.1", 1)});
  Resolver resolver(
      Resolver::Options{.threads = 1, .lookup = lookup.AsLookup()});
  ConnectOptions options;
  options.resolver = &resolver;
  options.timeout = absl::Milliseconds(50);
  const absl::Status status = ConnectAndWait("slow.test:80", options);
  lookup.Open();  // lets the pool thread finish before the resolver goes
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
}

TEST_F(HostConnectTest, TheResolveDeadlineEndsASlowLookupFirst) {
  GatedLookup lookup(Addresses{Address("127.0.0.1", 1)});
  Resolver resolver(
      Resolver::Options{.threads = 1, .lookup = lookup.AsLookup()});
  ConnectOptions options;
  options.resolver = &resolver;
  options.timeout = kTestDeadline;
  options.resolve_timeout = absl::Milliseconds(50);
  const absl::Status status = ConnectAndWait("slow.test:80", options);
  lookup.Open();
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  EXPECT_NE(status.message().find("resolving slow.test"), std::string::npos)
      << status;
}

TEST_F(HostConnectTest, AMalformedTargetIsAnInvalidArgument) {
  const absl::Status status = ConnectAndWait("no-port-here", {});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
}

}  // namespace
}  // namespace eddy
