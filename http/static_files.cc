#include "eddy/http/static_files.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "eddy/http/http_date.h"
#include "eddy/http/mime_types.h"

namespace eddy::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes once. Fails on a malformed escape.
std::optional<std::string> PercentDecode(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = HexValue(text[i + 1]);
    const int low = HexValue(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

struct ByteRange {
  uint64_t first;
  uint64_t last;  // inclusive
};

enum class RangeResult { kNone, kSatisfiable, kUnsatisfiable };

// A single "bytes=first-last", "bytes=first-" or "bytes=-suffix". Several
// ranges, or a malformed header, are ignored (the whole file is sent), as
// RFC 9110 14.2 allows.
RangeResult ParseRange(absl::string_view header, uint64_t size,
                       ByteRange* range) {
  if (header.substr(0, 6) != "bytes=") return RangeResult::kNone;
  absl::string_view spec = header.substr(6);
  if (spec.find(',') != absl::string_view::npos) return RangeResult::kNone;
  const size_t dash = spec.find('-');
  if (dash == absl::string_view::npos) return RangeResult::kNone;
  absl::string_view first_text = spec.substr(0, dash);
  absl::string_view last_text = spec.substr(dash + 1);
  uint64_t first = 0;
  uint64_t last = 0;
  if (first_text.empty()) {
    uint64_t suffix = 0;
    if (!absl::SimpleAtoi(last_text, &suffix) || last_text[0] == '+') {
      return RangeResult::kNone;
    }
    if (suffix == 0 || size == 0) return RangeResult::kUnsatisfiable;
    range->first = suffix >= size ? 0 : size - suffix;
    range->last = size - 1;
    return RangeResult::kSatisfiable;
  }
  if (!absl::SimpleAtoi(first_text, &first) || first_text[0] == '+') {
    return RangeResult::kNone;
  }
  if (last_text.empty()) {
    last = size == 0 ? 0 : size - 1;
  } else if (!absl::SimpleAtoi(last_text, &last) || last_text[0] == '+' ||
             last < first) {
    return RangeResult::kNone;
  }
  if (first >= size) return RangeResult::kUnsatisfiable;
  range->first = first;
  range->last = std::min(last, size - 1);
  return RangeResult::kSatisfiable;
}

void SetError(Response& response, int status) {
  response.set_status(status);
  response.set_content_type("text/plain");
  response.set_body(absl::StrCat(status, " ", ReasonPhrase(status), "\n"));
}

// The answer to a file that could not be opened, from open's errno.
void SetOpenError(Response& response, int error) {
  if (error == EMFILE || error == ENFILE) {
    // Out of descriptors (or inside the reserve): a moment later it may work.
    SetError(response, 503);
    response.AddHeader("Retry-After", "1");
    return;
  }
  SetError(response, error == EACCES ? 403 : 404);
}

// Files are not opened with fewer than this share of RLIMIT_NOFILE left (at
// least kMinDescriptorReserve), so that accepting and serving connections
// keeps working while file responses hold descriptors.
constexpr rlim_t kDescriptorReserveDivisor = 8;
constexpr rlim_t kMinDescriptorReserve = 32;

// The lowest descriptor a file may not get; -1 for no limit.
int FirstReservedDescriptor() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 ||
      limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur > INT_MAX) {
    return -1;
  }
  const rlim_t reserve = std::max(kMinDescriptorReserve,
                                  limit.rlim_cur / kDescriptorReserveDivisor);
  return limit.rlim_cur > reserve ? static_cast<int>(limit.rlim_cur - reserve)
                                  : 0;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const StaticFiles>> StaticFiles::Open(
    const std::string& root) {
  UniqueFd fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot open the static root '", root, "': ", std::strerror(errno),
        "; pass an existing directory to --root"));
  }
  return std::shared_ptr<const StaticFiles>(
      new StaticFiles(root, std::move(fd), FirstReservedDescriptor()));
}

UniqueFd StaticFiles::OpenOutsideReserve(const std::string& path) const {
  UniqueFd file = OpenBeneath(path);
  // The kernel hands out the lowest free descriptor, so one at or above the
  // reserve's start means at least that many are in use.
  if (file && first_reserved_fd_ >= 0 && file.get() >= first_reserved_fd_) {
    file.reset();
    errno = EMFILE;
  }
  return file;
}

UniqueFd StaticFiles::OpenBeneath(const std::string& path) const {
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  const long fd =
      ::syscall(SYS_openat2, root_fd_.get(), path.c_str(), &how, sizeof(how));
  if (fd >= 0) return UniqueFd(static_cast<int>(fd));
  if (errno != ENOSYS) return UniqueFd();
  // Kernels before 5.6: open, then check the real path is under the root.
  UniqueFd file(::openat(root_fd_.get(), path.c_str(),
                         O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!file) return file;
  char real[4096];
  char root_real[4096];
  const std::string link = absl::StrCat("/proc/self/fd/", file.get());
  const std::string root_link = absl::StrCat("/proc/self/fd/", root_fd_.get());
  const ssize_t n = ::readlink(link.c_str(), real, sizeof(real));
  const ssize_t m = ::readlink(root_link.c_str(), root_real, sizeof(root_real));
  if (n <= 0 || m <= 0 || n < m ||
      std::memcmp(real, root_real, static_cast<size_t>(m)) != 0 ||
      (n > m && real[m] != '/')) {
    return UniqueFd();
  }
  return file;
}

void StaticFiles::Serve(const Request& request, absl::string_view relative_path,
                        Response& response) const {
  std::optional<std::string> decoded = PercentDecode(relative_path);
  if (!decoded.has_value()) {
    SetError(response, 400);
    return;
  }
  std::vector<absl::string_view> segments;
  for (absl::string_view segment : absl::StrSplit(*decoded, '/')) {
    if (segment.empty()) continue;
    if (segment == "." || segment == ".." ||
        segment.find('\0') != absl::string_view::npos) {
      SetError(response, 403);
      return;
    }
    segments.push_back(segment);
  }
  std::string path = segments.empty() ? "." : absl::StrJoin(segments, "/");
  UniqueFd file = OpenOutsideReserve(path);
  if (!file) {
    SetOpenError(response, errno);
    return;
  }
  struct stat info;
  if (::fstat(file.get(), &info) != 0) {
    SetError(response, 404);
    return;
  }
  if (S_ISDIR(info.st_mode)) {
    path += "/index.html";
    file.reset();
    file = OpenOutsideReserve(path);
    if (!file) {
      SetOpenError(response, errno);
      return;
    }
    if (::fstat(file.get(), &info) != 0) {
      SetError(response, 404);
      return;
    }
  }
  if (!S_ISREG(info.st_mode)) {
    SetError(response, 404);
    return;
  }
  const uint64_t size = static_cast<uint64_t>(info.st_size);
  const std::string last_modified = FormatHttpDate(info.st_mtime);
  if (std::optional<absl::string_view> since =
          request.FindHeader("If-Modified-Since")) {
    std::optional<time_t> when = ParseHttpDate(*since);
    if (when.has_value() && info.st_mtime <= *when) {
      response.set_status(304);
      response.AddHeader("Last-Modified", last_modified);
      return;
    }
  }
  response.set_content_type(MimeTypeForPath(path));
  response.AddHeader("Last-Modified", last_modified);
  response.AddHeader("Accept-Ranges", "bytes");
  ByteRange range{0, 0};
  RangeResult ranged = RangeResult::kNone;
  if (std::optional<absl::string_view> header = request.FindHeader("Range")) {
    ranged = ParseRange(*header, size, &range);
  }
  if (ranged == RangeResult::kUnsatisfiable) {
    response.set_status(416);
    response.AddHeader("Content-Range", absl::StrCat("bytes */", size));
    return;
  }
  if (ranged == RangeResult::kSatisfiable) {
    response.set_status(206);
    response.AddHeader("Content-Range", absl::StrCat("bytes ", range.first, "-",
                                                     range.last, "/", size));
    response.SetFileBody(std::move(file), static_cast<off_t>(range.first),
                         range.last - range.first + 1);
    return;
  }
  response.set_status(200);
  response.SetFileBody(std::move(file), 0, size);
}

void ServeStaticFiles(Router& router, absl::string_view prefix,
                      std::shared_ptr<const StaticFiles> files) {
  const size_t skip = prefix.size();
  router.HandlePrefix("GET", prefix,
                      [files = std::move(files), skip](const Request& request,
                                                       Response& response) {
                        files->Serve(request, request.path().substr(skip),
                                     response);
                      });
}

}  // namespace eddy::http
