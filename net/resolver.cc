#include "eddy/net/resolver.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace eddy {

// One lookup. The callback and `done` belong to the loop thread; `loop` is
// guarded by `mutex` because the pool thread reads it to post the answer
// while Cancel may clear it: once Cancel returns, no pool thread touches
// the loop, so a loop that goes away after cancelling is safe.
class Resolver::Request {
 public:
  Request(EventLoop& loop, std::string host, uint16_t port, Callback callback)
      : host_(std::move(host)),
        port_(port),
        callback_(std::move(callback)),
        loop_(&loop) {}

  const std::string& host() const { return host_; }
  uint16_t port() const { return port_; }

  // Any thread: posts the answer to the loop unless cancelled.
  static void Deliver(const std::shared_ptr<Request>& request,
                      absl::StatusOr<Addresses> result) {
    std::lock_guard lock(request->mutex_);
    if (request->loop_ == nullptr) return;
    request->loop_->Post([request, result = std::move(result)]() mutable {
      request->RunCallback(std::move(result));
    });
  }

  // Loop thread.
  void Cancel() {
    {
      std::lock_guard lock(mutex_);
      loop_ = nullptr;
    }
    done_ = true;
    callback_ = nullptr;
  }

  bool cancelled() {
    std::lock_guard lock(mutex_);
    return loop_ == nullptr;
  }

 private:
  void RunCallback(absl::StatusOr<Addresses> result) {
    {
      // Waits until Deliver's Post has returned: Post still touches the
      // loop after the task is queued (the wakeup), and once this callback
      // ran, the loop's owner may destroy it.
      std::lock_guard lock(mutex_);
      loop_ = nullptr;
    }
    if (done_) return;
    done_ = true;
    Callback callback = std::move(callback_);
    callback(std::move(result));
  }

  const std::string host_;
  const uint16_t port_;
  Callback callback_;
  bool done_ = false;
  std::mutex mutex_;
  EventLoop* loop_;
};

absl::Status SplitHostPort(absl::string_view host_port, std::string* host,
                           uint16_t* port) {
  absl::string_view host_part;
  absl::string_view port_part;
  if (!host_port.empty() && host_port.front() == '[') {
    const size_t close = host_port.find(']');
    if (close == absl::string_view::npos || close + 1 >= host_port.size() ||
        host_port[close + 1] != ':') {
      return absl::InvalidArgumentError(absl::StrCat(
          "'", host_port, "' is not [v6-address]:port (e.g. [::1]:8080)"));
    }
    host_part = host_port.substr(1, close - 1);
    port_part = host_port.substr(close + 2);
  } else {
    const size_t colon = host_port.rfind(':');
    if (colon == absl::string_view::npos || host_port.find(':') != colon) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", host_port,
                       "' is not host:port (e.g. localhost:8080; an IPv6 "
                       "address goes in brackets: [::1]:8080)"));
    }
    host_part = host_port.substr(0, colon);
    port_part = host_port.substr(colon + 1);
  }
  uint32_t parsed = 0;
  if (host_part.empty() || !absl::SimpleAtoi(port_part, &parsed) ||
      parsed > 65535 || port_part.empty() || port_part[0] == '+' ||
      port_part[0] == '-') {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", host_port, "' needs a host and a port from 0 to 65535"));
  }
  *host = std::string(host_part);
  *port = static_cast<uint16_t>(parsed);
  return absl::OkStatus();
}

void Resolver::Handle::Cancel() {
  if (request_ != nullptr) request_->Cancel();
}

Resolver::Resolver(Options options)
    : lookup_(std::move(options.lookup)),
      thread_count_(options.threads == 0 ? 1 : options.threads) {
  if (!lookup_) lookup_ = &Resolver::GetAddrInfo;
}

Resolver::~Resolver() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();
  }
  wake_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

Resolver& Resolver::Default() {
  static Resolver* const resolver = new Resolver();
  return *resolver;
}

namespace {

// The address if `host` is a numeric IPv4 or IPv6 address.
bool ParseNumeric(const std::string& host, uint16_t port,
                  SocketAddress* address) {
  sockaddr_in v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    *address = SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&v4),
                                           sizeof(v4));
    return true;
  }
  sockaddr_in6 v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    *address = SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&v6),
                                           sizeof(v6));
    return true;
  }
  return false;
}

}  // namespace

Resolver::Handle Resolver::Resolve(EventLoop& loop, absl::string_view host,
                                   uint16_t port, Callback callback) {
  std::string name(host);
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);
  }
  auto request =
      std::make_shared<Request>(loop, name, port, std::move(callback));
  SocketAddress numeric;
  if (ParseNumeric(name, port, &numeric)) {
    Request::Deliver(request, Addresses{numeric});
    return Handle(request);
  }
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(request);
    if (threads_.size() < thread_count_) {
      threads_.emplace_back([this] { RunThread(); });
    }
  }
  wake_.notify_one();
  return Handle(request);
}

uint64_t Resolver::lookups() const {
  std::lock_guard lock(mutex_);
  return lookups_;
}

void Resolver::RunThread() {
  while (true) {
    std::shared_ptr<Request> request;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      request = std::move(queue_.front());
      queue_.pop_front();
      ++lookups_;
    }
    if (request->cancelled()) continue;
    Request::Deliver(request, lookup_(request->host(), request->port()));
  }
}

absl::StatusOr<Resolver::Addresses> Resolver::GetAddrInfo(
    const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  const std::string service = std::to_string(port);
  const int error = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
  if (error != 0) {
    const std::string why =
        error == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(error);
    if (error == EAI_NONAME || error == EAI_NODATA) {
      return absl::NotFoundError(
          absl::StrCat("cannot resolve host '", host, "': ", why));
    }
    return absl::UnavailableError(
        absl::StrCat("resolving host '", host, "' failed: ", why));
  }
  Addresses addresses;
  for (const addrinfo* entry = list; entry != nullptr; entry = entry->ai_next) {
    if (entry->ai_family != AF_INET && entry->ai_family != AF_INET6) continue;
    addresses.push_back(SocketAddress::FromSockaddr(
        entry->ai_addr, static_cast<socklen_t>(entry->ai_addrlen)));
  }
  ::freeaddrinfo(list);
  if (addresses.empty()) {
    return absl::NotFoundError(
        absl::StrCat("host '", host, "' has no IPv4 or IPv6 address"));
  }
  return addresses;
}

}  // namespace eddy
