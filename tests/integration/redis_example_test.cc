// The Redis-protocol example over real sockets, and driven by the real
// redis-cli and redis-benchmark (each test skips, with the reason, when the
// tool is missing; tests/run.sh installs redis-tools).
#include <sys/wait.h>

#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "eddy/net/server.h"
#include "examples/redis/redis_protocol.h"
#include "gtest/gtest.h"
#include "tests/support/run_command.h"
#include "tests/support/test_client.h"

namespace eddy::redis {
namespace {

using ::eddy::testing::TestClient;

using ::eddy::testing::CommandResult;
using ::eddy::testing::HaveTool;
using ::eddy::testing::RunCommand;

class RedisExampleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.bind_address = "127.0.0.1";
    options.workers = 2;
    server_ = std::make_unique<Server>(
        options, MakeRedisFactory(std::make_shared<Store>()));
    ASSERT_TRUE(server_->Start().ok());
  }
  std::string Cli(const std::string& args) {
    return RunCommand(absl::StrCat("redis-cli -p ", server_->port(), " ", args))
        .output;
  }
  std::unique_ptr<Server> server_;
};

TEST_F(RedisExampleTest, PipelinedRespCommandsAreAnsweredInOrder) {
  auto client = TestClient::Connect(server_->port());
  ASSERT_TRUE(client.ok());
  const std::string commands =
      "*1\r\n$4\r\nPING\r\n"
      "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n"
      "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
      "*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n"
      "*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n"
      "*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n"
      "*3\r\n$6\r\nEXISTS\r\n$1\r\nk\r\n$1\r\nz\r\n"
      "*3\r\n$4\r\nMGET\r\n$1\r\nk\r\n$1\r\nz\r\n"
      "*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n"
      "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
      "ECHO inline\r\n"
      "*1\r\n$5\r\nBOGUS\r\n";
  const std::string expected =
      "+PONG\r\n+OK\r\n$5\r\nhello\r\n:1\r\n:2\r\n"
      "-ERR value is not an integer or out of range\r\n:1\r\n"
      "*2\r\n$5\r\nhello\r\n$-1\r\n:1\r\n$-1\r\n$6\r\ninline\r\n"
      "-ERR unknown command 'BOGUS'\r\n";
  ASSERT_TRUE(client->SendAll(commands).ok());
  auto reply = client->ReceiveExactly(expected.size());
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(*reply, expected);
}

TEST_F(RedisExampleTest, ProtocolErrorClosesTheConnection) {
  auto client = TestClient::Connect(server_->port());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client->SendAll("*1\r\n$x\r\n").ok());
  auto reply = client->ReceiveUntilClose();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_TRUE(absl::StartsWith(*reply, "-ERR Protocol error")) << *reply;
}

// CR and LF in a command name must not end the error reply early: the bytes
// after them would read as replies the server never gave (+OK, :1, $-1).
TEST_F(RedisExampleTest, LineBreaksInACommandNameCannotForgeReplies) {
  auto client = TestClient::Connect(server_->port());
  ASSERT_TRUE(client.ok());
  const std::string commands =
      "*1\r\n$8\r\nGET\r\n+OK\r\n"
      "*1\r\n$11\r\nX\n:1\r\n$-1\r\n\r\n"
      "FOO\r:1\r\n"
      "*1\r\n$4\r\nPING\r\n";
  // Three error replies, one line each, then the PING's.
  const std::string expected =
      "-ERR unknown command 'GET  +OK'\r\n"
      "-ERR unknown command 'X :1  $-1  '\r\n"
      "-ERR unknown command 'FOO :1'\r\n"
      "+PONG\r\n";
  ASSERT_TRUE(client->SendAll(commands).ok());
  auto reply = client->ReceiveExactly(expected.size());
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(*reply, expected);
}

TEST_F(RedisExampleTest, RedisCliSetGetExpireAndCounters) {
  if (!HaveTool("redis-cli"))
    GTEST_SKIP() << "redis-cli (redis-tools) is not installed";
  EXPECT_EQ(Cli("PING"), "PONG\n");
  EXPECT_EQ(Cli("SET greeting hello"), "OK\n");
  EXPECT_EQ(Cli("GET greeting"), "hello\n");
  EXPECT_EQ(Cli("SET greeting other NX"), "\n");  // nil
  EXPECT_EQ(Cli("SET short lived PX 100"), "OK\n");
  EXPECT_EQ(Cli("INCR visits"), "1\n");
  EXPECT_EQ(Cli("INCR visits"), "2\n");
  EXPECT_EQ(Cli("MSET a 1 b 2"), "OK\n");
  EXPECT_EQ(Cli("MGET a b missing"), "1\n2\n\n");
  EXPECT_EQ(Cli("EXISTS a b missing"), "2\n");
  EXPECT_EQ(Cli("DEL a b"), "2\n");
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(Cli("GET short"), "\n");
}

TEST_F(RedisExampleTest, RedisBenchmarkWithAndWithoutPipelining) {
  if (!HaveTool("redis-benchmark")) {
    GTEST_SKIP() << "redis-benchmark (redis-tools) is not installed";
  }
  for (const char* pipeline : {"1", "16"}) {
    CommandResult bench = RunCommand(
        absl::StrCat("redis-benchmark -p ", server_->port(),
                     " -n 20000 -c 20 -q -t set,get,incr,ping -P ", pipeline));
    EXPECT_EQ(bench.exit_code, 0) << bench.output;
    for (const char* test :
         {"SET:", "GET:", "INCR:", "PING_INLINE:", "PING_MBULK:"}) {
      EXPECT_TRUE(absl::StrContains(bench.output, test)) << test << "\n"
                                                         << bench.output;
    }
    EXPECT_FALSE(absl::StrContains(bench.output, "ERR")) << bench.output;
  }
}

}  // namespace
}  // namespace eddy::redis
