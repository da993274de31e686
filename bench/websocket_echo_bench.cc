// eddy-ws-bench: the round trip of a WebSocket echo. One connection to a
// server's echo endpoint (eddy-httpd's /ws), one message in flight: send a
// masked text frame of --size bytes, wait for the whole echo, repeat. Prints
// the median and 99th percentile round trip and the messages per second.
//
//   eddy-httpd --port 8080 --workers 1 &
//   eddy-ws-bench --port 8080 --messages 200000 --size 64
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "eddy/core/unique_fd.h"
#include "eddy/http/websocket_frame.h"
#include "eddy/net/address.h"
#include "examples/program_flags.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "the server's numeric address");
ABSL_FLAG(uint16_t, port, 8080, "the server's port");
ABSL_FLAG(std::string, path, "/ws", "the WebSocket echo endpoint");
ABSL_FLAG(size_t, messages, 100000, "round trips measured");
ABSL_FLAG(size_t, warmup, 1000, "round trips made first and not measured");
ABSL_FLAG(size_t, size, 64, "bytes per message");

namespace {

using Clock = std::chrono::steady_clock;

bool SendAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads into `held` until `reader` yields an event; false at EOF or error.
bool NextEvent(int fd, eddy::http::WebSocketReader& reader, std::string& held,
               eddy::http::WebSocketReader::Event& event) {
  char chunk[65536];
  while (true) {
    size_t consumed = 0;
    event = reader.Next(held, consumed);
    held.erase(0, consumed);
    if (event.type != eddy::http::WebSocketReader::EventType::kNeedMore) {
      return true;
    }
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    held.append(chunk, static_cast<size_t>(n));
  }
}

std::string MaskedTextFrame(absl::string_view payload) {
  std::string frame;
  eddy::http::AppendWebSocketFrameHeader(eddy::http::WebSocketOpcode::kText,
                                         /*fin=*/true, payload.size(), frame);
  frame[1] = static_cast<char>(frame[1] | 0x80);
  const char mask[4] = {'\x5A', '\x3C', '\x11', '\x77'};
  frame.append(mask, 4);
  for (size_t i = 0; i < payload.size(); ++i) {
    frame.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
  }
  return frame;
}

int Fail(const std::string& why) {
  std::fprintf(stderr, "eddy-ws-bench: %s\n", why.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  eddy::ParseProgramFlags(argc, argv,
                          "WebSocket echo round trips against a server");
  auto address = eddy::SocketAddress::Parse(absl::GetFlag(FLAGS_host),
                                            absl::GetFlag(FLAGS_port));
  if (!address.ok()) return Fail(address.status().ToString());
  eddy::UniqueFd fd(::socket(address->family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid() ||
      ::connect(fd.get(), address->sockaddr_ptr(), address->length()) != 0) {
    return Fail("cannot connect to " + address->ToString());
  }
  const int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

  const std::string handshake =
      absl::StrCat("GET ", absl::GetFlag(FLAGS_path),
                   " HTTP/1.1\r\nHost: ", address->ToString(),
                   "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: ZWRkeS13cy1iZW5jaC0xMg==\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n");
  if (!SendAll(fd.get(), handshake)) return Fail("handshake not sent");
  std::string held;
  char chunk[4096];
  while (held.find("\r\n\r\n") == std::string::npos) {
    const ssize_t n = ::recv(fd.get(), chunk, sizeof(chunk), 0);
    if (n <= 0) return Fail("no handshake answer");
    held.append(chunk, static_cast<size_t>(n));
  }
  if (held.rfind("HTTP/1.1 101", 0) != 0) {
    return Fail("handshake refused: " + held.substr(0, held.find('\r')));
  }
  held.erase(0, held.find("\r\n\r\n") + 4);

  const size_t size = absl::GetFlag(FLAGS_size);
  const std::string frame = MaskedTextFrame(std::string(size, 'w'));
  eddy::http::WebSocketReader reader(
      {.max_message_bytes = size + 1, .expect_masked = false});
  const size_t warmup = absl::GetFlag(FLAGS_warmup);
  const size_t messages = absl::GetFlag(FLAGS_messages);
  std::vector<int64_t> round_trips_ns;
  round_trips_ns.reserve(messages);
  Clock::time_point measured_start;
  for (size_t i = 0; i < warmup + messages; ++i) {
    if (i == warmup) measured_start = Clock::now();
    const Clock::time_point sent = Clock::now();
    eddy::http::WebSocketReader::Event echo;
    if (!SendAll(fd.get(), frame) || !NextEvent(fd.get(), reader, held, echo)) {
      return Fail("connection lost");
    }
    if (echo.type != eddy::http::WebSocketReader::EventType::kText ||
        echo.payload.size() != size) {
      return Fail("the echo was not the message sent");
    }
    if (i >= warmup) {
      round_trips_ns.push_back(
          std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() -
                                                               sent)
              .count());
    }
  }
  const double seconds =
      std::chrono::duration<double>(Clock::now() - measured_start).count();
  if (round_trips_ns.empty()) return Fail("no round trips measured");
  std::sort(round_trips_ns.begin(), round_trips_ns.end());
  const auto at = [&](double q) {
    return round_trips_ns[static_cast<size_t>(q * (round_trips_ns.size() - 1))];
  };
  std::printf(
      "messages=%zu size=%zu median_us=%.1f p99_us=%.1f messages_per_s=%.0f\n",
      round_trips_ns.size(), size, at(0.5) / 1000.0, at(0.99) / 1000.0,
      static_cast<double>(round_trips_ns.size()) / seconds);
  return 0;
}
