#ifndef EDDY_EXAMPLES_REDIS_STORE_H_
#define EDDY_EXAMPLES_REDIS_STORE_H_

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace eddy::redis {

// Store is the key space shared by every worker: 64 shards, each a hash map
// behind its own mutex, so workers touching different keys rarely meet.
// Keys with a deadline expire lazily, when next touched.
//
// Threading: every member function is safe to call from any thread.
class Store {
 public:
  enum class SetCondition { kAlways, kIfAbsent, kIfPresent };

  std::optional<std::string> Get(absl::string_view key);
  // `ttl_ms` <= 0 means no expiry. Returns false when the condition failed.
  bool Set(absl::string_view key, absl::string_view value, int64_t ttl_ms,
           SetCondition condition);
  bool Delete(absl::string_view key);
  bool Exists(absl::string_view key);
  // Adds 1 to the integer at `key` (absent counts as 0).
  absl::StatusOr<int64_t> Increment(absl::string_view key);
  size_t Size();
  void Clear();

 private:
  struct Entry {
    std::string value;
    int64_t expires_at_ms = 0;  // 0: never
  };
  struct Shard {
    std::mutex mutex;
    absl::flat_hash_map<std::string, Entry> map;
  };
  static constexpr size_t kShards = 64;

  Shard& ShardFor(absl::string_view key);
  // The live entry for `key` in `shard` (caller holds the lock), dropping it
  // if it expired.
  static Entry* Find(Shard& shard, absl::string_view key, int64_t now_ms);

  std::array<Shard, kShards> shards_;
};

}  // namespace eddy::redis

#endif  // EDDY_EXAMPLES_REDIS_STORE_H_
