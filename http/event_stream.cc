#include "eddy/http/event_stream.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace eddy::http {
namespace {

void AppendField(absl::string_view name, absl::string_view value,
                 std::string& out) {
  absl::StrAppend(&out, name, ": ", value, "\n");
}

}  // namespace

std::string FormatServerSentEvent(const ServerSentEvent& event) {
  std::string out;
  if (!event.event.empty() &&
      event.event.find_first_of("\r\n") == std::string::npos) {
    AppendField("event", event.event, out);
  }
  if (!event.id.empty() &&
      absl::string_view(event.id).find_first_of(
          absl::string_view("\r\n\0", 3)) == std::string::npos) {
    AppendField("id", event.id, out);
  }
  // Every line of the data is a field of its own; the client joins them
  // with LF. CRLF, CR and LF all end a line in this format.
  absl::string_view data = event.data;
  while (true) {
    const size_t end = data.find_first_of("\r\n");
    if (end == absl::string_view::npos) {
      AppendField("data", data, out);
      break;
    }
    AppendField("data", data.substr(0, end), out);
    const size_t skip =
        data[end] == '\r' && end + 1 < data.size() && data[end + 1] == '\n' ? 2
                                                                            : 1;
    data.remove_prefix(end + skip);
  }
  out.append("\n");
  return out;
}

Response EventStream::Head() {
  Response head;
  head.set_content_type("text/event-stream");
  head.AddHeader("Cache-Control", "no-cache");
  return head;
}

bool EventStream::Send(const ServerSentEvent& event) {
  return stream_.Write(FormatServerSentEvent(event));
}

bool EventStream::SendComment(absl::string_view text) {
  std::string line = absl::StrCat(": ", text);
  if (line.find_first_of("\r\n") != std::string::npos) return false;
  line.append("\n\n");
  return stream_.Write(std::move(line));
}

}  // namespace eddy::http
