// eddy-fetch: an HTTP/1.1 client on eddy's http::Client (http:// and
// https://, verifying the server). Fetches each URL
// once and prints the body, or with --count sends that many requests (over
// the URLs in turn, --concurrency at a time, on pooled keep-alive
// connections) and prints a summary line.
//
//   eddy-fetch http://localhost:8080/
//   eddy-fetch --count 10000 --concurrency 16 http://127.0.0.1:8080/echo
//   eddy-fetch --ca ca.pem https://localhost:8443/

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "eddy/http/client.h"
#include "eddy/net/worker_group.h"
#include "examples/program_flags.h"
#include "examples/program_logs.h"

ABSL_FLAG(uint64_t, count, 0,
          "send this many requests and print a summary instead of a body "
          "(0: fetch each URL once and print its body)");
ABSL_FLAG(size_t, concurrency, 1, "requests in flight at once with --count");
ABSL_FLAG(size_t, workers, 1, "client threads, one event loop each");
ABSL_FLAG(size_t, connections_per_host, 6,
          "connections per host and worker; requests beyond them queue");
ABSL_FLAG(std::string, method, "GET", "request method");
ABSL_FLAG(bool, pipelining, false,
          "send idempotent requests before the previous answers came");
ABSL_FLAG(std::string, ca, "",
          "https://: PEM file of the CAs the server's certificate must chain "
          "to (empty: the system's store); the certificate is always "
          "verified, chain and host name");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(30),
          "give up on a request after this long, from sending to its end");

namespace {

// Counts answers as they come (on the workers) and lets main wait for a
// free slot or for the end.
class Tally {
 public:
  explicit Tally(size_t concurrency) : concurrency_(concurrency) {}

  void AwaitSlot() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return in_flight_ < concurrency_; });
    ++in_flight_;
  }
  void AwaitAll() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return in_flight_ == 0; });
  }
  void Record(const absl::StatusOr<eddy::http::ClientResponse>& response) {
    std::lock_guard lock(mutex_);
    --in_flight_;
    if (response.ok()) {
      ++responses_;
      if (response->status >= 200 && response->status < 300) ++ok_;
    } else if (first_error_.empty()) {
      // A copy of the text, not of the Status: its shared representation
      // would be released on this worker while main reads it.
      first_error_ = response.status().ToString();
    }
    if (!response.ok()) ++errors_;
    changed_.notify_all();
  }
  uint64_t responses() const { return responses_; }
  uint64_t ok() const { return ok_; }
  uint64_t errors() const { return errors_; }
  const std::string& first_error() const { return first_error_; }

 private:
  const size_t concurrency_;
  std::mutex mutex_;
  std::condition_variable changed_;
  size_t in_flight_ = 0;
  uint64_t responses_ = 0;
  uint64_t ok_ = 0;
  uint64_t errors_ = 0;
  std::string first_error_;
};

eddy::http::ClientRequest MakeRequest(const std::string& url) {
  eddy::http::ClientRequest request;
  request.method = absl::GetFlag(FLAGS_method);
  request.url = url;
  return request;
}

// Fetches each URL in turn and prints its body; 1 if one failed.
int FetchEach(eddy::http::Client& client,
              const std::vector<std::string>& urls) {
  int exit_code = 0;
  for (const std::string& url : urls) {
    std::mutex mutex;
    std::condition_variable done;
    std::optional<absl::StatusOr<eddy::http::ClientResponse>> result;
    client.Send(MakeRequest(url),
                [&](absl::StatusOr<eddy::http::ClientResponse> response) {
                  std::lock_guard lock(mutex);
                  result = std::move(response);
                  done.notify_all();
                });
    std::unique_lock lock(mutex);
    done.wait(lock, [&] { return result.has_value(); });
    if (!result->ok()) {
      std::fprintf(stderr, "eddy-fetch: %s: %s\n", url.c_str(),
                   result->status().ToString().c_str());
      exit_code = 1;
      continue;
    }
    std::fwrite((*result)->body.data(), 1, (*result)->body.size(), stdout);
    std::fflush(stdout);
  }
  return exit_code;
}

int FetchMany(eddy::http::Client& client, const std::vector<std::string>& urls,
              uint64_t count, size_t concurrency) {
  Tally tally(concurrency);
  const absl::Time start = absl::Now();
  for (uint64_t i = 0; i < count; ++i) {
    tally.AwaitSlot();
    client.Send(MakeRequest(urls[i % urls.size()]),
                [&tally](absl::StatusOr<eddy::http::ClientResponse> response) {
                  tally.Record(response);
                });
  }
  tally.AwaitAll();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const eddy::http::ClientStats stats = client.stats();
  std::printf("%llu responses (%llu ok), over %llu connections in %.3f s",
              static_cast<unsigned long long>(tally.responses()),
              static_cast<unsigned long long>(tally.ok()),
              static_cast<unsigned long long>(stats.connections_opened),
              seconds);
  const bool https = std::any_of(urls.begin(), urls.end(), [](auto& url) {
    return absl::StartsWithIgnoreCase(url, "https://");
  });
  if (https) {
    std::printf("; %llu TLS sessions resumed",
                static_cast<unsigned long long>(stats.tls_resumed));
  }
  std::printf("\n");
  if (tally.errors() > 0) {
    std::fprintf(stderr, "eddy-fetch: %llu requests failed; the first: %s\n",
                 static_cast<unsigned long long>(tally.errors()),
                 tally.first_error().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args = eddy::ParseProgramFlags(
      argc, argv,
      "an HTTP/1.1 client on eddy: prints the body of each URL, or with "
      "--count a summary of many requests\n"
      "  eddy-fetch [--count N] [--concurrency C] [--ca FILE] URL...");
  eddy::ApplyLogFlags();
  const std::vector<std::string> urls(args.begin() + 1, args.end());
  if (urls.empty()) {
    std::fprintf(stderr,
                 "eddy-fetch: no URL given (e.g. eddy-fetch "
                 "http://localhost:8080/); see --help\n");
    return 2;
  }
  const size_t concurrency = absl::GetFlag(FLAGS_concurrency);
  if (concurrency == 0) {
    std::fprintf(stderr, "eddy-fetch: --concurrency must be at least 1\n");
    return 2;
  }
  eddy::WorkerGroupOptions group_options;
  group_options.workers = absl::GetFlag(FLAGS_workers);
  eddy::WorkerGroup group(group_options);
  if (absl::Status started = group.Start(); !started.ok()) {
    std::fprintf(stderr, "eddy-fetch: %s\n", started.ToString().c_str());
    return 1;
  }
  eddy::http::ClientOptions options;
  options.max_connections_per_host = absl::GetFlag(FLAGS_connections_per_host);
  options.pipelining = absl::GetFlag(FLAGS_pipelining);
  options.total_timeout = absl::GetFlag(FLAGS_timeout);
  options.first_byte_timeout = absl::GetFlag(FLAGS_timeout);
  options.ca_file = absl::GetFlag(FLAGS_ca);
  int exit_code;
  {
    eddy::http::Client client(group, options);
    const uint64_t count = absl::GetFlag(FLAGS_count);
    exit_code = count == 0 ? FetchEach(client, urls)
                           : FetchMany(client, urls, count, concurrency);
  }
  group.Stop();
  return exit_code;
}
