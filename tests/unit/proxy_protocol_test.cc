// The PROXY protocol parser and encoder (net/proxy_protocol.h): every
// branch of v1 and v2, input split at every byte, the bounds.
#include "eddy/net/proxy_protocol.h"

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace eddy {
namespace {

using Kind = ProxyParseResult::Kind;

const std::string kSignature("\r\n\r\n\0\r\nQUIT\n", 12);

std::string BigEndian16(size_t value) {
  return std::string{static_cast<char>(value >> 8),
                     static_cast<char>(value & 0xff)};
}

std::string Tlv(uint8_t type, absl::string_view value) {
  return absl::StrCat(std::string(1, static_cast<char>(type)),
                      BigEndian16(value.size()), value);
}

// A v2 header: command byte, family byte, then `body` (addresses + TLVs).
std::string V2(uint8_t command, uint8_t family, absl::string_view body) {
  return absl::StrCat(kSignature, std::string(1, static_cast<char>(command)),
                      std::string(1, static_cast<char>(family)),
                      BigEndian16(body.size()), body);
}

// 192.0.2.1:56324 -> 198.51.100.2:443
const std::string kInet4Block(
    "\xc0\x00\x02\x01\xc6\x33\x64\x02\xdc\x04\x01\xbb", 12);

SocketAddress Address(absl::string_view host_port) {
  absl::StatusOr<SocketAddress> address =
      SocketAddress::ParseHostPort(host_port);
  EXPECT_TRUE(address.ok()) << address.status();
  return address.value_or(SocketAddress());
}

// Every strict prefix needs more; the whole parses the same way.
void ExpectSplitsNeedMore(absl::string_view header) {
  for (size_t i = 0; i < header.size(); ++i) {
    EXPECT_EQ(ParseProxyHeader(header.substr(0, i)).kind, Kind::kNeedMore)
        << "prefix of " << i << " bytes";
  }
}

TEST(ProxyProtocolV1, ParsesTcp4AndLeavesWhatFollows) {
  const std::string header = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n";
  const ProxyParseResult r = ParseProxyHeader(header + "GET / HTTP/1.1\r\n");
  ASSERT_EQ(r.kind, Kind::kDone) << r.error;
  EXPECT_EQ(r.consumed, header.size());
  EXPECT_EQ(r.info.version, 1);
  EXPECT_FALSE(r.info.local);
  EXPECT_EQ(r.info.source.ToString(), "192.0.2.1:56324");
  EXPECT_EQ(r.info.destination.ToString(), "198.51.100.2:443");
  ExpectSplitsNeedMore(header);
}

TEST(ProxyProtocolV1, ParsesTcp6) {
  const ProxyParseResult r =
      ParseProxyHeader("PROXY TCP6 2001:db8::1 ::1 1 65535\r\n");
  ASSERT_EQ(r.kind, Kind::kDone) << r.error;
  EXPECT_EQ(r.info.source.ToString(), "[2001:db8::1]:1");
  EXPECT_EQ(r.info.destination.ToString(), "[::1]:65535");
}

TEST(ProxyProtocolV1, UnknownNamesNoClient) {
  for (absl::string_view header :
       {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"}) {
    const ProxyParseResult r = ParseProxyHeader(header);
    ASSERT_EQ(r.kind, Kind::kDone) << header;
    EXPECT_TRUE(r.info.local);
    EXPECT_EQ(r.consumed, header.size());
  }
}

TEST(ProxyProtocolV1, RejectsMalformedHeaders) {
  for (absl::string_view header : {
           "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\n",     // bare LF
           "PROXY TCP5 192.0.2.1 198.51.100.2 56324 443\r\n",   // protocol
           "PROXY TCP4 ::1 198.51.100.2 56324 443\r\n",         // family
           "PROXY TCP6 192.0.2.1 ::1 1 2\r\n",                  // family
           "PROXY TCP4 192.0.2.1 198.51.100.2 65536 443\r\n",   // port range
           "PROXY TCP4 192.0.2.1 198.51.100.2 0443 443\r\n",    // leading 0
           "PROXY TCP4 192.0.2.1 198.51.100.2 +44 443\r\n",     // sign
           "PROXY TCP4 192.0.2.1 198.51.100.2 56324\r\n",       // fields
           "PROXY TCP4  192.0.2.1 198.51.100.2 56324 443\r\n",  // spaces
           "PROXY TCP4 localhost 198.51.100.2 56324 443\r\n",   // a name
           "PROXY \r\n",
       }) {
    const ProxyParseResult r = ParseProxyHeader(header);
    EXPECT_EQ(r.kind, Kind::kError) << header;
    EXPECT_FALSE(r.error.ok()) << header;
  }
}

TEST(ProxyProtocolV1, HeaderWithoutCrlfWithin107BytesIsAnError) {
  const std::string long_line = "PROXY UNKNOWN " + std::string(200, 'x');
  EXPECT_EQ(ParseProxyHeader(long_line.substr(0, 106)).kind, Kind::kNeedMore);
  EXPECT_EQ(ParseProxyHeader(long_line.substr(0, 107)).kind, Kind::kError);
  // 107 bytes with the CRLF is the largest header there is.
  const std::string largest = "PROXY UNKNOWN " + std::string(91, 'x') + "\r\n";
  ASSERT_EQ(largest.size(), kProxyV1MaxBytes);
  EXPECT_EQ(ParseProxyHeader(largest).kind, Kind::kDone);
}

TEST(ProxyProtocol, OtherInputIsNotAHeader) {
  for (absl::string_view input :
       {"GET / HTTP/1.1\r\n", "PROXX", "*1\r\n", "\r\n\r\nX", "proxy TCP4"}) {
    EXPECT_EQ(ParseProxyHeader(input).kind, Kind::kNotProxy) << input;
  }
  EXPECT_EQ(ParseProxyHeader("").kind, Kind::kNeedMore);
  EXPECT_EQ(ParseProxyHeader("PROX").kind, Kind::kNeedMore);
  EXPECT_EQ(ParseProxyHeader(kSignature.substr(0, 5)).kind, Kind::kNeedMore);
}

TEST(ProxyProtocolV2, ParsesInet4AndLeavesWhatFollows) {
  const std::string header = V2(0x21, 0x11, kInet4Block);
  const ProxyParseResult r = ParseProxyHeader(header + "*1\r\n$4\r\nPING\r\n");
  ASSERT_EQ(r.kind, Kind::kDone) << r.error;
  EXPECT_EQ(r.consumed, header.size());
  EXPECT_EQ(r.info.version, 2);
  EXPECT_FALSE(r.info.local);
  EXPECT_EQ(r.info.source.ToString(), "192.0.2.1:56324");
  EXPECT_EQ(r.info.destination.ToString(), "198.51.100.2:443");
  ExpectSplitsNeedMore(header);
}

TEST(ProxyProtocolV2, ParsesInet6) {
  std::string block(36, '\0');
  block[15] = 1;       // ::1
  block[16] = '\x20';  // 2001:db8::2
  block[17] = '\x01';
  block[18] = '\x0d';
  block[19] = '\xb8';
  block[31] = 2;
  block[33] = 80;      // port 80
  block[34] = '\x1f';  // port 8080
  block[35] = '\x90';
  const ProxyParseResult r = ParseProxyHeader(V2(0x21, 0x21, block));
  ASSERT_EQ(r.kind, Kind::kDone) << r.error;
  EXPECT_EQ(r.info.source.ToString(), "[::1]:80");
  EXPECT_EQ(r.info.destination.ToString(), "[2001:db8::2]:8080");
}

TEST(ProxyProtocolV2, ParsesUnixPathsAndAbstractNames) {
  std::string block(216, '\0');
  const std::string path = "/run/client.sock";
  block.replace(0, path.size(), path);
  block.replace(109, 4, "name");  // abstract: a leading NUL, then the name
  const ProxyParseResult r = ParseProxyHeader(V2(0x21, 0x31, block));
  ASSERT_EQ(r.kind, Kind::kDone) << r.error;
  EXPECT_EQ(r.info.source.ToString(), "unix:/run/client.sock");
  EXPECT_EQ(r.info.destination.ToString(), "unix:@name");
}

TEST(ProxyProtocolV2, LocalCommandAndUnspecifiedFamilyNameNoClient) {
  for (const std::string& header :
       {V2(0x20, 0x00, ""), V2(0x20, 0x11, kInet4Block), V2(0x21, 0x00, "")}) {
    const ProxyParseResult r = ParseProxyHeader(header);
    ASSERT_EQ(r.kind, Kind::kDone) << r.error;
    EXPECT_TRUE(r.info.local);
    EXPECT_EQ(r.consumed, header.size());
  }
}

TEST(ProxyProtocolV2, ReadsAlpnAuthoritySslAndKeepsOtherTlvs) {
  const std::string ssl = absl::StrCat(
      std::string("\x07\x00\x00\x00\x00", 5), Tlv(0x21, "TLSv1.3"),
      Tlv(0x22, "client.example"), Tlv(0x23, "TLS_AES_128_GCM_SHA256"),
      Tlv(0x24, "RSA-SHA256"), Tlv(0x25, "RSA2048"), Tlv(0x2f, "ignored"));
  const std::string body =
      absl::StrCat(kInet4Block, Tlv(0x01, "h2"), Tlv(0x02, "example.com"),
                   Tlv(0x04, "noop"), Tlv(0x20, ssl), Tlv(0x05, "id-42"));
  const ProxyParseResult r = ParseProxyHeader(V2(0x21, 0x11, body));
  ASSERT_EQ(r.kind, Kind::kDone) << r.error;
  EXPECT_EQ(r.info.alpn, "h2");
  EXPECT_EQ(r.info.authority, "example.com");
  ASSERT_TRUE(r.info.ssl.has_value());
  EXPECT_TRUE(r.info.ssl->client_used_ssl());
  EXPECT_EQ(r.info.ssl->client_flags, 7);
  EXPECT_EQ(r.info.ssl->verify, 0u);
  EXPECT_EQ(r.info.ssl->version, "TLSv1.3");
  EXPECT_EQ(r.info.ssl->common_name, "client.example");
  EXPECT_EQ(r.info.ssl->cipher, "TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(r.info.ssl->sig_alg, "RSA-SHA256");
  EXPECT_EQ(r.info.ssl->key_alg, "RSA2048");
  ASSERT_EQ(r.info.other_tlvs.size(), 1u);
  EXPECT_EQ(r.info.other_tlvs[0].first, 0x05);
  EXPECT_EQ(r.info.other_tlvs[0].second, "id-42");
}

TEST(ProxyProtocolV2, RejectsMalformedHeaders) {
  const std::string cut_tlv =
      absl::StrCat(kInet4Block, std::string("\x01\x00\x05h2", 5));
  const std::string short_ssl =
      absl::StrCat(kInet4Block, Tlv(0x20, std::string("\x01\x00", 2)));
  const std::string cut_ssl_sub = absl::StrCat(
      kInet4Block, Tlv(0x20, absl::StrCat(std::string(5, '\0'),
                                          std::string("\x21\x00", 2))));
  for (const std::string& header : {
           V2(0x11, 0x11, kInet4Block),                // version 1
           V2(0x22, 0x11, kInet4Block),                // command 2
           V2(0x21, 0x41, kInet4Block),                // family 4
           V2(0x21, 0x12, kInet4Block),                // datagram
           V2(0x21, 0x21, kInet4Block),                // short for inet6
           V2(0x21, 0x31, kInet4Block),                // short for unix
           V2(0x21, 0x11, kInet4Block.substr(0, 11)),  // short for inet
           V2(0x21, 0x11, cut_tlv),                    // TLV past the end
           V2(0x21, 0x11, absl::StrCat(kInet4Block, "\x01")),  // TLV head
           V2(0x21, 0x11, short_ssl),                          // SSL fixed part
           V2(0x21, 0x11, cut_ssl_sub),                        // SSL sub-TLV
       }) {
    const ProxyParseResult r = ParseProxyHeader(header);
    EXPECT_EQ(r.kind, Kind::kError) << absl::CHexEscape(header);
    EXPECT_FALSE(r.error.ok());
  }
}

TEST(ProxyProtocolV2, HeaderAboveTheLimitIsAnErrorBeforeItArrives) {
  const std::string body =
      absl::StrCat(kInet4Block, Tlv(0x05, std::string(5000, 'x')));
  const std::string header = V2(0x21, 0x11, body);
  // The length field alone condemns it: no need to wait for 5 KB.
  EXPECT_EQ(ParseProxyHeader(header.substr(0, 16)).kind, Kind::kError);
  EXPECT_EQ(ParseProxyHeader(header, 8192).kind, Kind::kDone);
  // The limit never goes below the largest address block.
  std::string unix_block(216, '\0');
  unix_block[0] = '/';
  EXPECT_EQ(ParseProxyHeader(V2(0x21, 0x31, unix_block), 16).kind, Kind::kDone);
}

TEST(ProxyProtocolV2, EncoderRoundTripsEveryFamily) {
  const struct {
    const char* source;
    const char* destination;
    const char* source_parsed;
    const char* destination_parsed;
  } kCases[] = {
      {"127.0.0.5:40000", "127.0.0.1:8080", "127.0.0.5:40000",
       "127.0.0.1:8080"},
      {"[2001:db8::1]:1", "[::1]:2", "[2001:db8::1]:1", "[::1]:2"},
      {"127.0.0.5:3", "[::1]:4", "[::ffff:127.0.0.5]:3", "[::1]:4"},
      {"unix:/tmp/a.sock", "unix:@b", "unix:/tmp/a.sock", "unix:@b"},
  };
  for (const auto& c : kCases) {
    const std::string header =
        EncodeProxyV2Header(Address(c.source), Address(c.destination));
    const ProxyParseResult r = ParseProxyHeader(header);
    ASSERT_EQ(r.kind, Kind::kDone) << c.source << " " << r.error;
    EXPECT_EQ(r.consumed, header.size());
    EXPECT_FALSE(r.info.local);
    EXPECT_EQ(r.info.source.ToString(), c.source_parsed);
    EXPECT_EQ(r.info.destination.ToString(), c.destination_parsed);
  }
  // Mixed families name no client.
  const ProxyParseResult mixed = ParseProxyHeader(
      EncodeProxyV2Header(Address("127.0.0.1:1"), Address("unix:/tmp/x.sock")));
  ASSERT_EQ(mixed.kind, Kind::kDone);
  EXPECT_TRUE(mixed.info.local);
}

TEST(ProxyProtocolMode, ParsesItsNames) {
  for (ProxyProtocolMode mode :
       {ProxyProtocolMode::kOff, ProxyProtocolMode::kOptional,
        ProxyProtocolMode::kRequired}) {
    EXPECT_EQ(ParseProxyProtocolMode(ProxyProtocolModeName(mode)), mode);
  }
  EXPECT_FALSE(ParseProxyProtocolMode("on").has_value());
}

}  // namespace
}  // namespace eddy
