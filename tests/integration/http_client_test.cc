// http::Client (http/client.h) against scripted servers on loopback: pooling,
// the per-host cap, pipelining, retries, deadlines, framing and streaming.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "eddy/http/client.h"
#include "eddy/http/http_protocol.h"
#include "eddy/http/router.h"
#include "eddy/http/url.h"
#include "eddy/net/connection.h"
#include "eddy/net/server.h"
#include "eddy/net/worker_group.h"
#include "gtest/gtest.h"
#include "tests/support/certificates_fixture.h"
#include "tests/support/notification.h"
#include "tests/support/server_testing.h"
#include "tests/support/test_certificates.h"

namespace eddy::http {
namespace {

using ::eddy::testing::kTestDeadline;
using ::eddy::testing::LoopbackServerOptions;
using ::eddy::testing::Notification;

// One request as the scripted server saw it.
struct SeenRequest {
  int index_on_connection;  // 0 for the first on its connection
  std::string method;
  std::string target;
};

// What the server does with each request: answer on `conn` (or not).
using Script = std::function<void(Connection& conn, const SeenRequest&,
                                  std::vector<SeenRequest>& on_connection)>;

// Splits requests (head, and a Content-Length body) off the input and runs
// the script for each, on the server's worker.
class ScriptedHandler final : public Handler {
 public:
  explicit ScriptedHandler(const Script& script) : script_(script) {}
  void OnData(Connection& conn, Buffer& input) override {
    while (true) {
      const absl::string_view data = input.view();
      const size_t end = data.find("\r\n\r\n");
      if (end == absl::string_view::npos) return;
      const absl::string_view head = data.substr(0, end);
      size_t body = 0;
      const size_t length = head.find("Content-Length: ");
      if (length != absl::string_view::npos) {
        const absl::string_view digits = head.substr(length + 16);
        (void)absl::SimpleAtoi(digits.substr(0, digits.find('\r')), &body);
      }
      if (data.size() < end + 4 + body) return;
      const size_t space = head.find(' ');
      SeenRequest request{
          static_cast<int>(seen_.size()), std::string(head.substr(0, space)),
          std::string(
              head.substr(space + 1, head.find(' ', space + 1) - space - 1))};
      input.Consume(end + 4 + body);
      seen_.push_back(request);
      script_(conn, request, seen_);
    }
  }

 private:
  const Script& script_;
  std::vector<SeenRequest> seen_;
};

class ScriptedServer {
 public:
  explicit ScriptedServer(Script script)
      : script_(std::move(script)),
        server_(LoopbackServerOptions(1),
                MakeProtocolFactory([this](Connection&) {
                  return std::make_unique<ScriptedHandler>(script_);
                })) {
    EXPECT_TRUE(server_.Start().ok());
  }
  std::string Url(absl::string_view path = "/") const {
    return absl::StrCat("http://127.0.0.1:", server_.port(), path);
  }
  uint64_t connections() const { return server_.total_stats().accepted; }
  uint16_t port() const { return server_.port(); }

 private:
  const Script script_;
  Server server_;
};

std::string Ok(absl::string_view body) {
  return absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ", body.size(),
                      "\r\n\r\n", body);
}

void AnswerOk(Connection& conn, const SeenRequest& request,
              std::vector<SeenRequest>&) {
  conn.Send(Ok(request.target));
}

// Sends `request` and waits for the answer.
absl::StatusOr<ClientResponse> Fetch(Client& client, ClientRequest request) {
  Notification done;
  absl::StatusOr<ClientResponse> result;
  client.Send(std::move(request), [&](absl::StatusOr<ClientResponse> r) {
    result = std::move(r);
    done.Notify();
  });
  if (!done.WaitForNotificationWithTimeout(kTestDeadline)) {
    return absl::DeadlineExceededError("the test gave up waiting");
  }
  return result;
}

absl::StatusOr<ClientResponse> FetchUrl(Client& client, std::string url,
                                        std::string method = "GET") {
  ClientRequest request;
  request.method = std::move(method);
  request.url = std::move(url);
  return Fetch(client, std::move(request));
}

// Sends `count` GETs at once and waits for all; returns the bodies of the
// successful ones, in order of sending.
std::vector<std::string> FetchConcurrently(Client& client,
                                           const ScriptedServer& server,
                                           int count) {
  std::mutex mutex;
  std::vector<std::string> bodies(count);
  std::atomic<int> answered{0};
  Notification all;
  for (int i = 0; i < count; ++i) {
    client.Get(server.Url(absl::StrCat("/", i)),
               [&, i](absl::StatusOr<ClientResponse> response) {
                 {
                   std::lock_guard lock(mutex);
                   if (response.ok()) {
                     bodies[i] = response->body;
                   } else {
                     bodies[i] = response.status().ToString();
                   }
                 }
                 if (++answered == count) all.Notify();
               });
  }
  EXPECT_TRUE(all.WaitForNotificationWithTimeout(kTestDeadline));
  std::lock_guard lock(mutex);
  return bodies;
}

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(group_.Start().ok()); }
  WorkerGroup group_{eddy::testing::ClientGroupOptions(1)};
};

TEST_F(HttpClientTest, SequentialRequestsReuseOneConnection) {
  ScriptedServer server(AnswerOk);
  Client client(group_);
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<ClientResponse> response =
        FetchUrl(client, server.Url(absl::StrCat("/r", i)));
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->reason, "OK");
    EXPECT_EQ(response->body, absl::StrCat("/r", i));
    EXPECT_EQ(response->FindHeader("content-length"),
              std::to_string(response->body.size()));
  }
  EXPECT_EQ(server.connections(), 1u);
  EXPECT_EQ(client.stats().connections_opened, 1u);
  EXPECT_EQ(client.stats().requests, 10u);
}

TEST_F(HttpClientTest, ConcurrentRequestsQueueAtThePerHostCap) {
  ScriptedServer server(AnswerOk);
  ClientOptions options;
  options.max_connections_per_host = 2;
  Client client(group_, options);
  const std::vector<std::string> bodies = FetchConcurrently(client, server, 20);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(bodies[i], absl::StrCat("/", i));
  EXPECT_LE(server.connections(), 2u);
}

TEST_F(HttpClientTest, PipeliningSendsTheNextRequestsBeforeTheFirstAnswer) {
  // Answers nothing until three requests arrived on the connection: only
  // a pipelining client gets its answers.
  ScriptedServer server([](Connection& conn, const SeenRequest&,
                           std::vector<SeenRequest>& on_connection) {
    if (on_connection.size() != 3) return;
    for (const SeenRequest& request : on_connection) {
      conn.Send(Ok(request.target));
    }
  });
  ClientOptions options;
  options.max_connections_per_host = 1;
  options.pipelining = true;
  Client client(group_, options);
  const std::vector<std::string> bodies = FetchConcurrently(client, server, 3);
  EXPECT_EQ(bodies, (std::vector<std::string>{"/0", "/1", "/2"}));
  EXPECT_EQ(server.connections(), 1u);
}

// Answers the first request of each connection; closes the connection at
// the second without answering, as a server that closes an idle keep-alive
// connection just as the client reuses it.
void CloseAtSecondRequest(Connection& conn, const SeenRequest& request,
                          std::vector<SeenRequest>&) {
  if (request.index_on_connection == 0) {
    conn.Send(Ok(request.target));
  } else {
    conn.Close();
  }
}

TEST_F(HttpClientTest, AGetCutOffByTheKeepAliveRaceIsRetried) {
  ScriptedServer server(CloseAtSecondRequest);
  Client client(group_);
  ASSERT_TRUE(FetchUrl(client, server.Url("/first")).ok());
  absl::StatusOr<ClientResponse> second = FetchUrl(client, server.Url("/2nd"));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->body, "/2nd");
  EXPECT_EQ(client.stats().retries, 1u);
  EXPECT_EQ(server.connections(), 2u);
}

TEST_F(HttpClientTest, APostCutOffByTheKeepAliveRaceIsNotRetried) {
  ScriptedServer server(CloseAtSecondRequest);
  Client client(group_);
  ASSERT_TRUE(FetchUrl(client, server.Url("/first")).ok());
  absl::StatusOr<ClientResponse> post =
      FetchUrl(client, server.Url("/post"), "POST");
  EXPECT_EQ(post.status().code(), absl::StatusCode::kUnavailable)
      << post.status();
  EXPECT_NE(post.status().message().find("not idempotent"), std::string::npos)
      << post.status();
  EXPECT_EQ(client.stats().retries, 0u);
}

TEST_F(HttpClientTest, AServerThatNeverAnswersHitsTheFirstByteDeadline) {
  ScriptedServer server(
      [](Connection&, const SeenRequest&, std::vector<SeenRequest>&) {});
  ClientOptions options;
  options.first_byte_timeout = absl::Milliseconds(100);
  Client client(group_, options);
  absl::StatusOr<ClientResponse> response = FetchUrl(client, server.Url());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kDeadlineExceeded)
      << response.status();
  EXPECT_NE(response.status().message().find("first_byte_timeout"),
            std::string::npos)
      << response.status();
}

TEST_F(HttpClientTest, TheTotalDeadlineCoversAResponseThatTrickles) {
  ScriptedServer server(
      [](Connection& conn, const SeenRequest&, std::vector<SeenRequest>&) {
        conn.Send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
      });
  ClientOptions options;
  options.total_timeout = absl::Milliseconds(100);
  Client client(group_, options);
  absl::StatusOr<ClientResponse> response = FetchUrl(client, server.Url());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kDeadlineExceeded)
      << response.status();
}

TEST_F(HttpClientTest, AResponseLargerThanTheLimitIsRefused) {
  ScriptedServer server(
      [](Connection& conn, const SeenRequest&, std::vector<SeenRequest>&) {
        conn.Send(Ok(std::string(1 << 20, 'x')));
      });
  ClientOptions options;
  options.max_response_bytes = 64 * 1024;
  Client client(group_, options);
  absl::StatusOr<ClientResponse> response = FetchUrl(client, server.Url());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kResourceExhausted)
      << response.status();
}

TEST_F(HttpClientTest, ALargeBodyIsStreamedToTheCallbackNotHeld) {
  constexpr size_t kBody = 16 << 20;
  ScriptedServer server(
      [](Connection& conn, const SeenRequest&, std::vector<SeenRequest>&) {
        conn.Send(Ok(std::string(kBody, 'y')));
      });
  ClientOptions options;
  options.max_response_bytes = 64 * 1024;
  Client client(group_, options);
  size_t streamed = 0;  // the worker's thread, then read after the answer
  bool all_y = true;
  ClientRequest request;
  request.url = server.Url();
  request.on_body = [&](absl::string_view piece) {
    streamed += piece.size();
    all_y = all_y && piece.find_first_not_of('y') == absl::string_view::npos;
  };
  absl::StatusOr<ClientResponse> response = Fetch(client, std::move(request));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_TRUE(response->body.empty());
  EXPECT_EQ(streamed, kBody);
  EXPECT_TRUE(all_y);
}

TEST_F(HttpClientTest, AChunkedBodyIsReassembled) {
  ScriptedServer server(
      [](Connection& conn, const SeenRequest&, std::vector<SeenRequest>&) {
        conn.Send(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            "4\r\nchun\r\n6;ext=1\r\nked bo\r\n2\r\ndy\r\n0\r\n"
            "Trailer-Field: yes\r\n\r\n");
      });
  Client client(group_);
  absl::StatusOr<ClientResponse> response = FetchUrl(client, server.Url());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, "chunked body");
  ASSERT_TRUE(FetchUrl(client, server.Url()).ok());  // still in step
  EXPECT_EQ(server.connections(), 1u);
}

TEST_F(HttpClientTest, ACloseDelimitedBodyEndsAtTheClose) {
  ScriptedServer server(
      [](Connection& conn, const SeenRequest&, std::vector<SeenRequest>&) {
        conn.Send("HTTP/1.0 200 OK\r\n\r\nuntil the close");
        conn.Close();
      });
  Client client(group_);
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<ClientResponse> response = FetchUrl(client, server.Url());
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->body, "until the close");
  }
  EXPECT_EQ(server.connections(), 2u);
}

TEST_F(HttpClientTest, TheAnswerToHeadHasNoBodyAndTheConnectionStaysInStep) {
  ScriptedServer server([](Connection& conn, const SeenRequest& request,
                           std::vector<SeenRequest>&) {
    conn.Send(request.method == "HEAD"
                  ? "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
                  : Ok("hello"));
  });
  Client client(group_);
  absl::StatusOr<ClientResponse> head = FetchUrl(client, server.Url(), "HEAD");
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_TRUE(head->body.empty());
  absl::StatusOr<ClientResponse> get = FetchUrl(client, server.Url());
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->body, "hello");
  EXPECT_EQ(server.connections(), 1u);
}

TEST_F(HttpClientTest, AnswersComeOnTheWorkerThatAsked) {
  ScriptedServer server(AnswerOk);
  WorkerGroup group(eddy::testing::ClientGroupOptions(2));
  ASSERT_TRUE(group.Start().ok());
  Client client(group);
  Notification done;
  std::atomic<bool> same_thread{false};
  group.loop(1).Post([&] {
    client.Get(server.Url(), [&](absl::StatusOr<ClientResponse> response) {
      same_thread = response.ok() && group.loop(1).IsInLoopThread();
      done.Notify();
    });
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kTestDeadline));
  EXPECT_TRUE(same_thread.load());
  // From a thread that is no worker: answered on one of the workers.
  Notification done_outside;
  std::atomic<bool> on_a_worker{false};
  std::thread outside([&] {
    client.Get(server.Url(), [&](absl::StatusOr<ClientResponse> response) {
      on_a_worker = response.ok() && (group.loop(0).IsInLoopThread() ||
                                      group.loop(1).IsInLoopThread());
      done_outside.Notify();
    });
  });
  outside.join();
  ASSERT_TRUE(done_outside.WaitForNotificationWithTimeout(kTestDeadline));
  EXPECT_TRUE(on_a_worker.load());
}

TEST_F(HttpClientTest, DestroyingTheClientAbandonsRequestsInFlight) {
  Notification seen;
  ScriptedServer server(
      [&seen](Connection&, const SeenRequest&, std::vector<SeenRequest>&) {
        seen.Notify();  // and never answers
      });
  std::atomic<bool> called{false};
  {
    Client client(group_);
    client.Get(server.Url(),
               [&called](absl::StatusOr<ClientResponse>) { called = true; });
    ASSERT_TRUE(seen.WaitForNotificationWithTimeout(kTestDeadline));
  }
  group_.Stop();  // runs the client's detach, then joins the worker
  EXPECT_FALSE(called.load());
}

TEST_F(HttpClientTest, BadTargetsAreClearErrors) {
  Client client(group_);
  EXPECT_EQ(FetchUrl(client, "ftp://127.0.0.1/").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FetchUrl(client, "http://no-such-host.invalid:80/").status().code(),
            absl::StatusCode::kNotFound);
  ClientRequest smuggler;
  smuggler.url = "http://127.0.0.1:1/";
  smuggler.headers.emplace_back("X", "a\r\nInjected: yes");
  EXPECT_EQ(Fetch(client, std::move(smuggler)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Url, SplitsHostPortAndTarget) {
  absl::StatusOr<Url> url = ParseUrl("http://Example.com:8080/a/b?c=d#frag");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->host, "example.com");
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->target, "/a/b?c=d");
  EXPECT_EQ(url->authority, "example.com:8080");
  EXPECT_EQ(url->host_port, "example.com:8080");
  url = ParseUrl("http://[::1]?q");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 80);
  EXPECT_EQ(url->target, "/?q");
  EXPECT_EQ(url->authority, "[::1]");
  EXPECT_EQ(url->host_port, "[::1]:80");
  EXPECT_FALSE(ParseUrl("http://host:0/").ok());
  EXPECT_FALSE(ParseUrl("http://user@host/").ok());
  EXPECT_FALSE(ParseUrl("http:///path").ok());
  EXPECT_FALSE(ParseUrl("http://host/a b").ok());
}

TEST(Url, HttpsDefaultsToPort443) {
  absl::StatusOr<Url> url = ParseUrl("HTTPS://Example.com/x");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_TRUE(url->https);
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->authority, "example.com");
  EXPECT_EQ(url->host_port, "example.com:443");
  url = ParseUrl("https://[::1]:8443");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_TRUE(url->https);
  EXPECT_EQ(url->authority, "[::1]:8443");
  EXPECT_FALSE(ParseUrl("http://h/")->https);
  EXPECT_EQ(ParseUrl("ftp://h/").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// http::Client over https:// against eddy's HTTP server with TLS, in
// process, with a test CA made for the test.
class HttpsClientTest : public eddy::testing::WithTestCertificates {
 protected:
  void SetUp() override {
    WithTestCertificates::SetUp();
    if (IsSkipped()) return;
    ASSERT_TRUE(group_.Start().ok());
  }
  void TearDown() override {
    group_.Stop();
    if (server_ != nullptr) server_->Stop();
    WithTestCertificates::TearDown();
  }

  // An HTTPS server on `bind` (a loopback address), answering GET / with
  // "Hello over TLS" and the ALPN protocol it agreed on.
  void StartServer(const std::string& bind = "127.0.0.1") {
    auto router = std::make_shared<Router>();
    router->Handle("GET", "/", [](const Request&, Response& response) {
      response.set_body("Hello over TLS");
    });
    ServerOptions options = LoopbackServerOptions(2);
    options.bind_address = bind;
    TlsServerOptions tls = ServerTls();
    tls.alpn = {"http/1.1"};
    options.tls = tls;
    server_ = std::make_unique<Server>(
        options,
        std::make_unique<HttpProtocol>(std::move(router), HttpOptions{}));
    ASSERT_TRUE(server_->Start().ok());
  }

  std::string Url(const std::string& host = "localhost") const {
    return absl::StrCat("https://", host, ":", server_->port(), "/");
  }

  ClientOptions TrustingTestCa() const {
    ClientOptions options;
    options.ca_file = certs_.ca;
    return options;
  }

  WorkerGroup group_{eddy::testing::ClientGroupOptions(2)};
  std::unique_ptr<Server> server_;
};

TEST_F(HttpsClientTest, GetsOverTlsReusingOneConnection) {
  StartServer();
  Client client(group_, TrustingTestCa());
  for (int i = 0; i < 5; ++i) {
    // From one worker's thread, so all five share its pool.
    Notification done;
    absl::StatusOr<ClientResponse> response;
    group_.worker(0).loop().Post([&] {
      client.Get(Url(), [&](absl::StatusOr<ClientResponse> r) {
        response = std::move(r);
        done.Notify();
      });
    });
    ASSERT_TRUE(done.WaitForNotificationWithTimeout(kTestDeadline));
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "Hello over TLS");
  }
  EXPECT_EQ(server_->total_stats().accepted, 1u);
  EXPECT_EQ(client.stats().connections_opened, 1u);
  EXPECT_EQ(client.stats().requests, 5u);
}

TEST_F(HttpsClientTest, ANewConnectionToTheSameHostResumesTheSession) {
  StartServer();
  ClientOptions options = TrustingTestCa();
  // The first connection closes once idle, so the second request needs
  // another.
  options.idle_timeout = absl::Milliseconds(50);
  Client client(group_, options);
  absl::StatusOr<ClientResponse> first = FetchUrl(client, Url());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(eddy::testing::Eventually(
      [&] { return server_->total_stats().active == 0; }));
  // From whichever worker: the session cache is the client's, not a
  // worker's.
  absl::StatusOr<ClientResponse> second = FetchUrl(client, Url());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->body, "Hello over TLS");
  EXPECT_EQ(server_->total_stats().accepted, 2u);
  EXPECT_EQ(client.stats().connections_opened, 2u);
  EXPECT_EQ(client.stats().tls_resumed, 1u);
}

TEST_F(HttpsClientTest, AHostTheCertificateDoesNotNameIsRefused) {
  // 127.0.0.2 is loopback too, but the certificate names only localhost
  // and 127.0.0.1.
  StartServer("127.0.0.2");
  Client client(group_, TrustingTestCa());
  const absl::StatusOr<ClientResponse> response =
      FetchUrl(client, Url("127.0.0.2"));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnauthenticated)
      << response.status();
  EXPECT_TRUE(absl::StrContains(response.status().message(),
                                "certificate verify failed: IP address "
                                "mismatch"))
      << response.status();
  EXPECT_EQ(client.stats().connections_opened, 0u);
}

TEST_F(HttpsClientTest, AServerFromAnotherCaIsRefused) {
  StartServer();
  ClientOptions options;
  options.ca_file = certs_.other_ca;
  Client client(group_, options);
  const absl::StatusOr<ClientResponse> response = FetchUrl(client, Url());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnauthenticated)
      << response.status();
  EXPECT_TRUE(absl::StrContains(response.status().message(),
                                "certificate verify failed"))
      << response.status();
}

TEST_F(HttpsClientTest, AnUnreadableCaFileFailsHttpsOnly) {
  StartServer();
  ClientOptions options;
  options.ca_file = certs_.dir + "/no-such-ca.pem";
  Client client(group_, options);
  const absl::StatusOr<ClientResponse> response = FetchUrl(client, Url());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument)
      << response.status();
  EXPECT_TRUE(absl::StrContains(response.status().message(),
                                "https:// cannot be used: cannot read CA file"))
      << response.status();
  // Plain http:// is not affected.
  ScriptedServer plain(AnswerOk);
  const absl::StatusOr<ClientResponse> ok = FetchUrl(client, plain.Url("/p"));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->body, "/p");
}

TEST_F(HttpsClientTest, AServerThatStallsTheHandshakeHitsItsDeadline) {
  // A plain server that reads the hello as a request head never ended.
  ScriptedServer silent(AnswerOk);
  ClientOptions options = TrustingTestCa();
  options.tls_handshake_timeout = absl::Milliseconds(300);
  Client client(group_, options);
  const absl::StatusOr<ClientResponse> response =
      FetchUrl(client, absl::StrCat("https://127.0.0.1:", silent.port(), "/"));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kDeadlineExceeded)
      << response.status();
  EXPECT_TRUE(
      absl::StrContains(response.status().message(), "no TLS handshake within"))
      << response.status();
}

}  // namespace
}  // namespace eddy::http
