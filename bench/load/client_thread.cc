#include "bench/load/client_thread.h"

#include <algorithm>
#include <utility>

#include "absl/time/time.h"
#include "bench/load/monotonic_nanos.h"

namespace eddy::load {

ClientThread::ClientThread(Worker& worker, const LoadPlan& plan,
                           size_t connections, RequestBudget* budget,
                           absl::Duration busy_poll,
                           std::shared_ptr<const TlsContext> tls,
                           bool tls_resume)
    : loop_(worker.loop()), busy_poll_(worker.loop(), busy_poll) {
  if (tls != nullptr && tls_resume) {
    session_reuse_ = std::make_unique<TlsSessionReuse>(*tls);
  }
  context_.connect_options.tls = std::move(tls);
  context_.worker = &worker;
  context_.plan = &plan;
  context_.budget = budget;
  context_.busy_poll = &busy_poll_;
  context_.connect_options.timeout = absl::Nanoseconds(plan.timeout_ns);
  context_.connect_options.max_attempts = 0;
  context_.connect_options.initial_backoff = absl::Milliseconds(10);
  context_.connect_options.max_backoff = absl::Seconds(1);
  context_.active_slots = connections;
  slots_.reserve(connections);
  for (size_t i = 0; i < connections; ++i) {
    slots_.push_back(std::make_unique<ClientSlot>(context_));
  }
}

void ClientThread::Start() {
  loop_.Post([this] { Begin(); });
}

void ClientThread::EndMeasurement() {
  loop_.Post([this] { context_.measuring = false; });
}

void ClientThread::Begin() {
  const int64_t now = MonotonicNanos();
  const int64_t warmup_ns = context_.plan->measure_from_ns - now;
  if (warmup_ns <= 0) {
    context_.measuring = true;
  } else {
    loop_.RunAfter(absl::Nanoseconds(warmup_ns),
                   [this] { context_.measuring = true; });
  }
  // Timeouts of requests are checked by one sweep, not a timer per request:
  // a request costs no timer work, and a timeout is noticed within an
  // eighth of it.
  const absl::Duration sweep =
      std::clamp(absl::Nanoseconds(context_.plan->timeout_ns) / 8,
                 absl::Milliseconds(10), absl::Milliseconds(250));
  loop_.RunEvery(sweep, [this] { SweepTimeouts(); });
  for (const std::unique_ptr<ClientSlot>& slot : slots_) slot->Start();
}

void ClientThread::SweepTimeouts() {
  const int64_t now = MonotonicNanos();
  for (const std::unique_ptr<ClientSlot>& slot : slots_) {
    slot->CheckTimeout(now);
  }
}

}  // namespace eddy::load
