#ifndef EDDY_BENCH_LOAD_CLIENT_CONNECTION_H_
#define EDDY_BENCH_LOAD_CLIENT_CONNECTION_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "bench/load/busy_poll.h"
#include "bench/load/load_plan.h"
#include "bench/load/load_stats.h"
#include "bench/load/request_budget.h"
#include "bench/load/response_parser.h"
#include "core/buffer.h"
#include "core/event_loop.h"
#include "core/timer_wheel.h"
#include "core/unique_fd.h"

namespace eddy::load {

// What the connections of one load thread share. Owned by the ClientThread;
// used on its loop thread only, except `completed`.
struct ClientContext {
  EventLoop* loop = nullptr;
  const LoadPlan* plan = nullptr;
  RequestBudget* budget = nullptr;  // null: no --requests limit
  BusyPoll* busy_poll = nullptr;    // told of every socket event
  LoadStats stats;
  // Responses so far, warm-up included, for the progress line. Written by
  // the loop thread only (a plain store, no read-modify-write); any thread
  // may read it.
  std::atomic<uint64_t> completed{0};
  // Connections not yet retired. Once the budget is spent the last one to
  // retire stops the loop and stamps `finished_ns`.
  size_t active_connections = 0;
  int64_t finished_ns = 0;
  // False during the warm-up: errors and bytes are not recorded. Responses
  // are recorded, and drawn from the budget, by their exact send time.
  bool measuring = false;
};

// ClientConnection is one client socket of the load generator and the
// state machine that drives it: connect, send the plan's requests, parse the
// responses, record their latency, and start over on a new socket whenever
// the server closes or an error ends the old one.
//
// The socket is non-blocking and registered once with the loop for
// IN|OUT|RDHUP, edge-triggered; writability is tracked here. Reads go on
// until EAGAIN, or until a read returns less than the room it was given
// (the socket was drained then; a later arrival raises a new edge), which
// saves the EAGAIN read per response. All the requests a read burst makes
// room for go out in one send.
//
// Threading: everything runs on the context's loop thread.
class ClientConnection final : public IoHandler {
 public:
  explicit ClientConnection(ClientContext& context);
  ~ClientConnection();
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  // Opens the first socket.
  void Start();
  // Fails the connect or the oldest request in flight if it has waited
  // longer than the plan's timeout. Called periodically by the owner.
  void CheckTimeout(int64_t now_ns);

  // IoHandler.
  void HandleIo(uint32_t events) override;

 private:
  enum class State : uint8_t {
    kIdle,           // no socket: between sockets or waiting to retry connect
    kConnecting,     // connect(2) in progress
    kOpen,           // sending requests and reading responses
    kAwaitingClose,  // the server said it closes; waiting for its FIN
    kRetired,        // the request budget is spent; no more sockets
  };

  // Opens a new socket, or retires when there is nothing left to send.
  void ConnectOrRetire();
  void Connect();
  void OnConnected();
  void ScheduleRetry();
  // Counts `kind` and replaces the socket (after a back-off for connects).
  void Fail(ErrorKind kind);
  void Reconnect();
  void Disconnect();
  void Retire();

  void SendMore();
  void FlushOutput();
  void ReadInput(uint32_t events);
  void ProcessHttp();
  void ProcessEcho();
  void OnEndOfInput();
  // A response to the oldest request in flight is complete at `now_ns`.
  void CompleteRequest(int64_t now_ns, int status_code);
  // Whether the server said "close"; then the remaining requests in flight
  // are abandoned (not errors) and we wait for its FIN.
  void AwaitClose(int64_t now_ns);
  // Forgets the requests in flight, giving those drawn from the budget back.
  void AbandonInFlight();
  void Count(ErrorKind kind);

  ClientContext& context_;
  const LoadPlan& plan_;
  UniqueFd fd_;
  State state_ = State::kIdle;
  bool writable_ = false;
  // Bumped whenever the socket is dropped: an event handler that sees it
  // change stops touching the old socket's state.
  uint64_t socket_generation_ = 0;
  Buffer input_;
  ResponseParser parser_;
  // The unsent rest of the current send, a slice of plan_.payload.
  const char* output_ = nullptr;
  size_t output_left_ = 0;
  // Send times of the requests in flight, oldest first, in a ring of
  // plan_.depth entries.
  std::vector<int64_t> sent_ns_;
  size_t sent_head_ = 0;
  size_t in_flight_ = 0;
  // The oldest of those sent during the warm-up, not drawn from the budget.
  size_t unbudgeted_in_flight_ = 0;
  int64_t phase_started_ns_ = 0;  // connect or await-close started
  // Echo: messages sent on this object, and what the current one expects.
  uint64_t echo_messages_ = 0;
  const char* echo_expected_ = nullptr;
  size_t echo_received_ = 0;
  TimerId retry_timer_;
  int64_t retry_delay_ms_ = 0;
};

}  // namespace eddy::load

#endif  // EDDY_BENCH_LOAD_CLIENT_CONNECTION_H_
