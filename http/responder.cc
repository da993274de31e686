#include "eddy/http/responder.h"

#include <utility>

#include "eddy/http/internal/stream_channel.h"
#include "eddy/net/connection.h"

namespace eddy::http {

Responder::Responder(Responder&& other) noexcept
    : connection_(other.connection_),
      deliver_(std::move(other.deliver_)),
      high_water_mark_(other.high_water_mark_),
      sent_(std::exchange(other.sent_, true)) {}

Responder::~Responder() {
  if (sent_) return;
  Response failure;
  failure.set_status(500);
  failure.set_content_type("text/plain");
  failure.set_body("500 Internal Server Error: the handler gave no response\n");
  Send(std::move(failure));
}

bool Responder::Send(Response response) {
  if (sent_) return false;
  sent_ = true;
  return connection_.Post(
      [deliver = std::move(deliver_),
       response = std::move(response)](Connection& conn) mutable {
        std::move(deliver)(conn, std::move(response), nullptr);
      });
}

ResponseStream Responder::Stream(Response head) {
  auto channel = std::make_shared<StreamChannel>(connection_, high_water_mark_);
  if (sent_) {
    channel->MarkClosed(/*client_gone=*/false);
    return ResponseStream(std::move(channel));
  }
  sent_ = true;
  // A connection that closes before the head is delivered skips the task:
  // the producer learns it when the task is dropped.
  struct ClosedUnlessDelivered {
    explicit ClosedUnlessDelivered(std::shared_ptr<StreamChannel> c)
        : channel(std::move(c)) {}
    ClosedUnlessDelivered(ClosedUnlessDelivered&&) = default;
    std::shared_ptr<StreamChannel> channel;
    ~ClosedUnlessDelivered() {
      if (channel != nullptr) channel->MarkClosed(/*client_gone=*/true);
    }
  };
  connection_.Post(
      [deliver = std::move(deliver_), head = std::move(head),
       guard = ClosedUnlessDelivered(channel)](Connection& conn) mutable {
        std::move(deliver)(conn, std::move(head), std::move(guard.channel));
      });
  return ResponseStream(std::move(channel));
}

}  // namespace eddy::http
