// The consumer's own net/server.h: a user project with a net/ folder of its
// own. eddy's installed headers must never pick this file up in place of
// eddy/net/server.h.
#ifndef CONSUMER_NET_SERVER_H_
#define CONSUMER_NET_SERVER_H_

namespace consumer {
inline constexpr const char* kOwnServerHeader = "consumer's net/server.h";
}  // namespace consumer

#endif  // CONSUMER_NET_SERVER_H_
