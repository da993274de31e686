#include "eddy/http/mime_types.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace eddy::http {

absl::string_view MimeTypeForPath(absl::string_view path) {
  struct Entry {
    absl::string_view extension;
    absl::string_view type;
  };
  static constexpr Entry kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
      {".xml", "application/xml"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".wasm", "application/wasm"},
      {".pdf", "application/pdf"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".mp4", "video/mp4"},
      {".gz", "application/gzip"},
  };
  for (const Entry& entry : kTypes) {
    if (absl::EndsWithIgnoreCase(path, entry.extension)) return entry.type;
  }
  return "application/octet-stream";
}

}  // namespace eddy::http
