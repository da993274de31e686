#include "bench/load/client_connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "bench/load/monotonic_nanos.h"

namespace eddy::load {
namespace {

// The room offered to each read. A response of a few hundred bytes (or a
// pipelined batch of them) arrives in one read, and a read that returns
// less than this proves the socket drained.
constexpr size_t kReadSize = 16 * 1024;
// Connect retries back off from 10 ms to 1 s, so that a server that is down
// is not flooded with SYNs while the run waits for it.
constexpr int64_t kFirstRetryMs = 10;
constexpr int64_t kMaxRetryMs = 1000;

}  // namespace

ClientConnection::ClientConnection(ClientContext& context)
    : context_(context), plan_(*context.plan), sent_ns_(plan_.depth) {}

ClientConnection::~ClientConnection() {
  // The loop has stopped by now, so this runs on the owner's thread legally.
  if (retry_timer_.valid()) context_.loop->Cancel(retry_timer_);
}

void ClientConnection::Start() { ConnectOrRetire(); }

void ClientConnection::ConnectOrRetire() {
  if (context_.budget != nullptr && context_.budget->spent()) {
    Retire();
    return;
  }
  Connect();
}

void ClientConnection::Connect() {
  phase_started_ns_ = MonotonicNanos();
  UniqueFd fd(::socket(plan_.address.family(),
                       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    Count(ErrorKind::kConnect);
    ScheduleRetry();
    return;
  }
  const int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  const int rc =
      ::connect(fd.get(), plan_.address.sockaddr_ptr(), plan_.address.length());
  if ((rc != 0 && errno != EINPROGRESS) ||
      !context_.loop->Watch(fd.get(), EPOLLIN | EPOLLOUT | EPOLLRDHUP, this)
           .ok()) {
    Count(ErrorKind::kConnect);
    ScheduleRetry();
    return;
  }
  fd_ = std::move(fd);
  state_ = State::kConnecting;
  if (rc == 0) OnConnected();
}

void ClientConnection::OnConnected() {
  state_ = State::kOpen;
  writable_ = true;
  retry_delay_ms_ = 0;
  ++context_.stats.connections_opened;
  SendMore();
}

void ClientConnection::ScheduleRetry() {
  state_ = State::kIdle;
  retry_delay_ms_ = retry_delay_ms_ == 0
                        ? kFirstRetryMs
                        : std::min(retry_delay_ms_ * 2, kMaxRetryMs);
  retry_timer_ =
      context_.loop->RunAfter(absl::Milliseconds(retry_delay_ms_), [this] {
        retry_timer_ = TimerId();
        ConnectOrRetire();
      });
}

void ClientConnection::Fail(ErrorKind kind) {
  Count(kind);
  Disconnect();
  if (kind == ErrorKind::kConnect) {
    ScheduleRetry();
  } else {
    ConnectOrRetire();
  }
}

void ClientConnection::Reconnect() {
  Disconnect();
  ConnectOrRetire();
}

void ClientConnection::Disconnect() {
  // Closing drops the epoll registration with it (the fd is never dup'ed),
  // which saves an epoll_ctl per connection in http10 mode.
  fd_.reset();
  ++socket_generation_;
  state_ = State::kIdle;
  writable_ = false;
  input_.ConsumeAll();
  parser_.Reset();
  AbandonInFlight();
  echo_received_ = 0;
}

void ClientConnection::AbandonInFlight() {
  const size_t budgeted = in_flight_ - unbudgeted_in_flight_;
  if (context_.budget != nullptr && budgeted > 0) {
    context_.budget->Return(static_cast<int64_t>(budgeted));
  }
  in_flight_ = 0;
  unbudgeted_in_flight_ = 0;
  sent_head_ = 0;
  output_ = nullptr;
  output_left_ = 0;
}

void ClientConnection::Retire() {
  Disconnect();
  state_ = State::kRetired;
  if (--context_.active_connections == 0) {
    context_.finished_ns = MonotonicNanos();
    context_.loop->Stop();
  }
}

void ClientConnection::Count(ErrorKind kind) {
  if (context_.measuring) context_.stats.Count(kind);
}

void ClientConnection::CheckTimeout(int64_t now_ns) {
  switch (state_) {
    case State::kConnecting:
      if (now_ns - phase_started_ns_ > plan_.timeout_ns) {
        Fail(ErrorKind::kConnect);
      }
      break;
    case State::kOpen:
      if (in_flight_ > 0 && now_ns - sent_ns_[sent_head_] > plan_.timeout_ns) {
        Fail(ErrorKind::kTimeout);
      }
      break;
    case State::kAwaitingClose:
      if (now_ns - phase_started_ns_ > plan_.timeout_ns) {
        Fail(ErrorKind::kTimeout);
      }
      break;
    case State::kIdle:
    case State::kRetired:
      break;
  }
}

void ClientConnection::HandleIo(uint32_t events) {
  context_.busy_poll->Touch();
  const uint64_t generation = socket_generation_;
  if (state_ == State::kConnecting) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
    int error = 0;
    socklen_t length = sizeof(error);
    if (::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
      error = errno;
    }
    if (error != 0) {
      Fail(ErrorKind::kConnect);
      return;
    }
    OnConnected();
    if (generation != socket_generation_) return;
  }
  if (state_ != State::kOpen && state_ != State::kAwaitingClose) return;
  if ((events & EPOLLOUT) != 0) {
    writable_ = true;
    FlushOutput();
    if (generation != socket_generation_) return;
  }
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
    ReadInput(events);
  }
}

void ClientConnection::SendMore() {
  if (state_ != State::kOpen || output_left_ > 0) return;
  const size_t room = plan_.depth - in_flight_;
  if (room == 0) return;
  const int64_t now = MonotonicNanos();
  size_t count = room;
  if (context_.budget != nullptr) {
    // The same test that decides whether the response is recorded, so the
    // budget counts exactly the recorded responses.
    if (now >= plan_.measure_from_ns) {
      count = static_cast<size_t>(
          context_.budget->Take(static_cast<int64_t>(room)));
      if (count == 0) {
        if (in_flight_ == 0) Retire();
        return;
      }
    } else {
      unbudgeted_in_flight_ += count;
    }
  }
  for (size_t i = 0; i < count; ++i) {
    sent_ns_[(sent_head_ + in_flight_ + i) % plan_.depth] = now;
  }
  in_flight_ += count;
  if (plan_.mode == LoadMode::kEcho) {
    output_ = plan_.payload.data() + echo_messages_ % LoadPlan::kEchoPeriod;
    ++echo_messages_;
    echo_expected_ = output_;
    echo_received_ = 0;
    output_left_ = plan_.request_bytes;
  } else {
    output_ = plan_.payload.data();
    output_left_ = count * plan_.request_bytes;
  }
  FlushOutput();
}

void ClientConnection::FlushOutput() {
  while (output_left_ > 0 && writable_) {
    const ssize_t n = ::send(fd_.get(), output_, output_left_, MSG_NOSIGNAL);
    if (n >= 0) {
      output_ += n;
      output_left_ -= static_cast<size_t>(n);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      writable_ = false;  // the next EPOLLOUT edge resumes the send
    } else if (errno != EINTR) {
      Fail(ErrorKind::kWrite);
      return;
    }
  }
}

void ClientConnection::ReadInput(uint32_t events) {
  const uint64_t generation = socket_generation_;
  // After a hang-up the short-read shortcut does not hold: read to EOF.
  const bool hangup = (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
  while (true) {
    const absl::Span<char> room = input_.PrepareWrite(kReadSize);
    const ssize_t n = ::read(fd_.get(), room.data(), room.size());
    if (n > 0) {
      input_.CommitWrite(static_cast<size_t>(n));
      if (context_.measuring) {
        context_.stats.bytes_read += static_cast<uint64_t>(n);
      }
      if (state_ == State::kAwaitingClose) {
        input_.ConsumeAll();
      } else if (plan_.mode == LoadMode::kEcho) {
        ProcessEcho();
      } else {
        ProcessHttp();
      }
      if (generation != socket_generation_) return;
      if (static_cast<size_t>(n) < room.size() && !hangup) break;
    } else if (n == 0) {
      OnEndOfInput();
      return;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      break;
    } else if (errno != EINTR) {
      Fail(ErrorKind::kRead);
      return;
    }
  }
  SendMore();
}

void ClientConnection::ProcessHttp() {
  int64_t now = 0;  // read once per burst: its responses completed together
  while (!input_.empty()) {
    size_t consumed = 0;
    const ResponseParser::Status status =
        parser_.Feed(input_.view(), &consumed);
    input_.Consume(consumed);
    if (status == ResponseParser::Status::kIncomplete) return;
    if (status == ResponseParser::Status::kError || in_flight_ == 0) {
      Fail(ErrorKind::kInvalid);
      return;
    }
    if (now == 0) now = MonotonicNanos();
    CompleteRequest(now, parser_.status_code());
    if (!parser_.keep_alive()) {
      AwaitClose(now);
      return;
    }
    if (plan_.mode == LoadMode::kHttp10) {
      // The server kept an HTTP/1.0 connection open; the mode wants a new
      // connection per request all the same.
      Reconnect();
      return;
    }
  }
}

void ClientConnection::ProcessEcho() {
  int64_t now = 0;
  while (!input_.empty()) {
    if (in_flight_ == 0) {
      Fail(ErrorKind::kMismatch);  // more bytes came back than were sent
      return;
    }
    const size_t take =
        std::min(input_.readable_bytes(), plan_.request_bytes - echo_received_);
    if (std::memcmp(input_.data(), echo_expected_ + echo_received_, take) !=
        0) {
      Fail(ErrorKind::kMismatch);
      return;
    }
    input_.Consume(take);
    echo_received_ += take;
    if (echo_received_ == plan_.request_bytes) {
      if (now == 0) now = MonotonicNanos();
      echo_received_ = 0;
      CompleteRequest(now, 200);
    }
  }
}

void ClientConnection::OnEndOfInput() {
  if (state_ == State::kAwaitingClose) {
    Reconnect();
    return;
  }
  if (plan_.mode != LoadMode::kEcho && parser_.in_response()) {
    // A body delimited by the close ends here; anything else was cut off.
    if (parser_.Finish() == ResponseParser::Status::kComplete &&
        in_flight_ > 0) {
      CompleteRequest(MonotonicNanos(), parser_.status_code());
      Reconnect();
      return;
    }
    Fail(ErrorKind::kClosedEarly);
    return;
  }
  if (in_flight_ > 0) {
    Fail(ErrorKind::kClosedEarly);
    return;
  }
  // An idle keep-alive connection the server timed out: not an error.
  Reconnect();
}

void ClientConnection::CompleteRequest(int64_t now_ns, int status_code) {
  const int64_t sent_ns = sent_ns_[sent_head_];
  if (++sent_head_ == plan_.depth) sent_head_ = 0;
  --in_flight_;
  if (unbudgeted_in_flight_ > 0) --unbudgeted_in_flight_;
  context_.completed.store(
      context_.completed.load(std::memory_order_relaxed) + 1,
      std::memory_order_relaxed);
  if (sent_ns < plan_.measure_from_ns) return;
  LoadStats& stats = context_.stats;
  ++stats.responses;
  stats.latency.Record(now_ns - sent_ns);
  if (status_code >= 300) {
    stats.Count(status_code < 400   ? ErrorKind::kStatus3xx
                : status_code < 500 ? ErrorKind::kStatus4xx
                : status_code < 600 ? ErrorKind::kStatus5xx
                                    : ErrorKind::kInvalid);
  }
}

void ClientConnection::AwaitClose(int64_t now_ns) {
  // Requests sent after the one answered with "close" get no answer: the
  // server stops reading. They were the server's choice, not failures.
  AbandonInFlight();
  input_.ConsumeAll();
  state_ = State::kAwaitingClose;
  phase_started_ns_ = now_ns;
}

}  // namespace eddy::load
