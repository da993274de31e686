// http::Client: the cost of one pooled request, client and server on one
// machine (an eddy HTTP server with one worker, a client WorkerGroup with
// one worker, a keep-alive connection reused for every request).

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "eddy/http/client.h"
#include "eddy/http/http_protocol.h"
#include "eddy/http/router.h"
#include "eddy/net/server.h"
#include "eddy/net/worker_group.h"

namespace eddy::http {
namespace {

// `in_flight` requests outstanding at any time (each answer sends the next
// one), until `total` have been answered; waits for the last.
void RunRequests(Client& client, const std::string& url, int64_t total,
                 int64_t in_flight, std::atomic<int64_t>& failures) {
  std::atomic<int64_t> answered{0};
  std::atomic<int64_t> sent{0};
  struct Sender {
    Client& client;
    const std::string& url;
    int64_t total;
    std::atomic<int64_t>& sent;
    std::atomic<int64_t>& answered;
    std::atomic<int64_t>& failures;
    void SendOne() {
      if (sent.fetch_add(1) >= total) return;
      client.Get(url, [this](absl::StatusOr<ClientResponse> response) {
        if (!response.ok() || response->status != 200) failures.fetch_add(1);
        SendOne();
        answered.fetch_add(1, std::memory_order_release);
      });
    }
  } sender{client, url, total, sent, answered, failures};
  for (int64_t i = 0; i < in_flight; ++i) sender.SendOne();
  while (answered.load(std::memory_order_acquire) < total) {
  }
}

void BM_HttpClientPooledGet(benchmark::State& state) {
  const int64_t in_flight = state.range(0);
  auto router = std::make_shared<Router>();
  router->Handle("GET", "/", [](const Request&, Response& response) {
    response.set_body("Hello, world!");
  });
  ServerOptions server_options;
  server_options.bind_address = "127.0.0.1";
  server_options.port = 0;
  server_options.workers = 1;
  Server server(server_options,
                std::make_unique<HttpProtocol>(router, HttpOptions{}));
  if (absl::Status s = server.Start(); !s.ok()) {
    state.SkipWithError(s.ToString().c_str());
    return;
  }
  WorkerGroupOptions group_options;
  group_options.workers = 1;
  WorkerGroup group(group_options);
  if (absl::Status s = group.Start(); !s.ok()) {
    state.SkipWithError(s.ToString().c_str());
    return;
  }
  ClientOptions options;
  options.max_connections_per_host = 1;
  options.pipelining = in_flight > 1;
  options.max_pipelined = static_cast<size_t>(in_flight);
  std::atomic<int64_t> failures{0};
  {
    Client client(group, options);
    const std::string url =
        absl::StrCat("http://127.0.0.1:", server.port(), "/");
    RunRequests(client, url, 1, 1, failures);  // opens the connection
    constexpr int64_t kBatch = 1000;
    for (auto _ : state) RunRequests(client, url, kBatch, in_flight, failures);
    state.SetItemsProcessed(state.iterations() * kBatch);
    state.counters["connections"] =
        static_cast<double>(client.stats().connections_opened);
  }
  if (failures.load() > 0) state.SkipWithError("requests failed");
  group.Stop();
  server.Stop();
}
BENCHMARK(BM_HttpClientPooledGet)->Arg(1)->Arg(16)->UseRealTime();

}  // namespace
}  // namespace eddy::http
