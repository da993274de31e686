#ifndef EDDY_HTTP_INTERNAL_STREAM_CHANNEL_H_
#define EDDY_HTTP_INTERNAL_STREAM_CHANNEL_H_

#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>

#include "absl/functional/any_invocable.h"
#include "eddy/http/response_stream.h"
#include "eddy/net/connection.h"
#include "eddy/net/connection_ref.h"

namespace eddy::http {

// The loop side of a streaming response: the HTTP handler that writes it.
// Loop thread only.
class StreamTarget {
 public:
  virtual void WritePiece(Connection& conn, std::string piece) = 0;
  virtual void FinishStream(Connection& conn, Trailers trailers) = 0;
  // The producer dropped the stream without Finish.
  virtual void AbandonStream(Connection& conn) = 0;

 protected:
  ~StreamTarget() = default;
};

// What a ResponseStream (any thread) shares with the HTTP handler writing it
// (the connection's loop thread). Pieces travel as tasks posted to the
// connection, in order; the flags let a producer on another thread see the
// backpressure without asking the loop.
class StreamChannel {
 public:
  // `high_water_mark`: the connection's, known when the stream is made, so
  // that a producer that starts before the head reaches the loop is held as
  // closely as one that starts after.
  StreamChannel(ConnectionRef connection, size_t high_water_mark)
      : connection_(connection), in_flight_limit_(high_water_mark / 2) {}

  const ConnectionRef& connection() const { return connection_; }

  // Any thread.
  bool full() const {
    return over_high_water_.load(std::memory_order_acquire) ||
           in_flight_.load(std::memory_order_acquire) > in_flight_limit_;
  }
  bool closed() const { return closed_.load(std::memory_order_acquire); }
  void AddInFlight(size_t bytes) {
    in_flight_.fetch_add(bytes, std::memory_order_acq_rel);
  }
  void SetOnWritable(absl::AnyInvocable<void() &&> callback);
  // Runs `callback` now if closed, else keeps it for MarkClosed.
  void SetOnClientGone(absl::AnyInvocable<void() &&> callback);

  // Loop thread: the handler writing the stream (null: not attached yet,
  // or the stream ended).
  StreamTarget* target() const { return target_; }
  void Attach(StreamTarget* target) { target_ = target; }
  void Delivered(size_t bytes) {
    in_flight_.fetch_sub(bytes, std::memory_order_acq_rel);
  }
  void SetOverHighWater(bool over) {
    over_high_water_.store(over, std::memory_order_release);
  }
  // Runs the OnWritable callback if the stream is not full.
  void NotifyIfWritable();
  // The stream ended: by Finish (`client_gone` false) or by the connection
  // closing first (the OnClientGone callback runs).
  void MarkClosed(bool client_gone);

 private:
  const ConnectionRef connection_;
  StreamTarget* target_ = nullptr;
  std::atomic<bool> closed_{false};
  std::atomic<bool> over_high_water_{false};
  std::atomic<size_t> in_flight_{0};
  // Bytes posted but not yet in the output that make the stream full: half
  // the high-water mark, so the output stays within 1.5 times the mark.
  const size_t in_flight_limit_;
  std::mutex mutex_;
  absl::AnyInvocable<void() &&> on_writable_;     // guarded by mutex_
  absl::AnyInvocable<void() &&> on_client_gone_;  // guarded by mutex_
};

}  // namespace eddy::http

#endif  // EDDY_HTTP_INTERNAL_STREAM_CHANNEL_H_
