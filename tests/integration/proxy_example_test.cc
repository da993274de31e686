// The TCP proxy example: bytes both ways through eddy-proxy's factory to an
// echo server, with a slow reader held by backpressure on both hops, and a
// half-close passed through.
#include <sys/socket.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "examples/proxy/tcp_proxy.h"
#include "gtest/gtest.h"
#include "eddy/net/echo.h"
#include "eddy/net/server.h"
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

}  // namespace
}  // namespace eddy
