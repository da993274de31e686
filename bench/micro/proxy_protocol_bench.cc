// The cost of the PROXY protocol step per connection: parsing one header
// (v1 text, v2 binary, v2 with the TLVs HAProxy sends for a TLS client),
// as ParseProxyHeader does on a connection's first read. Compare with the
// cost of accepting the connection itself (bench/peers, docs/performance.md).
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "eddy/net/address.h"
#include "eddy/net/proxy_protocol.h"

namespace {

eddy::SocketAddress Address(const char* text) {
  return eddy::SocketAddress::ParseHostPort(text).value();
}

std::string Tlv(char type, const std::string& value) {
  return absl::StrCat(std::string(1, type),
                      std::string{static_cast<char>(value.size() >> 8),
                                  static_cast<char>(value.size() & 0xff)},
                      value);
}

// A v2 header with ALPN, authority and an SSL TLV (version, CN, cipher).
std::string V2WithTlvs() {
  std::string header = eddy::EncodeProxyV2Header(Address("203.0.113.7:51234"),
                                                 Address("198.51.100.2:443"));
  const std::string ssl = absl::StrCat(
      std::string("\x07\x00\x00\x00\x00", 5), Tlv('\x21', "TLSv1.3"),
      Tlv('\x22', "client.example.com"), Tlv('\x23', "TLS_AES_256_GCM_SHA384"));
  const std::string tlvs =
      absl::StrCat(Tlv('\x01', "http/1.1"), Tlv('\x02', "www.example.com"),
                   Tlv('\x20', ssl));
  const size_t length = 12 + tlvs.size();
  header[14] = static_cast<char>(length >> 8);
  header[15] = static_cast<char>(length & 0xff);
  return header + tlvs;
}

void ParseEach(benchmark::State& state, const std::string& input) {
  for (auto _ : state) {
    eddy::ProxyParseResult result = eddy::ParseProxyHeader(input);
    benchmark::DoNotOptimize(result);
    if (result.kind != eddy::ProxyParseResult::Kind::kDone) {
      state.SkipWithError("the header did not parse");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(input.size()));
}

void BM_ProxyHeaderV1(benchmark::State& state) {
  ParseEach(state, "PROXY TCP4 203.0.113.7 198.51.100.2 51234 443\r\n");
}
BENCHMARK(BM_ProxyHeaderV1);

void BM_ProxyHeaderV2(benchmark::State& state) {
  ParseEach(state, eddy::EncodeProxyV2Header(Address("203.0.113.7:51234"),
                                             Address("198.51.100.2:443")));
}
BENCHMARK(BM_ProxyHeaderV2);

void BM_ProxyHeaderV2WithTlvs(benchmark::State& state) {
  ParseEach(state, V2WithTlvs());
}
BENCHMARK(BM_ProxyHeaderV2WithTlvs);

}  // namespace
