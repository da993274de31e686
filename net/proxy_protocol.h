#ifndef EDDY_NET_PROXY_PROTOCOL_H_
#define EDDY_NET_PROXY_PROTOCOL_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "eddy/net/address.h"

namespace eddy {

// The PROXY protocol (HAProxy's, versions 1 and 2): a load balancer that
// forwards a TCP connection first sends a header naming the client it came
// from, so that the server sees the client, not the balancer. Here: the
// parser of that header, the encoder of a version 2 header for outgoing
// connections (ConnectOptions::proxy_header), and what a server is told to
// expect (ServerOptions::proxy_protocol).
//
// Everything here is plain functions and values, usable from any thread.

// Whether a server expects the header on its accepted connections.
enum class ProxyProtocolMode : uint8_t {
  kOff,       // never: the first bytes belong to the protocol
  kOptional,  // a trusted source may send one; detected by its signature
  kRequired,  // every connection must start with one
};

// "off", "optional", "required"; nullopt for any other text.
std::optional<ProxyProtocolMode> ParseProxyProtocolMode(absl::string_view text);
absl::string_view ProxyProtocolModeName(ProxyProtocolMode mode);

// The SSL TLV (0x20) of a version 2 header: what the balancer learned of
// the client's TLS connection.
struct ProxySslInfo {
  uint8_t client_flags = 0;  // PP2_CLIENT_SSL (1), _CERT_CONN (2), _SESS (4)
  uint32_t verify = 0;       // 0: the client presented a verified cert
  std::string version;       // PP2_SUBTYPE_SSL_VERSION, e.g. "TLSv1.3"
  std::string common_name;   // PP2_SUBTYPE_SSL_CN
  std::string cipher;        // PP2_SUBTYPE_SSL_CIPHER
  std::string sig_alg;       // PP2_SUBTYPE_SSL_SIG_ALG
  std::string key_alg;       // PP2_SUBTYPE_SSL_KEY_ALG

  bool client_used_ssl() const { return (client_flags & 0x01) != 0; }
};

// What a header said.
struct ProxyInfo {
  int version = 0;  // 1 or 2
  // True for a v2 LOCAL command (the balancer's own connection, e.g. a
  // health check) and for v1 "UNKNOWN" or an unspecified v2 family: the
  // header names no client, and the connection's own addresses stand.
  bool local = false;
  SocketAddress source;       // the client
  SocketAddress destination;  // the address the client connected to
  // Version 2 TLVs.
  std::string alpn;       // PP2_TYPE_ALPN (0x01), e.g. "h2"
  std::string authority;  // PP2_TYPE_AUTHORITY (0x02): the SNI host name
  std::optional<ProxySslInfo> ssl;
  // Every other TLV, type and value, in order (e.g. UNIQUE_ID 0x05).
  std::vector<std::pair<uint8_t, std::string>> other_tlvs;
};

// The most bytes a version 1 header may have, CRLF included (spec: 107).
inline constexpr size_t kProxyV1MaxBytes = 107;
// The fixed part of a version 2 header: signature, command, family, length.
inline constexpr size_t kProxyV2FixedBytes = 16;
// The default bound on a whole header: room for the addresses and the
// usual TLVs, far below the format's own 64 KiB.
inline constexpr size_t kProxyHeaderDefaultMaxBytes = 4096;

// The outcome of ParseProxyHeader.
struct ProxyParseResult {
  enum class Kind : uint8_t {
    kNeedMore,  // a header may be coming: read more and call again
    kNotProxy,  // the input does not start with a header's signature
    kDone,      // `consumed` bytes were the header, described by `info`
    kError,     // a malformed or oversized header: `error` says how
  };
  Kind kind = Kind::kNeedMore;
  size_t consumed = 0;
  ProxyInfo info;
  absl::Status error;
};

// Parses a PROXY header at the start of `input`: all the bytes received so
// far, so that a header split across reads is parsed whole once its last
// byte is there (the bound keeps the re-reading cheap: a header comes in one
// read in practice). `max_bytes` bounds a v2 header (at least 16 + 216, the
// largest address block); v1 is bounded by its own 107.
ProxyParseResult ParseProxyHeader(
    absl::string_view input, size_t max_bytes = kProxyHeaderDefaultMaxBytes);

// A version 2 PROXY header (command PROXY) naming `source` and
// `destination`. Both IPv4 (or one IPv6: the other is mapped), or both
// Unix; otherwise the family is left unspecified, which tells the receiver
// to keep the connection's own addresses.
std::string EncodeProxyV2Header(const SocketAddress& source,
                                const SocketAddress& destination);

}  // namespace eddy

#endif  // EDDY_NET_PROXY_PROTOCOL_H_
