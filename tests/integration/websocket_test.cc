// WebSocket over real sockets: the handshake through the router, echo of
// text and binary messages, ping/pong, both close handshakes, protocol
// errors closing with their codes, idle pings, sends from other threads and
// a slow reader holding its sender.
#include "eddy/http/websocket.h"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "eddy/http/http_protocol.h"
#include "eddy/http/router.h"
#include "eddy/net/connection.h"
#include "eddy/net/server.h"
#include "gtest/gtest.h"
#include "tests/support/notification.h"
#include "tests/support/server_testing.h"
#include "tests/support/test_client.h"

namespace eddy::http {
namespace {

using ::eddy::testing::TestClient;
using Type = WebSocketReader::EventType;

constexpr absl::Duration kDeadline = absl::Seconds(60);
constexpr size_t kHighWater = 256 * 1024;

// A frame as a client sends it (masked).
std::string ClientFrame(WebSocketOpcode opcode, absl::string_view payload,
                        bool masked = true) {
  std::string frame;
  AppendWebSocketFrameHeader(opcode, /*fin=*/true, payload.size(), frame);
  if (!masked) return frame + std::string(payload);
  frame[1] = static_cast<char>(frame[1] | 0x80);
  const char mask[4] = {'\x0F', '\x1E', '\x2D', '\x3C'};
  frame.append(mask, 4);
  for (size_t i = 0; i < payload.size(); ++i) {
    frame.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
  }
  return frame;
}

std::string Handshake(absl::string_view path, absl::string_view extra = "") {
  return absl::StrCat("GET ", path,
                      " HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
                      "Connection: keep-alive, Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n",
                      extra, "\r\n");
}

// The client's end: reads the 101 head, then server frames.
class WebSocketClient {
 public:
  explicit WebSocketClient(TestClient client) : client_(std::move(client)) {}

  // Sends `request` (and `more`) and returns the response head.
  absl::StatusOr<std::string> Open(absl::string_view request,
                                   absl::string_view more = "") {
    absl::Status sent = client_.SendAll(absl::StrCat(request, more));
    if (!sent.ok()) return sent;
    absl::StatusOr<std::string> head = client_.ReceiveUntil("\r\n\r\n");
    if (!head.ok()) return head;
    const size_t end = head->find("\r\n\r\n") + 4;
    held_ = head->substr(end);
    return head->substr(0, end);
  }

  absl::Status Send(absl::string_view bytes) { return client_.SendAll(bytes); }

  // The next frame's event from the server; kNeedMore at EOF.
  WebSocketReader::Event Next() {
    while (true) {
      size_t consumed = 0;
      WebSocketReader::Event event = reader_.Next(held_, consumed);
      held_.erase(0, consumed);
      if (event.type != Type::kNeedMore) return event;
      absl::StatusOr<std::string> some = client_.ReceiveSome(kDeadline);
      if (!some.ok() || some->empty()) return event;
      held_ += *some;
    }
  }

  bool WaitForClose() { return client_.WaitForClose(kDeadline); }
  TestClient& raw() { return client_; }

 private:
  TestClient client_;
  WebSocketReader reader_{
      {.max_message_bytes = 64 << 20, .expect_masked = false}};
  std::string held_;
};

struct Record {
  std::mutex mutex;
  int close_code = 0;
  std::string close_reason;
  testing::Notification closed;
  std::atomic<size_t> peak_output{0};
  std::atomic<bool> saw_full{false};
};

// Echoes every message; a few texts are commands.
class EchoSocket final : public WebSocketHandler {
 public:
  EchoSocket(Record& record, std::vector<std::thread>& threads,
             std::mutex& threads_mutex)
      : record_(record), threads_(threads), threads_mutex_(threads_mutex) {}

  void OnMessage(WebSocketSession& session, WebSocketMessageType type,
                 std::string data) override {
    if (type == WebSocketMessageType::kText && data == "close-me") {
      session.Close(4000, "asked");
      return;
    }
    if (type == WebSocketMessageType::kText && data == "from-thread") {
      std::lock_guard lock(threads_mutex_);
      threads_.emplace_back(
          [ref = session.ref()] { ref.SendText("hello from a thread"); });
      return;
    }
    if (type == WebSocketMessageType::kText && data == "subprotocol") {
      session.SendText(absl::StrCat("subprotocol=", session.subprotocol()));
      return;
    }
    if (type == WebSocketMessageType::kText) {
      session.SendText(std::move(data));
    } else {
      session.SendBinary(std::move(data));
    }
    const size_t output = session.connection().output_bytes();
    if (output > record_.peak_output) record_.peak_output = output;
    if (session.is_full()) record_.saw_full = true;
  }

  void OnClose(WebSocketSession&, int code, absl::string_view reason) override {
    {
      std::lock_guard lock(record_.mutex);
      record_.close_code = code;
      record_.close_reason = std::string(reason);
    }
    record_.closed.Notify();
  }

 private:
  Record& record_;
  std::vector<std::thread>& threads_;
  std::mutex& threads_mutex_;
};

class WebSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto router = std::make_shared<Router>();
    auto factory = [this](const Request&) {
      return std::make_unique<EchoSocket>(record_, threads_, threads_mutex_);
    };
    WebSocketOptions options;
    options.subprotocols = {"chat", "superchat"};
    options.max_message_bytes = 1 << 20;
    options.ping_interval = absl::InfiniteDuration();
    router->Handle("GET", "/ws", WebSocketRoute(factory, options));
    WebSocketOptions pinging = options;
    pinging.ping_interval = absl::Milliseconds(50);
    router->Handle("GET", "/pinging", WebSocketRoute(factory, pinging));
    router->Handle("GET", "/refuse", WebSocketRoute([](const Request&) {
                     return std::unique_ptr<WebSocketHandler>();
                   }));
    router_ = std::move(router);
    StartServer(absl::InfiniteDuration());
  }

  // (Re)starts the server on the routes above, with `max_age` for its
  // connections.
  void StartServer(absl::Duration max_age) {
    if (server_ != nullptr) server_->Stop();
    ServerOptions server_options = testing::LoopbackServerOptions(1);
    server_options.connection.high_water_mark = kHighWater;
    server_options.connection.low_water_mark = kHighWater / 4;
    server_options.connection.max_age = max_age;
    server_ = std::make_unique<Server>(
        server_options, std::make_unique<HttpProtocol>(router_, HttpOptions()));
    ASSERT_TRUE(server_->Start().ok());
  }

  void TearDown() override {
    std::lock_guard lock(threads_mutex_);
    for (std::thread& thread : threads_) thread.join();
  }

  WebSocketClient Connect() {
    auto client = TestClient::Connect(server_->port());
    EXPECT_TRUE(client.ok());
    return WebSocketClient(std::move(*client));
  }

  // The whole response to a request that must not switch.
  std::string Refused(absl::string_view request) {
    auto client = TestClient::Connect(server_->port());
    EXPECT_TRUE(client.ok());
    EXPECT_TRUE(client->SendAll(request).ok());
    auto head = client->ReceiveUntil("\r\n\r\n", kDeadline);
    return head.ok() ? *head : head.status().ToString();
  }

  int CloseCode() {
    EXPECT_TRUE(record_.closed.WaitForNotificationWithTimeout(kDeadline));
    std::lock_guard lock(record_.mutex);
    return record_.close_code;
  }

  Record record_;
  std::shared_ptr<Router> router_;
  std::mutex threads_mutex_;
  std::vector<std::thread> threads_;
  std::unique_ptr<Server> server_;
};

TEST_F(WebSocketTest, HandshakeSwitchesAndTheFrameSentWithItIsEchoed) {
  WebSocketClient ws = Connect();
  auto head = ws.Open(Handshake("/ws"),
                      ClientFrame(WebSocketOpcode::kText, "same packet"));
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_TRUE(absl::StartsWith(*head, "HTTP/1.1 101 Switching Protocols\r\n"))
      << *head;
  EXPECT_TRUE(absl::StrContains(*head, "Upgrade: websocket\r\n"));
  EXPECT_TRUE(absl::StrContains(*head, "Connection: Upgrade\r\n"));
  EXPECT_TRUE(absl::StrContains(
      *head, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
  EXPECT_FALSE(absl::StrContains(*head, "Sec-WebSocket-Protocol"));
  WebSocketReader::Event echo = ws.Next();
  EXPECT_EQ(echo.type, Type::kText);
  EXPECT_EQ(echo.payload, "same packet");

  const std::string binary = testing::RandomBytes(100000, 3);
  ASSERT_TRUE(ws.Send(ClientFrame(WebSocketOpcode::kBinary, binary)).ok());
  WebSocketReader::Event binary_echo = ws.Next();
  EXPECT_EQ(binary_echo.type, Type::kBinary);
  EXPECT_TRUE(binary_echo.payload == binary);
}

TEST_F(WebSocketTest, BadHandshakesAreRefused) {
  EXPECT_TRUE(absl::StartsWith(Refused("GET /ws HTTP/1.1\r\nHost: t\r\n\r\n"),
                               "HTTP/1.1 400"));
  std::string no_key = Handshake("/ws");
  no_key.erase(
      no_key.find("Sec-WebSocket-Key"),
      no_key.find("Sec-WebSocket-Version") - no_key.find("Sec-WebSocket-Key"));
  EXPECT_TRUE(absl::StartsWith(Refused(no_key), "HTTP/1.1 400"));
  std::string short_key = Handshake("/ws");
  short_key.replace(short_key.find("dGhl"), 24, "c2hvcnQ=");
  EXPECT_TRUE(absl::StartsWith(Refused(short_key), "HTTP/1.1 400"));
  std::string old = Handshake("/ws");
  old.replace(old.find("HTTP/1.1"), 8, "HTTP/1.0");
  EXPECT_TRUE(absl::StartsWith(Refused(old), "HTTP/1.1 400"));
  std::string version8 = Handshake("/ws");
  version8.replace(version8.find("Version: 13"), 11, "Version: 8");
  const std::string upgrade_required = Refused(version8);
  EXPECT_TRUE(
      absl::StartsWith(upgrade_required, "HTTP/1.1 426 Upgrade Required"))
      << upgrade_required;
  EXPECT_TRUE(
      absl::StrContains(upgrade_required, "Sec-WebSocket-Version: 13\r\n"));
  EXPECT_TRUE(absl::StartsWith(Refused(Handshake("/refuse")), "HTTP/1.1 403"));
}

TEST_F(WebSocketTest, FirstOfferedSubprotocolTheServerSpeaksIsChosen) {
  WebSocketClient ws = Connect();
  auto head = ws.Open(Handshake("/ws",
                                "Sec-WebSocket-Protocol: v9, superchat\r\n"
                                "Sec-WebSocket-Protocol: chat\r\n"));
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_TRUE(absl::StrContains(*head, "Sec-WebSocket-Protocol: superchat\r\n"))
      << *head;
  ASSERT_TRUE(ws.Send(ClientFrame(WebSocketOpcode::kText, "subprotocol")).ok());
  EXPECT_EQ(ws.Next().payload, "subprotocol=superchat");
}

TEST_F(WebSocketTest, PingIsAnsweredWithPong) {
  WebSocketClient ws = Connect();
  ASSERT_TRUE(ws.Open(Handshake("/ws")).ok());
  ASSERT_TRUE(
      ws.Send(ClientFrame(WebSocketOpcode::kPing, "are you there")).ok());
  WebSocketReader::Event pong = ws.Next();
  EXPECT_EQ(pong.type, Type::kPong);
  EXPECT_EQ(pong.payload, "are you there");
}

TEST_F(WebSocketTest, ClientCloseIsEchoedAndTheServerCloses) {
  WebSocketClient ws = Connect();
  ASSERT_TRUE(ws.Open(Handshake("/ws")).ok());
  ASSERT_TRUE(ws.Send(ClientFrame(WebSocketOpcode::kClose,
                                  WebSocketClosePayload(4321, "bye")))
                  .ok());
  WebSocketReader::Event close = ws.Next();
  EXPECT_EQ(close.type, Type::kClose);
  EXPECT_EQ(close.code, 4321);
  EXPECT_TRUE(ws.WaitForClose());
  EXPECT_EQ(CloseCode(), 4321);
  std::lock_guard lock(record_.mutex);
  EXPECT_EQ(record_.close_reason, "bye");
}

TEST_F(WebSocketTest, ServerCloseWaitsForTheClientsAnswer) {
  WebSocketClient ws = Connect();
  ASSERT_TRUE(ws.Open(Handshake("/ws")).ok());
  ASSERT_TRUE(ws.Send(ClientFrame(WebSocketOpcode::kText, "close-me")).ok());
  WebSocketReader::Event close = ws.Next();
  EXPECT_EQ(close.type, Type::kClose);
  EXPECT_EQ(close.code, 4000);
  EXPECT_EQ(close.payload, "asked");
  ASSERT_TRUE(ws.Send(ClientFrame(WebSocketOpcode::kClose,
                                  WebSocketClosePayload(4000, "")))
                  .ok());
  EXPECT_TRUE(ws.WaitForClose());
  EXPECT_EQ(CloseCode(), 4000);
}

TEST_F(WebSocketTest, UnmaskedFrameClosesWith1002) {
  WebSocketClient ws = Connect();
  ASSERT_TRUE(ws.Open(Handshake("/ws")).ok());
  ASSERT_TRUE(
      ws.Send(ClientFrame(WebSocketOpcode::kText, "bare", /*masked=*/false))
          .ok());
  WebSocketReader::Event close = ws.Next();
  EXPECT_EQ(close.type, Type::kClose);
  EXPECT_EQ(close.code, 1002);
  EXPECT_TRUE(ws.WaitForClose());
  EXPECT_EQ(CloseCode(), 1002);
}

TEST_F(WebSocketTest, InvalidUtf8ClosesWith1007) {
  WebSocketClient ws = Connect();
  ASSERT_TRUE(ws.Open(Handshake("/ws")).ok());
  ASSERT_TRUE(ws.Send(ClientFrame(WebSocketOpcode::kText, "\xFF")).ok());
  EXPECT_EQ(ws.Next().code, 1007);
  EXPECT_TRUE(ws.WaitForClose());
}

TEST_F(WebSocketTest, OversizedMessageClosesWith1009) {
  WebSocketClient ws = Connect();
  ASSERT_TRUE(ws.Open(Handshake("/ws")).ok());
  // Only the header of a 2 MiB frame: refused before its payload.
  std::string header = ClientFrame(WebSocketOpcode::kBinary, "");
  header.resize(1);
  header.push_back(static_cast<char>(0x80 | 127));
  for (int shift = 56; shift >= 0; shift -= 8) {
    header.push_back(static_cast<char>(uint64_t{2 << 20} >> shift));
  }
  header.append("abcd");
  ASSERT_TRUE(ws.Send(header).ok());
  EXPECT_EQ(ws.Next().code, 1009);
  EXPECT_TRUE(ws.WaitForClose());
  EXPECT_EQ(CloseCode(), 1009);
}

TEST_F(WebSocketTest, AnotherThreadSendsThroughTheRef) {
  WebSocketClient ws = Connect();
  ASSERT_TRUE(ws.Open(Handshake("/ws")).ok());
  ASSERT_TRUE(ws.Send(ClientFrame(WebSocketOpcode::kText, "from-thread")).ok());
  WebSocketReader::Event message = ws.Next();
  EXPECT_EQ(message.type, Type::kText);
  EXPECT_EQ(message.payload, "hello from a thread");
}

TEST_F(WebSocketTest, SilentPeerIsPingedThenClosedWith1001) {
  WebSocketClient ws = Connect();
  ASSERT_TRUE(ws.Open(Handshake("/pinging")).ok());
  EXPECT_EQ(ws.Next().type, Type::kPing);
  WebSocketReader::Event close = ws.Next();
  EXPECT_EQ(close.type, Type::kClose);
  EXPECT_EQ(close.code, 1001);
  EXPECT_TRUE(ws.WaitForClose());
}

// A draining server (or an old connection) wants the client elsewhere: the
// session ends with 1001 Going Away, while an echo before it was served.
void ExpectGoingAway(WebSocketClient& ws, absl::string_view reason) {
  WebSocketReader::Event close = ws.Next();
  EXPECT_EQ(close.type, Type::kClose);
  EXPECT_EQ(close.code, 1001);
  EXPECT_EQ(close.payload, reason);
  EXPECT_TRUE(ws.WaitForClose());
}

TEST_F(WebSocketTest, DrainClosesAnOpenSessionWith1001) {
  WebSocketClient ws = Connect();
  ASSERT_TRUE(ws.Open(Handshake("/ws")).ok());
  ASSERT_TRUE(ws.Send(ClientFrame(WebSocketOpcode::kText, "before")).ok());
  EXPECT_EQ(ws.Next().payload, "before");
  server_->Drain();
  ExpectGoingAway(ws, "server draining");
  EXPECT_EQ(CloseCode(), 1001);
}

TEST_F(WebSocketTest, MaxAgeClosesASessionWith1001) {
  // Long enough that the upgrade comes first even on a busy machine: the
  // age counts from the accept.
  StartServer(absl::Seconds(2));
  WebSocketClient ws = Connect();
  ASSERT_TRUE(ws.Open(Handshake("/ws")).ok());
  ASSERT_TRUE(ws.Send(ClientFrame(WebSocketOpcode::kText, "young")).ok());
  EXPECT_EQ(ws.Next().payload, "young");
  ExpectGoingAway(ws, "connection max age");
  EXPECT_EQ(CloseCode(), 1001);
}

TEST_F(WebSocketTest, SlowReaderHoldsItsSender) {
  WebSocketClient ws = Connect();
  const int small = 64 * 1024;
  setsockopt(ws.raw().fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  ASSERT_TRUE(ws.Open(Handshake("/ws")).ok());
  constexpr size_t kMessage = 64 * 1024;
  constexpr int kMessages = 256;  // 16 MiB
  std::string frames;
  for (int i = 0; i < kMessages; ++i) {
    frames +=
        ClientFrame(WebSocketOpcode::kBinary,
                    std::string(kMessage, static_cast<char>('a' + i % 26)));
  }
  // The client sends everything before reading anything: the server's
  // output fills, it stops reading, and the send blocks until we read.
  absl::Status sent;
  std::thread sender([&] { sent = ws.Send(frames); });
  const bool held =
      testing::Eventually([&] { return record_.saw_full.load(); });
  for (int i = 0; i < kMessages; ++i) {
    WebSocketReader::Event echo = ws.Next();
    ASSERT_EQ(echo.type, Type::kBinary) << i;
    ASSERT_EQ(echo.payload.size(), kMessage);
    ASSERT_EQ(echo.payload[0], 'a' + i % 26);
  }
  sender.join();
  EXPECT_TRUE(sent.ok()) << sent;
  EXPECT_TRUE(held);
  // Echoing stopped at the mark: at most one more message went out.
  EXPECT_LE(record_.peak_output.load(), kHighWater + 2 * (kMessage + 14));
}

}  // namespace
}  // namespace eddy::http
