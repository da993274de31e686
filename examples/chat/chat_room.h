#ifndef EDDY_EXAMPLES_CHAT_CHAT_ROOM_H_
#define EDDY_EXAMPLES_CHAT_CHAT_ROOM_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "eddy/net/connection_ref.h"
#include "eddy/net/protocol.h"

namespace eddy::chat {

// ChatRoom is a line-based chat / pub-sub server: every line a member sends
// is delivered to every other member, whichever worker owns them. Delivery
// goes through ConnectionRef::Send, which posts to the member's own worker;
// members that have left are dropped on the first failed send.
//
// Threading: Join, Leave and Publish may be called from any thread.
class ChatRoom {
 public:
  void Join(ConnectionRef member);
  void Leave(ConnectionRef member);
  // Sends `line` to every member but `from`; returns how many were sent to.
  size_t Publish(ConnectionRef from, absl::string_view line);
  size_t size();

 private:
  std::mutex mutex_;
  std::vector<ConnectionRef> members_;
};

// Handlers for `room`: "/nick NAME" sets a name, every other line is
// published as "NAME: line".
std::unique_ptr<ProtocolFactory> MakeChatFactory(
    std::shared_ptr<ChatRoom> room);

}  // namespace eddy::chat

#endif  // EDDY_EXAMPLES_CHAT_CHAT_ROOM_H_
