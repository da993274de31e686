#ifndef EDDY_HTTP_HTTP_PROTOCOL_H_
#define EDDY_HTTP_HTTP_PROTOCOL_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "eddy/core/metrics.h"
#include "eddy/http/access_log.h"
#include "eddy/http/parser.h"
#include "eddy/http/router.h"
#include "eddy/net/protocol.h"

namespace eddy::http {

class HttpMetrics;

struct HttpOptions {
  // Request line, header and body limits (414, 431, 413).
  ParserLimits limits;
  // The Server header's value.
  std::string server_name = "eddy";
  // Requests served on one connection before it is closed (0: no limit).
  uint64_t max_requests_per_connection = 0;
  // A request's head must arrive within request_head_timeout (slowloris)
  // and its body within request_body_timeout of the head; otherwise the
  // client gets 408 and the connection closes. The head's time counts from
  // accept for the first request (as nginx's client_header_timeout), and
  // from the end of the previous response when the connection has no idle
  // timeout; with one, idle keep-alive time is the idle timeout's and the
  // head's time counts from its first byte. A connection that sent no byte
  // of a request when the time is up is closed without a response (as
  // nginx does), so silence is never unbounded.
  absl::Duration request_head_timeout = absl::Seconds(10);
  absl::Duration request_body_timeout = absl::Seconds(30);
  // What each worker's connections may hold for requests in progress:
  // their input buffers' storage (heads, bodies, chunk framing not yet
  // released) and decoded chunked bodies. Above it, connections in the
  // middle of a body stop being read until it has room again (oldest
  // first), or meet the body timeout; heads and streamed bodies (see
  // Router::HandleStream) keep flowing. A lone request is never held: its
  // own limits bound it.
  size_t max_buffered_request_bytes = 64 * 1024 * 1024;
  // When the server drains (Handler::OnDrain) or a connection reaches its
  // max age, every response says "Connection: close", and a keep-alive
  // connection with no request in progress is closed once it stayed so for
  // this long: a request already on the wire is answered, never cut.
  absl::Duration drain_idle_grace = absl::Seconds(1);
  // Common Log Format lines, if set.
  std::shared_ptr<AccessLog> access_log;
  // Where requests are counted (by method, route pattern and status class),
  // timed (per route) and errors counted (by status), if set: see
  // docs/guide.md, "Metrics". It must outlive the protocol; worker i records
  // as writer i.
  MetricsRegistry* metrics = nullptr;
};

// HttpProtocol is the ProtocolFactory of eddy's HTTP/1.x server: HTTP/1.0
// first-class (close after the response unless the request asks for
// keep-alive), HTTP/1.1 persistent connections and pipelining.
//
// Every complete request of a read burst is answered in order and the
// responses leave in one write. A bad request gets its 4xx/5xx, the
// connection closes, and nothing sent after it is acted on. A client that
// pipelines without reading is held by the connection's high-water mark and
// its cap on queued files (Connection::output_full).
//
// Threading: construct before the server starts; NewHandler runs on the
// workers concurrently (it only reads the shared Router and options).
class HttpProtocol final : public ProtocolFactory {
 public:
  HttpProtocol(std::shared_ptr<const Router> router, HttpOptions options);
  ~HttpProtocol() override;

  std::unique_ptr<Handler> NewHandler(Connection& conn) override;
  absl::string_view OverloadResponse() const override;

 private:
  std::shared_ptr<const Router> router_;
  HttpOptions options_;
  std::unique_ptr<HttpMetrics> metrics_;  // null: options_.metrics unset
  std::string overload_response_;
};

}  // namespace eddy::http

#endif  // EDDY_HTTP_HTTP_PROTOCOL_H_
