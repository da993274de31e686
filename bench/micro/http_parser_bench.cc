// eddy's RequestParser against Debian's libhttp-parser (the former Node.js
// parser) on the same inputs, in the same binary: a minimal GET, a
// browser-like GET with 12 header fields (~500 bytes), and 16 pipelined
// browser-like requests in one buffer. Both parse every request completely
// and touch every header; bytes/s and requests/s are reported for each, so
// the ratio can be read side by side.
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "eddy/http/parser.h"

#ifdef EDDY_HAVE_HTTP_PARSER
#include <http_parser.h>
#endif

namespace {

const std::string& MinimalGet() {
  static const auto* text =
      new std::string("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  return *text;
}

const std::string& BrowserGet() {
  static const auto* text = new std::string(
      "GET /wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg "
      "HTTP/1.1\r\n"
      "Host: www.kittyhell.com\r\n"
      "User-Agent: Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10.6; ja-JP-mac; "
      "rv:1.9.2.3) Gecko/20100401 Firefox/3.6.3 Pathtraq/0.9\r\n"
      "Accept: "
      "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
      "Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n"
      "Accept-Encoding: gzip,deflate\r\n"
      "Accept-Charset: Shift_JIS,utf-8;q=0.7,*;q=0.7\r\n"
      "Keep-Alive: 115\r\n"
      "Connection: keep-alive\r\n"
      "Cache-Control: max-age=0\r\n"
      "Upgrade-Insecure-Requests: 1\r\n"
      "Sec-Fetch-Mode: navigate\r\n"
      "Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx; "
      "__utma=xxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.x\r\n"
      "\r\n");
  return *text;
}

const std::string& Pipelined16() {
  static const auto* text = [] {
    auto* s = new std::string;
    for (int i = 0; i < 16; ++i) absl::StrAppend(s, BrowserGet());
    return s;
  }();
  return *text;
}

const std::string& Input(int which) {
  switch (which) {
    case 0:
      return MinimalGet();
    case 1:
      return BrowserGet();
    default:
      return Pipelined16();
  }
}
constexpr int kRequestsIn[] = {1, 1, 16};
constexpr const char* kLabel[] = {"minimal_get", "browser_get", "pipelined_16"};

void BM_EddyRequestParser(benchmark::State& state) {
  const int which = static_cast<int>(state.range(0));
  const std::string& input = Input(which);
  eddy::http::RequestParser parser;
  for (auto _ : state) {
    absl::string_view rest = input;
    while (!rest.empty()) {
      if (parser.Parse(rest) != eddy::http::RequestParser::Status::kComplete) {
        state.SkipWithError("eddy parser did not complete");
        return;
      }
      size_t header_bytes = 0;
      for (const eddy::http::Header& h : parser.request().headers()) {
        header_bytes += h.name.size() + h.value.size();
      }
      benchmark::DoNotOptimize(header_bytes);
      rest.remove_prefix(parser.consumed());
      parser.Reset();
    }
  }
  state.SetBytesProcessed(state.iterations() * input.size());
  state.SetItemsProcessed(state.iterations() * kRequestsIn[which]);
  state.SetLabel(kLabel[which]);
}
BENCHMARK(BM_EddyRequestParser)->Arg(0)->Arg(1)->Arg(2);

#ifdef EDDY_HAVE_HTTP_PARSER
struct Counts {
  size_t messages = 0;
  size_t header_bytes = 0;
};

int CountField(http_parser* p, const char*, size_t length) {
  static_cast<Counts*>(p->data)->header_bytes += length;
  return 0;
}
int CountMessage(http_parser* p) {
  ++static_cast<Counts*>(p->data)->messages;
  return 0;
}

void BM_LibHttpParser(benchmark::State& state) {
  const int which = static_cast<int>(state.range(0));
  const std::string& input = Input(which);
  http_parser_settings settings;
  http_parser_settings_init(&settings);
  settings.on_header_field = CountField;
  settings.on_header_value = CountField;
  settings.on_message_complete = CountMessage;
  http_parser parser;
  Counts counts;
  for (auto _ : state) {
    http_parser_init(&parser, HTTP_REQUEST);
    parser.data = &counts;
    const size_t parsed =
        http_parser_execute(&parser, &settings, input.data(), input.size());
    if (parsed != input.size() || HTTP_PARSER_ERRNO(&parser) != HPE_OK) {
      state.SkipWithError("http_parser failed");
      return;
    }
    benchmark::DoNotOptimize(counts);
  }
  if (counts.messages !=
      static_cast<size_t>(state.iterations()) * kRequestsIn[which]) {
    state.SkipWithError("http_parser missed messages");
  }
  state.SetBytesProcessed(state.iterations() * input.size());
  state.SetItemsProcessed(state.iterations() * kRequestsIn[which]);
  state.SetLabel(kLabel[which]);
}
BENCHMARK(BM_LibHttpParser)->Arg(0)->Arg(1)->Arg(2);
#endif

}  // namespace
