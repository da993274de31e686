#ifndef EDDY_TESTS_SUPPORT_TLS_TEST_CLIENT_H_
#define EDDY_TESTS_SUPPORT_TLS_TEST_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/support/test_client.h"

struct ssl_st;
struct ssl_ctx_st;

namespace eddy::testing {

// A blocking TLS client for tests that must control the bytes on the wire:
// OpenSSL runs over memory BIOs, and the ciphertext goes through a plain
// TestClient socket, `split` bytes per send (1: a record split at every
// byte). Every call has a deadline.
class TlsTestClient {
 public:
  struct Options {
    std::string ca_file;  // trusted CA
    std::string server_name = "localhost";
    size_t split = 0;  // 0: send ciphertext as it comes
    std::string alpn;  // one protocol to offer; empty: none
    // STARTTLS: plaintext sent in the same write as the client's hello, and
    // how many plaintext bytes the server answers before its own hello
    // (see plaintext_reply()).
    std::string plaintext_first;
    size_t plaintext_reply_size = 0;
  };

  // Takes over `socket` (connected, maybe after a plaintext exchange: see
  // StartTls tests) and completes a client handshake on it.
  static absl::StatusOr<std::unique_ptr<TlsTestClient>> Handshake(
      TestClient socket, const Options& options,
      absl::Duration timeout = absl::Seconds(30));
  // Connects to 127.0.0.1:`port` and completes a client handshake.
  static absl::StatusOr<std::unique_ptr<TlsTestClient>> Connect(
      uint16_t port, const Options& options,
      absl::Duration timeout = absl::Seconds(30));
  ~TlsTestClient();

  absl::Status Write(absl::string_view plaintext);
  absl::StatusOr<std::string> ReadExactly(
      size_t n, absl::Duration timeout = absl::Seconds(30));
  // Writes `message` and reads as many bytes back (from an echo server).
  absl::StatusOr<std::string> RoundTrip(
      absl::string_view message, absl::Duration timeout = absl::Seconds(30));
  // Sends close_notify.
  absl::Status SendCloseNotify();
  // Whether the server sent close_notify (then EOF) within `timeout`.
  bool WaitForCloseNotify(absl::Duration timeout = absl::Seconds(30));
  TestClient& socket() { return socket_; }
  std::string alpn() const;
  // The plaintext answer read before the server's hello.
  const std::string& plaintext_reply() const { return plaintext_reply_; }

 private:
  TlsTestClient(TestClient socket, size_t split);
  // Sends what OpenSSL wrote, `split_` bytes per send.
  absl::Status FlushOut();
  // Reads what the socket has into OpenSSL; false at EOF.
  absl::StatusOr<bool> FeedIn(absl::Time deadline);

  TestClient socket_;
  size_t split_;
  ssl_ctx_st* ctx_ = nullptr;
  ssl_st* ssl_ = nullptr;
  std::string plaintext_first_;
  size_t plaintext_reply_size_ = 0;
  std::string plaintext_reply_;
};

}  // namespace eddy::testing

#endif  // EDDY_TESTS_SUPPORT_TLS_TEST_CLIENT_H_
