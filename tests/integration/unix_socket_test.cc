// Unix domain sockets end to end: echo, HTTP keep-alive and RESP served on
// unix:PATH and unix:@NAME, the socket file's life (mode, stale file
// replaced, a live server's path refused, removal at Stop only while it is
// ours) and the peer's credentials.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "eddy/http/http_protocol.h"
#include "eddy/http/router.h"
#include "eddy/net/echo.h"
#include "eddy/net/server.h"
#include "examples/redis/redis_protocol.h"
#include "gtest/gtest.h"
#include "tests/support/http_test_client.h"
#include "tests/support/server_testing.h"
#include "tests/support/test_client.h"

namespace eddy {
namespace {

using ::eddy::testing::EchoRoundTrip;
using ::eddy::testing::HttpTestReader;
using ::eddy::testing::TestClient;

constexpr absl::Duration kDeadline = absl::Seconds(60);

// A fresh directory under /tmp (short: sun_path holds 107 bytes), removed
// with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    char pattern[] = "/tmp/eddy-unix-XXXXXX";
    const char* made = ::mkdtemp(pattern);
    path_ = made != nullptr ? made : "";
  }
  ~ScratchDir() {
    if (!path_.empty()) std::filesystem::remove_all(path_);
  }
  std::string Socket(absl::string_view name) const {
    return absl::StrCat(path_, "/", name);
  }

 private:
  std::string path_;
};

ServerOptions UnixServerOptions(const std::string& address) {
  ServerOptions options;
  options.bind_address = address;
  options.workers = 2;
  return options;
}

absl::StatusOr<TestClient> ConnectTo(const std::string& address) {
  return TestClient::Connect(0, absl::Seconds(30), address);
}

bool Exists(const std::string& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0;
}

TEST(UnixSocket, EchoesOverAPathAndNamesItBack) {
  ScratchDir dir;
  const std::string address = "unix:" + dir.Socket("echo.sock");
  Server server(UnixServerOptions(address), MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());
  EXPECT_EQ(server.local_address().ToString(), address);
  EXPECT_EQ(server.port(), 0);
  for (int i = 0; i < 4; ++i) {
    auto client = ConnectTo(address);
    ASSERT_TRUE(client.ok()) << client.status();
    auto echoed =
        EchoRoundTrip(*client, std::string(100000, 'a' + i), kDeadline);
    ASSERT_TRUE(echoed.ok()) << echoed.status();
    EXPECT_EQ(*echoed, std::string(100000, 'a' + i));
  }
}

TEST(UnixSocket, EchoesOverAnAbstractName) {
  const std::string address = absl::StrCat("unix:@eddy-test-", ::getpid());
  Server server(UnixServerOptions(address), MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());
  EXPECT_EQ(server.local_address().ToString(), address);
  auto client = ConnectTo(address);
  ASSERT_TRUE(client.ok()) << client.status();
  auto echoed = EchoRoundTrip(*client, "abstract", kDeadline);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(*echoed, "abstract");
  // The name is taken while the server holds it.
  Server second(UnixServerOptions(address), MakeEchoFactory());
  const absl::Status taken = second.Start();
  EXPECT_TRUE(absl::StrContains(taken.message(), "in use")) << taken;
}

TEST(UnixSocket, ServesHttpRequestsOnOneKeptAliveConnection) {
  ScratchDir dir;
  const std::string address = "unix:" + dir.Socket("http.sock");
  auto router = std::make_shared<http::Router>();
  router->Handle("GET", "/",
                 [](const http::Request& request, http::Response& response) {
                   response.set_body(absl::StrCat("hello ", request.query()));
                 });
  Server server(
      UnixServerOptions(address),
      std::make_unique<http::HttpProtocol>(router, http::HttpOptions()));
  ASSERT_TRUE(server.Start().ok());
  auto client = ConnectTo(address);
  ASSERT_TRUE(client.ok()) << client.status();
  HttpTestReader reader(*client);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        client
            ->SendAll(absl::StrCat("GET /?", i, " HTTP/1.1\r\nHost: x\r\n\r\n"))
            .ok());
    auto response = reader.Next();
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, absl::StrCat("hello ", i));
  }
  EXPECT_EQ(server.total_stats().accepted, 1u);
}

TEST(UnixSocket, AnswersRespPingSetGet) {
  ScratchDir dir;
  const std::string address = "unix:" + dir.Socket("redis.sock");
  Server server(UnixServerOptions(address),
                redis::MakeRedisFactory(std::make_shared<redis::Store>()));
  ASSERT_TRUE(server.Start().ok());
  auto client = ConnectTo(address);
  ASSERT_TRUE(client.ok()) << client.status();
  const std::string expected = "+PONG\r\n+OK\r\n$5\r\nvalue\r\n";
  ASSERT_TRUE(client
                  ->SendAll("*1\r\n$4\r\nPING\r\n"
                            "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"
                            "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n")
                  .ok());
  auto reply = client->ReceiveExactly(expected.size());
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(*reply, expected);
}

// Says who connected, in its first line: "pid uid gid", or "none".
class CredentialsReporter final : public Handler {
 public:
  void OnOpen(Connection& conn) override {
    const std::optional<PeerCredentials> peer = conn.peer_credentials();
    conn.Send(peer.has_value() ? absl::StrCat(peer->pid, " ", peer->uid, " ",
                                              peer->gid, "\n")
                               : std::string("none\n"));
  }
  void OnData(Connection&, Buffer& input) override { input.ConsumeAll(); }
};

class CredentialsFactory final : public ProtocolFactory {
 public:
  std::unique_ptr<Handler> NewHandler(Connection&) override {
    return std::make_unique<CredentialsReporter>();
  }
};

TEST(UnixSocket, PeerCredentialsAreTheConnectingProcess) {
  ScratchDir dir;
  const std::string address = "unix:" + dir.Socket("cred.sock");
  Server server(UnixServerOptions(address),
                std::make_unique<CredentialsFactory>());
  ASSERT_TRUE(server.Start().ok());
  auto client = ConnectTo(address);
  ASSERT_TRUE(client.ok()) << client.status();
  auto line = client->ReceiveUntil("\n");
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(*line,
            absl::StrCat(::getpid(), " ", ::getuid(), " ", ::getgid(), "\n"));

  Server tcp(testing::LoopbackServerOptions(1),
             std::make_unique<CredentialsFactory>());
  ASSERT_TRUE(tcp.Start().ok());
  auto tcp_client = TestClient::Connect(tcp.port());
  ASSERT_TRUE(tcp_client.ok()) << tcp_client.status();
  auto none = tcp_client->ReceiveUntil("\n");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(*none, "none\n");
}

TEST(UnixSocket, FileGetsTheModeAndIsRemovedAtStop) {
  ScratchDir dir;
  const std::string path = dir.Socket("mode.sock");
  ServerOptions options = UnixServerOptions("unix:" + path);
  options.unix_socket_mode = 0600;
  Server server(options, MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_TRUE(S_ISSOCK(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  server.Stop();
  EXPECT_FALSE(Exists(path));
}

// A socket file whose server is gone: bound, never listened on, closed.
void LeaveStaleSocketFile(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  path.copy(address.sun_path, sizeof(address.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
            0);
  ::close(fd);
  ASSERT_TRUE(Exists(path));
}

TEST(UnixSocket, StaleFileIsReplaced) {
  ScratchDir dir;
  const std::string path = dir.Socket("stale.sock");
  LeaveStaleSocketFile(path);
  Server server(UnixServerOptions("unix:" + path), MakeEchoFactory());
  const absl::Status started = server.Start();
  ASSERT_TRUE(started.ok()) << started;
  auto client = ConnectTo("unix:" + path);
  ASSERT_TRUE(client.ok()) << client.status();
  auto echoed = EchoRoundTrip(*client, "fresh", kDeadline);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(*echoed, "fresh");
}

TEST(UnixSocket, LiveServersPathIsRefusedAndKeepsServing) {
  ScratchDir dir;
  const std::string address = "unix:" + dir.Socket("live.sock");
  Server first(UnixServerOptions(address), MakeEchoFactory());
  ASSERT_TRUE(first.Start().ok());
  Server second(UnixServerOptions(address), MakeEchoFactory());
  const absl::Status refused = second.Start();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_TRUE(absl::StrContains(refused.message(), "in use")) << refused;
  second.Stop();  // must not remove the first server's file
  auto client = ConnectTo(address);
  ASSERT_TRUE(client.ok()) << client.status();
  auto echoed = EchoRoundTrip(*client, "still here", kDeadline);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(*echoed, "still here");
}

TEST(UnixSocket, FileThatIsNotASocketIsNeverRemoved) {
  ScratchDir dir;
  const std::string path = dir.Socket("data.txt");
  std::ofstream(path) << "precious";
  Server server(UnixServerOptions("unix:" + path), MakeEchoFactory());
  const absl::Status refused = server.Start();
  EXPECT_TRUE(absl::StrContains(refused.message(), "not a socket")) << refused;
  std::ifstream file(path);
  std::string content;
  file >> content;
  EXPECT_EQ(content, "precious");
}

TEST(UnixSocket, StopLeavesAFileThatIsNoLongerOurs) {
  ScratchDir dir;
  const std::string path = dir.Socket("taken.sock");
  Server server(UnixServerOptions("unix:" + path), MakeEchoFactory());
  ASSERT_TRUE(server.Start().ok());
  // Someone else took the path meanwhile (e.g. a newer server).
  ASSERT_EQ(::unlink(path.c_str()), 0);
  LeaveStaleSocketFile(path);
  server.Stop();
  EXPECT_TRUE(Exists(path));
}

}  // namespace
}  // namespace eddy
