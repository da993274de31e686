#include "eddy/http/router.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace eddy::http {

bool IsStandardMethod(absl::string_view method) {
  for (absl::string_view known : {"GET", "HEAD", "POST", "PUT", "DELETE",
                                  "CONNECT", "OPTIONS", "TRACE", "PATCH"}) {
    if (method == known) return true;
  }
  return false;
}

Router::Route* Router::RouteFor(Entry& entry, absl::string_view method) {
  for (Route& route : entry.routes) {
    if (route.method == method) return &route;
  }
  entry.routes.push_back(
      Route{std::string(method), nullptr, nullptr, nullptr, route_count_++});
  return &entry.routes.back();
}

Router::Route& Router::ExactRoute(absl::string_view method,
                                  absl::string_view path) {
  Entry& entry = exact_[path];
  entry.path = std::string(path);
  Route* route = RouteFor(entry, method);
  // A path and method has one handler, of one kind: the last one given.
  *route = Route{std::string(method), nullptr, nullptr, nullptr, route->index};
  methods_[method] = true;
  return *route;
}

void Router::Handle(absl::string_view method, absl::string_view path,
                    Handler handler) {
  ExactRoute(method, path).handler = std::move(handler);
}

void Router::HandleAsync(absl::string_view method, absl::string_view path,
                         AsyncHandler handler) {
  ExactRoute(method, path).async_handler = std::move(handler);
}

void Router::HandleStream(absl::string_view method, absl::string_view path,
                          StreamHandler handler) {
  ExactRoute(method, path).stream_handler = std::move(handler);
  has_stream_routes_ = true;
}

void Router::HandlePrefix(absl::string_view method, absl::string_view prefix,
                          Handler handler) {
  auto it = std::find_if(prefixes_.begin(), prefixes_.end(),
                         [&](const Entry& e) { return e.path == prefix; });
  if (it == prefixes_.end()) {
    prefixes_.push_back(Entry{std::string(prefix), {}});
    std::stable_sort(prefixes_.begin(), prefixes_.end(),
                     [](const Entry& a, const Entry& b) {
                       return a.path.size() > b.path.size();
                     });
    it = std::find_if(prefixes_.begin(), prefixes_.end(),
                      [&](const Entry& e) { return e.path == prefix; });
  }
  Route* route = RouteFor(*it, method);
  route->handler = std::move(handler);
  route->async_handler = nullptr;
  route->stream_handler = nullptr;
  methods_[method] = true;
}

const Router::Route* Router::Select(const Entry& entry,
                                    absl::string_view method) {
  const Route* get = nullptr;
  for (const Route& route : entry.routes) {
    if (route.method == method) return &route;
    if (route.method == "GET") get = &route;
  }
  return method == "HEAD" ? get : nullptr;
}

Router::Match Router::MatchEntry(const Entry& entry,
                                 absl::string_view method) const {
  Match match;
  match.route = Select(entry, method);
  if (match.route != nullptr) return match;
  if (!IsStandardMethod(method) && !methods_.contains(method)) {
    match.status = 501;
    return match;
  }
  std::vector<absl::string_view> allowed;
  bool has_get = false;
  bool has_head = false;
  for (const Route& route : entry.routes) {
    allowed.push_back(route.method);
    has_get |= route.method == "GET";
    has_head |= route.method == "HEAD";
  }
  if (has_get && !has_head) allowed.push_back("HEAD");
  match.status = 405;
  match.allow = absl::StrJoin(allowed, ", ");
  return match;
}

void Router::ForEachRoute(
    absl::FunctionRef<void(absl::string_view, const Route&)> fn) const {
  for (const auto& [path, entry] : exact_) {
    for (const Route& route : entry.routes) fn(path, route);
  }
  for (const Entry& entry : prefixes_) {
    const std::string pattern = absl::StrCat(entry.path, "*");
    for (const Route& route : entry.routes) fn(pattern, route);
  }
}

Router::Match Router::Find(absl::string_view method,
                           absl::string_view path) const {
  if (auto it = exact_.find(path); it != exact_.end()) {
    return MatchEntry(it->second, method);
  }
  for (const Entry& entry : prefixes_) {
    if (path.substr(0, entry.path.size()) == entry.path) {
      return MatchEntry(entry, method);
    }
  }
  Match match;
  // CONNECT names a host, never a path, so no path route can match it: a
  // server without a CONNECT route does not implement the method (RFC 9110
  // 9.3.6), which is a 501 rather than a 404.
  if ((!IsStandardMethod(method) || method == "CONNECT") &&
      !methods_.contains(method)) {
    match.status = 501;
  }
  return match;
}

}  // namespace eddy::http
