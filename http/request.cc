#include "http/request.h"

#include "absl/strings/match.h"

namespace eddy::http {

std::optional<absl::string_view> Request::FindHeader(
    absl::string_view name) const {
  for (const Header& header : headers_) {
    if (absl::EqualsIgnoreCase(header.name, name)) return header.value;
  }
  return std::nullopt;
}

}  // namespace eddy::http
