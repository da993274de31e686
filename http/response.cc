#include "eddy/http/response.h"

#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace eddy::http {

absl::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 426:
      return "Upgrade Required";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

void Response::AddHeader(absl::string_view name, absl::string_view value) {
  for (absl::string_view owned : {"Content-Length", "Transfer-Encoding",
                                  "Connection", "Date", "Server"}) {
    if (absl::EqualsIgnoreCase(name, owned)) return;
  }
  // A CR or LF would let a value inject fields or a second response.
  if (absl::StrContains(name, '\r') || absl::StrContains(name, '\n') ||
      absl::StrContains(value, '\r') || absl::StrContains(value, '\n')) {
    return;
  }
  absl::StrAppend(&headers_, name, ": ", value, "\r\n");
}

std::string Response::TakeBody() {
  body_taken_ = true;
  taken_body_length_ = body_.size();
  return std::exchange(body_, std::string());
}

void Response::SetFileBody(UniqueFd file, off_t offset, uint64_t length) {
  body_.clear();
  body_taken_ = false;
  file_ = std::move(file);
  file_body_ = true;
  file_offset_ = offset;
  file_length_ = length;
}

void Response::Reset() {
  status_ = 200;
  headers_.clear();
  body_.clear();
  file_.reset();
  file_body_ = false;
  body_taken_ = false;
  taken_body_length_ = 0;
  file_offset_ = 0;
  file_length_ = 0;
  close_connection_ = false;
  upgrade_.reset();
}

}  // namespace eddy::http
