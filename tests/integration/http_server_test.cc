// eddy's HTTP/1.x protocol over real sockets on 127.0.0.1.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eddy/core/manual_clock.h"
#include "eddy/http/http_date.h"
#include "eddy/http/http_protocol.h"
#include "eddy/http/router.h"
#include "eddy/http/static_files.h"
#include "eddy/net/server.h"
#include "gtest/gtest.h"
#include "tests/support/http_test_client.h"
#include "tests/support/notification.h"
#include "tests/support/server_testing.h"
#include "tests/support/test_client.h"

namespace eddy::http {
namespace {

using ::eddy::testing::Eventually;
using ::eddy::testing::HttpTestReader;
using ::eddy::testing::HttpTestResponse;
using ::eddy::testing::TestClient;

constexpr absl::Duration kDeadline = absl::Seconds(60);

// A body whose every byte depends on its position, so a byte out of place
// shows.
std::string BigBody(size_t size) {
  std::string body(size, '\0');
  for (size_t i = 0; i < size; ++i) {
    body[i] = static_cast<char>('a' + (i + i / 26) % 26);
  }
  return body;
}

// A scratch directory with a static root and a secret file beside it.
class ScratchTree {
 public:
  ScratchTree() {
    char pattern[] = "/tmp/eddy-http-test-XXXXXX";
    base_ = mkdtemp(pattern);
    std::filesystem::create_directories(base_ + "/www/sub");
    Write(base_ + "/secret.txt", "TOP SECRET");
    Write(base_ + "/www/hello.txt", "0123456789abcdef");
    Write(base_ + "/www/page.html", "<h1>hi</h1>");
    Write(base_ + "/www/sub/index.html", "sub index");
    std::filesystem::create_symlink(base_ + "/secret.txt",
                                    base_ + "/www/escape.txt");
    std::filesystem::create_symlink("hello.txt", base_ + "/www/inside.txt");
  }
  ~ScratchTree() { std::filesystem::remove_all(base_); }
  std::string root() const { return base_ + "/www"; }

 private:
  static void Write(const std::string& path, const std::string& content) {
    std::ofstream(path) << content;
  }
  std::string base_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto router = std::make_shared<Router>();
    router->Handle("GET", "/", [](const Request&, Response& response) {
      response.set_content_type("text/plain");
      response.set_body("Hello, world!");
    });
    router->Handle("GET", "/n", [](const Request& request, Response& response) {
      response.set_body(std::string(request.query()));
    });
    router->Handle(
        "GET", "/big", [](const Request& request, Response& response) {
          response.set_body(BigBody(std::stoul(std::string(request.query()))));
        });
    router->Handle("POST", "/echo",
                   [](const Request& request, Response& response) {
                     response.set_body(std::string(request.body()));
                   });
    router->HandleAsync(
        "GET", "/later", [this](const Request& request, Responder responder) {
          std::string tag(request.query());
          // Joined in TearDown: a ConnectionRef must not outlive its Server.
          std::lock_guard lock(responders_mutex_);
          responders_.emplace_back(
              [tag, responder = std::move(responder)]() mutable {
                absl::SleepFor(absl::Milliseconds(20));
                Response response;
                response.set_body(absl::StrCat("late ", tag));
                responder.Send(std::move(response));
              });
        });
    auto files = StaticFiles::Open(tree_.root());
    ASSERT_TRUE(files.ok()) << files.status();
    ServeStaticFiles(*router, "/static/", *files);
    router_ = std::move(router);
    // The fixture's server runs on the manual clock; others that
    // StartServer makes keep the system clock unless told otherwise.
    ServerOptions options;
    options.clock = &clock_;
    server_ = StartServer(options, TestHttpOptions());
  }

  static HttpOptions TestHttpOptions() {
    HttpOptions http;
    http.limits.max_body_bytes = 1024;
    http.limits.max_request_line = 1024;
    http.limits.max_header_bytes = 4096;
    http.request_head_timeout = kHeadTimeout;
    http.request_body_timeout = kBodyTimeout;
    return http;
  }

  // Another server on the same routes, e.g. with other timeouts.
  std::unique_ptr<Server> StartServer(ServerOptions options, HttpOptions http) {
    options.bind_address = "127.0.0.1";
    options.workers = 2;
    auto server = std::make_unique<Server>(
        options, std::make_unique<HttpProtocol>(router_, std::move(http)));
    const absl::Status started = server->Start();
    EXPECT_TRUE(started.ok()) << started;
    return server;
  }

  TestClient Connect() { return Connect(*server_); }
  static TestClient Connect(const Server& server) {
    auto client = TestClient::Connect(server.port());
    EXPECT_TRUE(client.ok()) << client.status();
    return *std::move(client);
  }

  // Returns once the server has read `bytes` bytes in all, and whatever
  // they set off (such as arming a timer) has happened.
  void WaitUntilServerRead(uint64_t bytes) {
    ASSERT_TRUE(Eventually(
        [&] { return server_->total_stats().bytes_in >= bytes; }, kDeadline))
        << server_->total_stats().bytes_in << " of " << bytes << " bytes read";
    ASSERT_TRUE(clock_.WaitForLoops(kDeadline));
  }

  // Sends `request` on a new connection and reads one response.
  HttpTestResponse RoundTrip(const std::string& request) {
    TestClient client = Connect();
    EXPECT_TRUE(client.SendAll(request).ok());
    HttpTestReader reader(client);
    auto response = reader.Next();
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : HttpTestResponse{};
  }

  void TearDown() override {
    std::lock_guard lock(responders_mutex_);
    for (std::thread& thread : responders_) thread.join();
  }

  static constexpr absl::Duration kHeadTimeout = absl::Seconds(10);
  static constexpr absl::Duration kBodyTimeout = absl::Seconds(20);

  // Declared before server_, which must not outlive it.
  ManualClock clock_;
  ScratchTree tree_;
  std::shared_ptr<const Router> router_;
  std::mutex responders_mutex_;
  std::vector<std::thread> responders_;
  std::unique_ptr<Server> server_;
};

TEST_F(HttpServerTest, GetRootReturnsHelloWorldWithFraming) {
  HttpTestResponse r = RoundTrip("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "Hello, world!");
  EXPECT_EQ(r.Header("content-length"), "13");
  EXPECT_EQ(r.Header("content-type"), "text/plain");
  EXPECT_EQ(r.Header("server"), "eddy");
  EXPECT_TRUE(ParseHttpDate(r.Header("date")).has_value()) << r.Header("date");
}

TEST_F(HttpServerTest, Http10ClosesAfterTheResponseByDefault) {
  TestClient client = Connect();
  ASSERT_TRUE(client.SendAll("GET / HTTP/1.0\r\n\r\n").ok());
  HttpTestReader reader(client);
  auto r = reader.Next();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "Hello, world!");
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_TRUE(reader.AtEof(kDeadline));
}

TEST_F(HttpServerTest, Http10KeepAliveWhenAskedAndSaidBack) {
  TestClient client = Connect();
  HttpTestReader reader(client);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        client.SendAll("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            .ok());
    auto r = reader.Next();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->Header("connection"), "keep-alive");
    EXPECT_EQ(r->body, "Hello, world!");
  }
}

TEST_F(HttpServerTest, Http11StaysOpenUntilConnectionClose) {
  TestClient client = Connect();
  HttpTestReader reader(client);
  ASSERT_TRUE(client.SendAll("GET / HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  auto first = reader.Next();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->Header("connection"), "");
  ASSERT_TRUE(
      client.SendAll("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
          .ok());
  auto second = reader.Next();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->Header("connection"), "close");
  EXPECT_TRUE(reader.AtEof(kDeadline));
}

TEST_F(HttpServerTest, HundredPipelinedRequestsInOneWriteAreAnsweredInOrder) {
  TestClient client = Connect();
  std::string batch;
  for (int i = 0; i < 100; ++i) {
    absl::StrAppend(&batch, "GET /n?", i, " HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  ASSERT_TRUE(client.SendAll(batch).ok());
  HttpTestReader reader(client);
  for (int i = 0; i < 100; ++i) {
    auto r = reader.Next();
    ASSERT_TRUE(r.ok()) << i << ": " << r.status();
    EXPECT_EQ(r->body, absl::StrCat(i));
  }
}

TEST_F(HttpServerTest, AsyncRoutesKeepPipelinedResponsesInOrder) {
  TestClient client = Connect();
  ASSERT_TRUE(client
                  .SendAll("GET /later?a HTTP/1.1\r\nHost: x\r\n\r\n"
                           "GET /n?b HTTP/1.1\r\nHost: x\r\n\r\n"
                           "GET /later?c HTTP/1.1\r\nHost: x\r\n\r\n"
                           "GET /n?d HTTP/1.1\r\nHost: x\r\n\r\n")
                  .ok());
  HttpTestReader reader(client);
  for (const char* expected : {"late a", "b", "late c", "d"}) {
    auto r = reader.Next();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->body, expected);
  }
}

// An asynchronous answer arrives in a task posted to the connection; the
// pipelined requests parsed after it are answered in the same dispatch, so
// all of them leave in one write.
TEST_F(HttpServerTest,
       AsyncAnswerAndThePipelinedAnswersAfterItLeaveInOneWrite) {
  const uint64_t writes_before = server_->total_stats().writes;
  TestClient client = Connect();
  ASSERT_TRUE(client
                  .SendAll("GET /later?a HTTP/1.1\r\nHost: x\r\n\r\n"
                           "GET /n?b HTTP/1.1\r\nHost: x\r\n\r\n"
                           "GET /n?c HTTP/1.1\r\nHost: x\r\n\r\n")
                  .ok());
  HttpTestReader reader(client);
  for (const char* expected : {"late a", "b", "c"}) {
    auto r = reader.Next();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->body, expected);
  }
  // The count is stored after the write returns: a task through each loop
  // makes every count of the dispatches before it visible here.
  for (size_t i = 0; i < server_->worker_count(); ++i) {
    testing::Notification turned;
    server_->worker_loop(i).Post([&turned] { turned.Notify(); });
    ASSERT_TRUE(turned.WaitForNotificationWithTimeout(kDeadline));
  }
  EXPECT_EQ(server_->total_stats().writes - writes_before, 1u);
}

TEST_F(HttpServerTest, LargeBodiesLeaveIntactAmongPipelinedResponses) {
  TestClient client = Connect();
  ASSERT_TRUE(client
                  .SendAll("GET /big?300000 HTTP/1.1\r\nHost: x\r\n\r\n"
                           "HEAD /big?100000 HTTP/1.1\r\nHost: x\r\n\r\n"
                           "GET /big?4097 HTTP/1.1\r\nHost: x\r\n\r\n"
                           "GET /n?after HTTP/1.1\r\nHost: x\r\n\r\n"
                           "GET /big?1048576 HTTP/1.1\r\nHost: x\r\n\r\n")
                  .ok());
  HttpTestReader reader(client);
  auto first = reader.Next();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->Header("content-length"), "300000");
  EXPECT_TRUE(first->body == BigBody(300000));
  auto head = reader.Next(/*head_only=*/true);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->Header("content-length"), "100000");
  auto just_above_copy_size = reader.Next();
  ASSERT_TRUE(just_above_copy_size.ok()) << just_above_copy_size.status();
  EXPECT_TRUE(just_above_copy_size->body == BigBody(4097));
  auto small = reader.Next();
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_EQ(small->body, "after");
  auto last = reader.Next();
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(last->body.size(), 1048576u);
  EXPECT_TRUE(last->body == BigBody(1048576));
}

TEST_F(HttpServerTest, HeadSendsHeadersOnlyAndKeepsTheConnectionFramed) {
  TestClient client = Connect();
  ASSERT_TRUE(client
                  .SendAll("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"
                           "GET /n?after HTTP/1.1\r\nHost: x\r\n\r\n")
                  .ok());
  HttpTestReader reader(client);
  auto head = reader.Next(/*head_only=*/true);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("content-length"), "13");
  auto next = reader.Next();
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->body, "after");
}

TEST_F(HttpServerTest, PostEchoReturnsContentLengthAndChunkedBodies) {
  HttpTestResponse plain = RoundTrip(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello "
      "there");
  EXPECT_EQ(plain.body, "hello there");
  HttpTestResponse chunked = RoundTrip(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6;ext=1\r\n there\r\n0\r\nTrailer: x\r\n\r\n");
  EXPECT_EQ(chunked.body, "hello there");
}

TEST_F(HttpServerTest, ExpectContinueIsAnsweredBeforeTheBody) {
  TestClient client = Connect();
  ASSERT_TRUE(
      client
          .SendAll("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                   "Expect: 100-continue\r\n\r\n")
          .ok());
  HttpTestReader reader(client);
  auto interim = reader.Next();
  ASSERT_TRUE(interim.ok()) << interim.status();
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client.SendAll("body").ok());
  auto final_response = reader.Next();
  ASSERT_TRUE(final_response.ok()) << final_response.status();
  EXPECT_EQ(final_response->status, 200);
  EXPECT_EQ(final_response->body, "body");
}

TEST_F(HttpServerTest, LimitsAnswer413414431And505ThenClose) {
  struct Case {
    std::string request;
    int status;
  };
  const std::vector<Case> cases = {
      {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n", 413},
      {"GET /" + std::string(2000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
      {"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(5000, 'b') +
           "\r\n\r\n",
       431},
      {"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505},
      {"GET / HTTP/1.1\r\n\r\n", 400},
  };
  for (const Case& c : cases) {
    TestClient client = Connect();
    ASSERT_TRUE(client.SendAll(c.request).ok());
    HttpTestReader reader(client);
    auto r = reader.Next();
    ASSERT_TRUE(r.ok()) << c.status << ": " << r.status();
    EXPECT_EQ(r->status, c.status);
    EXPECT_EQ(r->Header("connection"), "close");
    EXPECT_TRUE(reader.AtEof(kDeadline)) << c.status;
  }
}

TEST_F(HttpServerTest, UnknownPathMethodAndUnsupportedMethod) {
  EXPECT_EQ(RoundTrip("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n").status, 404);
  HttpTestResponse not_allowed =
      RoundTrip("DELETE /echo HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(not_allowed.status, 405);
  EXPECT_EQ(not_allowed.Header("allow"), "POST");
  HttpTestResponse get_only = RoundTrip("PUT / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(get_only.status, 405);
  EXPECT_EQ(get_only.Header("allow"), "GET, HEAD");
  EXPECT_EQ(RoundTrip("BREW / HTTP/1.1\r\nHost: x\r\n\r\n").status, 501);
}

TEST_F(HttpServerTest, BadRequestMidPipelineStopsThePipelineThere) {
  TestClient client = Connect();
  ASSERT_TRUE(client
                  .SendAll("GET /n?1 HTTP/1.1\r\nHost: x\r\n\r\n"
                           "GET /n?2 HTTP/1.1\r\nHost : x\r\n\r\n"
                           "GET /n?3 HTTP/1.1\r\nHost: x\r\n\r\n")
                  .ok());
  HttpTestReader reader(client);
  auto first = reader.Next();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->body, "1");
  auto bad = reader.Next();
  ASSERT_TRUE(bad.ok()) << bad.status();
  EXPECT_EQ(bad->status, 400);
  EXPECT_TRUE(reader.AtEof(kDeadline))
      << "the third request must not be answered";
}

TEST_F(HttpServerTest, StaticFilesServeTypesRangesAndConditionalRequests) {
  HttpTestResponse file =
      RoundTrip("GET /static/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(file.body, "0123456789abcdef");
  EXPECT_EQ(file.Header("content-type"), "text/plain; charset=utf-8");
  const std::string last_modified = file.Header("last-modified");
  ASSERT_TRUE(ParseHttpDate(last_modified).has_value());

  HttpTestResponse html =
      RoundTrip("GET /static/page.html HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(html.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(RoundTrip("GET /static/sub/ HTTP/1.1\r\nHost: x\r\n\r\n").body,
            "sub index");
  EXPECT_EQ(
      RoundTrip("GET /static/inside.txt HTTP/1.1\r\nHost: x\r\n\r\n").body,
      "0123456789abcdef");

  HttpTestResponse range = RoundTrip(
      "GET /static/hello.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=2-5\r\n\r\n");
  EXPECT_EQ(range.status, 206);
  EXPECT_EQ(range.body, "2345");
  EXPECT_EQ(range.Header("content-range"), "bytes 2-5/16");
  HttpTestResponse suffix = RoundTrip(
      "GET /static/hello.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=-3\r\n\r\n");
  EXPECT_EQ(suffix.body, "def");
  HttpTestResponse unsatisfiable = RoundTrip(
      "GET /static/hello.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=100-\r\n\r\n");
  EXPECT_EQ(unsatisfiable.status, 416);
  EXPECT_EQ(unsatisfiable.Header("content-range"), "bytes */16");

  HttpTestResponse not_modified = RoundTrip(
      "GET /static/hello.txt HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: " +
      last_modified + "\r\n\r\n");
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_EQ(not_modified.body, "");
  HttpTestResponse head = [&] {
    TestClient client = Connect();
    EXPECT_TRUE(
        client.SendAll("HEAD /static/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            .ok());
    HttpTestReader reader(client);
    auto r = reader.Next(/*head_only=*/true);
    return r.ok() ? *r : HttpTestResponse{};
  }();
  EXPECT_EQ(head.Header("content-length"), "16");
}

TEST_F(HttpServerTest, NoRequestReachesOutsideTheStaticRoot) {
  const std::vector<std::string> attacks = {
      "/static/../secret.txt",        "/static/%2e%2e/secret.txt",
      "/static/%2E%2E%2Fsecret.txt",  "/static/..%2fsecret.txt",
      "/static/sub/../../secret.txt", "/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
      "/static/escape.txt",           "/static/hello.txt%00.html",
      "/static//etc/passwd",          "/static/%252e%252e/secret.txt",
  };
  for (const std::string& path : attacks) {
    HttpTestResponse r =
        RoundTrip("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_TRUE(r.status == 400 || r.status == 403 || r.status == 404)
        << path << " -> " << r.status;
    EXPECT_FALSE(absl::StrContains(r.body, "TOP SECRET")) << path;
    EXPECT_FALSE(absl::StrContains(r.body, "root:")) << path;
  }
}

TEST_F(HttpServerTest, OneByteAtATimeStillParses) {
  TestClient client = Connect();
  const std::string request = "GET /n?slow HTTP/1.1\r\nHost: x\r\n\r\n";
  for (char c : request) {
    ASSERT_TRUE(client.SendAll(std::string(1, c)).ok());
    absl::SleepFor(absl::Microseconds(200));
  }
  HttpTestReader reader(client);
  auto r = reader.Next();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "slow");
}

TEST_F(HttpServerTest, SlowlorisHeadsGet408WhileOthersAreServed) {
  constexpr int kSlow = 50;
  const std::string head_start = "GET / HTTP/1.1\r\nHo";
  std::vector<TestClient> slow;
  for (int i = 0; i < kSlow; ++i) {
    slow.push_back(Connect());
    ASSERT_TRUE(slow.back().SendAll(head_start).ok());
  }
  WaitUntilServerRead(kSlow * head_start.size());
  // Trickle one more byte each (a real slowloris keeps doing this): it does
  // not push the head's deadline back.
  ASSERT_TRUE(clock_.AdvanceAndWait(kHeadTimeout / 2, kDeadline));
  for (auto& client : slow) ASSERT_TRUE(client.SendAll("s").ok());
  WaitUntilServerRead(kSlow * (head_start.size() + 1));
  // A normal client is answered at once meanwhile.
  HttpTestResponse normal = RoundTrip("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(normal.body, "Hello, world!");
  ASSERT_TRUE(clock_.AdvanceAndWait(kHeadTimeout / 2, kDeadline));
  for (auto& client : slow) {
    HttpTestReader reader(client);
    auto r = reader.Next();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 408);
    EXPECT_EQ(r->Header("connection"), "close");
    EXPECT_TRUE(reader.AtEof(kDeadline));
  }
}

TEST_F(HttpServerTest, HeadIsNotTimedOutBeforeTheHeadTimeout) {
  TestClient client = Connect();
  ASSERT_TRUE(client.SendAll("GET /n?patient HTTP/1.1\r\n").ok());
  WaitUntilServerRead(1);
  ASSERT_TRUE(
      clock_.AdvanceAndWait(kHeadTimeout - absl::Milliseconds(1), kDeadline));
  ASSERT_TRUE(client.SendAll("Host: x\r\n\r\n").ok());
  HttpTestReader reader(client);
  auto r = reader.Next();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "patient");
}

TEST_F(HttpServerTest, BodyThatNeverArrivesGets408) {
  TestClient client = Connect();
  const std::string partial =
      "POST /echo HTTP/1.1\r\nHost: x\r\n"
      "Content-Length: 100\r\n\r\nonly a part";
  ASSERT_TRUE(client.SendAll(partial).ok());
  WaitUntilServerRead(partial.size());
  // The head completed: its timeout no longer applies, the body's does.
  ASSERT_TRUE(clock_.AdvanceAndWait(kHeadTimeout, kDeadline));
  ASSERT_TRUE(clock_.AdvanceAndWait(kBodyTimeout - kHeadTimeout, kDeadline));
  HttpTestReader reader(client);
  auto r = reader.Next();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 408);
  EXPECT_TRUE(reader.AtEof(kDeadline));
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsNotTimedOutByTheHeadTimer) {
  // Idle keep-alive time belongs to the idle timeout where one is set.
  ServerOptions options;
  options.connection.idle_timeout = absl::Seconds(60);
  std::unique_ptr<Server> server = StartServer(options, TestHttpOptions());
  TestClient client = Connect(*server);
  HttpTestReader reader(client);
  ASSERT_TRUE(client.SendAll("GET / HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  ASSERT_TRUE(reader.Next().ok());
  // Idle between requests for longer than the head timeout: still open.
  ASSERT_TRUE(clock_.AdvanceAndWait(kHeadTimeout * 3, kDeadline));
  ASSERT_TRUE(client.SendAll("GET /n?again HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  auto r = reader.Next();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "again");
}

TEST_F(HttpServerTest,
       SilentKeepAliveWithoutIdleTimeoutClosesAtTheHeadTimeout) {
  // The fixture's server has no idle timeout: the head timeout, counted
  // from the end of the response, is what bounds the silence.
  TestClient client = Connect();
  HttpTestReader reader(client);
  ASSERT_TRUE(client.SendAll("GET / HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  ASSERT_TRUE(reader.Next().ok());
  ASSERT_TRUE(clock_.WaitForLoops(kDeadline));
  // The fixture's server runs on the manual clock: one head timeout after
  // the response (a second one, if the response was still leaving then).
  ASSERT_TRUE(clock_.AdvanceAndWait(kHeadTimeout, kDeadline));
  if (!reader.AtEof(absl::Milliseconds(200))) {
    ASSERT_TRUE(clock_.AdvanceAndWait(kHeadTimeout, kDeadline));
  }
  EXPECT_TRUE(reader.AtEof(kDeadline))
      << "a silent keep-alive connection was never closed";
}

TEST_F(HttpServerTest,
       SilentConnectionsAreClosedAtTheHeadTimeoutAndFreeTheCap) {
  // A cap's worth of connections that never send a byte. The idle timeout
  // is far beyond the test's deadlines, so only the head timeout, counted
  // from accept, can close them.
  constexpr size_t kCap = 20;
  ServerOptions options;
  options.max_connections = kCap;
  options.connection.idle_timeout = absl::Hours(1);
  HttpOptions http = TestHttpOptions();
  http.request_head_timeout = absl::Milliseconds(300);
  std::unique_ptr<Server> server = StartServer(options, http);
  std::vector<TestClient> silent;
  for (size_t i = 0; i < kCap; ++i) silent.push_back(Connect(*server));
  for (TestClient& client : silent) {
    auto received = client.ReceiveUntilClose(kDeadline);
    ASSERT_TRUE(received.ok()) << received.status();
    // Closed without a response: it asked nothing (and was not refused by
    // the cap with a 503).
    EXPECT_EQ(*received, "");
  }
  TestClient client = Connect(*server);
  ASSERT_TRUE(client.SendAll("GET / HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  HttpTestReader reader(client);
  auto r = reader.Next();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "Hello, world!");
}

}  // namespace
}  // namespace eddy::http
