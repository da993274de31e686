// The chat example: lines from one client reach clients owned by other
// workers (ConnectionRef across threads), and departed members are dropped.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "eddy/net/server.h"
#include "examples/chat/chat_room.h"
#include "gtest/gtest.h"
#include "tests/support/server_testing.h"
#include "tests/support/test_client.h"

namespace eddy::chat {
namespace {

using ::eddy::testing::Eventually;
using ::eddy::testing::LoopbackServerOptions;
using ::eddy::testing::TestClient;

TEST(ChatExample, LinesReachMembersOnEveryWorker) {
  auto room = std::make_shared<ChatRoom>();
  Server server(LoopbackServerOptions(2), MakeChatFactory(room));
  ASSERT_TRUE(server.Start().ok());
  std::vector<TestClient> members;
  for (int i = 0; i < 4; ++i) {  // round-robin: two on each worker
    auto client = TestClient::Connect(server.port());
    ASSERT_TRUE(client.ok());
    ASSERT_TRUE(client->ReceiveUntil("\n").ok());  // welcome
    members.push_back(*std::move(client));
  }
  ASSERT_TRUE(Eventually([&] { return room->size() == 4; }));
  ASSERT_TRUE(members[0].SendAll("/nick alice\n").ok());
  ASSERT_TRUE(members[0].ReceiveUntil("you are alice\n").ok());
  ASSERT_TRUE(members[0].SendAll("hello room\n").ok());
  for (int i = 1; i < 4; ++i) {
    auto line = members[i].ReceiveUntil("\n");
    ASSERT_TRUE(line.ok()) << line.status();
    EXPECT_EQ(*line, "alice: hello room\n") << i;
  }
  members[3].Close();
  ASSERT_TRUE(Eventually([&] { return room->size() == 3; }));
  ASSERT_TRUE(members[1].SendAll("still here?\n").ok());
  auto reply = members[0].ReceiveUntil("\n");
  ASSERT_TRUE(reply.ok());
  EXPECT_TRUE(absl::StrContains(*reply, "still here?"));
}

}  // namespace
}  // namespace eddy::chat
