#include "eddy/http/url.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace eddy::http {

absl::StatusOr<Url> ParseUrl(absl::string_view text) {
  absl::string_view rest = text;
  Url url;
  if (absl::StartsWithIgnoreCase(rest, "https://")) {
    url.https = true;
    url.port = 443;
    rest.remove_prefix(8);
  } else if (absl::StartsWithIgnoreCase(rest, "http://")) {
    rest.remove_prefix(7);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not an http:// or https:// URL"));
  }
  const size_t fragment = rest.find('#');
  if (fragment != absl::string_view::npos) rest = rest.substr(0, fragment);
  const size_t path_start = rest.find_first_of("/?");
  absl::string_view authority = rest.substr(0, path_start);
  url.target = path_start == absl::string_view::npos
                   ? "/"
                   : std::string(rest.substr(path_start));
  if (url.target[0] == '?') url.target.insert(0, "/");
  for (char c : url.target) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", text,
                       "': the path has a space or control character; "
                       "percent-encode it"));
    }
  }
  if (authority.find('@') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "': user info in URLs is not supported"));
  }
  absl::string_view host = authority;
  absl::string_view port;
  if (absl::StartsWith(authority, "[")) {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", text, "': unclosed '[' in the host"));
    }
    host = authority.substr(1, close - 1);
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        return absl::InvalidArgumentError(
            absl::StrCat("'", text, "': junk after the IPv6 address"));
      }
      port = after.substr(1);
    }
  } else {
    const size_t colon = authority.find(':');
    if (colon != absl::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
  }
  if (host.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' has no host"));
  }
  for (char c : host) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '-' && c != '_' &&
        c != ':') {
      return absl::InvalidArgumentError(absl::StrCat(
          "'", text, "': '", host, "' is not a host name or address"));
    }
  }
  if (!port.empty()) {
    uint32_t number = 0;
    if (!absl::SimpleAtoi(port, &number) || number == 0 || number > 65535 ||
        !absl::ascii_isdigit(port[0])) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", text, "': the port must be 1 to 65535"));
    }
    url.port = static_cast<uint16_t>(number);
  }
  url.host = absl::AsciiStrToLower(host);
  const bool v6 = url.host.find(':') != std::string::npos;
  const std::string bracketed =
      v6 ? absl::StrCat("[", url.host, "]") : url.host;
  url.host_port = absl::StrCat(bracketed, ":", url.port);
  url.authority =
      port.empty() ? bracketed : absl::StrCat(bracketed, ":", url.port);
  return url;
}

}  // namespace eddy::http
