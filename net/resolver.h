#ifndef EDDY_NET_RESOLVER_H_
#define EDDY_NET_RESOLVER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eddy/core/event_loop.h"
#include "eddy/net/address.h"

namespace eddy {

// Splits "host:port", "[v6]:port" or "name:port" into its host (without
// brackets) and port. Any thread.
absl::Status SplitHostPort(absl::string_view host_port, std::string* host,
                           uint16_t* port);

// Resolver turns host names into addresses off the event loops: a small pool
// of threads calls getaddrinfo (so /etc/hosts and nsswitch apply), and each
// answer is posted back to the loop that asked. A numeric address needs no
// lookup and is answered on the asking loop without a thread hop.
//
// Threading: Resolve may be called from any thread; its callback runs on
// `loop`'s thread, never inside the call to Resolve. Cancel is called on
// that loop's thread, and the callback never runs after it returned. The
// Resolver must outlive the lookups it runs: its destructor waits for the
// lookups in progress (not for queued ones, which it drops).
class Resolver {
 public:
  using Addresses = std::vector<SocketAddress>;
  using Callback = absl::AnyInvocable<void(absl::StatusOr<Addresses>)>;
  // The blocking lookup a pool thread runs; getaddrinfo unless a test
  // passes its own.
  using Lookup = absl::AnyInvocable<absl::StatusOr<Addresses>(
      const std::string& host, uint16_t port)>;

  struct Options {
    // Lookup threads; started lazily, on the first name to resolve.
    size_t threads = 2;
    Lookup lookup;  // null: getaddrinfo
  };

  class Request;
  // A lookup in progress. Copyable; an empty handle cancels nothing.
  class Handle {
   public:
    Handle() = default;
    // Loop thread (the loop given to Resolve): the callback will not run.
    // A no-op when it ran already.
    void Cancel();
    bool valid() const { return request_ != nullptr; }

   private:
    friend class Resolver;
    explicit Handle(std::shared_ptr<Request> request)
        : request_(std::move(request)) {}
    std::shared_ptr<Request> request_;
  };

  explicit Resolver(Options options);
  Resolver() : Resolver(Options{}) {}
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // The process-wide resolver that Connect and http::Client use unless
  // told otherwise. Never destroyed (it may serve loops until exit).
  static Resolver& Default();

  // Resolves `host` (a name, or a numeric IPv4/IPv6 address, with or
  // without brackets) for TCP on `port`. Any thread. The addresses arrive
  // in getaddrinfo's order (RFC 6724 preference); an unknown name gives
  // absl::NotFoundError.
  Handle Resolve(EventLoop& loop, absl::string_view host, uint16_t port,
                 Callback callback);

  // Lookups run on the pool so far (numeric addresses are not counted).
  uint64_t lookups() const;

 private:
  void RunThread();
  static absl::StatusOr<Addresses> GetAddrInfo(const std::string& host,
                                               uint16_t port);

  Lookup lookup_;
  const size_t thread_count_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Request>> queue_;
  std::vector<std::thread> threads_;
  uint64_t lookups_ = 0;
  bool stopping_ = false;
};

}  // namespace eddy

#endif  // EDDY_NET_RESOLVER_H_
