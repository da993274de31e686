#ifndef EDDY_TESTS_SUPPORT_HTTP_TEST_CLIENT_H_
#define EDDY_TESTS_SUPPORT_HTTP_TEST_CLIENT_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/support/test_client.h"

namespace eddy::testing {

// One HTTP response as a test sees it.
struct HttpTestResponse {
  std::string version;
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

// Reads consecutive responses from a connection, keeping bytes that belong
// to the next response. Bodies are framed by Content-Length; a response
// without one (and `close_delimited`) reads to EOF. `head_only` reads no
// body (for HEAD). Every read has the deadline of the TestClient calls.
class HttpTestReader {
 public:
  explicit HttpTestReader(TestClient& client) : client_(client) {}
  absl::StatusOr<HttpTestResponse> Next(
      bool head_only = false, absl::Duration timeout = absl::Seconds(30));
  // True when the server closed the connection and nothing is left.
  bool AtEof(absl::Duration timeout = absl::Seconds(30));

 private:
  absl::Status Fill(absl::Time deadline);
  TestClient& client_;
  std::string buffered_;
  bool eof_ = false;
};

}  // namespace eddy::testing

#endif  // EDDY_TESTS_SUPPORT_HTTP_TEST_CLIENT_H_
