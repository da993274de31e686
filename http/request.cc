#include "eddy/http/request.h"

#include "absl/strings/match.h"

namespace eddy::http {

std::optional<absl::string_view> Request::FindHeader(
    absl::string_view name) const {
  for (const Header& header : headers_) {
    if (absl::EqualsIgnoreCase(header.name, name)) return header.value;
  }
  return std::nullopt;
}

void Request::Clear() {
  method_ = target_ = path_ = query_ = body_ = {};
  version_ = Version::kHttp11;
  headers_.clear();
  content_length_.reset();
  keep_alive_ = true;
  expects_continue_ = false;
  chunked_ = false;
}

}  // namespace eddy::http
