#include "eddy/http/http_date.h"

#include <time.h>

#include <cstdio>
#include <cstring>

namespace eddy::http {
namespace {

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed",
                                 "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

size_t FormatInto(time_t seconds, char* out, size_t size) {
  tm parts;
  gmtime_r(&seconds, &parts);
  const int n = std::snprintf(out, size, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                              kDays[parts.tm_wday], parts.tm_mday,
                              kMonths[parts.tm_mon], parts.tm_year + 1900,
                              parts.tm_hour, parts.tm_min, parts.tm_sec);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

bool ParseDigits(absl::string_view text, size_t count, int* value) {
  if (text.size() < count) return false;
  int result = 0;
  for (size_t i = 0; i < count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    result = result * 10 + (text[i] - '0');
  }
  *value = result;
  return true;
}

}  // namespace

std::string FormatHttpDate(time_t seconds) {
  char text[40];
  return std::string(text, FormatInto(seconds, text, sizeof(text)));
}

std::optional<time_t> ParseHttpDate(absl::string_view text) {
  // "Sun, 06 Nov 1994 08:49:37 GMT": fixed positions.
  if (text.size() != 29 || text.substr(3, 2) != ", " || text[7] != ' ' ||
      text[11] != ' ' || text[16] != ' ' || text[19] != ':' ||
      text[22] != ':' || text.substr(25) != " GMT") {
    return std::nullopt;
  }
  tm parts{};
  int month = -1;
  for (int i = 0; i < 12; ++i) {
    if (text.substr(8, 3) == kMonths[i]) month = i;
  }
  int day, year, hour, minute, second;
  if (month < 0 || !ParseDigits(text.substr(5), 2, &day) ||
      !ParseDigits(text.substr(12), 4, &year) ||
      !ParseDigits(text.substr(17), 2, &hour) ||
      !ParseDigits(text.substr(20), 2, &minute) ||
      !ParseDigits(text.substr(23), 2, &second) || day < 1 || day > 31 ||
      hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  parts.tm_mday = day;
  parts.tm_mon = month;
  parts.tm_year = year - 1900;
  parts.tm_hour = hour;
  parts.tm_min = minute;
  parts.tm_sec = second;
  const time_t result = timegm(&parts);
  if (result == static_cast<time_t>(-1)) return std::nullopt;
  return result;
}

absl::string_view CurrentHttpDate() {
  struct Cache {
    time_t second = -1;
    char text[40];
    size_t length = 0;
  };
  thread_local Cache cache;
  timespec now;
  clock_gettime(CLOCK_REALTIME_COARSE, &now);
  if (now.tv_sec != cache.second) {
    cache.second = now.tv_sec;
    cache.length = FormatInto(now.tv_sec, cache.text, sizeof(cache.text));
  }
  return absl::string_view(cache.text, cache.length);
}

}  // namespace eddy::http
