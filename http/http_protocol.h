#ifndef EDDY_HTTP_HTTP_PROTOCOL_H_
#define EDDY_HTTP_HTTP_PROTOCOL_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "eddy/http/access_log.h"
#include "eddy/http/parser.h"
#include "eddy/http/router.h"
#include "eddy/net/protocol.h"

namespace eddy::http {

struct HttpOptions {
  // Request line, header and body limits (414, 431, 413).
  ParserLimits limits;
  // The Server header's value.
  std::string server_name = "eddy";
  // Requests served on one connection before it is closed (0: no limit).
  uint64_t max_requests_per_connection = 0;
  // A request's head must arrive within this time of its first byte
  // (slowloris), and its body within this time of the head; otherwise the
  // client gets 408 and the connection closes.
  absl::Duration request_head_timeout = absl::Seconds(10);
  absl::Duration request_body_timeout = absl::Seconds(30);
  // Common Log Format lines, if set.
  std::shared_ptr<AccessLog> access_log;
};

// HttpProtocol is the ProtocolFactory of eddy's HTTP/1.x server: HTTP/1.0
// first-class (close after the response unless the request asks for
// keep-alive), HTTP/1.1 persistent connections and pipelining.
//
// Every complete request of a read burst is answered in order and the
// responses leave in one write. A bad request gets its 4xx/5xx, the
// connection closes, and nothing sent after it is acted on. A client that
// pipelines without reading is held by the connection's high-water mark.
//
// Threading: construct before the server starts; NewHandler runs on the
// workers concurrently (it only reads the shared Router and options).
class HttpProtocol final : public ProtocolFactory {
 public:
  HttpProtocol(std::shared_ptr<const Router> router, HttpOptions options);

  std::unique_ptr<Handler> NewHandler(Connection& conn) override;
  absl::string_view OverloadResponse() const override;

 private:
  std::shared_ptr<const Router> router_;
  HttpOptions options_;
  std::string overload_response_;
};

}  // namespace eddy::http

#endif  // EDDY_HTTP_HTTP_PROTOCOL_H_
