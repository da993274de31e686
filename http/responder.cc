#include "eddy/http/responder.h"

#include <utility>

#include "eddy/net/connection.h"

namespace eddy::http {

Responder::Responder(Responder&& other) noexcept
    : connection_(other.connection_),
      deliver_(std::move(other.deliver_)),
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
        std::move(deliver)(conn, std::move(response));
      });
}

}  // namespace eddy::http
