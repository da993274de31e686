#include "tests/support/http_test_client.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace eddy::testing {

absl::Status HttpTestReader::Fill(absl::Time deadline) {
  if (eof_) return absl::DataLossError("connection closed");
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) {
    return absl::DeadlineExceededError("response timed out");
  }
  absl::StatusOr<std::string> more = client_.ReceiveSome(left);
  if (!more.ok()) return more.status();
  if (more->empty()) {
    eof_ = true;
    return absl::DataLossError("connection closed");
  }
  buffered_ += *more;
  return absl::OkStatus();
}

absl::StatusOr<HttpTestResponse> HttpTestReader::Next(bool head_only,
                                                      absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  size_t end;
  while ((end = buffered_.find("\r\n\r\n")) == std::string::npos) {
    if (absl::Status s = Fill(deadline); !s.ok()) {
      return absl::Status(
          s.code(), absl::StrCat(s.message(), " (have: '", buffered_, "')"));
    }
  }
  const std::string head = buffered_.substr(0, end);
  buffered_.erase(0, end + 4);
  HttpTestResponse response;
  std::vector<std::string> lines = absl::StrSplit(head, "\r\n");
  std::vector<std::string> status_line =
      absl::StrSplit(lines[0], absl::MaxSplits(' ', 2));
  if (status_line.size() < 2 ||
      !absl::SimpleAtoi(status_line[1], &response.status)) {
    return absl::DataLossError(absl::StrCat("bad status line: ", lines[0]));
  }
  response.version = status_line[0];
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    if (colon == std::string::npos) {
      return absl::DataLossError(absl::StrCat("bad header: ", lines[i]));
    }
    std::string name = absl::AsciiStrToLower(lines[i].substr(0, colon));
    std::string value(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
    response.headers[name] = value;
  }
  if (head_only || response.status == 304 || response.status == 204 ||
      response.status / 100 == 1) {
    return response;
  }
  const std::string length_text = response.Header("content-length");
  if (length_text.empty()) {
    while (Fill(deadline).ok()) {
    }
    if (!eof_)
      return absl::DeadlineExceededError("close-delimited body timed out");
    response.body = std::move(buffered_);
    buffered_.clear();
    return response;
  }
  size_t length = 0;
  if (!absl::SimpleAtoi(length_text, &length)) {
    return absl::DataLossError(
        absl::StrCat("bad Content-Length: ", length_text));
  }
  while (buffered_.size() < length) {
    if (absl::Status s = Fill(deadline); !s.ok()) return s;
  }
  response.body = buffered_.substr(0, length);
  buffered_.erase(0, length);
  return response;
}

bool HttpTestReader::AtEof(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (buffered_.empty() && !eof_) {
    if (!Fill(deadline).ok()) break;
  }
  return buffered_.empty() && eof_;
}

}  // namespace eddy::testing
