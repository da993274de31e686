#ifndef EDDY_BENCH_LOAD_CLIENT_SLOT_H_
#define EDDY_BENCH_LOAD_CLIENT_SLOT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "bench/load/busy_poll.h"
#include "bench/load/load_plan.h"
#include "bench/load/load_stats.h"
#include "bench/load/request_budget.h"
#include "eddy/core/buffer.h"
#include "eddy/http/response_parser.h"
#include "eddy/net/connection.h"
#include "eddy/net/connector.h"
#include "eddy/net/protocol.h"
#include "eddy/net/worker.h"

namespace eddy::load {

// What the slots of one load thread share. Owned by the ClientThread; used
// on its worker's loop thread only, except `completed` and `finished`.
struct ClientContext {
  Worker* worker = nullptr;
  const LoadPlan* plan = nullptr;
  RequestBudget* budget = nullptr;  // null: no --requests limit
  BusyPoll* busy_poll = nullptr;    // told of every arrival
  // Every socket's connect: the plan's timeout per attempt, retried with
  // back-off (10 ms doubling to 1 s) so that a server that is down is not
  // flooded with SYNs while the run waits for it.
  // With --tls its `tls` is this thread's client context.
  ConnectOptions connect_options;
  // Whether the first handshake failure was reported on stderr (once per
  // thread: a wrong --tls_ca fails every connection the same way).
  bool tls_failure_reported = false;
  LoadStats stats;
  // Responses so far, warm-up included, for the progress line. Written by
  // the loop thread only (a plain store, no read-modify-write); any thread
  // may read it.
  std::atomic<uint64_t> completed{0};
  // Slots not yet retired. Once the budget is spent the last one to retire
  // stamps `finished_ns` and sets `finished` (release), which the main
  // thread waits for before it stops the WorkerGroup.
  size_t active_slots = 0;
  int64_t finished_ns = 0;
  std::atomic<bool> finished{false};
  // False during the warm-up, and again once the run ended (the sockets
  // that the stop aborts are not errors): errors and bytes are not
  // recorded. Responses are recorded, and drawn from the budget, by their
  // exact send time.
  bool measuring = false;
};

// ClientSlot is one of the load generator's connections as the plan sees
// it: a seat that is always connected or connecting, for the whole run. It
// opens each socket with eddy::Connect (the plan's timeout per attempt,
// Connect's exponential back-off between them) and drives it through a
// small per-socket Handler on the worker's eddy::Connection: sends the
// plan's requests, parses the responses, records their latency. When a
// socket closes (the server's choice, an error, or http10's connection per
// request) the slot connects again, or retires once the request budget is
// spent. What must survive the sockets lives here: the send times of the
// requests in flight, the budget drawn, the echo position, the counters.
//
// All the requests a read burst makes room for go out in one send: the
// Connection flushes once per burst.
//
// Threading: everything runs on the context's worker loop thread.
class ClientSlot {
 public:
  explicit ClientSlot(ClientContext& context);
  ClientSlot(const ClientSlot&) = delete;
  ClientSlot& operator=(const ClientSlot&) = delete;

  // Opens the first socket.
  void Start();
  // Fails the oldest request in flight, or the wait for the server's close,
  // if it has waited longer than the plan's timeout. Called periodically by
  // the owner; connects time out by themselves.
  void CheckTimeout(int64_t now_ns);

 private:
  class SocketHandler;

  enum class State : uint8_t {
    kConnecting,     // Connect in progress, retrying with back-off
    kOpen,           // sending requests and reading responses
    kAwaitingClose,  // the server said it closes; waiting for its FIN
    kClosing,        // we closed the socket; the next one opens on OnClose
    kRetired,        // the request budget is spent; no more sockets
    kStopped,        // the WorkerGroup is stopping
  };

  // The current socket's events, from its SocketHandler.
  void OnOpen(Connection& conn);
  void OnData(Buffer& input);
  void OnInputEnd();
  void OnStopping();
  void OnClose(Connection& conn, CloseReason reason);

  // Connects, or retires when there is nothing left to send.
  void ConnectOrRetire();
  void OnConnectFailed(const absl::Status& status);
  // Counts `kind` and drops the socket; the next one opens when it closed.
  void Fail(ErrorKind kind);
  // Closes the socket without an error; the next one opens when it closed.
  void Reconnect();
  void Retire();
  // Forgets what belonged to the socket that closed.
  void ResetSocketState();

  void SendMore();
  void ProcessHttp(Buffer& input);
  void ProcessEcho(Buffer& input);
  // A response to the oldest request in flight is complete at `now_ns`.
  void CompleteRequest(int64_t now_ns, int status_code);
  // The server said "close": the remaining requests in flight are
  // abandoned (not errors) and we wait for its FIN.
  void AwaitClose(int64_t now_ns, Buffer& input);
  // Forgets the requests in flight, giving those drawn from the budget back.
  void AbandonInFlight();
  void Count(ErrorKind kind);

  ClientContext& context_;
  const LoadPlan& plan_;
  State state_ = State::kConnecting;
  // The open socket, between its OnOpen and its OnClose.
  Connection* conn_ = nullptr;
  // Input bytes left unconsumed by the last OnData: the rest is new.
  size_t unconsumed_ = 0;
  http::ResponseParser parser_;
  // Send times of the requests in flight, oldest first, in a ring of
  // plan_.depth entries.
  std::vector<int64_t> sent_ns_;
  size_t sent_head_ = 0;
  size_t in_flight_ = 0;
  // The oldest of those sent during the warm-up, not drawn from the budget.
  size_t unbudgeted_in_flight_ = 0;
  int64_t await_close_from_ns_ = 0;
  // Echo: messages sent by this slot, and what the current one expects.
  uint64_t echo_messages_ = 0;
  const char* echo_expected_ = nullptr;
  size_t echo_received_ = 0;
};

}  // namespace eddy::load

#endif  // EDDY_BENCH_LOAD_CLIENT_SLOT_H_
