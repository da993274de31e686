#include "eddy/net/proxy_protocol.h"

#include <arpa/inet.h>
#include <sys/un.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace eddy {
namespace {

constexpr absl::string_view kV1Prefix = "PROXY ";
constexpr absl::string_view kV2Signature("\r\n\r\n\0\r\nQUIT\n", 12);

// Sizes of the v2 address blocks (addresses, then ports for IP).
constexpr size_t kV2Inet4Bytes = 12;
constexpr size_t kV2Inet6Bytes = 36;
constexpr size_t kV2UnixPathBytes = 108;
constexpr size_t kV2UnixBytes = 2 * kV2UnixPathBytes;

constexpr uint8_t kV2Version = 0x20;
constexpr uint8_t kCommandLocal = 0x00;
constexpr uint8_t kCommandProxy = 0x01;
constexpr uint8_t kFamilyUnspec = 0x00;
constexpr uint8_t kFamilyInet = 0x10;
constexpr uint8_t kFamilyInet6 = 0x20;
constexpr uint8_t kFamilyUnix = 0x30;
constexpr uint8_t kTransportUnspec = 0x00;
constexpr uint8_t kTransportStream = 0x01;

constexpr uint8_t kTlvAlpn = 0x01;
constexpr uint8_t kTlvAuthority = 0x02;
constexpr uint8_t kTlvNoop = 0x04;
constexpr uint8_t kTlvSsl = 0x20;
constexpr uint8_t kSslVersion = 0x21;
constexpr uint8_t kSslCommonName = 0x22;
constexpr uint8_t kSslCipher = 0x23;
constexpr uint8_t kSslSigAlg = 0x24;
constexpr uint8_t kSslKeyAlg = 0x25;
// The SSL TLV starts with a client flags byte and a 32-bit verify result.
constexpr size_t kSslFixedBytes = 5;

// Whether `input` and `prefix` agree on their common length.
bool AgreesWith(absl::string_view input, absl::string_view prefix) {
  const size_t n = std::min(input.size(), prefix.size());
  return input.substr(0, n) == prefix.substr(0, n);
}

ProxyParseResult Error(std::string message) {
  ProxyParseResult result;
  result.kind = ProxyParseResult::Kind::kError;
  result.error = absl::InvalidArgumentError(std::move(message));
  return result;
}

ProxyParseResult NeedMore() { return ProxyParseResult{}; }

uint16_t ReadBigEndian16(const char* bytes) {
  return static_cast<uint16_t>(static_cast<uint8_t>(bytes[0]) << 8 |
                               static_cast<uint8_t>(bytes[1]));
}

// A port of a v1 header: decimal, no sign, no leading zero.
bool ParseV1Port(absl::string_view text, uint16_t* port) {
  uint32_t value = 0;
  if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0') ||
      !std::all_of(text.begin(), text.end(),
                   [](char c) { return c >= '0' && c <= '9'; }) ||
      !absl::SimpleAtoi(text, &value) || value > 65535) {
    return false;
  }
  *port = static_cast<uint16_t>(value);
  return true;
}

// A numeric address of exactly `family` with `port`.
bool ParseV1Address(absl::string_view text, int family, uint16_t port,
                    SocketAddress* address) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return false;
  const std::string host(text);
  if (family == AF_INET) {
    sockaddr_in v4{};
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    if (::inet_pton(AF_INET, host.c_str(), &v4.sin_addr) != 1) return false;
    *address = SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&v4),
                                           sizeof(v4));
    return true;
  }
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  v6.sin6_port = htons(port);
  if (::inet_pton(AF_INET6, host.c_str(), &v6.sin6_addr) != 1) return false;
  *address =
      SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&v6), sizeof(v6));
  return true;
}

// "PROXY TCP4 192.0.2.1 192.0.2.2 56324 443\r\n", "PROXY TCP6 ...",
// "PROXY UNKNOWN[ anything]\r\n".
ProxyParseResult ParseV1(absl::string_view input) {
  const absl::string_view window =
      input.substr(0, std::min(input.size(), kProxyV1MaxBytes));
  const size_t newline = window.find('\n');
  if (newline == absl::string_view::npos) {
    if (input.size() >= kProxyV1MaxBytes) {
      return Error(absl::StrCat("PROXY v1 header without CRLF in its first ",
                                kProxyV1MaxBytes, " bytes"));
    }
    return NeedMore();
  }
  if (newline == 0 || window[newline - 1] != '\r') {
    return Error("PROXY v1 header ends in a bare LF, not CRLF");
  }
  const absl::string_view line =
      window.substr(kV1Prefix.size(), newline - 1 - kV1Prefix.size());
  ProxyParseResult result;
  result.kind = ProxyParseResult::Kind::kDone;
  result.consumed = newline + 1;
  result.info.version = 1;
  if (line == "UNKNOWN" || absl::StartsWith(line, "UNKNOWN ")) {
    result.info.local = true;
    return result;
  }
  const std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
  if (fields.size() != 5 || (fields[0] != "TCP4" && fields[0] != "TCP6")) {
    return Error(absl::StrCat(
        "PROXY v1 header '", absl::CHexEscape(line),
        "' is not 'TCP4|TCP6 SRC DST SRCPORT DSTPORT' or 'UNKNOWN'"));
  }
  const int family = fields[0] == "TCP4" ? AF_INET : AF_INET6;
  uint16_t source_port = 0;
  uint16_t destination_port = 0;
  if (!ParseV1Port(fields[3], &source_port) ||
      !ParseV1Port(fields[4], &destination_port)) {
    return Error(absl::StrCat("PROXY v1 header has a bad port: '",
                              absl::CHexEscape(line), "'"));
  }
  if (!ParseV1Address(fields[1], family, source_port, &result.info.source) ||
      !ParseV1Address(fields[2], family, destination_port,
                      &result.info.destination)) {
    return Error(absl::StrCat("PROXY v1 header has an address that is not ",
                              fields[0], ": '", absl::CHexEscape(line), "'"));
  }
  return result;
}

// One Unix path of a v2 address block: 108 bytes, NUL-padded; a leading NUL
// marks an abstract name.
SocketAddress UnixAddressFromV2(const char* bytes) {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path, bytes, kV2UnixPathBytes);
  const bool abstract = bytes[0] == '\0';
  const size_t name = ::strnlen(bytes + (abstract ? 1 : 0),
                                kV2UnixPathBytes - (abstract ? 1 : 0));
  // A path is counted with its NUL (if it fits), a name with the leading one.
  const size_t path_bytes =
      abstract ? name + 1 : std::min(name + 1, kV2UnixPathBytes);
  return SocketAddress::FromSockaddr(
      reinterpret_cast<sockaddr*>(&un),
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_bytes));
}

// Type-length-value records, as both the header and the SSL TLV hold them.
// Calls `on_tlv(type, value)` for each; false when one is cut short.
template <typename OnTlv>
bool ForEachTlv(absl::string_view bytes, OnTlv on_tlv) {
  while (!bytes.empty()) {
    if (bytes.size() < 3) return false;
    const uint8_t type = static_cast<uint8_t>(bytes[0]);
    const size_t length = ReadBigEndian16(bytes.data() + 1);
    if (bytes.size() - 3 < length) return false;
    on_tlv(type, bytes.substr(3, length));
    bytes.remove_prefix(3 + length);
  }
  return true;
}

absl::Status ParseSslTlv(absl::string_view value, ProxySslInfo* ssl) {
  if (value.size() < kSslFixedBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("PROXY v2 SSL TLV of ", value.size(),
                     " bytes is shorter than its fixed ", kSslFixedBytes));
  }
  ssl->client_flags = static_cast<uint8_t>(value[0]);
  ssl->verify = static_cast<uint32_t>(ReadBigEndian16(value.data() + 1)) << 16 |
                ReadBigEndian16(value.data() + 3);
  const bool whole = ForEachTlv(
      value.substr(kSslFixedBytes), [ssl](uint8_t type, absl::string_view sub) {
        switch (type) {
          case kSslVersion:
            ssl->version = std::string(sub);
            break;
          case kSslCommonName:
            ssl->common_name = std::string(sub);
            break;
          case kSslCipher:
            ssl->cipher = std::string(sub);
            break;
          case kSslSigAlg:
            ssl->sig_alg = std::string(sub);
            break;
          case kSslKeyAlg:
            ssl->key_alg = std::string(sub);
            break;
          default:
            break;  // sub-types this server has no use for
        }
      });
  if (!whole) {
    return absl::InvalidArgumentError(
        "PROXY v2 SSL TLV has a truncated sub-TLV");
  }
  return absl::OkStatus();
}

absl::Status ParseTlvs(absl::string_view bytes, ProxyInfo* info) {
  absl::Status status;
  const bool whole =
      ForEachTlv(bytes, [info, &status](uint8_t type, absl::string_view value) {
        switch (type) {
          case kTlvAlpn:
            info->alpn = std::string(value);
            break;
          case kTlvAuthority:
            info->authority = std::string(value);
            break;
          case kTlvNoop:
            break;
          case kTlvSsl:
            if (status.ok()) {
              status = ParseSslTlv(value, &info->ssl.emplace());
            }
            break;
          default:
            info->other_tlvs.emplace_back(type, std::string(value));
            break;
        }
      });
  if (!whole) return absl::InvalidArgumentError("PROXY v2 TLV is truncated");
  return status;
}

ProxyParseResult ParseV2(absl::string_view input, size_t max_bytes) {
  if (input.size() < kProxyV2FixedBytes) return NeedMore();
  const uint8_t version_command = static_cast<uint8_t>(input[12]);
  const uint8_t family_transport = static_cast<uint8_t>(input[13]);
  const size_t length = ReadBigEndian16(input.data() + 14);
  if ((version_command & 0xf0) != kV2Version) {
    return Error(absl::StrCat("PROXY v2 header has version ",
                              version_command >> 4, ", not 2"));
  }
  const uint8_t command = version_command & 0x0f;
  if (command != kCommandLocal && command != kCommandProxy) {
    return Error(absl::StrCat("PROXY v2 header has an unknown command ",
                              static_cast<int>(command)));
  }
  const size_t total = kProxyV2FixedBytes + length;
  if (total > max_bytes) {
    return Error(absl::StrCat("PROXY v2 header of ", total,
                              " bytes exceeds the limit of ", max_bytes));
  }
  if (input.size() < total) return NeedMore();

  ProxyParseResult result;
  result.kind = ProxyParseResult::Kind::kDone;
  result.consumed = total;
  result.info.version = 2;
  const absl::string_view block = input.substr(kProxyV2FixedBytes, length);
  // LOCAL: the balancer speaks for itself; the address block is skipped.
  if (command == kCommandLocal) {
    result.info.local = true;
    return result;
  }
  const uint8_t family = family_transport & 0xf0;
  const uint8_t transport = family_transport & 0x0f;
  size_t address_bytes = 0;
  switch (family) {
    case kFamilyUnspec:
      result.info.local = true;
      break;
    case kFamilyInet:
      address_bytes = kV2Inet4Bytes;
      break;
    case kFamilyInet6:
      address_bytes = kV2Inet6Bytes;
      break;
    case kFamilyUnix:
      address_bytes = kV2UnixBytes;
      break;
    default:
      return Error(
          absl::StrCat("PROXY v2 header has an unknown family ", family >> 4));
  }
  if (family != kFamilyUnspec && transport != kTransportStream) {
    return Error(absl::StrCat("PROXY v2 header names transport ",
                              static_cast<int>(transport),
                              ", not a stream (1)"));
  }
  if (block.size() < address_bytes) {
    return Error(absl::StrCat("PROXY v2 address block of ", block.size(),
                              " bytes is shorter than its family's ",
                              address_bytes));
  }
  const char* a = block.data();
  if (family == kFamilyInet) {
    sockaddr_in source{}, destination{};
    source.sin_family = destination.sin_family = AF_INET;
    std::memcpy(&source.sin_addr, a, 4);
    std::memcpy(&destination.sin_addr, a + 4, 4);
    std::memcpy(&source.sin_port, a + 8, 2);
    std::memcpy(&destination.sin_port, a + 10, 2);
    result.info.source = SocketAddress::FromSockaddr(
        reinterpret_cast<sockaddr*>(&source), sizeof(source));
    result.info.destination = SocketAddress::FromSockaddr(
        reinterpret_cast<sockaddr*>(&destination), sizeof(destination));
  } else if (family == kFamilyInet6) {
    sockaddr_in6 source{}, destination{};
    source.sin6_family = destination.sin6_family = AF_INET6;
    std::memcpy(&source.sin6_addr, a, 16);
    std::memcpy(&destination.sin6_addr, a + 16, 16);
    std::memcpy(&source.sin6_port, a + 32, 2);
    std::memcpy(&destination.sin6_port, a + 34, 2);
    result.info.source = SocketAddress::FromSockaddr(
        reinterpret_cast<sockaddr*>(&source), sizeof(source));
    result.info.destination = SocketAddress::FromSockaddr(
        reinterpret_cast<sockaddr*>(&destination), sizeof(destination));
  } else if (family == kFamilyUnix) {
    result.info.source = UnixAddressFromV2(a);
    result.info.destination = UnixAddressFromV2(a + kV2UnixPathBytes);
  }
  if (absl::Status s = ParseTlvs(block.substr(address_bytes), &result.info);
      !s.ok()) {
    return Error(std::string(s.message()));
  }
  return result;
}

void AppendBigEndian16(std::string* out, size_t value) {
  out->push_back(static_cast<char>((value >> 8) & 0xff));
  out->push_back(static_cast<char>(value & 0xff));
}

// An IPv4 address as the IPv4-mapped IPv6 address ::ffff:a.b.c.d.
in6_addr MappedV6(const SocketAddress& address) {
  in6_addr mapped{};
  if (address.is_v6()) {
    return reinterpret_cast<const sockaddr_in6*>(address.sockaddr_ptr())
        ->sin6_addr;
  }
  mapped.s6_addr[10] = mapped.s6_addr[11] = 0xff;
  std::memcpy(
      &mapped.s6_addr[12],
      &reinterpret_cast<const sockaddr_in*>(address.sockaddr_ptr())->sin_addr,
      4);
  return mapped;
}

bool IsIp(const SocketAddress& address) {
  return address.family() == AF_INET || address.family() == AF_INET6;
}

// The path (or '\0' + abstract name) of a Unix address, in 108 bytes.
void AppendUnixPath(std::string* out, const SocketAddress& address) {
  char path[kV2UnixPathBytes] = {};
  const socklen_t length = address.length();
  const socklen_t offset = offsetof(sockaddr_un, sun_path);
  if (length > offset) {
    std::memcpy(
        path,
        reinterpret_cast<const sockaddr_un*>(address.sockaddr_ptr())->sun_path,
        std::min<size_t>(length - offset, sizeof(path)));
  }
  out->append(path, sizeof(path));
}

}  // namespace

std::optional<ProxyProtocolMode> ParseProxyProtocolMode(
    absl::string_view text) {
  if (text == "off") return ProxyProtocolMode::kOff;
  if (text == "optional") return ProxyProtocolMode::kOptional;
  if (text == "required") return ProxyProtocolMode::kRequired;
  return std::nullopt;
}

absl::string_view ProxyProtocolModeName(ProxyProtocolMode mode) {
  switch (mode) {
    case ProxyProtocolMode::kOff:
      return "off";
    case ProxyProtocolMode::kOptional:
      return "optional";
    case ProxyProtocolMode::kRequired:
      return "required";
  }
  return "off";
}

ProxyParseResult ParseProxyHeader(absl::string_view input, size_t max_bytes) {
  if (input.empty()) return NeedMore();
  if (AgreesWith(input, kV1Prefix)) {
    return input.size() < kV1Prefix.size() ? NeedMore() : ParseV1(input);
  }
  if (AgreesWith(input, kV2Signature)) {
    return ParseV2(input,
                   std::max(max_bytes, kProxyV2FixedBytes + kV2UnixBytes));
  }
  ProxyParseResult result;
  result.kind = ProxyParseResult::Kind::kNotProxy;
  return result;
}

std::string EncodeProxyV2Header(const SocketAddress& source,
                                const SocketAddress& destination) {
  std::string out(kV2Signature);
  out.push_back(static_cast<char>(kV2Version | kCommandProxy));
  const auto append_port = [&out](const SocketAddress& address) {
    AppendBigEndian16(&out, address.port());
  };
  if (source.family() == AF_INET && destination.family() == AF_INET) {
    out.push_back(static_cast<char>(kFamilyInet | kTransportStream));
    AppendBigEndian16(&out, kV2Inet4Bytes);
    for (const SocketAddress* address : {&source, &destination}) {
      out.append(
          reinterpret_cast<const char*>(
              &reinterpret_cast<const sockaddr_in*>(address->sockaddr_ptr())
                   ->sin_addr),
          4);
    }
    append_port(source);
    append_port(destination);
  } else if (IsIp(source) && IsIp(destination)) {
    out.push_back(static_cast<char>(kFamilyInet6 | kTransportStream));
    AppendBigEndian16(&out, kV2Inet6Bytes);
    for (const SocketAddress* address : {&source, &destination}) {
      const in6_addr mapped = MappedV6(*address);
      out.append(reinterpret_cast<const char*>(&mapped), sizeof(mapped));
    }
    append_port(source);
    append_port(destination);
  } else if (source.is_unix() && destination.is_unix()) {
    out.push_back(static_cast<char>(kFamilyUnix | kTransportStream));
    AppendBigEndian16(&out, kV2UnixBytes);
    AppendUnixPath(&out, source);
    AppendUnixPath(&out, destination);
  } else {
    out.push_back(static_cast<char>(kFamilyUnspec | kTransportUnspec));
    AppendBigEndian16(&out, 0);
  }
  return out;
}

}  // namespace eddy
