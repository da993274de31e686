#ifndef EDDY_HTTP_HTTP_DATE_H_
#define EDDY_HTTP_HTTP_DATE_H_

#include <ctime>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace eddy::http {

// Formats `seconds` since the epoch as an IMF-fixdate (RFC 9110 5.6.7),
// e.g. "Sun, 06 Nov 1994 08:49:37 GMT". Thread-safe.
std::string FormatHttpDate(time_t seconds);

// Parses an IMF-fixdate; the obsolete RFC 850 and asctime forms are not
// accepted (a cache validator that does not parse is simply ignored).
// Thread-safe.
std::optional<time_t> ParseHttpDate(absl::string_view text);

// The current time as an IMF-fixdate, formatted at most once a second per
// thread: every worker thread has its own copy, so the Date header costs one
// coarse clock read per response. The view stays valid until the next call
// on the same thread.
absl::string_view CurrentHttpDate();

}  // namespace eddy::http

#endif  // EDDY_HTTP_HTTP_DATE_H_
