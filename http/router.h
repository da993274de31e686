#ifndef EDDY_HTTP_ROUTER_H_
#define EDDY_HTTP_ROUTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "eddy/http/body_sink.h"
#include "eddy/http/request.h"
#include "eddy/http/responder.h"
#include "eddy/http/response.h"

namespace eddy::http {

// Router maps (method, path) to a route handler: exact paths first, then the
// longest matching prefix. HEAD falls back to the GET route (the protocol
// drops the body). A path with routes for other methods only gives 405 with
// an Allow list; a method no route uses and HTTP does not define gives 501,
// and so does CONNECT without a CONNECT route (its target is a host, never
// a path); anything else 404.
//
// Threading: build it completely before the server starts; afterwards it is
// shared read-only by every worker, and Find and the handlers' const call
// operators run concurrently on all worker threads. Handlers run on the
// worker thread of the connection and must not block.
class Router {
 public:
  // Fills `response` before returning.
  using Handler = absl::AnyInvocable<void(const Request&, Response&) const>;
  // Answers later, from any thread, through the Responder. The Request's
  // views are valid only during the call: copy what you need.
  using AsyncHandler =
      absl::AnyInvocable<void(const Request&, Responder) const>;
  // Called once the head is complete; the body then goes to the sink it
  // returns, piece by piece, and the answer with its end (see BodySink).
  // The head's views are valid only during the call.
  using StreamHandler =
      absl::AnyInvocable<std::unique_ptr<BodySink>(const Request&) const>;

  struct Route {
    std::string method;
    Handler handler;
    AsyncHandler async_handler;
    StreamHandler stream_handler;
    // 0..route_count()-1, fixed when the route is first made: per-route
    // data (metrics) is an array lookup away.
    size_t index = 0;
  };

  struct Match {
    const Route* route = nullptr;  // null: answer `status`
    int status = 404;
    std::string allow;  // for 405: "GET, HEAD"
  };

  void Handle(absl::string_view method, absl::string_view path,
              Handler handler);
  void HandlePrefix(absl::string_view method, absl::string_view prefix,
                    Handler handler);
  void HandleAsync(absl::string_view method, absl::string_view path,
                   AsyncHandler handler);
  void HandleStream(absl::string_view method, absl::string_view path,
                    StreamHandler handler);

  Match Find(absl::string_view method, absl::string_view path) const;
  // Whether some route streams its body: only then must the protocol look a
  // route up before the body arrives.
  bool has_stream_routes() const { return has_stream_routes_; }
  size_t route_count() const { return route_count_; }
  // Calls `fn(pattern, route)` for every route: the pattern is the exact
  // path, or the prefix followed by "*". Metrics label requests with it, so
  // that their series stay as few as the routes.
  void ForEachRoute(
      absl::FunctionRef<void(absl::string_view pattern, const Route& route)> fn)
      const;

 private:
  struct Entry {
    std::string path;  // the exact path or the prefix
    std::vector<Route> routes;
  };

  Route* RouteFor(Entry& entry, absl::string_view method);
  // The exact route for `method` and `path`, emptied for a new handler.
  Route& ExactRoute(absl::string_view method, absl::string_view path);
  static const Route* Select(const Entry& entry, absl::string_view method);
  Match MatchEntry(const Entry& entry, absl::string_view method) const;

  absl::flat_hash_map<std::string, Entry> exact_;
  std::vector<Entry> prefixes_;                     // longest first
  absl::flat_hash_map<std::string, bool> methods_;  // methods some route uses
  bool has_stream_routes_ = false;
  size_t route_count_ = 0;
};

// Whether `method` is one HTTP defines (RFC 9110 9.3, and PATCH).
bool IsStandardMethod(absl::string_view method);

}  // namespace eddy::http

#endif  // EDDY_HTTP_ROUTER_H_
