#include "eddy/net/server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "eddy/core/log.h"
#include "eddy/net/internal/acceptor.h"
#include "eddy/net/internal/handoff.h"
#include "eddy/net/internal/server_metrics.h"
#include "eddy/net/internal/socket.h"
#include "eddy/net/internal/worker_access.h"
#include "eddy/net/service_manager.h"

namespace eddy {
namespace {

// When the kernel defers accepts until the first bytes arrived, the workers
// read them before registering the connection.
ServerOptions WithReadOnAccept(ServerOptions options) {
  if (options.defer_accept > absl::ZeroDuration()) {
    options.connection.read_on_accept = true;
  }
  return options;
}

// Connections learn the PROXY protocol settings from their options; the
// trusted networks are the Server's copy, which outlives its workers.
ServerOptions WithProxyProtocol(ServerOptions options,
                                const std::vector<Cidr>* trusted) {
  options.connection.proxy_protocol = options.proxy_protocol;
  options.connection.proxy_trusted = trusted;
  options.connection.proxy_header_timeout = options.proxy_header_timeout;
  return options;
}

// "name=value" for each option the operator changed, so that a start line
// says how this server differs from a stock one.
std::string OptionsThatDiffer(const ServerOptions& options) {
  const ServerOptions defaults;
  const ConnectionOptions& c = options.connection;
  const ConnectionOptions& d = defaults.connection;
  std::vector<std::string> changed;
  const auto note = [&changed](bool differs, absl::string_view name,
                               const auto& value) {
    if (differs) changed.push_back(absl::StrCat(name, "=", value));
  };
  const auto duration = [](absl::Duration d) {
    return absl::FormatDuration(d);
  };
  note(options.pin_workers != defaults.pin_workers, "pin_workers",
       options.pin_workers);
  note(options.inbox_depth != defaults.inbox_depth, "inbox_depth",
       options.inbox_depth);
  note(options.shutdown_timeout != defaults.shutdown_timeout,
       "shutdown_timeout", duration(options.shutdown_timeout));
  note(options.backlog != defaults.backlog, "backlog", options.backlog);
  note(options.reuse_port != defaults.reuse_port, "reuse_port",
       options.reuse_port);
  note(options.tcp_nodelay != defaults.tcp_nodelay, "tcp_nodelay",
       options.tcp_nodelay);
  note(options.keepalive != defaults.keepalive, "keepalive", options.keepalive);
  note(options.defer_accept != defaults.defer_accept, "defer_accept",
       duration(options.defer_accept));
  note(options.max_connections != defaults.max_connections, "max_connections",
       options.max_connections);
  note(options.acceptor_batch_scheduling != defaults.acceptor_batch_scheduling,
       "acceptor_batch_scheduling", options.acceptor_batch_scheduling);
  note(options.unix_socket_mode != defaults.unix_socket_mode,
       "unix_socket_mode", absl::StrFormat("0%o", options.unix_socket_mode));
  note(options.proxy_protocol != defaults.proxy_protocol, "proxy_protocol",
       ProxyProtocolModeName(options.proxy_protocol));
  if (!options.proxy_trusted.empty()) {
    note(true, "proxy_trusted",
         absl::StrJoin(options.proxy_trusted, ",",
                       [](std::string* out, const Cidr& cidr) {
                         out->append(cidr.ToString());
                       }));
  }
  note(options.proxy_header_timeout != defaults.proxy_header_timeout,
       "proxy_header_timeout", duration(options.proxy_header_timeout));
  note(options.tls.has_value(), "tls", "on");
  note(c.high_water_mark != d.high_water_mark, "high_water_mark",
       c.high_water_mark);
  note(c.low_water_mark != d.low_water_mark, "low_water_mark",
       c.low_water_mark);
  note(c.max_queued_files != d.max_queued_files, "max_queued_files",
       c.max_queued_files);
  note(c.read_budget != d.read_budget, "read_budget", c.read_budget);
  note(c.idle_timeout != d.idle_timeout, "idle_timeout",
       duration(c.idle_timeout));
  note(c.write_timeout != d.write_timeout, "write_timeout",
       duration(c.write_timeout));
  note(c.close_linger != d.close_linger, "close_linger",
       duration(c.close_linger));
  note(options.drain_delay != defaults.drain_delay, "drain_delay",
       duration(options.drain_delay));
  note(options.listen_fd != defaults.listen_fd, "listen_fd", options.listen_fd);
  note(c.max_age != d.max_age, "max_age", duration(c.max_age));
  note(options.handoff_socket != defaults.handoff_socket, "handoff_socket",
       options.handoff_socket);
  return absl::StrJoin(changed, " ");
}

// How long a new server waits for the old one's sockets.
constexpr absl::Duration kHandoffTimeout = absl::Seconds(30);

int SocketOption(int fd, int level, int name) {
  int value = 0;
  socklen_t size = sizeof(value);
  if (::getsockopt(fd, level, name, &value, &size) != 0) return -1;
  return value;
}

// Checks a listener handed to us (socket activation, hand-off) and makes it
// fit for the acceptor.
absl::Status CheckInheritedListener(int fd, const ServerOptions& options) {
  if (SocketOption(fd, SOL_SOCKET, SO_TYPE) != SOCK_STREAM ||
      SocketOption(fd, SOL_SOCKET, SO_ACCEPTCONN) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the inherited fd ", fd,
        " is not a listening stream socket; check the socket unit (or "
        "LISTEN_FDS) that passed it"));
  }
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return absl::InternalError(
        absl::StrCat("could not make the inherited listener non-blocking: ",
                     std::strerror(errno)));
  }
  absl::StatusOr<SocketAddress> local = SocketAddress::LocalOf(fd);
  if (!local.ok()) return local.status();
  // A Unix listener has no port and none of TCP's options.
  if (local->is_unix()) return absl::OkStatus();
  if (options.port != 0 && local->port() != options.port) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the inherited listener is on ", local->ToString(), ", not port ",
        options.port, "; pass --port 0 or the listener's port"));
  }
  // Accepted sockets inherit these from the listener.
  if (absl::Status s = SetNoDelay(fd, options.tcp_nodelay); !s.ok()) return s;
  return SetKeepAlive(fd, options.keepalive);
}

void NotifyOrLog(absl::string_view state) {
  if (absl::Status s = NotifyServiceManager(state); !s.ok()) {
    Log(LogSeverity::kWarning, "server.notify", s.message());
  }
}

}  // namespace

Server::Server(ServerOptions options, std::unique_ptr<ProtocolFactory> factory)
    : proxy_trusted_(options.proxy_trusted),
      options_(WithProxyProtocol(WithReadOnAccept(std::move(options)),
                                 &proxy_trusted_)),
      factory_(std::move(factory)),
      group_(options_, factory_.get()),
      inherited_listener_(options_.listen_fd) {}

Server::~Server() { Stop(); }

absl::Status Server::Start() {
  if (acceptor_ != nullptr) {
    return absl::FailedPreconditionError("server already started");
  }
  if (options_.max_connections == 0) {
    return absl::InvalidArgumentError("max_connections must be at least 1");
  }
  // Certificates are checked before anything starts: a bad file is the
  // most likely mistake of a TLS setup.
  std::shared_ptr<const TlsContext> tls_context;
  if (options_.tls.has_value()) {
    absl::StatusOr<std::shared_ptr<const TlsContext>> context =
        TlsContext::ForServer(*options_.tls);
    if (!context.ok()) return context.status();
    tls_context = *std::move(context);
  }
  std::unique_ptr<HandoffClient> old_server;
  absl::StatusOr<UniqueFd> handoff_listener = PrepareHandoff(&old_server);
  if (!handoff_listener.ok()) return handoff_listener.status();
  absl::StatusOr<UniqueFd> listen_fd = ListenOrInherit();
  if (!listen_fd.ok()) return listen_fd.status();
  absl::StatusOr<SocketAddress> local =
      SocketAddress::LocalOf(listen_fd->get());
  if (!local.ok()) return local.status();
  local_address_ = *local;

  if (absl::Status s = group_.Start(); !s.ok()) return s;
  if (options_.metrics != nullptr &&
      options_.metrics->writers() < group_.size()) {
    group_.Stop();
    return absl::InvalidArgumentError(
        absl::StrCat("the metrics registry has ", options_.metrics->writers(),
                     " writers for ", group_.size(),
                     " workers; make it with MetricsRegistry(workers)"));
  }
  // Before the acceptor hands over the first connection.
  if (tls_context != nullptr) InstallTlsContext(tls_context);
  Acceptor::Options acceptor_options;
  acceptor_options.max_connections = options_.max_connections;
  acceptor_options.batch_scheduling = options_.acceptor_batch_scheduling;
  acceptor_ = std::make_unique<Acceptor>(
      *std::move(listen_fd), group_.workers(), *factory_, acceptor_options,
      group_.open_connections());
  if (absl::Status s = acceptor_->Start(); !s.ok()) {
    group_.Stop();
    return s;
  }
  running_ = true;
  if (tls_context != nullptr) {
    // Reloads are possible from now until Stop.
    std::lock_guard<std::mutex> lock(tls_mutex_);
    tls_context_ = std::move(tls_context);
  }
  if (LogEnabled(LogSeverity::kInfo)) {
    const std::string address = local_address_.ToString();
    const std::string differs = OptionsThatDiffer(options_);
    LogEvent event;
    event.kind = "server.start";
    const std::string message =
        absl::StrCat("listening on ", address, " with ", group_.size(),
                     " workers", differs.empty() ? "" : "; options: ", differs);
    event.message = message;
    Log(event);
  }
  if (options_.metrics != nullptr) {
    metrics_ =
        std::make_unique<ServerMetrics>(*this, *acceptor_, *options_.metrics);
  }
  if (old_server != nullptr) {
    // Under a service manager this process becomes the service's main one
    // before the old one is told to go, so that the old one's exit does not
    // end the service (systemd takes MAINPID= with NotifyAccess=all).
    NotifyOrLog(absl::StrCat("MAINPID=", ::getpid()));
    if (absl::Status s = old_server->SendReady(); !s.ok()) {
      Log(LogSeverity::kWarning, "handoff.ready", s.message());
    }
  }
  if (handoff_listener->valid())
    StartHandoffServer(*std::move(handoff_listener));
  NotifyOrLog("READY=1");
  return absl::OkStatus();
}

absl::StatusOr<UniqueFd> Server::PrepareHandoff(
    std::unique_ptr<HandoffClient>* old) {
  const std::string& path = options_.handoff_socket;
  if (path.empty()) return UniqueFd();
  if (inherited_listener_.valid()) {
    return absl::InvalidArgumentError(
        "handoff_socket and listen_fd both name a listener; pass one");
  }
  absl::StatusOr<HandoffClient> client =
      HandoffClient::Request(path, kHandoffTimeout);
  if (absl::IsNotFound(client.status())) return ListenForHandoff(path);
  if (!client.ok()) return client.status();
  inherited_listener_ = client->TakeListener();
  UniqueFd handoff_listener = client->TakeHandoffListener();
  *old = std::make_unique<HandoffClient>(*std::move(client));
  return handoff_listener;
}

void Server::StartHandoffServer(UniqueFd handoff_listener) {
  handoff_ = std::make_unique<HandoffServer>(
      std::move(handoff_listener), acceptor_->listen_fd(),
      // The new process is the service's main process now: "STOPPING=1"
      // from this one would stop the service it continues.
      [this] { BeginDrain(/*tell_service_manager=*/false); });
  if (absl::Status s = handoff_->Start(); !s.ok()) {
    Log(LogSeverity::kWarning, "handoff.start", s.message());
    handoff_.reset();
  }
}

absl::StatusOr<UniqueFd> Server::ListenOrInherit() {
  if (inherited_listener_.valid()) {
    UniqueFd fd = std::move(inherited_listener_);
    if (absl::Status s = CheckInheritedListener(fd.get(), options_); !s.ok()) {
      return s;
    }
    return fd;
  }
  // Listen before any thread starts, so that a busy port fails fast.
  absl::StatusOr<SocketAddress> address =
      SocketAddress::Parse(options_.bind_address, options_.port);
  if (!address.ok()) return address.status();
  ListenOptions listen_options;
  listen_options.reuse_port = options_.reuse_port;
  listen_options.backlog = options_.backlog;
  listen_options.tcp_nodelay = options_.tcp_nodelay;
  listen_options.keepalive = options_.keepalive;
  listen_options.defer_accept = options_.defer_accept;
  listen_options.unix_socket_mode = options_.unix_socket_mode;
  absl::StatusOr<UniqueFd> listen_fd = Listen(*address, listen_options);
  if (!listen_fd.ok()) return listen_fd.status();
  // Only a socket file this server made is its to remove at Stop; an
  // inherited one belongs to whoever bound it.
  if (const std::string path = address->unix_path(); !path.empty()) {
    absl::StatusOr<UnixSocketFile> file = IdentifyUnixSocketFile(path);
    if (!file.ok()) return file.status();
    unix_socket_file_ = std::make_unique<UnixSocketFile>(*std::move(file));
  }
  return listen_fd;
}

void Server::Drain() { BeginDrain(/*tell_service_manager=*/true); }

void Server::BeginDrain(bool tell_service_manager) {
  const bool entered = group_.Drain();
  {
    std::lock_guard lock(drain_mutex_);
    ++drain_requests_;
  }
  drain_requested_.notify_all();
  if (!entered) return;
  if (tell_service_manager) NotifyOrLog("STOPPING=1");
  // Without a delay the drain is only the first step of the stop that
  // follows at once, and "server.stop" says it.
  if (options_.drain_delay > absl::ZeroDuration() &&
      LogEnabled(LogSeverity::kInfo)) {
    Log(LogSeverity::kInfo, "server.drain",
        absl::StrCat("draining for ",
                     absl::FormatDuration(options_.drain_delay),
                     ": readiness fails, connections are asked to end"));
  }
}

void Server::WaitForDrainEnd() {
  std::unique_lock lock(drain_mutex_);
  drain_requested_.wait(lock, [this] { return drain_requests_ > 0; });
  if (options_.drain_delay == absl::InfiniteDuration()) {
    drain_requested_.wait(lock, [this] { return drain_requests_ > 1; });
    return;
  }
  const auto deadline = std::chrono::steady_clock::now() +
                        absl::ToChronoNanoseconds(options_.drain_delay);
  drain_requested_.wait_until(lock, deadline,
                              [this] { return drain_requests_ > 1; });
}

void Server::Stop() {
  if (running_ && state() == ServerState::kReady) NotifyOrLog("STOPPING=1");
  if (handoff_ != nullptr) {
    handoff_->Stop();
    // The path is ours unless a new server took it over with the socket.
    if (!handoff_->handed_off()) ::unlink(options_.handoff_socket.c_str());
    handoff_.reset();
  }
  {
    // A ReloadTls in progress finishes first; none starts after.
    std::lock_guard<std::mutex> lock(tls_mutex_);
    tls_context_ = nullptr;
  }
  // No scrape reads the acceptor or the workers once they begin to stop.
  metrics_.reset();
  if (acceptor_ != nullptr) acceptor_->Stop();
  group_.Stop();
  // Only while it is still ours: a newer server may have taken the path.
  if (unix_socket_file_ != nullptr) {
    RemoveUnixSocketFileIfOurs(*unix_socket_file_);
    unix_socket_file_.reset();
  }
  if (!running_) return;
  running_ = false;
  if (LogEnabled(LogSeverity::kInfo)) {
    const WorkerStats totals = group_.total_stats();
    Log(LogSeverity::kInfo, "server.stop",
        absl::StrCat("stopped listening on ", local_address_.ToString(),
                     " after ", acceptor_->stats().accepted,
                     " connections accepted, ", totals.shed, " shed"));
  }
  // The end of a storm must not be lost with the server.
  FlushSuppressedLogs();
}

absl::Status Server::ReloadTls() {
  if (!options_.tls.has_value()) {
    return absl::FailedPreconditionError(
        "the server has no TLS to reload (ServerOptions::tls is not set)");
  }
  std::lock_guard<std::mutex> lock(tls_mutex_);
  if (tls_context_ == nullptr) {
    return absl::FailedPreconditionError("the server is not running");
  }
  absl::StatusOr<std::shared_ptr<const TlsContext>> context =
      TlsContext::ForServer(*options_.tls, *tls_context_);
  if (!context.ok()) {
    Log(LogSeverity::kWarning, "tls.reload_failed",
        absl::StrCat("kept the previous certificate: ",
                     context.status().message()));
    return context.status();
  }
  tls_context_ = *std::move(context);
  InstallTlsContext(tls_context_);
  Log(LogSeverity::kInfo, "tls.reload",
      "new TLS connections use the reloaded certificate");
  return absl::OkStatus();
}

void Server::InstallTlsContext(
    const std::shared_ptr<const TlsContext>& context) {
  for (Worker* worker : group_.workers()) {
    WorkerAccess::SetTlsContext(*worker, context);
  }
}

AcceptorStats Server::acceptor_stats() const {
  return acceptor_ != nullptr ? acceptor_->stats() : AcceptorStats{};
}

}  // namespace eddy
