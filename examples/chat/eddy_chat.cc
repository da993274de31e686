// eddy-chat: a line-based chat / pub-sub server. Every line goes to every
// other connected client, across all workers, through ConnectionRef.
//
//   eddy-chat --port 9200
#include <cstdio>

#include "absl/flags/flag.h"
#include "eddy/net/serve.h"
#include "eddy/net/server.h"
#include "examples/chat/chat_room.h"
#include "examples/lifecycle_flags.h"
#include "examples/listener_flags.h"
#include "examples/program_flags.h"
#include "examples/program_logs.h"

ABSL_FLAG(uint16_t, port, 9200, "TCP port to listen on (0 picks a free one)");
ABSL_FLAG(std::string, bind, "127.0.0.1",
          "numeric address to bind, e.g. 127.0.0.1 or ::, or a Unix socket: "
          "unix:/run/NAME.sock or unix:@NAME (abstract)");
ABSL_FLAG(size_t, workers, 0, "worker threads (0: one per CPU)");

int main(int argc, char** argv) {
  eddy::ParseProgramFlags(argc, argv, "a chat / pub-sub server on eddy");
  eddy::ApplyLogFlags();
  eddy::ServerOptions options;
  options.port = absl::GetFlag(FLAGS_port);
  options.bind_address = absl::GetFlag(FLAGS_bind);
  if (absl::Status s = eddy::ApplyListenerFlags(options); !s.ok()) {
    std::fprintf(stderr, "%s: %s\n", "eddy-chat", s.ToString().c_str());
    return 1;
  }
  options.workers = absl::GetFlag(FLAGS_workers);
  if (absl::Status s = eddy::ApplyLifecycleFlags(options); !s.ok()) {
    std::fprintf(stderr, "eddy-chat: %s\n", s.ToString().c_str());
    return 1;
  }
  eddy::Server server(options, eddy::chat::MakeChatFactory(
                                   std::make_shared<eddy::chat::ChatRoom>()));
  return eddy::ServeUntilSignal(server, "eddy-chat");
}
