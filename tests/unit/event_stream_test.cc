#include "eddy/http/event_stream.h"

#include <string>
#include <utility>

#include "gtest/gtest.h"

namespace eddy::http {
namespace {

ServerSentEvent Event(std::string data, std::string event = "",
                      std::string id = "") {
  ServerSentEvent out;
  out.data = std::move(data);
  out.event = std::move(event);
  out.id = std::move(id);
  return out;
}

TEST(ServerSentEvent, DataOnlyIsOneFieldAndABlankLine) {
  EXPECT_EQ(FormatServerSentEvent(Event("7")), "data: 7\n\n");
}

TEST(ServerSentEvent, EventAndIdComeBeforeTheData) {
  EXPECT_EQ(FormatServerSentEvent(Event("x", "tick", "42")),
            "event: tick\nid: 42\ndata: x\n\n");
}

TEST(ServerSentEvent, MultiLineDataIsSplitAtEveryLineEnd) {
  EXPECT_EQ(FormatServerSentEvent(Event("a\nb\r\nc\rd")),
            "data: a\ndata: b\ndata: c\ndata: d\n\n");
}

TEST(ServerSentEvent, TrailingAndEmptyLinesAreKept) {
  EXPECT_EQ(FormatServerSentEvent(Event("a\n\nb\n")),
            "data: a\ndata: \ndata: b\ndata: \n\n");
  EXPECT_EQ(FormatServerSentEvent(Event("")), "data: \n\n");
}

TEST(ServerSentEvent, FieldsThatWouldBreakTheirLineAreLeftOut) {
  EXPECT_EQ(FormatServerSentEvent(Event("x", "a\nb", "1\r")), "data: x\n\n");
  EXPECT_EQ(FormatServerSentEvent(Event("x", "", std::string("1\0", 2))),
            "data: x\n\n");
}

}  // namespace
}  // namespace eddy::http
