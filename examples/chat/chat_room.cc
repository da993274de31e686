#include "examples/chat/chat_room.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "eddy/net/connection.h"
#include "eddy/net/framing.h"

namespace eddy::chat {

void ChatRoom::Join(ConnectionRef member) {
  std::lock_guard lock(mutex_);
  members_.push_back(member);
}

void ChatRoom::Leave(ConnectionRef member) {
  std::lock_guard lock(mutex_);
  std::erase(members_, member);
}

size_t ChatRoom::Publish(ConnectionRef from, absl::string_view line) {
  const std::string message(line);
  std::lock_guard lock(mutex_);
  size_t delivered = 0;
  std::erase_if(members_, [&](const ConnectionRef& member) {
    if (member == from) return false;
    if (!member.Send(message)) return true;  // gone: drop it
    ++delivered;
    return false;
  });
  return delivered;
}

size_t ChatRoom::size() {
  std::lock_guard lock(mutex_);
  return members_.size();
}

namespace {

class ChatHandler final : public Handler {
 public:
  explicit ChatHandler(std::shared_ptr<ChatRoom> room)
      : room_(std::move(room)) {}

  void OnOpen(Connection& conn) override {
    name_ = absl::StrCat("guest", conn.id());
    room_->Join(conn.ref());
    conn.Send(absl::StrCat("welcome, ", name_, "\n"));
  }

  void OnData(Connection& conn, Buffer& input) override {
    const absl::Status status = ConsumeDelimitedFrames(
        input, LineFramingOptions{}, [&](absl::string_view line) {
          if (absl::StartsWith(line, "/nick ") && line.size() > 6) {
            name_ = std::string(line.substr(6));
            conn.Send(absl::StrCat("you are ", name_, "\n"));
            return;
          }
          room_->Publish(conn.ref(), absl::StrCat(name_, ": ", line, "\n"));
        });
    if (!status.ok()) conn.Close();
  }

  void OnClose(Connection& conn, CloseReason) override {
    room_->Leave(conn.ref());
  }

 private:
  std::shared_ptr<ChatRoom> room_;
  std::string name_;
};

class ChatFactory final : public ProtocolFactory {
 public:
  explicit ChatFactory(std::shared_ptr<ChatRoom> room)
      : room_(std::move(room)) {}
  std::unique_ptr<Handler> NewHandler(Connection&) override {
    return std::make_unique<ChatHandler>(room_);
  }

 private:
  std::shared_ptr<ChatRoom> room_;
};

}  // namespace

std::unique_ptr<ProtocolFactory> MakeChatFactory(
    std::shared_ptr<ChatRoom> room) {
  return std::make_unique<ChatFactory>(std::move(room));
}

}  // namespace eddy::chat
