#include "eddy/net/server.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "eddy/core/log.h"
#include "eddy/net/internal/acceptor.h"
#include "eddy/net/internal/server_metrics.h"
#include "eddy/net/internal/socket.h"
#include "eddy/net/internal/worker_access.h"

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
  return absl::StrJoin(changed, " ");
}

}  // namespace

Server::Server(ServerOptions options, std::unique_ptr<ProtocolFactory> factory)
    : options_(WithReadOnAccept(std::move(options))),
      factory_(std::move(factory)),
      group_(options_, factory_.get()) {}

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
  absl::StatusOr<UniqueFd> listen_fd = Listen(*address, listen_options);
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
  return absl::OkStatus();
}

void Server::Stop() {
  {
    // A ReloadTls in progress finishes first; none starts after.
    std::lock_guard<std::mutex> lock(tls_mutex_);
    tls_context_ = nullptr;
  }
  // No scrape reads the acceptor or the workers once they begin to stop.
  metrics_.reset();
  if (acceptor_ != nullptr) acceptor_->Stop();
  group_.Stop();
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
