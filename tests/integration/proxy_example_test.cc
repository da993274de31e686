// The TCP proxy example: bytes both ways through eddy-proxy's factory to an
// echo server, with a slow reader held by backpressure on both hops, a
// half-close passed through, and a reset on either side passed on at once.
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eddy/net/echo.h"
#include "eddy/net/internal/socket.h"
#include "eddy/net/server.h"
#include "examples/proxy/tcp_proxy.h"
#include "gtest/gtest.h"
#include "tests/support/server_testing.h"
#include "tests/support/test_client.h"

namespace eddy {
namespace {

using ::eddy::testing::EchoRoundTrip;
using ::eddy::testing::kTestDeadline;
using ::eddy::testing::LoopbackServerOptions;
using ::eddy::testing::RandomBytes;
using ::eddy::testing::TestClient;

class ProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(echo_.Start().ok());
    ServerOptions options = LoopbackServerOptions(2);
    options.connection.high_water_mark = 128 * 1024;
    options.connection.low_water_mark = 32 * 1024;
    proxy_ = std::make_unique<Server>(
        options, proxy::MakeTcpProxyFactory(echo_.local_address(), {}));
    ASSERT_TRUE(proxy_->Start().ok());
  }
  Server echo_{LoopbackServerOptions(1), MakeEchoFactory()};
  std::unique_ptr<Server> proxy_;
};

TEST(ProxyByName, ForwardsToAnUpstreamGivenAsHostName) {
  Server echo(LoopbackServerOptions(1), MakeEchoFactory());
  ASSERT_TRUE(echo.Start().ok());
  Server proxy(
      LoopbackServerOptions(1),
      proxy::MakeTcpProxyFactory(
          absl::StrCat("localhost:", echo.local_address().port()), {}));
  ASSERT_TRUE(proxy.Start().ok());
  auto client = TestClient::Connect(proxy.port());
  ASSERT_TRUE(client.ok()) << client.status();
  auto echoed = EchoRoundTrip(*client, "through a name", kTestDeadline);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(*echoed, "through a name");
}

TEST_F(ProxyTest, ManyClientsEchoThroughTheProxyByteForByte) {
  std::vector<std::thread> threads;
  std::atomic<int> matched{0};
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      const std::string data =
          RandomBytes(512 * 1024, static_cast<uint32_t>(i));
      auto client = TestClient::Connect(proxy_->port());
      if (!client.ok()) return;
      auto echoed = EchoRoundTrip(*client, data, kTestDeadline);
      if (echoed.ok() && *echoed == data) ++matched;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(matched.load(), 16);
}

TEST_F(ProxyTest, HalfCloseIsPassedThroughAndEverythingArrives) {
  auto client = TestClient::Connect(proxy_->port());
  ASSERT_TRUE(client.ok());
  const std::string data = RandomBytes(100000, 9);
  ASSERT_TRUE(client->SendAll(data).ok());
  client->ShutdownWrite();
  auto back = client->ReceiveUntilClose(kTestDeadline);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == data) << back->size() << " of " << data.size();
}

TEST_F(ProxyTest, UnreachableUpstreamClosesTheClient) {
  Server dead_end(LoopbackServerOptions(1),
                  proxy::MakeTcpProxyFactory(
                      *SocketAddress::Parse("127.0.0.1", 1), ConnectOptions{}));
  ASSERT_TRUE(dead_end.Start().ok());
  auto client = TestClient::Connect(dead_end.port());
  ASSERT_TRUE(client.ok());
  EXPECT_TRUE(client->WaitForClose(kTestDeadline));
}

// Well below the proxy's default close linger (30 s) and write timeout
// (60 s), which would otherwise end a stuck session; generous for a busy
// machine.
constexpr absl::Duration kPromptly = absl::Seconds(10);

// Sends until the peer stops taking bytes (nothing moves for a second) or
// a bound is reached; returns how many bytes were sent.
size_t SendUntilStalled(int fd) {
  constexpr size_t kMaxBytes = 64 * 1024 * 1024;
  const std::string chunk = RandomBytes(64 * 1024, 7);
  size_t sent = 0;
  while (sent < kMaxBytes) {
    const ssize_t n =
        ::send(fd, chunk.data(), chunk.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) break;
    pollfd pfd{fd, POLLOUT, 0};
    if (::poll(&pfd, 1, 1000) <= 0) break;
  }
  return sent;
}

// Whether `events` (or an error or hang-up) are reported on `fd` within
// `timeout`.
bool PollFor(int fd, short events, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    const int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left <= 0) return false;
    pollfd pfd{fd, events, 0};
    const int n = ::poll(&pfd, 1, static_cast<int>(left));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

// True once the connection on `fd` was reset (or fully closed) by its peer
// within `timeout`. A FIN alone does not count: the test's end of the
// connection is still open, so only an RST ends it.
bool WaitForReset(int fd, absl::Duration timeout) {
  // With no events asked for, poll reports only POLLERR and POLLHUP.
  return PollFor(fd, 0, timeout);
}

// The proxy between a test client and an upstream the test drives by hand
// (a plain socket that reads nothing unless told), with the proxy's write
// and linger timeouts left at their long defaults.
class ProxyHangupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto any = SocketAddress::Parse("127.0.0.1", 0);
    ASSERT_TRUE(any.ok());
    auto listener = Listen(*any, ListenOptions{});
    ASSERT_TRUE(listener.ok()) << listener.status();
    listener_ = std::move(*listener);
    auto upstream = SocketAddress::LocalOf(listener_.get());
    ASSERT_TRUE(upstream.ok());
    ServerOptions options = LoopbackServerOptions(1);
    options.connection.high_water_mark = 128 * 1024;
    options.connection.low_water_mark = 32 * 1024;
    proxy_ = std::make_unique<Server>(
        options, proxy::MakeTcpProxyFactory(*upstream, {}));
    ASSERT_TRUE(proxy_->Start().ok());
  }

  // Connects a client to the proxy and accepts the proxy's connection to
  // the upstream.
  void ConnectThrough() {
    auto client = TestClient::Connect(proxy_->port());
    ASSERT_TRUE(client.ok()) << client.status();
    client_.emplace(std::move(*client));
    ASSERT_TRUE(PollFor(listener_.get(), POLLIN, kTestDeadline));
    upstream_.reset(
        ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK));
    ASSERT_TRUE(upstream_.valid());
  }

  UniqueFd listener_;
  std::unique_ptr<Server> proxy_;
  std::optional<TestClient> client_;
  UniqueFd upstream_;
};

TEST_F(ProxyHangupTest, ClientThatLeavesWithoutReadingResetsTheUpstream) {
  ConnectThrough();
  // Neither end reads: the upstream's bytes fill the proxy's client side
  // and the client's fill its upstream side, so the proxy reads neither.
  EXPECT_GT(SendUntilStalled(upstream_.get()), 0u);
  EXPECT_GT(SendUntilStalled(client_->fd()), 0u);
  // Closing with unread bytes makes the client's kernel send an RST.
  ASSERT_TRUE(PollFor(client_->fd(), POLLIN, kTestDeadline));
  client_->Close();
  EXPECT_TRUE(WaitForReset(upstream_.get(), kPromptly));
}

TEST_F(ProxyHangupTest,
       ClientResetWhileThrottledWithNothingToReadResetsUpstream) {
  ConnectThrough();
  // The upstream reads nothing and sends nothing: the proxy stops reading
  // the client and has nothing to write to it, so only the reset's error
  // can tell it the client left.
  EXPECT_GT(SendUntilStalled(client_->fd()), 0u);
  ASSERT_TRUE(SetLingerZero(client_->fd()).ok());
  client_->Close();
  EXPECT_TRUE(WaitForReset(upstream_.get(), kPromptly));
}

TEST_F(ProxyHangupTest, UpstreamThatGoesAwayResetsAThrottledClient) {
  ConnectThrough();
  EXPECT_GT(SendUntilStalled(upstream_.get()), 0u);
  EXPECT_GT(SendUntilStalled(client_->fd()), 0u);
  ASSERT_TRUE(SetLingerZero(upstream_.get()).ok());
  upstream_.reset();
  EXPECT_TRUE(WaitForReset(client_->fd(), kPromptly));
}

}  // namespace
}  // namespace eddy
