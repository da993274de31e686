#include "eddy/http/responder.h"

#include <utility>

#include "eddy/http/http_protocol.h"
#include "eddy/net/connection.h"

namespace eddy::http {

Responder::Responder(Responder&& other) noexcept
    : connection_(other.connection_),
      sequence_(other.sequence_),
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
  const uint64_t sequence = sequence_;
  return connection_.Post(
      [sequence, response = std::move(response)](Connection& conn) mutable {
        auto* handler = static_cast<HttpConnectionHandler*>(conn.handler());
        handler->CompleteAsync(conn, sequence, std::move(response));
      });
}

}  // namespace eddy::http
