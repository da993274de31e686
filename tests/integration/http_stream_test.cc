// Streaming responses (Responder::Stream): chunked on HTTP/1.1, until close
// on HTTP/1.0, trailers, pipelined requests answered after the stream,
// backpressure through the water marks, and a client that leaves early.
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eddy/http/http_protocol.h"
#include "eddy/http/response_stream.h"
#include "eddy/http/router.h"
#include "eddy/net/connection.h"
#include "eddy/net/server.h"
#include "gtest/gtest.h"
#include "tests/support/notification.h"
#include "tests/support/run_command.h"
#include "tests/support/server_testing.h"
#include "tests/support/test_client.h"

namespace eddy::http {
namespace {

using ::eddy::testing::TestClient;

constexpr absl::Duration kDeadline = absl::Seconds(60);
constexpr size_t kHighWater = 1 << 20;
constexpr size_t kBigPiece = 64 * 1024;
constexpr size_t kBigTotal = 64 << 20;

// The body /pieces streams: five lines, written on the loop thread.
constexpr absl::string_view kPiecesBody =
    "piece 0\npiece 1\npiece 2\npiece 3\npiece 4\n";

struct Decoded {
  std::string body;
  std::string trailers;  // the raw trailer lines
  size_t chunks = 0;
};

// Decodes a chunked body that starts at `raw`'s beginning; fails the test
// on bad framing. `rest` gets what follows the body.
bool DecodeChunked(absl::string_view raw, Decoded& out,
                   absl::string_view* rest = nullptr) {
  while (true) {
    const size_t line_end = raw.find("\r\n");
    if (line_end == absl::string_view::npos) return false;
    size_t size = 0;
    if (!absl::SimpleHexAtoi(raw.substr(0, line_end), &size)) return false;
    raw.remove_prefix(line_end + 2);
    if (size == 0) break;
    if (raw.size() < size + 2 || raw.substr(size, 2) != "\r\n") return false;
    out.body.append(raw.data(), size);
    ++out.chunks;
    raw.remove_prefix(size + 2);
  }
  const size_t end = raw.find("\r\n\r\n");
  if (raw.substr(0, 2) == "\r\n") {
    raw.remove_prefix(2);
  } else if (end != absl::string_view::npos) {
    out.trailers = std::string(raw.substr(0, end + 2));
    raw.remove_prefix(end + 4);
  } else {
    return false;
  }
  if (rest != nullptr) *rest = raw;
  return true;
}

// Splits a response at its head's end: {head, what follows}.
std::pair<std::string, std::string> SplitHead(absl::string_view response) {
  const size_t end = response.find("\r\n\r\n");
  if (end == absl::string_view::npos) return {std::string(response), ""};
  return {std::string(response.substr(0, end + 4)),
          std::string(response.substr(end + 4))};
}

// Lets a producer thread wait for OnWritable.
class WritableSignal {
 public:
  void Arm(ResponseStream& stream) {
    {
      std::lock_guard lock(mutex_);
      writable_ = false;
    }
    stream.OnWritable([this] {
      std::lock_guard lock(mutex_);
      writable_ = true;
      cv_.notify_all();
    });
  }
  // False at the timeout (the caller checks closed() and waits again).
  bool Wait(absl::Duration timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
                        [this] { return writable_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool writable_ = false;
};

class HttpStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto router = std::make_shared<Router>();
    router->HandleAsync("GET", "/pieces", [](const Request&, Responder r) {
      Response head;
      head.set_content_type("text/plain");
      ResponseStream stream = r.Stream(std::move(head));
      for (int i = 0; i < 5; ++i) stream.Write(absl::StrCat("piece ", i, "\n"));
      stream.Finish({{"X-Checksum", "five"}});
    });
    router->HandleAsync("GET", "/dropped", [](const Request&, Responder r) {
      ResponseStream stream = r.Stream(Response());
      stream.Write("the start, and then nothing");
      // Destroyed without Finish.
    });
    router->HandleAsync("GET", "/eager", [this](const Request&, Responder r) {
      // Writes on the loop thread before the head's task can run there:
      // the stream is held by this connection's mark from the first byte.
      ResponseStream stream = r.Stream(Response());
      size_t accepted = 0;
      while (!stream.is_full() && accepted < kBigTotal) {
        stream.Write(std::string(kBigPiece, 'e'));
        accepted += kBigPiece;
      }
      accepted_before_full_ = accepted;
      stream.Finish();
    });
    router->Handle("GET", "/hello", [](const Request&, Response& response) {
      response.set_body("hello\n");
    });
    router->HandleAsync("GET", "/slow", [this](const Request&, Responder r) {
      Spawn([stream = r.Stream(Response())]() mutable {
        for (int i = 0; i < 3; ++i) {
          absl::SleepFor(absl::Milliseconds(20));
          stream.Write(absl::StrCat("slow ", i, "\n"));
        }
        stream.Finish();
      });
    });
    router->HandleAsync("GET", "/big", [this](const Request&, Responder r) {
      Spawn([this, stream = r.Stream(Response())]() mutable {
        ProduceBig(stream);
      });
    });
    router->HandleAsync("GET", "/forever", [this](const Request&, Responder r) {
      ResponseStream stream = r.Stream(Response());
      stream.OnClientGone([this] { client_gone_.Notify(); });
      Spawn([this, stream = std::move(stream)]() mutable {
        ProduceForever(stream);
      });
    });
    ServerOptions options = testing::LoopbackServerOptions(1);
    options.connection.high_water_mark = kHighWater;
    options.connection.low_water_mark = kHighWater / 4;
    server_ = std::make_unique<Server>(
        options, std::make_unique<HttpProtocol>(router, HttpOptions()));
    ASSERT_TRUE(server_->Start().ok());
  }

  void TearDown() override {
    std::lock_guard lock(producers_mutex_);
    for (std::thread& producer : producers_) producer.join();
  }

  template <typename Fn>
  void Spawn(Fn fn) {
    std::lock_guard lock(producers_mutex_);
    producers_.emplace_back(std::move(fn));
  }

  // 64 MiB in 64 KiB pieces, waiting whenever the stream is full; records
  // how far it got ahead of the client and the output's peak.
  void ProduceBig(ResponseStream& stream) {
    WritableSignal signal;
    const absl::Time deadline = absl::Now() + kDeadline;
    for (size_t i = 0; i * kBigPiece < kBigTotal && absl::Now() < deadline;) {
      if (stream.closed()) return;
      if (stream.is_full()) {
        stream.connection().Post([this](Connection& conn) {
          size_t peak = peak_output_.load();
          while (
              conn.output_bytes() > peak &&
              !peak_output_.compare_exchange_weak(peak, conn.output_bytes())) {
          }
        });
        signal.Arm(stream);
        signal.Wait(absl::Milliseconds(100));
        continue;
      }
      stream.Write(std::string(kBigPiece, static_cast<char>('a' + i % 26)));
      produced_ += kBigPiece;
      // The client counts raw bytes (head and chunk framing too) and may
      // have read this piece before produced_ counted it: not ahead then.
      const size_t produced = produced_.load();
      const size_t received = received_.load();
      const size_t ahead = produced > received ? produced - received : 0;
      max_ahead_ = std::max(max_ahead_.load(), ahead);
      ++i;
    }
    stream.Finish();
  }

  void ProduceForever(ResponseStream& stream) {
    WritableSignal signal;
    const absl::Time deadline = absl::Now() + kDeadline;
    while (!stream.closed() && absl::Now() < deadline) {
      if (stream.is_full()) {
        signal.Arm(stream);
        signal.Wait(absl::Milliseconds(100));
        continue;
      }
      if (!stream.Write(std::string(16 * 1024, 'f'))) break;
    }
    producer_saw_close_ = stream.closed();
  }

  std::mutex producers_mutex_;
  std::vector<std::thread> producers_;
  std::atomic<size_t> produced_{0};
  std::atomic<size_t> received_{0};
  std::atomic<size_t> max_ahead_{0};
  std::atomic<size_t> peak_output_{0};
  std::atomic<size_t> accepted_before_full_{0};
  std::atomic<bool> producer_saw_close_{false};
  testing::Notification client_gone_;
  // Last, so destroyed first: its loops stop before what their tasks use.
  std::unique_ptr<Server> server_;
};

TEST_F(HttpStreamTest, Http11BodyIsChunkedWithTrailers) {
  auto client = TestClient::Connect(server_->port());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client
                  ->SendAll("GET /pieces HTTP/1.1\r\nHost: t\r\n"
                            "Connection: close\r\n\r\n")
                  .ok());
  auto raw = client->ReceiveUntilClose(kDeadline);
  ASSERT_TRUE(raw.ok()) << raw.status();
  auto [head, body] = SplitHead(*raw);
  EXPECT_TRUE(absl::StartsWith(head, "HTTP/1.1 200 OK\r\n")) << head;
  EXPECT_TRUE(absl::StrContains(head, "Transfer-Encoding: chunked\r\n"));
  EXPECT_FALSE(absl::StrContains(head, "Content-Length"));
  EXPECT_TRUE(absl::StrContains(head, "Content-Type: text/plain\r\n"));
  Decoded decoded;
  absl::string_view rest;
  ASSERT_TRUE(DecodeChunked(body, decoded, &rest)) << body;
  EXPECT_EQ(decoded.body, kPiecesBody);
  EXPECT_EQ(decoded.chunks, 5u);
  EXPECT_EQ(decoded.trailers, "X-Checksum: five\r\n");
  EXPECT_TRUE(rest.empty());
}

TEST_F(HttpStreamTest, CurlDecodesTheChunkedBody) {
  if (!testing::HaveTool("curl")) GTEST_SKIP() << "curl is not installed";
  testing::CommandResult result = testing::RunCommand(
      absl::StrCat("curl -sS http://127.0.0.1:", server_->port(), "/pieces"),
      kDeadline, testing::Output::kStdout);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.output, kPiecesBody);
}

TEST_F(HttpStreamTest, Http10BodyEndsWithTheConnection) {
  auto client = TestClient::Connect(server_->port());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client->SendAll("GET /pieces HTTP/1.0\r\n\r\n").ok());
  auto raw = client->ReceiveUntilClose(kDeadline);
  ASSERT_TRUE(raw.ok()) << raw.status();
  auto [head, body] = SplitHead(*raw);
  EXPECT_TRUE(absl::StrContains(head, "Connection: close\r\n")) << head;
  EXPECT_FALSE(absl::StrContains(head, "Transfer-Encoding"));
  EXPECT_FALSE(absl::StrContains(head, "Content-Length"));
  EXPECT_EQ(body, kPiecesBody);
}

TEST_F(HttpStreamTest, PipelinedRequestIsAnsweredAfterTheStreamEnds) {
  auto client = TestClient::Connect(server_->port());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client
                  ->SendAll("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"
                            "GET /hello HTTP/1.1\r\nHost: t\r\n"
                            "Connection: close\r\n\r\n")
                  .ok());
  auto raw = client->ReceiveUntilClose(kDeadline);
  ASSERT_TRUE(raw.ok()) << raw.status();
  auto [head, after_head] = SplitHead(*raw);
  EXPECT_TRUE(absl::StrContains(head, "Transfer-Encoding: chunked")) << head;
  Decoded decoded;
  absl::string_view rest;
  ASSERT_TRUE(DecodeChunked(after_head, decoded, &rest)) << after_head;
  EXPECT_EQ(decoded.body, "slow 0\nslow 1\nslow 2\n");
  EXPECT_TRUE(absl::StartsWith(rest, "HTTP/1.1 200 OK\r\n")) << rest;
  EXPECT_TRUE(absl::EndsWith(rest, "\r\n\r\nhello\n")) << rest;
}

TEST_F(HttpStreamTest, HeadGetsTheHeadAloneAndTheConnectionGoesOn) {
  auto client = TestClient::Connect(server_->port());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client
                  ->SendAll("HEAD /pieces HTTP/1.1\r\nHost: t\r\n\r\n"
                            "GET /hello HTTP/1.1\r\nHost: t\r\n"
                            "Connection: close\r\n\r\n")
                  .ok());
  auto raw = client->ReceiveUntilClose(kDeadline);
  ASSERT_TRUE(raw.ok()) << raw.status();
  auto [head, rest] = SplitHead(*raw);
  EXPECT_TRUE(absl::StrContains(head, "Transfer-Encoding: chunked")) << head;
  EXPECT_TRUE(absl::StartsWith(rest, "HTTP/1.1 200 OK\r\n")) << rest;
  EXPECT_TRUE(absl::EndsWith(rest, "\r\n\r\nhello\n")) << rest;
}

TEST_F(HttpStreamTest, DroppedStreamClosesWithoutTheLastChunk) {
  auto client = TestClient::Connect(server_->port());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client->SendAll("GET /dropped HTTP/1.1\r\nHost: t\r\n\r\n").ok());
  auto raw = client->ReceiveUntilClose(kDeadline);
  ASSERT_TRUE(raw.ok()) << raw.status();
  auto [head, body] = SplitHead(*raw);
  EXPECT_TRUE(absl::StrContains(head, "Transfer-Encoding: chunked")) << head;
  EXPECT_EQ(body, "1b\r\nthe start, and then nothing\r\n");
  Decoded decoded;
  EXPECT_FALSE(DecodeChunked(body, decoded));
}

TEST_F(HttpStreamTest, SlowReaderHoldsTheProducerNearTheHighWaterMark) {
  auto client = TestClient::Connect(server_->port());
  ASSERT_TRUE(client.ok());
  const int small = 64 * 1024;
  setsockopt(client->fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  ASSERT_TRUE(client
                  ->SendAll("GET /big HTTP/1.1\r\nHost: t\r\n"
                            "Connection: close\r\n\r\n")
                  .ok());
  std::string raw;
  const absl::Time deadline = absl::Now() + 2 * kDeadline;
  while (absl::Now() < deadline) {
    auto some = client->ReceiveSome(kDeadline);
    ASSERT_TRUE(some.ok()) << some.status();
    if (some->empty()) break;
    raw += *some;
    received_ = raw.size();
    absl::SleepFor(absl::Microseconds(500));
  }
  auto [head, body] = SplitHead(raw);
  Decoded decoded;
  ASSERT_TRUE(DecodeChunked(body, decoded)) << head;
  ASSERT_EQ(decoded.body.size(), kBigTotal);
  for (size_t i = 0; i < kBigTotal / kBigPiece; ++i) {
    ASSERT_EQ(decoded.body[i * kBigPiece], 'a' + i % 26) << i;
    ASSERT_EQ(decoded.body[(i + 1) * kBigPiece - 1], 'a' + i % 26) << i;
  }
  // The output holds at most the mark, plus what was on its way when it
  // was crossed (half the mark), plus a piece or two and their framing.
  EXPECT_LE(peak_output_.load(), kHighWater * 3 / 2 + 3 * kBigPiece);
  // Beyond that only the kernel's socket buffers hold what the client has
  // not read yet: far less than the 64 MiB an unheld producer gets ahead.
  EXPECT_LT(max_ahead_.load(), size_t{24} << 20);
}

TEST_F(HttpStreamTest, AProducerAheadOfTheHeadIsHeldByTheConnectionsMark) {
  auto client = TestClient::Connect(server_->port());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client
                  ->SendAll("GET /eager HTTP/1.1\r\nHost: t\r\n"
                            "Connection: close\r\n\r\n")
                  .ok());
  auto raw = client->ReceiveUntilClose(kDeadline);
  ASSERT_TRUE(raw.ok()) << raw.status();
  auto [head, body] = SplitHead(*raw);
  Decoded decoded;
  ASSERT_TRUE(DecodeChunked(body, decoded)) << head;
  EXPECT_EQ(decoded.body.size(), accepted_before_full_.load());
  // Half this connection's mark may wait in flight, plus the piece that
  // crossed it; not half of the default (4 MiB) mark.
  EXPECT_GT(accepted_before_full_.load(), 0u);
  EXPECT_LE(accepted_before_full_.load(), kHighWater / 2 + kBigPiece);
}

TEST_F(HttpStreamTest, ProducerLearnsThatTheClientLeft) {
  auto client = TestClient::Connect(server_->port());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client->SendAll("GET /forever HTTP/1.1\r\nHost: t\r\n\r\n").ok());
  auto some = client->ReceiveSome(kDeadline);
  ASSERT_TRUE(some.ok()) << some.status();
  client->Close();
  ASSERT_TRUE(client_gone_.WaitForNotificationWithTimeout(kDeadline));
  ASSERT_TRUE(testing::Eventually([&] {
    std::lock_guard lock(producers_mutex_);
    return !producers_.empty();
  }));
  {
    std::lock_guard lock(producers_mutex_);
    for (std::thread& producer : producers_) producer.join();
    producers_.clear();
  }
  EXPECT_TRUE(producer_saw_close_);
}

}  // namespace
}  // namespace eddy::http
