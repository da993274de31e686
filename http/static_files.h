#ifndef EDDY_HTTP_STATIC_FILES_H_
#define EDDY_HTTP_STATIC_FILES_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eddy/core/unique_fd.h"
#include "eddy/http/request.h"
#include "eddy/http/response.h"
#include "eddy/http/router.h"

namespace eddy::http {

// StaticFiles serves the files below one directory, sent with sendfile:
// Content-Type by extension, Last-Modified and If-Modified-Since (304),
// a single byte Range (206, or 416), index.html for a directory.
//
// No request reaches outside the root: the path is percent-decoded once and
// rejected (403) if it holds NUL or a "." or ".." segment; the file is
// opened relative to the root with openat2(RESOLVE_BENEATH), so a symlink
// that leads out of the root is refused (404) by the kernel.
//
// Each file response holds its descriptor until sent. Near RLIMIT_NOFILE
// (the soft limit in force when Open is called, less a reserve of an
// eighth of it, at least 32) files are refused with 503 and Retry-After, so
// that the descriptors left keep accepting and serving connections.
//
// Threading: immutable after Open; Serve may run on every worker at once.
class StaticFiles {
 public:
  static absl::StatusOr<std::shared_ptr<const StaticFiles>> Open(
      const std::string& root);

  // Fills `response` for the file at `relative_path` (still percent-encoded,
  // without the route's prefix).
  void Serve(const Request& request, absl::string_view relative_path,
             Response& response) const;

  const std::string& root() const { return root_; }

 private:
  StaticFiles(std::string root, UniqueFd root_fd, int first_reserved_fd)
      : root_(std::move(root)),
        root_fd_(std::move(root_fd)),
        first_reserved_fd_(first_reserved_fd) {}
  UniqueFd OpenBeneath(const std::string& path) const;
  // OpenBeneath, failing with EMFILE inside the descriptor reserve.
  UniqueFd OpenOutsideReserve(const std::string& path) const;

  std::string root_;
  UniqueFd root_fd_;
  int first_reserved_fd_;  // -1: no reserve
};

// Routes GET (and so HEAD) requests under `prefix` (e.g. "/static/") to
// `files`.
void ServeStaticFiles(Router& router, absl::string_view prefix,
                      std::shared_ptr<const StaticFiles> files);

}  // namespace eddy::http

#endif  // EDDY_HTTP_STATIC_FILES_H_
