#ifndef EDDY_HTTP_UTF8_VALIDATOR_H_
#define EDDY_HTTP_UTF8_VALIDATOR_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace eddy::http {

// Checks UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF) piece by piece, so that a character may be split between
// pieces (WebSocket fragments) and a bad byte is found as soon as it
// arrives. Not thread-safe.
class Utf8Validator {
 public:
  // False once the bytes seen so far cannot be the start of valid UTF-8.
  bool Feed(absl::string_view bytes);
  // The bytes fed form whole characters (no sequence left open).
  bool complete() const { return valid_ && pending_ == 0; }
  void Reset() { *this = Utf8Validator(); }

 private:
  bool valid_ = true;
  int pending_ = 0;  // continuation bytes still owed
  // The range of the next continuation byte; narrower than 80..BF only
  // right after a lead byte that excludes overlongs or surrogates.
  uint8_t low_ = 0x80;
  uint8_t high_ = 0xBF;
};

}  // namespace eddy::http

#endif  // EDDY_HTTP_UTF8_VALIDATOR_H_
