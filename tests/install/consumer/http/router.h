// The consumer's own http/router.h (see net/server.h beside it).
#ifndef CONSUMER_HTTP_ROUTER_H_
#define CONSUMER_HTTP_ROUTER_H_

namespace consumer {
inline constexpr const char* kOwnRouterHeader = "consumer's http/router.h";
}  // namespace consumer

#endif  // CONSUMER_HTTP_ROUTER_H_
