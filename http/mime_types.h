#ifndef EDDY_HTTP_MIME_TYPES_H_
#define EDDY_HTTP_MIME_TYPES_H_

#include "absl/strings/string_view.h"

namespace eddy::http {

// The Content-Type for a file name by its extension (case-insensitive);
// "application/octet-stream" when unknown. Thread-safe.
absl::string_view MimeTypeForPath(absl::string_view path);

}  // namespace eddy::http

#endif  // EDDY_HTTP_MIME_TYPES_H_
