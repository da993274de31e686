#ifndef EDDY_EXAMPLES_REDIS_REDIS_PROTOCOL_H_
#define EDDY_EXAMPLES_REDIS_REDIS_PROTOCOL_H_

#include <memory>
#include <string>

#include "eddy/net/connection.h"
#include "eddy/net/protocol.h"
#include "examples/redis/resp_parser.h"
#include "examples/redis/store.h"

namespace eddy::redis {

// A Redis-protocol (RESP2) key-value server on eddy: PING, ECHO, SET (EX,
// PX, NX, XX), GET, DEL, EXISTS, INCR, MGET, MSET, plus the few commands
// redis-cli and redis-benchmark send on their own (COMMAND, CONFIG GET,
// SELECT 0, QUIT, DBSIZE, FLUSHALL). Pipelined commands are answered in
// order and leave in one write per read burst, like every eddy protocol.
//
// Threading: the factory is shared by all workers; handlers run on their
// connection's worker; the Store is thread-safe.
class RedisHandler final : public Handler {
 public:
  explicit RedisHandler(Store& store) : store_(store) {}
  void OnData(Connection& conn, Buffer& input) override;

  // What OnData does without the connection: parses and executes the
  // complete commands in `input`, consuming them, and leaves their replies
  // in replies(), one RESP value per command. False when the connection
  // must close (QUIT, or a protocol error, whose reply is the last).
  bool Process(Buffer& input);
  const std::string& replies() const { return reply_; }

 private:
  // Appends the reply to `reply_`; false when the connection must close.
  bool Execute(const std::vector<absl::string_view>& args);

  Store& store_;
  RespParser parser_;
  std::string reply_;
};

std::unique_ptr<ProtocolFactory> MakeRedisFactory(std::shared_ptr<Store> store);

}  // namespace eddy::redis

#endif  // EDDY_EXAMPLES_REDIS_REDIS_PROTOCOL_H_
