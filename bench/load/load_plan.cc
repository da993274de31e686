#include "bench/load/load_plan.h"

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace eddy::load {

absl::StatusOr<LoadMode> ParseLoadMode(absl::string_view name) {
  if (name == "http") return LoadMode::kHttp;
  if (name == "http10") return LoadMode::kHttp10;
  if (name == "pipeline") return LoadMode::kPipeline;
  if (name == "echo") return LoadMode::kEcho;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown --mode '", name, "'; use http, http10, pipeline or echo"));
}

absl::string_view LoadModeName(LoadMode mode) {
  switch (mode) {
    case LoadMode::kHttp:
      return "http";
    case LoadMode::kHttp10:
      return "http10";
    case LoadMode::kPipeline:
      return "pipeline";
    case LoadMode::kEcho:
      return "echo";
  }
  return "?";
}

absl::StatusOr<LoadPlan> MakeLoadPlan(LoadMode mode,
                                      const SocketAddress& address,
                                      absl::string_view path, size_t depth,
                                      size_t message_size,
                                      absl::Duration timeout) {
  if (timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--timeout must be positive");
  }
  LoadPlan plan;
  plan.mode = mode;
  plan.address = address;
  plan.timeout_ns = timeout == absl::InfiniteDuration()
                        ? INT64_MAX / 2
                        : absl::ToInt64Nanoseconds(timeout);
  if (mode == LoadMode::kEcho) {
    if (message_size == 0) {
      return absl::InvalidArgumentError("--message_size must be at least 1");
    }
    plan.request_bytes = message_size;
    plan.payload.resize(message_size + LoadPlan::kEchoPeriod);
    for (size_t i = 0; i < plan.payload.size(); ++i) {
      plan.payload[i] = static_cast<char>(i % LoadPlan::kEchoPeriod);
    }
    return plan;
  }

  if (path.empty() || path[0] != '/' ||
      path.find_first_of(" \r\n") != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--path '", path, "' must start with / and contain no spaces"));
  }
  if (mode == LoadMode::kPipeline) {
    if (depth == 0) {
      return absl::InvalidArgumentError("--depth must be at least 1");
    }
    plan.depth = depth;
  }
  // The Host header is the address as given: a numeric host needs no more.
  const std::string request =
      mode == LoadMode::kHttp10
          ? absl::StrCat("GET ", path,
                         " HTTP/1.0\r\nHost: ", address.ToString(), "\r\n\r\n")
          : absl::StrCat("GET ", path,
                         " HTTP/1.1\r\nHost: ", address.ToString(), "\r\n\r\n");
  plan.request_bytes = request.size();
  plan.payload.reserve(request.size() * plan.depth);
  for (size_t i = 0; i < plan.depth; ++i) plan.payload += request;
  return plan;
}

}  // namespace eddy::load
