#include "examples/redis/redis_protocol.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace eddy::redis {
namespace {

void AppendBulk(std::string& out, absl::string_view value) {
  absl::StrAppend(&out, "$", value.size(), "\r\n");
  out.append(value.data(), value.size());
  out.append("\r\n");
}
void AppendNull(std::string& out) { out.append("$-1\r\n"); }
void AppendInteger(std::string& out, int64_t value) {
  absl::StrAppend(&out, ":", value, "\r\n");
}
// An error reply is one line. Client bytes quoted in it (a command name, a
// protocol error's byte) could otherwise end it early and have the rest read
// as further replies, forged ones: CR and LF become spaces, as redis-server
// does.
void AppendError(std::string& out, absl::string_view message) {
  const size_t start = out.size();
  absl::StrAppend(&out, "-ERR ", message);
  std::replace_if(
      out.begin() + static_cast<std::ptrdiff_t>(start), out.end(),
      [](char c) { return c == '\r' || c == '\n'; }, ' ');
  out.append("\r\n");
}
void AppendWrongArity(std::string& out, absl::string_view command) {
  AppendError(out, absl::StrCat("wrong number of arguments for '",
                                absl::AsciiStrToLower(command), "' command"));
}

}  // namespace

void RedisHandler::OnData(Connection& conn, Buffer& input) {
  const bool keep_open = Process(input);
  if (!reply_.empty()) conn.Send(reply_);
  if (!keep_open) conn.Close();
}

bool RedisHandler::Process(Buffer& input) {
  reply_.clear();
  while (!input.empty()) {
    const RespParser::Status status = parser_.Parse(input.view());
    if (status == RespParser::Status::kIncomplete) return true;
    if (status == RespParser::Status::kError) {
      AppendError(reply_, parser_.error());
      input.ConsumeAll();
      return false;
    }
    const bool keep_open =
        parser_.arguments().empty() || Execute(parser_.arguments());
    input.Consume(parser_.consumed());
    if (!keep_open) return false;
  }
  return true;
}

bool RedisHandler::Execute(const std::vector<absl::string_view>& args) {
  const std::string command = absl::AsciiStrToUpper(args[0]);
  const size_t n = args.size();
  if (command == "PING") {
    if (n == 1) {
      reply_.append("+PONG\r\n");
    } else if (n == 2) {
      AppendBulk(reply_, args[1]);
    } else {
      AppendWrongArity(reply_, command);
    }
  } else if (command == "ECHO") {
    if (n != 2) {
      AppendWrongArity(reply_, command);
    } else {
      AppendBulk(reply_, args[1]);
    }
  } else if (command == "GET") {
    if (n != 2) {
      AppendWrongArity(reply_, command);
    } else if (auto value = store_.Get(args[1])) {
      AppendBulk(reply_, *value);
    } else {
      AppendNull(reply_);
    }
  } else if (command == "SET") {
    if (n < 3) {
      AppendWrongArity(reply_, command);
      return true;
    }
    int64_t ttl_ms = 0;
    Store::SetCondition condition = Store::SetCondition::kAlways;
    for (size_t i = 3; i < n; ++i) {
      const std::string option = absl::AsciiStrToUpper(args[i]);
      if ((option == "EX" || option == "PX") && i + 1 < n) {
        int64_t amount = 0;
        if (!absl::SimpleAtoi(args[++i], &amount) || amount <= 0 ||
            amount > INT64_MAX / 1000) {
          AppendError(reply_, "invalid expire time in 'set' command");
          return true;
        }
        ttl_ms = option == "EX" ? amount * 1000 : amount;
      } else if (option == "NX" && condition == Store::SetCondition::kAlways) {
        condition = Store::SetCondition::kIfAbsent;
      } else if (option == "XX" && condition == Store::SetCondition::kAlways) {
        condition = Store::SetCondition::kIfPresent;
      } else {
        AppendError(reply_, "syntax error");
        return true;
      }
    }
    if (store_.Set(args[1], args[2], ttl_ms, condition)) {
      reply_.append("+OK\r\n");
    } else {
      AppendNull(reply_);
    }
  } else if (command == "DEL" || command == "EXISTS") {
    if (n < 2) {
      AppendWrongArity(reply_, command);
      return true;
    }
    int64_t count = 0;
    for (size_t i = 1; i < n; ++i) {
      count +=
          command == "DEL" ? store_.Delete(args[i]) : store_.Exists(args[i]);
    }
    AppendInteger(reply_, count);
  } else if (command == "INCR") {
    if (n != 2) {
      AppendWrongArity(reply_, command);
      return true;
    }
    absl::StatusOr<int64_t> value = store_.Increment(args[1]);
    if (value.ok()) {
      AppendInteger(reply_, *value);
    } else {
      AppendError(reply_, value.status().message());
    }
  } else if (command == "MGET") {
    if (n < 2) {
      AppendWrongArity(reply_, command);
      return true;
    }
    absl::StrAppend(&reply_, "*", n - 1, "\r\n");
    for (size_t i = 1; i < n; ++i) {
      if (auto value = store_.Get(args[i])) {
        AppendBulk(reply_, *value);
      } else {
        AppendNull(reply_);
      }
    }
  } else if (command == "MSET") {
    if (n < 3 || n % 2 == 0) {
      AppendWrongArity(reply_, command);
      return true;
    }
    for (size_t i = 1; i + 1 < n; i += 2) {
      store_.Set(args[i], args[i + 1], 0, Store::SetCondition::kAlways);
    }
    reply_.append("+OK\r\n");
  } else if (command == "DBSIZE") {
    AppendInteger(reply_, static_cast<int64_t>(store_.Size()));
  } else if (command == "FLUSHALL" || command == "FLUSHDB") {
    store_.Clear();
    reply_.append("+OK\r\n");
  } else if (command == "SELECT") {
    if (n == 2 && args[1] == "0") {
      reply_.append("+OK\r\n");
    } else {
      AppendError(reply_, "DB index is out of range");
    }
  } else if (command == "COMMAND" || command == "CONFIG") {
    // redis-cli and redis-benchmark ask these on start; an empty answer
    // tells them there is nothing to learn.
    reply_.append("*0\r\n");
  } else if (command == "QUIT") {
    reply_.append("+OK\r\n");
    return false;
  } else {
    AppendError(reply_, absl::StrCat("unknown command '", args[0], "'"));
  }
  return true;
}

namespace {

class RedisFactory final : public ProtocolFactory {
 public:
  explicit RedisFactory(std::shared_ptr<Store> store)
      : store_(std::move(store)) {}
  std::unique_ptr<Handler> NewHandler(Connection&) override {
    return std::make_unique<RedisHandler>(*store_);
  }
  absl::string_view OverloadResponse() const override {
    return "-ERR max number of clients reached\r\n";
  }

 private:
  std::shared_ptr<Store> store_;
};

}  // namespace

std::unique_ptr<ProtocolFactory> MakeRedisFactory(
    std::shared_ptr<Store> store) {
  return std::make_unique<RedisFactory>(std::move(store));
}

}  // namespace eddy::redis
