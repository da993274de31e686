#include "examples/redis/store.h"

#include "absl/hash/hash.h"
#include "absl/strings/numbers.h"
#include "eddy/core/clock.h"

namespace eddy::redis {

Store::Shard& Store::ShardFor(absl::string_view key) {
  return shards_[absl::Hash<absl::string_view>{}(key) % kShards];
}

Store::Entry* Store::Find(Shard& shard, absl::string_view key, int64_t now_ms) {
  auto it = shard.map.find(key);
  if (it == shard.map.end()) return nullptr;
  if (it->second.expires_at_ms != 0 && it->second.expires_at_ms <= now_ms) {
    shard.map.erase(it);
    return nullptr;
  }
  return &it->second;
}

std::optional<std::string> Store::Get(absl::string_view key) {
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mutex);
  if (Entry* entry = Find(shard, key, MonotonicMillis())) return entry->value;
  return std::nullopt;
}

bool Store::Set(absl::string_view key, absl::string_view value, int64_t ttl_ms,
                SetCondition condition) {
  const int64_t now = MonotonicMillis();
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mutex);
  Entry* existing = Find(shard, key, now);
  if ((condition == SetCondition::kIfAbsent && existing != nullptr) ||
      (condition == SetCondition::kIfPresent && existing == nullptr)) {
    return false;
  }
  Entry& entry = existing != nullptr ? *existing : shard.map[key];
  entry.value.assign(value.data(), value.size());
  entry.expires_at_ms = ttl_ms > 0 ? now + ttl_ms : 0;
  return true;
}

bool Store::Delete(absl::string_view key) {
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mutex);
  if (Find(shard, key, MonotonicMillis()) == nullptr) return false;
  shard.map.erase(key);
  return true;
}

bool Store::Exists(absl::string_view key) {
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mutex);
  return Find(shard, key, MonotonicMillis()) != nullptr;
}

absl::StatusOr<int64_t> Store::Increment(absl::string_view key) {
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mutex);
  Entry* entry = Find(shard, key, MonotonicMillis());
  int64_t value = 0;
  if (entry != nullptr && !absl::SimpleAtoi(entry->value, &value)) {
    return absl::InvalidArgumentError(
        "value is not an integer or out of range");
  }
  if (value == INT64_MAX) {
    return absl::OutOfRangeError("increment or decrement would overflow");
  }
  ++value;
  if (entry == nullptr) entry = &shard.map[key];
  entry->value = std::to_string(value);
  return value;
}

size_t Store::Size() {
  size_t total = 0;
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    total += shard.map.size();
  }
  return total;
}

void Store::Clear() {
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    shard.map.clear();
  }
}

}  // namespace eddy::redis
