#ifndef EDDY_TESTS_SUPPORT_TEST_CLIENT_H_
#define EDDY_TESTS_SUPPORT_TEST_CLIENT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "eddy/core/unique_fd.h"

namespace eddy::testing {

// A blocking-style TCP client for tests: every call has a deadline, so a
// broken server fails the test instead of hanging it. Loopback only.
class TestClient {
 public:
  static absl::StatusOr<TestClient> Connect(
      uint16_t port, absl::Duration timeout = absl::Seconds(30),
      absl::string_view host = "127.0.0.1");
  // Connects to 127.0.0.1:`port` from `source` (another loopback address,
  // e.g. "127.0.0.7"), as a client behind a balancer would appear.
  static absl::StatusOr<TestClient> ConnectFrom(
      absl::string_view source, uint16_t port,
      absl::Duration timeout = absl::Seconds(30));

  // Sends all of `data` or fails at the deadline.
  absl::Status SendAll(absl::string_view data,
                       absl::Duration timeout = absl::Seconds(30));
  // Receives exactly `n` bytes, or fails at EOF or the deadline.
  absl::StatusOr<std::string> ReceiveExactly(
      size_t n, absl::Duration timeout = absl::Seconds(30));
  // Receives until the peer closes (EOF) or the deadline; returns the bytes.
  absl::StatusOr<std::string> ReceiveUntilClose(
      absl::Duration timeout = absl::Seconds(30));
  // Receives until `terminator` appears (returns everything so far).
  absl::StatusOr<std::string> ReceiveUntil(
      absl::string_view terminator, absl::Duration timeout = absl::Seconds(30));
  // Receives at least one byte (whatever is available); "" means EOF.
  absl::StatusOr<std::string> ReceiveSome(
      absl::Duration timeout = absl::Seconds(30));
  // True if the peer closed (EOF or RST) within the timeout.
  bool WaitForClose(absl::Duration timeout = absl::Seconds(30));

  void ShutdownWrite();
  int fd() const { return fd_.get(); }
  void Close() { fd_.reset(); }

 private:
  explicit TestClient(UniqueFd fd) : fd_(std::move(fd)) {}
  bool WaitFor(short events, absl::Time deadline);

  UniqueFd fd_;
};

// Random bytes, reproducible from `seed`.
std::string RandomBytes(size_t n, uint32_t seed);

// Sends `data` and receives the same number of bytes back, interleaving
// both directions with poll() so that neither side's buffers deadlock.
absl::StatusOr<std::string> EchoRoundTrip(TestClient& client,
                                          absl::string_view data,
                                          absl::Duration timeout);

// Raises the soft RLIMIT_NOFILE towards `wanted`; returns the limit now in
// force.
uint64_t RaiseFdLimit(uint64_t wanted);

}  // namespace eddy::testing

#endif  // EDDY_TESTS_SUPPORT_TEST_CLIENT_H_
