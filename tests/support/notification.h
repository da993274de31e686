#ifndef EDDY_TESTS_SUPPORT_NOTIFICATION_H_
#define EDDY_TESTS_SUPPORT_NOTIFICATION_H_

#include <condition_variable>
#include <mutex>

#include "absl/time/time.h"

namespace eddy::testing {

// A one-shot event, like absl::Notification but built on std::mutex so that
// TSan sees its happens-before edges (Debian's Abseil is not TSan-annotated,
// which makes absl::Notification look like no synchronisation at all).
class Notification {
 public:
  void Notify() {
    std::lock_guard lock(mutex_);
    notified_ = true;
    cv_.notify_all();
  }
  bool HasBeenNotified() {
    std::lock_guard lock(mutex_);
    return notified_;
  }
  void WaitForNotification() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return notified_; });
  }
  bool WaitForNotificationWithTimeout(absl::Duration timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
                        [this] { return notified_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool notified_ = false;
};

}  // namespace eddy::testing

#endif  // EDDY_TESTS_SUPPORT_NOTIFICATION_H_
