#include "eddy/http/utf8_validator.h"

namespace eddy::http {

bool Utf8Validator::Feed(absl::string_view bytes) {
  for (size_t i = 0; i < bytes.size() && valid_; ++i) {
    const uint8_t byte = static_cast<uint8_t>(bytes[i]);
    if (pending_ > 0) {
      if (byte < low_ || byte > high_) {
        valid_ = false;
        break;
      }
      --pending_;
      low_ = 0x80;
      high_ = 0xBF;
      continue;
    }
    if (byte < 0x80) continue;
    if (byte >= 0xC2 && byte <= 0xDF) {
      pending_ = 1;
    } else if (byte >= 0xE0 && byte <= 0xEF) {
      pending_ = 2;
      if (byte == 0xE0) low_ = 0xA0;   // overlong
      if (byte == 0xED) high_ = 0x9F;  // surrogates
    } else if (byte >= 0xF0 && byte <= 0xF4) {
      pending_ = 3;
      if (byte == 0xF0) low_ = 0x90;   // overlong
      if (byte == 0xF4) high_ = 0x8F;  // above U+10FFFF
    } else {
      valid_ = false;
    }
  }
  return valid_;
}

}  // namespace eddy::http
