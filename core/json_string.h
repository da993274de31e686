#ifndef EDDY_CORE_JSON_STRING_H_
#define EDDY_CORE_JSON_STRING_H_

#include <string>

#include "absl/strings/string_view.h"

namespace eddy {

// Appends `text` to `out` as a JSON string literal, quotes included. Quotes,
// backslashes and control characters are escaped; bytes that are not valid
// UTF-8 (a hostile request line, a binary peer name) become U+FFFD, so that
// every line a log writes parses as JSON whatever a client sent.
//
// Threading: a pure function; safe from any thread.
void AppendJsonString(std::string* out, absl::string_view text);

}  // namespace eddy

#endif  // EDDY_CORE_JSON_STRING_H_
