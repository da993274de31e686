// TLS inside the connection (net/tls_context.h, ServerOptions::tls,
// ConnectOptions::tls, Connection::StartTls): eddy's own client against
// eddy's server, a raw client that controls the bytes, hostile clients, and
// reloads. Real tools (curl, openssl s_client, Python) are in
// tls_tools_test.cc.
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
#include "eddy/core/metrics.h"
#include "eddy/core/prometheus_text.h"
#include "eddy/net/connector.h"
#include "eddy/net/echo.h"
#include "eddy/net/server.h"
#include "eddy/net/tls_context.h"
#include "eddy/net/worker_group.h"
#include "gtest/gtest.h"
#include "tests/support/certificates_fixture.h"
#include "tests/support/notification.h"
#include "tests/support/server_testing.h"
#include "tests/support/test_certificates.h"
#include "tests/support/test_client.h"
#include "tests/support/tls_test_client.h"

namespace eddy {
namespace {

using ::eddy::testing::Eventually;
using ::eddy::testing::kTestDeadline;
using ::eddy::testing::LoopbackServerOptions;
using ::eddy::testing::Notification;
using ::eddy::testing::TestClient;
using ::eddy::testing::TlsTestClient;

class TlsTest : public eddy::testing::WithTestCertificates {
 protected:
  TlsServerOptions ServerTls() const {
    TlsServerOptions tls = WithTestCertificates::ServerTls();
    tls.alpn = {"eddy-test"};
    return tls;
  }

  std::shared_ptr<const TlsContext> ClientContext(
      const std::string& ca, bool with_client_certificate = false) const {
    TlsClientOptions options;
    options.ca_file = ca;
    options.server_name = "localhost";
    options.alpn = {"eddy-test"};
    if (with_client_certificate) {
      options.certificate_chain_file = certs_.client_cert;
      options.private_key_file = certs_.client_key;
    }
    absl::StatusOr<std::shared_ptr<const TlsContext>> context =
        TlsContext::ForClient(options);
    EXPECT_TRUE(context.ok()) << context.status();
    return context.ok() ? *context : nullptr;
  }

  std::unique_ptr<Server> StartServer(
      TlsServerOptions tls,
      std::unique_ptr<ProtocolFactory> factory = MakeEchoFactory(),
      size_t workers = 1, ConnectionOptions connection = {}) {
    ServerOptions options = LoopbackServerOptions(workers);
    options.tls = std::move(tls);
    options.connection = connection;
    auto server = std::make_unique<Server>(options, std::move(factory));
    absl::Status started = server->Start();
    EXPECT_TRUE(started.ok()) << started;
    return started.ok() ? std::move(server) : nullptr;
  }

  SocketAddress Address(const Server& server) const {
    absl::StatusOr<SocketAddress> address =
        SocketAddress::Parse("127.0.0.1", server.port());
    return address.ok() ? *address : SocketAddress();
  }

  TlsTestClient::Options RawClientOptions(size_t split = 0) const {
    TlsTestClient::Options options;
    options.ca_file = certs_.ca;
    options.split = split;
    return options;
  }

  uint64_t Failures(const Server& server, TlsFailure kind) const {
    return server.total_stats().tls_failures[static_cast<size_t>(kind)];
  }
};

// A client handler that sends `payload` as fast as its water marks allow,
// half-closes, and collects what comes back until the server closes.
class StreamingClient final : public Handler {
 public:
  struct Result {
    std::mutex mutex;
    std::string received;
    TlsInfo info;
    bool opened = false;
    bool closed = false;
    Notification done;
  };

  StreamingClient(std::string payload, std::vector<size_t> pieces,
                  Result& result)
      : payload_(std::move(payload)),
        pieces_(std::move(pieces)),
        result_(result) {}

  void OnOpen(Connection& conn) override {
    {
      std::lock_guard<std::mutex> lock(result_.mutex);
      result_.opened = true;
      if (conn.tls() != nullptr) result_.info = *conn.tls();
    }
    SendMore(conn);
  }
  void OnDrained(Connection& conn) override { SendMore(conn); }
  void OnData(Connection& conn, Buffer& input) override {
    std::lock_guard<std::mutex> lock(result_.mutex);
    result_.received.append(input.data(), input.readable_bytes());
    input.ConsumeAll();
  }
  void OnInputEnd(Connection& conn) override { conn.Close(); }
  void OnClose(Connection& conn, CloseReason reason) override {
    {
      std::lock_guard<std::mutex> lock(result_.mutex);
      result_.closed = true;
    }
    result_.done.Notify();
  }

 private:
  void SendMore(Connection& conn) {
    // Pieces of the given sizes, several per turn: pipelined messages that
    // leave in one write.
    while (sent_ < payload_.size() && !conn.output_full()) {
      const size_t size = pieces_[next_piece_++ % pieces_.size()];
      const size_t n = std::min(size, payload_.size() - sent_);
      conn.Send(absl::string_view(payload_).substr(sent_, n));
      sent_ += n;
    }
    if (sent_ == payload_.size()) conn.ShutdownWrite();
  }

  const std::string payload_;
  const std::vector<size_t> pieces_;
  Result& result_;
  size_t sent_ = 0;
  size_t next_piece_ = 0;
};

// Runs one StreamingClient against `server` and returns what it received.
std::string EchoThroughConnect(const SocketAddress& address,
                               std::shared_ptr<const TlsContext> client_tls,
                               const std::string& payload,
                               std::vector<size_t> pieces, TlsInfo* info) {
  WorkerGroup client(eddy::testing::ClientGroupOptions(1));
  EXPECT_TRUE(client.Start().ok());
  StreamingClient::Result result;
  absl::Status failure;
  ConnectOptions options;
  options.tls = std::move(client_tls);
  Connect(
      client.worker(0), address, options,
      [&] {
        return std::make_unique<StreamingClient>(payload, pieces, result);
      },
      [&](absl::Status status) {
        {
          std::lock_guard<std::mutex> lock(result.mutex);
          failure = status;
        }
        result.done.Notify();
      });
  EXPECT_TRUE(result.done.WaitForNotificationWithTimeout(kTestDeadline));
  // The connection closes on its own loop; wait for the close itself.
  EXPECT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(result.mutex);
    return result.closed || !failure.ok();
  }));
  client.Stop();
  std::lock_guard<std::mutex> lock(result.mutex);
  EXPECT_TRUE(failure.ok()) << failure;
  if (info != nullptr) *info = result.info;
  return result.received;
}

TEST_F(TlsTest, EchoesPipelinedMessagesAndReportsWhatWasNegotiated) {
  // The server's handler sees the negotiated parameters in OnOpen.
  struct Seen {
    std::mutex mutex;
    TlsInfo info;
  } seen;
  class RecordingEcho final : public Handler {
   public:
    explicit RecordingEcho(Seen& seen) : seen_(seen) {}
    void OnOpen(Connection& conn) override {
      std::lock_guard<std::mutex> lock(seen_.mutex);
      if (conn.tls() != nullptr) seen_.info = *conn.tls();
    }
    void OnData(Connection& conn, Buffer& input) override {
      conn.Send(std::move(input));
    }

   private:
    Seen& seen_;
  };
  std::unique_ptr<Server> server =
      StartServer(ServerTls(), MakeProtocolFactory([&seen](Connection&) {
                    return std::make_unique<RecordingEcho>(seen);
                  }));
  ASSERT_NE(server, nullptr);
  const std::string payload = eddy::testing::RandomBytes(100000, 1);
  TlsInfo client_info;
  EXPECT_EQ(EchoThroughConnect(Address(*server), ClientContext(certs_.ca),
                               payload, {7, 100, 3000}, &client_info),
            payload);
  EXPECT_EQ(client_info.version, "TLSv1.3");
  EXPECT_EQ(client_info.alpn, "eddy-test");
  EXPECT_FALSE(client_info.cipher.empty());
  EXPECT_TRUE(absl::StrContains(client_info.peer_subject, "CN=localhost"))
      << client_info.peer_subject;
  std::lock_guard<std::mutex> lock(seen.mutex);
  EXPECT_EQ(seen.info.version, "TLSv1.3");
  EXPECT_EQ(seen.info.alpn, "eddy-test");
  EXPECT_TRUE(seen.info.peer_subject.empty());
}

TEST_F(TlsTest, EchoesEightMebibytesUnderBackpressureThenHalfCloses) {
  ConnectionOptions small_marks;
  small_marks.high_water_mark = 256 * 1024;
  small_marks.low_water_mark = 64 * 1024;
  std::unique_ptr<Server> server =
      StartServer(ServerTls(), MakeEchoFactory(), 1, small_marks);
  ASSERT_NE(server, nullptr);
  const std::string payload = eddy::testing::RandomBytes(8 << 20, 2);
  const std::string echoed = EchoThroughConnect(
      Address(*server), ClientContext(certs_.ca), payload, {65536}, nullptr);
  EXPECT_EQ(echoed.size(), payload.size());
  EXPECT_TRUE(echoed == payload);
}

TEST_F(TlsTest, ConnectRefusesAWrongHostNameAndAnUnknownCa) {
  std::unique_ptr<Server> server = StartServer(ServerTls());
  ASSERT_NE(server, nullptr);
  WorkerGroup client(eddy::testing::ClientGroupOptions(1));
  ASSERT_TRUE(client.Start().ok());
  const auto attempt = [&](std::shared_ptr<const TlsContext> tls,
                           const std::string& name) {
    Notification done;
    absl::Status failure;
    std::atomic<bool> opened{false};
    class Opens final : public Handler {
     public:
      explicit Opens(std::atomic<bool>& opened) : opened_(opened) {}
      void OnOpen(Connection&) override { opened_ = true; }
      void OnData(Connection&, Buffer& input) override { input.ConsumeAll(); }

     private:
      std::atomic<bool>& opened_;
    };
    ConnectOptions options;
    options.tls = std::move(tls);
    options.tls_server_name = name;
    Connect(
        client.worker(0), Address(*server), options,
        [&] { return std::make_unique<Opens>(opened); },
        [&](absl::Status status) {
          failure = status;
          done.Notify();
        });
    EXPECT_TRUE(done.WaitForNotificationWithTimeout(kTestDeadline));
    EXPECT_FALSE(opened);
    return failure;
  };
  const absl::Status wrong_name =
      attempt(ClientContext(certs_.ca), "not-localhost.example");
  EXPECT_TRUE(absl::StrContains(wrong_name.message(),
                                "certificate verify failed: hostname mismatch"))
      << wrong_name;
  const absl::Status unknown_ca =
      attempt(ClientContext(certs_.other_ca), "localhost");
  EXPECT_TRUE(absl::StrContains(unknown_ca.message(),
                                "certificate verify failed: unable to get "
                                "local issuer certificate"))
      << unknown_ca;
  client.Stop();
}

TEST_F(TlsTest, ASecondConnectWithTheSameClientContextResumesItsSession) {
  // Two workers: the ticket key is shared, so either may take the second.
  std::unique_ptr<Server> server =
      StartServer(ServerTls(), MakeEchoFactory(), /*workers=*/2);
  ASSERT_NE(server, nullptr);
  const std::shared_ptr<const TlsContext> client_tls = ClientContext(certs_.ca);
  // The echo is read after the TLS 1.3 tickets, which the server sends at
  // the end of its handshake: the first connection saved one by its close.
  const std::string payload = "resume me";
  TlsInfo first;
  EXPECT_EQ(
      EchoThroughConnect(Address(*server), client_tls, payload, {9}, &first),
      payload);
  EXPECT_FALSE(first.resumed);
  for (int round = 0; round < 3; ++round) {
    TlsInfo next;
    EXPECT_EQ(
        EchoThroughConnect(Address(*server), client_tls, payload, {9}, &next),
        payload);
    EXPECT_TRUE(next.resumed) << "connection " << round + 2;
  }
  // Another context has no session to offer: a full handshake.
  TlsInfo fresh;
  EXPECT_EQ(EchoThroughConnect(Address(*server), ClientContext(certs_.ca),
                               payload, {9}, &fresh),
            payload);
  EXPECT_FALSE(fresh.resumed);
}

TEST_F(TlsTest, ASessionIsOfferedOnlyToTheNameItWasMadeFor) {
  std::unique_ptr<Server> server = StartServer(ServerTls());
  ASSERT_NE(server, nullptr);
  const std::shared_ptr<const TlsContext> client_tls = ClientContext(certs_.ca);
  TlsInfo first;
  EXPECT_EQ(EchoThroughConnect(Address(*server), client_tls, "x", {1}, &first),
            "x");
  // Same server, other name (its certificate has 127.0.0.1 too): nothing
  // saved under it, so the certificate is verified anew.
  WorkerGroup client(eddy::testing::ClientGroupOptions(1));
  ASSERT_TRUE(client.Start().ok());
  Notification done;
  std::mutex mutex;
  TlsInfo other;
  class Records final : public Handler {
   public:
    Records(std::mutex& mutex, TlsInfo& info, Notification& done)
        : mutex_(mutex), info_(info), done_(done) {}
    void OnOpen(Connection& conn) override {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        info_ = *conn.tls();
      }
      done_.Notify();
      conn.Close();
    }
    void OnData(Connection&, Buffer& input) override { input.ConsumeAll(); }

   private:
    std::mutex& mutex_;
    TlsInfo& info_;
    Notification& done_;
  };
  ConnectOptions options;
  options.tls = client_tls;
  options.tls_server_name = "127.0.0.1";
  Connect(
      client.worker(0), Address(*server), options,
      [&] { return std::make_unique<Records>(mutex, other, done); },
      [&](absl::Status status) {
        ADD_FAILURE() << status;
        done.Notify();
      });
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(kTestDeadline));
  client.Stop();
  std::lock_guard<std::mutex> lock(mutex);
  EXPECT_FALSE(other.resumed);
  EXPECT_TRUE(absl::StrContains(other.peer_subject, "CN=localhost"));
}

TEST_F(TlsTest, AClientHandshakeThatStallsFailsAtItsDeadline) {
  // A plain server that reads the client's hello and never answers.
  class Silent final : public Handler {
   public:
    void OnData(Connection&, Buffer& input) override { input.ConsumeAll(); }
  };
  auto server = std::make_unique<Server>(LoopbackServerOptions(1),
                                         MakeProtocolFactory([](Connection&) {
                                           return std::make_unique<Silent>();
                                         }));
  ASSERT_TRUE(server->Start().ok());
  TlsClientOptions tls;
  tls.ca_file = certs_.ca;
  tls.server_name = "localhost";
  tls.handshake_timeout = absl::Milliseconds(300);
  absl::StatusOr<std::shared_ptr<const TlsContext>> context =
      TlsContext::ForClient(tls);
  ASSERT_TRUE(context.ok()) << context.status();
  WorkerGroup client(eddy::testing::ClientGroupOptions(1));
  ASSERT_TRUE(client.Start().ok());
  Notification done;
  absl::Status failure;
  ConnectOptions options;
  options.tls = *context;
  Connect(
      client.worker(0), Address(*server), options,
      [] { return std::make_unique<Silent>(); },
      [&](absl::Status status) {
        failure = status;
        done.Notify();
      });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kTestDeadline));
  client.Stop();
  EXPECT_EQ(failure.code(), absl::StatusCode::kDeadlineExceeded) << failure;
  EXPECT_TRUE(absl::StrContains(failure.message(), "no TLS handshake within"))
      << failure;
}

TEST_F(TlsTest, MutualTlsAcceptsTheCasClientAndRefusesOneWithoutCertificate) {
  TlsServerOptions tls = ServerTls();
  tls.client_ca_file = certs_.ca;
  tls.client_certificates = ClientCertificates::kRequire;
  struct Seen {
    std::mutex mutex;
    std::string subject;
  } seen;
  class Subject final : public Handler {
   public:
    explicit Subject(Seen& seen) : seen_(seen) {}
    void OnOpen(Connection& conn) override {
      std::lock_guard<std::mutex> lock(seen_.mutex);
      seen_.subject = conn.tls()->peer_subject;
    }
    void OnData(Connection& conn, Buffer& input) override {
      conn.Send(std::move(input));
    }

   private:
    Seen& seen_;
  };
  std::unique_ptr<Server> server =
      StartServer(tls, MakeProtocolFactory([&seen](Connection&) {
                    return std::make_unique<Subject>(seen);
                  }));
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(EchoThroughConnect(Address(*server), ClientContext(certs_.ca, true),
                               "hello", {5}, nullptr),
            "hello");
  {
    std::lock_guard<std::mutex> lock(seen.mutex);
    EXPECT_TRUE(absl::StrContains(seen.subject, "CN=eddy-test-client"))
        << seen.subject;
  }
  // Without a certificate the server refuses the handshake. Under TLS 1.3
  // the client finishes its side first and learns of it on its first read.
  absl::StatusOr<TestClient> socket = TestClient::Connect(server->port());
  ASSERT_TRUE(socket.ok());
  absl::StatusOr<std::unique_ptr<TlsTestClient>> anonymous =
      TlsTestClient::Handshake(*std::move(socket), RawClientOptions());
  if (anonymous.ok()) {
    ASSERT_TRUE((*anonymous)->Write("hello").ok());
    EXPECT_FALSE((*anonymous)->ReadExactly(5).ok());
  }
  EXPECT_TRUE(Eventually([&] {
    return Failures(*server, TlsFailure::kPeerCertificateRejected) == 1;
  }));
}

TEST_F(TlsTest, RecordsSplitAtEveryByteAreReassembled) {
  std::unique_ptr<Server> server = StartServer(ServerTls());
  ASSERT_NE(server, nullptr);
  absl::StatusOr<std::unique_ptr<TlsTestClient>> client =
      TlsTestClient::Connect(server->port(), RawClientOptions(1));
  ASSERT_TRUE(client.ok()) << client.status();
  const std::string message = eddy::testing::RandomBytes(3000, 3);
  absl::StatusOr<std::string> echoed = (*client)->RoundTrip(message);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_TRUE(*echoed == message);
  // The client's close_notify ends the echo, which answers with its own.
  ASSERT_TRUE((*client)->SendCloseNotify().ok());
  EXPECT_TRUE((*client)->WaitForCloseNotify());
}

TEST_F(TlsTest, HandshakeSlowlorisIsClosedAtTheDeadlineWhileOthersAreServed) {
  TlsServerOptions tls = ServerTls();
  tls.handshake_timeout = absl::Seconds(1);
  std::unique_ptr<Server> server = StartServer(tls);
  ASSERT_NE(server, nullptr);
  absl::StatusOr<TestClient> slow = TestClient::Connect(server->port());
  ASSERT_TRUE(slow.ok());
  // The first bytes of a ClientHello record, and then nothing.
  ASSERT_TRUE(slow->SendAll(absl::string_view("\x16\x03\x01\x02", 4)).ok());
  EXPECT_EQ(EchoThroughConnect(Address(*server), ClientContext(certs_.ca),
                               "served", {6}, nullptr),
            "served");
  EXPECT_TRUE(slow->WaitForClose(kTestDeadline));
  EXPECT_TRUE(Eventually(
      [&] { return Failures(*server, TlsFailure::kHandshakeTimeout) == 1; }));
}

TEST_F(TlsTest, GarbageAfterTheHandshakeClosesThatConnectionOnly) {
  std::unique_ptr<Server> server = StartServer(ServerTls());
  ASSERT_NE(server, nullptr);
  absl::StatusOr<std::unique_ptr<TlsTestClient>> client =
      TlsTestClient::Connect(server->port(), RawClientOptions());
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->RoundTrip("ok").ok());
  // An application-data record header, then bytes that decrypt to nothing.
  std::string garbage("\x17\x03\x03\x00\x40", 5);
  garbage += eddy::testing::RandomBytes(64, 4);
  ASSERT_TRUE((*client)->socket().SendAll(garbage).ok());
  EXPECT_TRUE((*client)->socket().WaitForClose(kTestDeadline));
  EXPECT_TRUE(Eventually(
      [&] { return Failures(*server, TlsFailure::kBadRecord) == 1; }));
  EXPECT_EQ(EchoThroughConnect(Address(*server), ClientContext(certs_.ca),
                               "still here", {10}, nullptr),
            "still here");
}

TEST_F(TlsTest, PlainHttpToTheTlsPortGetsA400SayingSo) {
  std::unique_ptr<Server> server = StartServer(ServerTls());
  ASSERT_NE(server, nullptr);
  absl::StatusOr<TestClient> client = TestClient::Connect(server->port());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(
      client->SendAll("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").ok());
  absl::StatusOr<std::string> answer = client->ReceiveUntilClose();
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_TRUE(absl::StartsWith(*answer, "HTTP/1.1 400 Bad Request\r\n"))
      << *answer;
  EXPECT_TRUE(
      absl::EndsWith(*answer, "plain HTTP request sent to a TLS port\n"))
      << *answer;
  EXPECT_EQ(Failures(*server, TlsFailure::kPlainHttp), 1u);
}

TEST_F(TlsTest, FailuresAreExportedByKind) {
  MetricsRegistry registry(1);
  ServerOptions options = LoopbackServerOptions(1);
  options.tls = ServerTls();
  options.metrics = &registry;
  Server server(options, MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<TestClient> client = TestClient::Connect(server.port());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client->SendAll("POST / HTTP/1.1\r\n\r\n").ok());
  EXPECT_TRUE(client->WaitForClose(kTestDeadline));
  ASSERT_TRUE(Eventually(
      [&] { return Failures(server, TlsFailure::kPlainHttp) == 1; }));
  const std::string page = PrometheusText(registry);
  EXPECT_TRUE(absl::StrContains(
      page, "eddy_tls_failures_total{kind=\"plain_http\"} 1\n"))
      << page;
  EXPECT_TRUE(absl::StrContains(
      page, "eddy_tls_failures_total{kind=\"handshake_timeout\"} 0\n"))
      << page;
  server.Stop();
}

TEST_F(TlsTest, AClientThatNeverReadsIsHeldAtTheWaterMarks) {
  // Answers every byte with 1 MiB, as long as the water marks allow.
  struct Flooded {
    std::atomic<size_t> peak_output{0};
    std::atomic<size_t> sent{0};
    std::atomic<bool> paused{false};
  } flooded;
  class Flood final : public Handler {
   public:
    explicit Flood(Flooded& flooded) : flooded_(flooded) {}
    void OnData(Connection& conn, Buffer& input) override {
      input.ConsumeAll();
      Fill(conn);
    }
    void OnHighWater(Connection&) override { flooded_.paused = true; }
    void OnDrained(Connection& conn) override { Fill(conn); }

   private:
    void Fill(Connection& conn) {
      while (!conn.output_full()) {
        conn.Send(std::string(1 << 20, 'x'));
        flooded_.sent += 1 << 20;
        flooded_.peak_output =
            std::max(flooded_.peak_output.load(), conn.output_bytes());
      }
    }
    Flooded& flooded_;
  };
  ConnectionOptions marks;
  marks.high_water_mark = 4 << 20;
  marks.low_water_mark = 1 << 20;
  std::unique_ptr<Server> server =
      StartServer(ServerTls(), MakeProtocolFactory([&flooded](Connection&) {
                    return std::make_unique<Flood>(flooded);
                  }),
                  1, marks);
  ASSERT_NE(server, nullptr);
  absl::StatusOr<std::unique_ptr<TlsTestClient>> client =
      TlsTestClient::Connect(server->port(), RawClientOptions());
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Write("go").ok());
  ASSERT_TRUE(Eventually([&] { return flooded.paused.load(); }));
  // Once the socket buffers are full nothing moves any more...
  uint64_t sent_out = 0;
  ASSERT_TRUE(Eventually([&] {
    const uint64_t before = server->total_stats().bytes_out;
    absl::SleepFor(absl::Milliseconds(300));
    sent_out = server->total_stats().bytes_out;
    return sent_out == before;
  }));
  // ...and what the server holds is the plaintext under the high mark plus
  // one Send, with at most one batch of ciphertext: what the handler sent
  // and the socket did not take (the ciphertext sent is a little larger
  // than its plaintext, so this overestimates what is held).
  EXPECT_LE(flooded.peak_output.load(), marks.high_water_mark + (1 << 20));
  EXPECT_LE(flooded.sent.load(),
            sent_out + marks.high_water_mark + (1 << 20) + (64 << 10));
}

// A line protocol that upgrades: "STARTTLS\n" is answered "OK\n" and TLS
// starts; afterwards it echoes.
class StartTlsProtocol final : public Handler {
 public:
  explicit StartTlsProtocol(std::shared_ptr<const TlsContext> context)
      : context_(std::move(context)) {}
  void OnData(Connection& conn, Buffer& input) override {
    if (conn.tls() != nullptr || upgraded_) {
      conn.Send(std::move(input));
      return;
    }
    if (!absl::StartsWith(input.view(), "STARTTLS\n")) {
      if (input.readable_bytes() >= 9) conn.Close();
      return;
    }
    input.Consume(9);
    conn.Send("OK\n");
    upgraded_ = true;
    if (!conn.StartTls(context_).ok()) conn.Abort();
  }

 private:
  std::shared_ptr<const TlsContext> context_;
  bool upgraded_ = false;
};

TEST_F(TlsTest, StartTlsUpgradesInPlaceWithTheHelloInTheSameWrite) {
  absl::StatusOr<std::shared_ptr<const TlsContext>> context =
      TlsContext::ForServer(ServerTls());
  ASSERT_TRUE(context.ok()) << context.status();
  ServerOptions options = LoopbackServerOptions(1);
  auto server = std::make_unique<Server>(
      options, MakeProtocolFactory([&context](Connection&) {
        return std::make_unique<StartTlsProtocol>(*context);
      }));
  ASSERT_TRUE(server->Start().ok());
  absl::StatusOr<TestClient> socket = TestClient::Connect(server->port());
  ASSERT_TRUE(socket.ok());
  // The command and the client's hello leave in one write, so the server
  // reads the hello with the command: it must hand those bytes to TLS, not
  // to the plaintext handler. The "OK\n" comes back in plaintext before the
  // server's hello.
  TlsTestClient::Options client_options = RawClientOptions();
  client_options.plaintext_first = "STARTTLS\n";
  client_options.plaintext_reply_size = 3;
  absl::StatusOr<std::unique_ptr<TlsTestClient>> client =
      TlsTestClient::Handshake(*std::move(socket), client_options);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->plaintext_reply(), "OK\n");
  absl::StatusOr<std::string> echoed = (*client)->RoundTrip("secret");
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(*echoed, "secret");
}

TEST_F(TlsTest, ReloadGivesNewConnectionsTheNewCertificateAndKeepsOnError) {
  TlsServerOptions tls = ServerTls();
  // The files are copied so that the test can replace them.
  const std::string cert = certs_.dir + "/live.pem";
  const std::string key = certs_.dir + "/live.key";
  ASSERT_EQ(std::system(absl::StrCat("cp ", certs_.server_cert, " ", cert,
                                     " && cp ", certs_.server_key, " ", key)
                            .c_str()),
            0);
  tls.certificate_chain_file = cert;
  tls.private_key_file = key;
  std::unique_ptr<Server> server = StartServer(tls);
  ASSERT_NE(server, nullptr);
  // Connected before the reload: served by the old certificate to the end.
  absl::StatusOr<std::unique_ptr<TlsTestClient>> before =
      TlsTestClient::Connect(server->port(), RawClientOptions());
  ASSERT_TRUE(before.ok()) << before.status();

  // A key that does not match the certificate: the old context stays.
  ASSERT_EQ(
      std::system(absl::StrCat("cp ", certs_.other_cert, " ", cert).c_str()),
      0);
  const absl::Status bad = server->ReloadTls();
  EXPECT_TRUE(absl::StrContains(bad.message(), "does not match")) << bad;
  TlsInfo info;
  EXPECT_EQ(EchoThroughConnect(Address(*server), ClientContext(certs_.ca),
                               "old", {3}, &info),
            "old");
  EXPECT_TRUE(absl::StrContains(info.peer_subject, "CN=localhost"));

  ASSERT_EQ(
      std::system(absl::StrCat("cp ", certs_.other_key, " ", key).c_str()), 0);
  ASSERT_TRUE(server->ReloadTls().ok());
  TlsClientOptions trusting_other;
  trusting_other.ca_file = certs_.other_cert;
  trusting_other.server_name = "eddy-other";
  absl::StatusOr<std::shared_ptr<const TlsContext>> other =
      TlsContext::ForClient(trusting_other);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(EchoThroughConnect(Address(*server), *other, "new", {3}, &info),
            "new");
  EXPECT_TRUE(absl::StrContains(info.peer_subject, "CN=eddy-other"))
      << info.peer_subject;
  // The connection from before still works with its own certificate.
  absl::StatusOr<std::string> echoed = (*before)->RoundTrip("still");
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(*echoed, "still");
}

TEST_F(TlsTest, HandshakesAboveTheCapAreShedAndCounted) {
  TlsServerOptions tls = ServerTls();
  tls.max_handshakes_per_worker = 1;
  std::unique_ptr<Server> server = StartServer(tls);
  ASSERT_NE(server, nullptr);
  // One handshake stays in progress (nothing sent)...
  absl::StatusOr<TestClient> stalled = TestClient::Connect(server->port());
  ASSERT_TRUE(stalled.ok());
  ASSERT_TRUE(Eventually([&] { return server->total_stats().accepted == 1; }));
  // ...so the next connection is closed unread.
  absl::StatusOr<TestClient> shed = TestClient::Connect(server->port());
  ASSERT_TRUE(shed.ok());
  EXPECT_TRUE(shed->WaitForClose(kTestDeadline));
  EXPECT_EQ(Failures(*server, TlsFailure::kShedAtCap), 1u);
  // Once the first one finishes, handshakes go on.
  stalled->Close();
  ASSERT_TRUE(Eventually([&] { return server->total_stats().active == 0; }));
  EXPECT_EQ(EchoThroughConnect(Address(*server), ClientContext(certs_.ca),
                               "after", {5}, nullptr),
            "after");
}

TEST_F(TlsTest, StartFailsClearlyOnAMissingCertificate) {
  TlsServerOptions tls = ServerTls();
  tls.certificate_chain_file = certs_.dir + "/missing.pem";
  Server server(
      [&] {
        ServerOptions options = LoopbackServerOptions(1);
        options.tls = tls;
        return options;
      }(),
      MakeEchoFactory());
  const absl::Status started = server.Start();
  EXPECT_EQ(started.message(),
            absl::StrCat("cannot read certificate chain ", certs_.dir,
                         "/missing.pem: No such file or directory"));
}

}  // namespace
}  // namespace eddy
