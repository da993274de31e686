// What happens between accept and the handler, at the edges of the
// lifecycle: connections still in the listener's queue when Stop() runs, a
// PROXY header or a TLS handshake still awaited when a drain begins, and
// the whole read path (raw bytes, PROXY header, TLS, handler) on a Unix
// socket.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eddy/http/http_protocol.h"
#include "eddy/http/router.h"
#include "eddy/net/connection.h"
#include "eddy/net/protocol.h"
#include "eddy/net/proxy_protocol.h"
#include "eddy/net/server.h"
#include "eddy/net/tls_context.h"
#include "gtest/gtest.h"
#include "tests/support/certificates_fixture.h"
#include "tests/support/descriptor_hog.h"
#include "tests/support/server_testing.h"
#include "tests/support/test_certificates.h"
#include "tests/support/test_client.h"
#include "tests/support/tls_test_client.h"

namespace eddy {
namespace {

using ::eddy::testing::ConnectOpened;
using ::eddy::testing::DescriptorHog;
using ::eddy::testing::Eventually;
using ::eddy::testing::kTestDeadline;
using ::eddy::testing::LoopbackServerOptions;
using ::eddy::testing::TestClient;
using ::eddy::testing::TlsTestClient;

// Everything `fd` receives until the peer closes (or resets, or the
// deadline passes); `reset` says whether it ended in an error.
std::string ReceiveUntilClose(int fd, bool& reset) {
  const absl::Time deadline = absl::Now() + kTestDeadline;
  std::string received;
  reset = false;
  while (absl::Now() < deadline) {
    pollfd readable{fd, POLLIN, 0};
    const int ready = ::poll(&readable, 1, 100);
    if (ready <= 0) continue;
    char buffer[4096];
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n > 0) {
      received.append(buffer, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    reset = n < 0;
    return received;
  }
  reset = true;
  return received;
}

// Connections that the kernel completed but the acceptor never took (it
// cannot: the process has no descriptor left, and it backs off) are taken
// by Stop() and served before it returns, not reset by closing the
// listener.
TEST(AcceptPath, StopServesTheConnectionsStillQueuedOnTheListener) {
  constexpr int kQueued = 12;
  // Exponential back-off after this many failed accepts: the next retry is
  // about half a second away, so Stop() finds the clients still queued.
  constexpr uint64_t kFailedAccepts = 7;
  auto router = std::make_shared<http::Router>();
  router->Handle("GET", "/", [](const http::Request&, http::Response& r) {
    r.set_body("served");
  });
  Server server(LoopbackServerOptions(1), std::make_unique<http::HttpProtocol>(
                                              router, http::HttpOptions()));
  ASSERT_TRUE(server.Start().ok());

  // Opened now: connecting them later needs no descriptor.
  std::vector<int> clients;
  for (int i = 0; i < kQueued + 1; ++i) {
    clients.push_back(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_GE(clients.back(), 0);
  }
  const int trigger = clients.back();
  clients.pop_back();
  uint64_t dropped_before = 0;
  {
    DescriptorHog hog(256);
    ASSERT_GT(hog.held(), 0u);
    // The first one starts the exhaustion; the acceptor closes it on its
    // reserve descriptor and then finds the queue empty at each retry.
    ASSERT_TRUE(ConnectOpened(trigger, server.port()));
    ASSERT_TRUE(Eventually([&] {
      return server.acceptor_stats().fd_exhausted >= kFailedAccepts;
    }));
    dropped_before = server.acceptor_stats().dropped_no_fd;
    for (int fd : clients) {
      ASSERT_TRUE(ConnectOpened(fd, server.port()));
      const std::string request = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
      ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
                static_cast<ssize_t>(request.size()));
    }
  }
  server.Stop();
  // A retry that came while the descriptors were held closed one of them on
  // the reserve descriptor: counted, and excused below (the exhaustion's
  // doing, not Stop's). Read after Stop, since a retry may come at any
  // moment until the descriptors are back.
  const uint64_t dropped_while_queued =
      server.acceptor_stats().dropped_no_fd - dropped_before;

  int answered = 0;
  for (int fd : clients) {
    bool reset = false;
    const std::string received = ReceiveUntilClose(fd, reset);
    ::close(fd);
    if (received.empty()) continue;  // at most the excused ones
    EXPECT_FALSE(reset) << received;
    EXPECT_TRUE(received.starts_with("HTTP/1.1 200 OK\r\n")) << received;
    EXPECT_TRUE(received.ends_with("\r\n\r\nserved")) << received;
    ++answered;
  }
  ::close(trigger);
  EXPECT_EQ(answered, kQueued - static_cast<int>(dropped_while_queued));
}

// Says what the connection knows when OnOpen runs, then "drain" when
// OnDrain runs; echoes otherwise.
class OpenDrainReporter final : public Handler {
 public:
  void OnOpen(Connection& conn) override {
    conn.Send(absl::StrCat(
        "open peer=", conn.peer().ToString(),
        " transport=", conn.transport_peer().is_unix() ? "unix" : "ip",
        " tls=", conn.tls() != nullptr ? "on" : "off", "\n"));
  }
  void OnDrain(Connection& conn) override { conn.Send("drain\n"); }
  void OnData(Connection& conn, Buffer& input) override {
    conn.Send(input.view());
    input.ConsumeAll();
  }
};

std::unique_ptr<ProtocolFactory> OpenDrainReporterFactory() {
  return MakeProtocolFactory(
      [](Connection&) { return std::make_unique<OpenDrainReporter>(); });
}

std::string LocalAddressOf(int fd) {
  absl::StatusOr<SocketAddress> local = SocketAddress::LocalOf(fd);
  return local.ok() ? local->ToString() : "?";
}

const std::string kV1Header = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n";

// A v2 header from 192.0.2.1:56324 to 198.51.100.2:443, no TLVs.
std::string V2Header() {
  return std::string(
      "\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c"
      "\xc0\x00\x02\x01\xc6\x33\x64\x02\xdc\x04\x01\xbb",
      28);
}

// Whether the worker took `count` connections from the acceptor (its
// handler may still wait for a PROXY header or a TLS handshake).
bool OpenedOnTheWorker(const Server& server, uint64_t count) {
  return Eventually([&] { return server.total_stats().accepted >= count; });
}

// A connection whose worker has seen the drain: its "drain" line came.
void ExpectDrainReached(TestClient& probe) {
  absl::StatusOr<std::string> drained = probe.ReceiveUntil("drain\n");
  ASSERT_TRUE(drained.ok()) << drained.status();
}

TEST(AcceptPath, DrainWhileThePROXYHeaderIsAwaitedCallsOnDrainAfterOnOpen) {
  ServerOptions options = LoopbackServerOptions(1);
  options.proxy_protocol = ProxyProtocolMode::kRequired;
  Server server(options, OpenDrainReporterFactory());
  ASSERT_TRUE(server.Start().ok());
  auto probe = TestClient::Connect(server.port());
  ASSERT_TRUE(probe.ok()) << probe.status();
  ASSERT_TRUE(probe->SendAll(kV1Header).ok());
  ASSERT_TRUE(probe->ReceiveUntil("\n").ok());
  auto waiting = TestClient::Connect(server.port());
  ASSERT_TRUE(waiting.ok()) << waiting.status();
  // The waiting connection is opened on the worker before the drain.
  ASSERT_TRUE(OpenedOnTheWorker(server, 2));

  server.Drain();
  ExpectDrainReached(*probe);
  ASSERT_TRUE(waiting->SendAll(kV1Header + "after\n").ok());
  const std::string expected =
      "open peer=192.0.2.1:56324 transport=ip tls=off\ndrain\nafter\n";
  absl::StatusOr<std::string> received =
      waiting->ReceiveExactly(expected.size());
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(*received, expected);
  server.Stop();
}

class TlsAcceptPathTest : public eddy::testing::WithTestCertificates {
 protected:
  absl::StatusOr<std::unique_ptr<TlsTestClient>> Handshake(TestClient socket) {
    TlsTestClient::Options options;
    options.ca_file = certs_.ca;
    return TlsTestClient::Handshake(std::move(socket), options);
  }
};

TEST_F(TlsAcceptPathTest, HandshakeAcrossTheDrainGetsOnDrainAfterOnOpen) {
  ServerOptions options = LoopbackServerOptions(1);
  options.tls = ServerTls();
  Server server(options, OpenDrainReporterFactory());
  ASSERT_TRUE(server.Start().ok());
  auto probe_socket = TestClient::Connect(server.port());
  ASSERT_TRUE(probe_socket.ok()) << probe_socket.status();
  auto probe = Handshake(*std::move(probe_socket));
  ASSERT_TRUE(probe.ok()) << probe.status();
  const auto expect_open = [](TlsTestClient& client, absl::string_view then) {
    const std::string expected =
        absl::StrCat("open peer=", LocalAddressOf(client.socket().fd()),
                     " transport=ip tls=on\n", then);
    absl::StatusOr<std::string> received = client.ReadExactly(expected.size());
    ASSERT_TRUE(received.ok()) << received.status();
    EXPECT_EQ(*received, expected);
  };
  expect_open(**probe, "");
  // Opened on the worker before the drain, its hello not sent yet.
  auto pending = TestClient::Connect(server.port());
  ASSERT_TRUE(pending.ok()) << pending.status();
  ASSERT_TRUE(OpenedOnTheWorker(server, 2));

  server.Drain();
  absl::StatusOr<std::string> drained = (*probe)->ReadExactly(6);
  ASSERT_TRUE(drained.ok()) << drained.status();
  EXPECT_EQ(*drained, "drain\n");

  auto across = Handshake(*std::move(pending));
  ASSERT_TRUE(across.ok()) << across.status();
  expect_open(**across, "drain\n");
  // Accepted while draining: the same, right after its handshake.
  auto late_socket = TestClient::Connect(server.port());
  ASSERT_TRUE(late_socket.ok()) << late_socket.status();
  auto late = Handshake(*std::move(late_socket));
  ASSERT_TRUE(late.ok()) << late.status();
  expect_open(**late, "drain\n");
  absl::StatusOr<std::string> echoed = (*late)->RoundTrip("still served\n");
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(*echoed, "still served\n");
  server.Stop();
}

// The read path in full: raw bytes from a Unix socket, a PROXY v2 header
// (a Unix peer is trusted: the file's permissions vet it), then TLS, then
// the handler, which sees the header's client and the TLS session.
TEST_F(TlsAcceptPathTest, UnixSocketWithPROXYHeaderThenTlsNamesTheClient) {
  ServerOptions options;
  options.bind_address = absl::StrCat("unix:@eddy-accept-path-", ::getpid());
  options.workers = 1;
  options.proxy_protocol = ProxyProtocolMode::kOptional;
  options.tls = ServerTls();
  Server server(options, OpenDrainReporterFactory());
  ASSERT_TRUE(server.Start().ok());

  auto socket = TestClient::Connect(0, kTestDeadline, options.bind_address);
  ASSERT_TRUE(socket.ok()) << socket.status();
  ASSERT_TRUE(socket->SendAll(V2Header()).ok());
  auto client = Handshake(*std::move(socket));
  ASSERT_TRUE(client.ok()) << client.status();
  const std::string expected =
      "open peer=192.0.2.1:56324 transport=unix tls=on\n";
  absl::StatusOr<std::string> received =
      (*client)->ReadExactly(expected.size());
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(*received, expected);
  absl::StatusOr<std::string> echoed = (*client)->RoundTrip("over tls\n");
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(*echoed, "over tls\n");
  EXPECT_EQ(server.total_stats().proxy_rejected, 0u);
  server.Stop();
}

}  // namespace
}  // namespace eddy
