// The demo server program eddy-httpd, driven by real clients nobody here
// wrote: curl, ab, wrk, Python's http.client and headless Chromium. Each
// client test skips (with the reason) when its tool is not installed;
// tests/run.sh installs them.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/program_process.h"
#include "tests/support/run_command.h"
#include "tests/support/test_client.h"

namespace {

using ::eddy::testing::CommandResult;
using ::eddy::testing::HaveTool;
using ::eddy::testing::LoopbackProgram;
using ::eddy::testing::ProgramProcess;
using ::eddy::testing::RunCommand;

class HttpdProgramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_path_ = absl::StrCat(::testing::TempDir(), "/eddy-httpd-access-",
                             ::getpid(), ".log");
    std::filesystem::remove(log_path_);
    httpd_ = std::make_unique<ProgramProcess>(
        LoopbackProgram(EDDY_HTTPD_PATH, 2, {"--access_log=" + log_path_}));
    ASSERT_GT(httpd_->port(), 0) << "no start line: " << httpd_->start_line();
    EXPECT_TRUE(absl::StrContains(httpd_->start_line(), "2 workers"));
  }
  void TearDown() override {
    if (httpd_ != nullptr) {
      EXPECT_EQ(httpd_->Stop(), 0) << "exit status";
    }
    std::filesystem::remove(log_path_);
  }
  std::string AccessLog() {
    std::ifstream file(log_path_);
    std::stringstream content;
    content << file.rdbuf();
    return content.str();
  }
  std::string Url(absl::string_view path) const {
    return absl::StrCat("http://127.0.0.1:", httpd_->port(), path);
  }

  std::string log_path_;
  std::unique_ptr<ProgramProcess> httpd_;
};

TEST_F(HttpdProgramTest, CurlHttp10And11GetPostAndStatic) {
  if (!HaveTool("curl")) GTEST_SKIP() << "curl is not installed";
  for (const char* version : {"--http1.0", "--http1.1"}) {
    CommandResult get =
        RunCommand(absl::StrCat("curl -sS ", version, " ", Url("/")));
    EXPECT_EQ(get.exit_code, 0) << get.output;
    EXPECT_EQ(get.output, "Hello, world!") << version;
  }
  CommandResult post =
      RunCommand("curl -sS --data-binary 'posted bytes' " + Url("/echo"));
  EXPECT_EQ(post.output, "posted bytes");
  CommandResult page = RunCommand("curl -sS " + Url("/static/index.html"));
  EXPECT_TRUE(absl::StrContains(page.output, "eddy is serving")) << page.output;
  CommandResult health = RunCommand("curl -sS " + Url("/healthz"));
  EXPECT_EQ(health.output, "ok\n");
  CommandResult metrics = RunCommand("curl -sS " + Url("/metrics"));
  EXPECT_TRUE(
      absl::StrContains(metrics.output, "\neddy_connections_accepted_total "))
      << metrics.output;
  // The two GETs of "/" above, by route pattern and status class.
  EXPECT_TRUE(absl::StrContains(
      metrics.output,
      "eddy_http_requests_total{method=\"GET\",route=\"/\",status=\"2xx\"} "
      "2\n"))
      << metrics.output;
  // Two requests on one connection: curl reuses it (keep-alive).
  CommandResult reuse = RunCommand("curl -sS -v " + Url("/") + " " + Url("/"));
  EXPECT_TRUE(absl::StrContains(reuse.output, "Re-using existing connection") ||
              absl::StrContains(reuse.output, "Reusing existing connection"))
      << reuse.output;
}

TEST_F(HttpdProgramTest, BytesRouteGeneratesTheRequestedSize) {
  if (!HaveTool("curl")) GTEST_SKIP() << "curl is not installed";
  const std::string body_path =
      absl::StrCat(::testing::TempDir(), "/eddy-bytes-", ::getpid());
  for (size_t size : {size_t{0}, size_t{100}, size_t{65536}, size_t{1} << 20}) {
    CommandResult fetch = RunCommand(
        absl::StrCat("curl -sS -o ", body_path, " -w '%{http_code}' ",
                     Url(absl::StrCat("/bytes/", size))));
    EXPECT_EQ(fetch.output, "200") << size;
    std::ifstream file(body_path, std::ios::binary);
    std::stringstream content;
    content << file.rdbuf();
    std::string expected(size, '\0');
    for (size_t i = 0; i < size; ++i) expected[i] = 'a' + i % 26;
    EXPECT_TRUE(content.str() == expected)
        << size << " bytes asked, " << content.str().size() << " received";
  }
  std::filesystem::remove(body_path);
  for (const char* bad : {"/bytes/16777217", "/bytes/x", "/bytes/-1"}) {
    CommandResult refused = RunCommand(
        absl::StrCat("curl -sS -o /dev/null -w '%{http_code}' ", Url(bad)));
    EXPECT_EQ(refused.output, "400") << bad;
  }
}

TEST_F(HttpdProgramTest, ApacheBenchWithAndWithoutKeepAlive) {
  if (!HaveTool("ab")) GTEST_SKIP() << "ab (apache2-utils) is not installed";
  for (const char* keepalive : {"", "-k "}) {
    CommandResult ab =
        RunCommand(absl::StrCat("ab -q -n 2000 -c 8 ", keepalive, Url("/")));
    EXPECT_EQ(ab.exit_code, 0) << ab.output;
    EXPECT_TRUE(absl::StrContains(ab.output, "Complete requests:      2000"))
        << ab.output;
    EXPECT_TRUE(absl::StrContains(ab.output, "Failed requests:        0"))
        << ab.output;
    EXPECT_FALSE(absl::StrContains(ab.output, "Non-2xx")) << ab.output;
  }
}

TEST_F(HttpdProgramTest, WrkKeepAliveLoadHasNoErrors) {
  if (!HaveTool("wrk")) GTEST_SKIP() << "wrk is not installed";
  CommandResult wrk = RunCommand("wrk -t1 -c16 -d2s " + Url("/"));
  EXPECT_EQ(wrk.exit_code, 0) << wrk.output;
  EXPECT_TRUE(absl::StrContains(wrk.output, "Requests/sec")) << wrk.output;
  EXPECT_FALSE(absl::StrContains(wrk.output, "Socket errors")) << wrk.output;
  EXPECT_FALSE(absl::StrContains(wrk.output, "Non-2xx")) << wrk.output;
}

TEST_F(HttpdProgramTest, PythonHttpClientKeepAliveAndHttp10) {
  if (!HaveTool("python3")) GTEST_SKIP() << "python3 is not installed";
  const std::string script = absl::StrCat(
      "import http.client\n"
      "c = http.client.HTTPConnection('127.0.0.1', ",
      httpd_->port(),
      ", timeout=30)\n"
      "for i in range(3):\n"
      "    c.request('GET', '/')\n"
      "    r = c.getresponse(); body = r.read()\n"
      "    assert r.status == 200 and body == b'Hello, world!', (r.status, "
      "body)\n"
      "c.request('POST', '/echo', body=b'abc' * 1000)\n"
      "r = c.getresponse(); assert r.read() == b'abc' * 1000\n"
      "http.client.HTTPConnection._http_vsn = 10\n"
      "http.client.HTTPConnection._http_vsn_str = 'HTTP/1.0'\n"
      "d = http.client.HTTPConnection('127.0.0.1', ",
      httpd_->port(),
      ", timeout=30)\n"
      "d.request('GET', '/static/style.css')\n"
      "r = d.getresponse(); assert r.status == 200 and b'font-family' in "
      "r.read()\n"
      "print('python ok')\n");
  const std::string path =
      absl::StrCat(::testing::TempDir(), "/eddy_client_", ::getpid(), ".py");
  std::ofstream(path) << script;
  CommandResult python = RunCommand("python3 " + path);
  std::filesystem::remove(path);
  EXPECT_EQ(python.exit_code, 0) << python.output;
  EXPECT_TRUE(absl::StrContains(python.output, "python ok")) << python.output;
}

TEST_F(HttpdProgramTest, HeadlessChromiumLoadsThePageWithItsAssets) {
  const std::string browser = eddy::testing::FindChromium();
  if (browser.empty())
    GTEST_SKIP() << "no Chromium installed (apt-get install chromium)";
  CommandResult dom =
      eddy::testing::DumpDomWithChromium(browser, Url("/static/index.html"));
  EXPECT_TRUE(absl::StrContains(dom.output, "eddy is serving this page"))
      << dom.output;
  // The browser fetched the stylesheet and the image too (access log).
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  std::string log;
  while (absl::Now() < deadline) {
    log = AccessLog();
    if (absl::StrContains(log, "GET /static/style.css HTTP/1.1\" 200") &&
        absl::StrContains(log, "GET /static/eddy.png HTTP/1.1\" 200")) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  // Workers buffer the log; stopping the server flushes it.
  if (!absl::StrContains(log, "eddy.png") ||
      !absl::StrContains(log, "style.css")) {
    EXPECT_EQ(httpd_->Stop(), 0);
    httpd_.reset();
    log = AccessLog();
  }
  EXPECT_TRUE(absl::StrContains(log, "GET /static/style.css HTTP/1.1\" 200"))
      << log;
  EXPECT_TRUE(absl::StrContains(log, "GET /static/eddy.png HTTP/1.1\" 200"))
      << log;
}

// The text/event-stream body GET /events?count=3 sends.
constexpr absl::string_view kThreeEvents =
    "id: 1\ndata: 1\n\nid: 2\ndata: 2\n\nid: 3\ndata: 3\n\n";

TEST_F(HttpdProgramTest, EventsStreamToCurl) {
  if (!HaveTool("curl")) GTEST_SKIP() << "curl is not installed";
  CommandResult events =
      RunCommand(absl::StrCat("curl -sSN -D /dev/stderr '",
                              Url("/events?count=3&interval_ms=20"), "'"));
  EXPECT_EQ(events.exit_code, 0) << events.output;
  EXPECT_TRUE(
      absl::StrContains(events.output, "Content-Type: text/event-stream"))
      << events.output;
  EXPECT_TRUE(absl::EndsWith(events.output, kThreeEvents)) << events.output;
}

TEST_F(HttpdProgramTest, EventsArriveChunkedAndEnd) {
  auto client =
      eddy::testing::TestClient::Connect(static_cast<uint16_t>(httpd_->port()));
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(client
                  ->SendAll("GET /events?count=3&interval_ms=1 HTTP/1.1\r\n"
                            "Host: t\r\n\r\n")
                  .ok());
  // One chunk per event, then the last chunk.
  auto raw = client->ReceiveUntil("\r\n0\r\n\r\n", absl::Seconds(60));
  ASSERT_TRUE(raw.ok()) << raw.status();
  const size_t body = raw->find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos);
  EXPECT_TRUE(
      absl::StrContains(raw->substr(0, body), "Transfer-Encoding: chunked"));
  EXPECT_EQ(raw->substr(body + 4),
            "f\r\nid: 1\ndata: 1\n\n\r\nf\r\nid: 2\ndata: 2\n\n\r\n"
            "f\r\nid: 3\ndata: 3\n\n\r\n0\r\n\r\n");
  // The connection persists: the next request is answered.
  ASSERT_TRUE(client
                  ->SendAll("GET /events?count=x HTTP/1.1\r\nHost: t\r\n"
                            "Connection: close\r\n\r\n")
                  .ok());
  auto bad = client->ReceiveUntilClose(absl::Seconds(60));
  ASSERT_TRUE(bad.ok()) << bad.status();
  EXPECT_TRUE(absl::StartsWith(*bad, "HTTP/1.1 400")) << *bad;
}

// A WebSocket session with Python's websockets package: each step prints
// one line the test checks.
constexpr absl::string_view kWebSocketScript = R"py(
import asyncio, sys, websockets
async def main(url):
    async with websockets.connect(url, max_size=32 << 20) as ws:
        await ws.send("hello")
        print("text", await ws.recv())
        await ws.send(b"\x00\xffbinary")
        print("binary", await ws.recv() == b"\x00\xffbinary")
        big = bytes(range(256)) * 4096
        await ws.send([big[i:i + 65536] for i in range(0, len(big), 65536)])
        print("fragmented", await ws.recv() == big)
        largest = b"x" * (16 << 20)
        await ws.send(largest)
        print("16MiB", await ws.recv() == largest)
        pong = await ws.ping(b"p")
        await asyncio.wait_for(pong, 60)
        print("pong")
        await ws.close(code=4001, reason="done")
        print("closed", ws.close_code)
    async with websockets.connect(url, max_size=32 << 20) as ws:
        try:
            # The server refuses from the frame's header: the close may
            # come while the client is still sending.
            await ws.send(b"x" * ((16 << 20) + 1))
            await ws.recv()
        except websockets.ConnectionClosed as closed:
            print("too big", closed.rcvd.code)
asyncio.run(main(sys.argv[1]))
)py";

TEST_F(HttpdProgramTest, PythonWebSocketClientEchoes) {
  if (RunCommand("/usr/bin/python3 -c 'import websockets'").exit_code != 0) {
    GTEST_SKIP() << "Python's websockets is not installed "
                    "(apt-get install python3-websockets)";
  }
  const std::string script =
      absl::StrCat(::testing::TempDir(), "/eddy-websocket-", ::getpid(), ".py");
  std::ofstream(script) << kWebSocketScript;
  std::string url = Url("/ws");
  url.replace(0, 4, "ws");
  CommandResult result = RunCommand(
      absl::StrCat("/usr/bin/python3 ", script, " ", url), absl::Seconds(180));
  std::filesystem::remove(script);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output,
            "text hello\nbinary True\nfragmented True\n16MiB True\npong\n"
            "closed 4001\ntoo big 1009\n");
}

TEST_F(HttpdProgramTest, HeadlessChromiumEchoesOverWebSocket) {
  const std::string browser = eddy::testing::FindChromium();
  if (browser.empty())
    GTEST_SKIP() << "no Chromium installed (apt-get install chromium)";
  // The demo page opens /ws on load, sends a greeting and shows the echo;
  // the virtual time budget lets the page run before the DOM is dumped.
  CommandResult dom = eddy::testing::DumpDomWithChromium(
      browser, Url("/static/index.html"), "", absl::Seconds(10));
  EXPECT_TRUE(
      absl::StrContains(dom.output, "WebSocket echo: hello from the page"))
      << dom.output;
}

TEST_F(HttpdProgramTest, SigtermExitsZero) {
  EXPECT_EQ(httpd_->Stop(), 0);
  httpd_.reset();
}

}  // namespace
