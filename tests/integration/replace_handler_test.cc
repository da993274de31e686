// Connection::ReplaceHandler: a line protocol that switches to echo on
// "UPGRADE\n". The bytes after the switch line, even in the same packet, go
// to the new handler exactly once; the old handler's timers, pause and idle
// timeout stop with it; it is destroyed only once its callback returned.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "eddy/net/connection.h"
#include "eddy/net/echo.h"
#include "eddy/net/server.h"
#include "gtest/gtest.h"
#include "tests/support/server_testing.h"
#include "tests/support/test_client.h"

namespace eddy {
namespace {

using ::eddy::testing::Eventually;
using ::eddy::testing::LoopbackServerOptions;
using ::eddy::testing::TestClient;

// What the handlers tell the test thread.
struct Record {
  std::atomic<int> old_handlers_destroyed{0};
  std::atomic<int> old_handler_closes{0};
  std::atomic<int> new_handler_opens{0};
  std::atomic<int> new_handler_closes{0};
  std::atomic<int> old_handler_drains{0};
  std::atomic<int> new_handler_drains{0};
  // Set by the new handler's OnOpen: whether the old handler's timer was
  // still scheduled, and the idle timeout it found.
  std::atomic<bool> old_timer_still_scheduled{false};
  std::atomic<bool> idle_timeout_was_reset{false};
  // The old handler read its own state after asking for the switch.
  std::atomic<bool> old_handler_intact_after_asking{false};
};

// Echo that reports its life to the record.
class RecordingEcho final : public Handler {
 public:
  RecordingEcho(Record& record, TimerId old_timer)
      : record_(record), old_timer_(old_timer) {}

  void OnOpen(Connection& conn) override {
    ++record_.new_handler_opens;
    record_.old_timer_still_scheduled = conn.CancelTimer(old_timer_);
    record_.idle_timeout_was_reset =
        conn.idle_timeout() == absl::InfiniteDuration();
  }
  void OnData(Connection& conn, Buffer& input) override {
    echo_.OnData(conn, input);
  }
  void OnDrain(Connection&) override {
    // After OnOpen, never before.
    if (record_.new_handler_opens > 0) ++record_.new_handler_drains;
  }
  void OnClose(Connection&, CloseReason) override {
    ++record_.new_handler_closes;
  }

 private:
  Record& record_;
  TimerId old_timer_;
  EchoHandler echo_;
};

// Answers each line with "line:<text>\n"; "UPGRADE" switches to echo. It
// holds a repeating timer, a short idle timeout and (optionally) paused
// reading, all of which must end at the switch.
class LineProtocol final : public Handler {
 public:
  LineProtocol(Record& record, bool switch_from_task)
      : record_(record), switch_from_task_(switch_from_task) {}
  ~LineProtocol() override { ++record_.old_handlers_destroyed; }

  void OnOpen(Connection& conn) override {
    timer_ = conn.RunEvery(absl::Hours(1),
                           [](Connection& c) { c.Send("timer fired\n"); });
    conn.SetIdleTimeout(absl::Hours(2));
    if (switch_from_task_) {
      // Not reading until the switch: the bytes that wait are the new
      // handler's.
      conn.PauseReading();
      conn.Post([this](Connection& c) {
        c.ReplaceHandler(std::make_unique<RecordingEcho>(record_, timer_));
      });
    }
  }

  void OnData(Connection& conn, Buffer& input) override {
    while (true) {
      const size_t end = input.view().find('\n');
      if (end == absl::string_view::npos) return;
      const std::string line(input.view().substr(0, end));
      input.Consume(end + 1);
      if (line == "UPGRADE") {
        conn.Send("switching\n");
        conn.ReplaceHandler(std::make_unique<RecordingEcho>(record_, timer_));
        // Still alive while its callback runs (ASan would report a use of
        // a destroyed handler here).
        record_.old_handler_intact_after_asking = magic_ == kMagic;
        return;
      }
      conn.Send(absl::StrCat("line:", line, "\n"));
    }
  }

  void OnDrain(Connection&) override { ++record_.old_handler_drains; }
  void OnClose(Connection&, CloseReason) override {
    ++record_.old_handler_closes;
  }

 private:
  Record& record_;
  const bool switch_from_task_;
  TimerId timer_;
  static constexpr uint32_t kMagic = 0x600DF00D;
  const uint32_t magic_ = kMagic;
};

class ReplaceHandlerTest : public ::testing::Test {
 protected:
  void StartServer(bool switch_from_task) {
    server_ = std::make_unique<Server>(
        LoopbackServerOptions(1),
        MakeProtocolFactory([this, switch_from_task](Connection&) {
          return std::make_unique<LineProtocol>(record_, switch_from_task);
        }));
    ASSERT_TRUE(server_->Start().ok());
  }

  Record record_;
  std::unique_ptr<Server> server_;
};

TEST_F(ReplaceHandlerTest, BytesAfterTheSwitchLineInTheSamePacketAreEchoed) {
  StartServer(/*switch_from_task=*/false);
  auto client = TestClient::Connect(server_->port());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client->SendAll("hello\nUPGRADE\nabc\ndef").ok());
  const std::string expected = "line:hello\nswitching\nabc\ndef";
  auto got = client->ReceiveExactly(expected.size());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, expected);

  // Later bytes go to the echo too, and a line is no longer special.
  ASSERT_TRUE(client->SendAll("UPGRADE\nmore").ok());
  auto more = client->ReceiveExactly(12);
  ASSERT_TRUE(more.ok()) << more.status();
  EXPECT_EQ(*more, "UPGRADE\nmore");

  EXPECT_EQ(record_.new_handler_opens, 1);
  EXPECT_EQ(record_.old_handlers_destroyed, 1);
  EXPECT_FALSE(record_.old_timer_still_scheduled);
  EXPECT_TRUE(record_.idle_timeout_was_reset);
  EXPECT_TRUE(record_.old_handler_intact_after_asking);

  client->Close();
  ASSERT_TRUE(Eventually([&] { return record_.new_handler_closes == 1; }));
  EXPECT_EQ(record_.old_handler_closes, 0);
}

TEST_F(ReplaceHandlerTest, SwitchLineAtTheEndOfAPacketLeavesNothingBehind) {
  StartServer(/*switch_from_task=*/false);
  auto client = TestClient::Connect(server_->port());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client->SendAll("UPGRADE\n").ok());
  auto switched = client->ReceiveExactly(10);
  ASSERT_TRUE(switched.ok()) << switched.status();
  EXPECT_EQ(*switched, "switching\n");
  const std::string payload = testing::RandomBytes(1 << 20, 7);
  auto echoed = testing::EchoRoundTrip(*client, payload, absl::Seconds(60));
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_TRUE(*echoed == payload);
}

TEST_F(ReplaceHandlerTest, SwitchFromAPostedTaskResumesPausedReading) {
  StartServer(/*switch_from_task=*/true);
  auto client = TestClient::Connect(server_->port());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client->SendAll("UPGRADE\nabc").ok());
  auto got = client->ReceiveExactly(11);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "UPGRADE\nabc");
  EXPECT_EQ(record_.new_handler_opens, 1);
  EXPECT_FALSE(record_.old_timer_still_scheduled);
}

TEST_F(ReplaceHandlerTest, AHandlerAdoptedDuringADrainIsToldOfIt) {
  StartServer(/*switch_from_task=*/false);
  auto client = TestClient::Connect(server_->port());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client->SendAll("hello\n").ok());
  auto line = client->ReceiveExactly(11);
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(*line, "line:hello\n");
  server_->Drain();
  ASSERT_TRUE(Eventually([&] { return record_.old_handler_drains == 1; }));

  ASSERT_TRUE(client->SendAll("UPGRADE\nabc").ok());
  auto got = client->ReceiveExactly(13);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "switching\nabc");
  // Once, and after its OnOpen (see RecordingEcho::OnDrain).
  EXPECT_EQ(record_.new_handler_drains, 1);
  EXPECT_EQ(record_.old_handler_drains, 1);
}

}  // namespace
}  // namespace eddy
