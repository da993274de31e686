// The PROXY protocol step of accepted connections, through real sockets:
// headers split at every byte reach OnOpen as the peer, trust and absence
// close the connection before the handler sees a byte, the HTTP access log
// names the client, and Connect sends a v2 header that a server reads.
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eddy/http/access_log.h"
#include "eddy/http/http_protocol.h"
#include "eddy/http/router.h"
#include "eddy/net/connector.h"
#include "eddy/net/proxy_protocol.h"
#include "eddy/net/server.h"
#include "examples/proxy/tcp_proxy.h"
#include "gtest/gtest.h"
#include "tests/support/http_test_client.h"
#include "tests/support/server_testing.h"
#include "tests/support/test_client.h"

namespace eddy {
namespace {

using ::eddy::testing::Eventually;
using ::eddy::testing::HttpTestReader;
using ::eddy::testing::LoopbackServerOptions;
using ::eddy::testing::TestClient;

const std::string kV1Header = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n";

// A v2 header from 192.0.2.1:56324 to 198.51.100.2:443 with ALPN "h2" and
// authority "example.com".
std::string V2Header() {
  const std::string body(
      "\xc0\x00\x02\x01\xc6\x33\x64\x02\xdc\x04\x01\xbb"
      "\x01\x00\x02h2"
      "\x02\x00\x0b"
      "example.com",
      12 + 5 + 14);
  return absl::StrCat(std::string("\r\n\r\n\0\r\nQUIT\n\x21\x11", 14),
                      std::string{0, static_cast<char>(body.size())}, body);
}

// Its first line says what the connection knows when OnOpen runs; then it
// echoes.
class PeerReporter final : public Handler {
 public:
  void OnOpen(Connection& conn) override {
    const ProxyInfo* info = conn.proxy_info();
    conn.Send(absl::StrCat(
        "peer=", conn.peer().ToString(),
        " transport=", conn.transport_peer().ToString(),
        " alpn=", info != nullptr ? info->alpn : "-",
        " authority=", info != nullptr ? info->authority : "-", "\n"));
  }
  void OnData(Connection& conn, Buffer& input) override {
    conn.Send(std::move(input));
  }
};

class PeerReporterFactory final : public ProtocolFactory {
 public:
  std::unique_ptr<Handler> NewHandler(Connection&) override {
    return std::make_unique<PeerReporter>();
  }
};

ServerOptions ProxyServerOptions(ProxyProtocolMode mode,
                                 absl::string_view trusted = "") {
  ServerOptions options = LoopbackServerOptions(2);
  options.proxy_protocol = mode;
  options.proxy_trusted = ParseCidrList(trusted).value();
  return options;
}

std::string LocalAddressOf(const TestClient& client) {
  absl::StatusOr<SocketAddress> local = SocketAddress::LocalOf(client.fd());
  return local.ok() ? local->ToString() : "?";
}

// What a PeerReporter answered: its first line, then the echo.
struct Answer {
  std::string line;
  std::string echoed;
};

// Sends `bytes` in two writes split at `split` (a pause between them makes
// the server see two reads, mostly; correctness does not depend on it),
// then reads the first line and `echo_bytes` more.
absl::StatusOr<Answer> SendSplit(TestClient& client, absl::string_view bytes,
                                 size_t split, size_t echo_bytes) {
  if (absl::Status s = client.SendAll(bytes.substr(0, split)); !s.ok()) {
    return s;
  }
  absl::SleepFor(absl::Milliseconds(1));
  if (absl::Status s = client.SendAll(bytes.substr(split)); !s.ok()) return s;
  absl::StatusOr<std::string> received = client.ReceiveUntil("\n");
  if (!received.ok()) return received.status();
  const size_t newline = received->find('\n');
  Answer answer{received->substr(0, newline + 1),
                received->substr(newline + 1)};
  if (answer.echoed.size() < echo_bytes) {
    absl::StatusOr<std::string> more =
        client.ReceiveExactly(echo_bytes - answer.echoed.size());
    if (!more.ok()) return more.status();
    answer.echoed += *more;
  }
  return answer;
}

void ExpectEverySplitReachesOnOpen(const std::string& header,
                                   absl::string_view expected_tlvs) {
  Server server(ProxyServerOptions(ProxyProtocolMode::kRequired),
                std::make_unique<PeerReporterFactory>());
  ASSERT_TRUE(server.Start().ok());
  const std::string payload = "ping";
  const std::string bytes = header + payload;
  for (size_t split = 0; split <= header.size(); ++split) {
    auto client = TestClient::Connect(server.port());
    ASSERT_TRUE(client.ok()) << client.status();
    auto answer = SendSplit(*client, bytes, split, payload.size());
    ASSERT_TRUE(answer.ok()) << "split at " << split << ": " << answer.status();
    EXPECT_EQ(answer->line,
              absl::StrCat("peer=192.0.2.1:56324 transport=",
                           LocalAddressOf(*client), " ", expected_tlvs, "\n"))
        << "split at " << split;
    EXPECT_EQ(answer->echoed, payload) << "split at " << split;
  }
  EXPECT_EQ(server.total_stats().proxy_rejected, 0u);
}

TEST(ProxyHeader, V1SplitAtEveryByteNamesTheClientBeforeOnOpen) {
  ExpectEverySplitReachesOnOpen(kV1Header, "alpn= authority=");
}

TEST(ProxyHeader, V2SplitAtEveryByteNamesTheClientAndItsTlvs) {
  ExpectEverySplitReachesOnOpen(V2Header(), "alpn=h2 authority=example.com");
}

// The connection is closed without a byte from the handler, and counted.
void ExpectRejected(Server& server, absl::string_view bytes) {
  const uint64_t before = server.total_stats().proxy_rejected;
  auto client = TestClient::Connect(server.port());
  if (client.ok()) {
    if (!bytes.empty()) {
      // The server may close before all is sent; the check is what came
      // back.
      (void)client->SendAll(bytes);
    }
    auto received = client->ReceiveUntilClose();
    // A reset shows as an error: nothing was received either way.
    if (received.ok()) {
      EXPECT_EQ(*received, "");
    }
  } else {
    // A connection refused at accept can be reset before this side saw its
    // connect complete (a busy machine polls late): refused all the same.
    EXPECT_TRUE(absl::StrContains(client.status().message(), "reset"))
        << client.status();
  }
  EXPECT_TRUE(Eventually(
      [&] { return server.total_stats().proxy_rejected == before + 1; }));
}

TEST(ProxyHeader, HeaderFromAnUntrustedSourceIsClosed) {
  Server required(
      ProxyServerOptions(ProxyProtocolMode::kRequired, "10.0.0.0/8,::1"),
      std::make_unique<PeerReporterFactory>());
  ASSERT_TRUE(required.Start().ok());
  ExpectRejected(required, kV1Header + "ping");
  ExpectRejected(required, "");  // required: closed before it sends a byte

  Server optional(
      ProxyServerOptions(ProxyProtocolMode::kOptional, "10.0.0.0/8"),
      std::make_unique<PeerReporterFactory>());
  ASSERT_TRUE(optional.Start().ok());
  ExpectRejected(optional, V2Header() + "ping");
  // Without a header the untrusted source is served, as itself.
  auto client = TestClient::Connect(optional.port());
  ASSERT_TRUE(client.ok()) << client.status();
  auto answer = SendSplit(*client, "ping", 2, 4);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->line, absl::StrCat("peer=", LocalAddressOf(*client),
                                       " transport=", LocalAddressOf(*client),
                                       " alpn=- authority=-\n"));
  EXPECT_EQ(answer->echoed, "ping");
}

TEST(ProxyHeader, RequiredHeaderMissingOrMalformedIsClosed) {
  Server server(ProxyServerOptions(ProxyProtocolMode::kRequired, "127.0.0.1"),
                std::make_unique<PeerReporterFactory>());
  ASSERT_TRUE(server.Start().ok());
  ExpectRejected(server, "GET / HTTP/1.1\r\n\r\n");
  ExpectRejected(server, "PROXY TCP4 192.0.2.1 nonsense\r\n");
  ExpectRejected(server, "PROXY TCP4 " + std::string(200, '1'));
  std::string oversized = V2Header();
  oversized[14] = '\x7f';  // a length far above the 4 KiB bound
  ExpectRejected(server, oversized);
}

TEST(ProxyHeader, OptionalWithoutHeaderServesTheTransportPeer) {
  Server server(ProxyServerOptions(ProxyProtocolMode::kOptional, "127.0.0.1"),
                std::make_unique<PeerReporterFactory>());
  ASSERT_TRUE(server.Start().ok());
  auto client = TestClient::Connect(server.port());
  ASSERT_TRUE(client.ok()) << client.status();
  auto answer = SendSplit(*client, "hello", 1, 5);
  ASSERT_TRUE(answer.ok()) << answer.status();
  const std::string self = LocalAddressOf(*client);
  EXPECT_EQ(answer->line, absl::StrCat("peer=", self, " transport=", self,
                                       " alpn=- authority=-\n"));
  EXPECT_EQ(answer->echoed, "hello");
  // With a header, the same server names the client from it.
  auto proxied = TestClient::Connect(server.port());
  ASSERT_TRUE(proxied.ok()) << proxied.status();
  auto named = SendSplit(*proxied, kV1Header + "x", 3, 1);
  ASSERT_TRUE(named.ok()) << named.status();
  EXPECT_TRUE(absl::StartsWith(named->line, "peer=192.0.2.1:56324 "))
      << named->line;
  EXPECT_EQ(named->echoed, "x");
}

TEST(ProxyHeader, SilentConnectionIsClosedAtTheHeaderDeadline) {
  ServerOptions options = ProxyServerOptions(ProxyProtocolMode::kRequired);
  options.proxy_header_timeout = absl::Milliseconds(100);
  Server server(options, std::make_unique<PeerReporterFactory>());
  ASSERT_TRUE(server.Start().ok());
  ExpectRejected(server, "");
  // A header that stops halfway is closed too.
  ExpectRejected(server, kV1Header.substr(0, 20));
}

TEST(ProxyHeader, AccessLogShowsTheClientFromTheHeader) {
  const std::string log_path = absl::StrCat(
      ::testing::TempDir(), "/eddy-proxy-access-", ::getpid(), ".log");
  std::filesystem::remove(log_path);
  auto log = http::AccessLog::Open(log_path);
  ASSERT_TRUE(log.ok()) << log.status();
  auto router = std::make_shared<http::Router>();
  router->Handle("GET", "/", [](const http::Request&, http::Response& r) {
    r.set_body("hi");
  });
  http::HttpOptions http_options;
  http_options.access_log = *log;
  Server server(ProxyServerOptions(ProxyProtocolMode::kRequired),
                std::make_unique<http::HttpProtocol>(router, http_options));
  ASSERT_TRUE(server.Start().ok());
  auto client = TestClient::Connect(server.port());
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(
      client->SendAll(V2Header() + "GET / HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  HttpTestReader reader(*client);
  auto response = reader.Next();
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  server.Stop();
  (*log)->Flush();
  std::ifstream file(log_path);
  std::stringstream content;
  content << file.rdbuf();
  EXPECT_TRUE(absl::StartsWith(content.str(), "192.0.2.1 - - ["))
      << content.str();
  std::filesystem::remove(log_path);
}

TEST(ProxyHeader, ConnectSendsAV2HeaderThatTheServerReads) {
  Server upstream(ProxyServerOptions(ProxyProtocolMode::kRequired),
                  std::make_unique<PeerReporterFactory>());
  ASSERT_TRUE(upstream.Start().ok());
  // The TCP proxy example in front, telling the upstream who connected.
  ConnectOptions connect;
  Server proxy(LoopbackServerOptions(1),
               proxy::MakeTcpProxyFactory(upstream.local_address(), connect,
                                          /*send_proxy_v2=*/true));
  ASSERT_TRUE(proxy.Start().ok());
  auto client = TestClient::Connect(proxy.port());
  ASSERT_TRUE(client.ok()) << client.status();
  auto answer = SendSplit(*client, "through", 3, 7);
  ASSERT_TRUE(answer.ok()) << answer.status();
  // The upstream's peer is this client, not the proxy's own socket.
  const std::string prefix =
      absl::StrCat("peer=", LocalAddressOf(*client), " transport=127.0.0.1:");
  EXPECT_TRUE(absl::StartsWith(answer->line, prefix)) << answer->line;
  EXPECT_FALSE(absl::StrContains(
      answer->line, absl::StrCat("transport=", LocalAddressOf(*client))))
      << answer->line;
  EXPECT_EQ(answer->echoed, "through");
}

}  // namespace
}  // namespace eddy
