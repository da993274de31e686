#include "eddy/net/server.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "eddy/net/internal/acceptor.h"
#include "eddy/net/internal/server_metrics.h"
#include "eddy/net/internal/socket.h"

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
  if (options_.metrics != nullptr) {
    metrics_ =
        std::make_unique<ServerMetrics>(*this, *acceptor_, *options_.metrics);
  }
  return absl::OkStatus();
}

void Server::Stop() {
  // No scrape reads the acceptor or the workers once they begin to stop.
  metrics_.reset();
  if (acceptor_ != nullptr) acceptor_->Stop();
  group_.Stop();
}

AcceptorStats Server::acceptor_stats() const {
  return acceptor_ != nullptr ? acceptor_->stats() : AcceptorStats{};
}

}  // namespace eddy
