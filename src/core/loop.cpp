// The event loop's core: ready queue, timers, the reactor and cross-thread posts.
#include "lanes/loop.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <system_error>

namespace lanes {

namespace {

thread_local EventLoop* tls_current_loop = nullptr;

bool debug_from_environment() noexcept {
  static const bool enabled = [] {
    const char* v = std::getenv("LANES_DEBUG");
    return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
  }();
  return enabled;
}

/// Makes `loop` the current loop of this thread for the lifetime of the scope.
class CurrentLoopScope {
 public:
  explicit CurrentLoopScope(EventLoop* loop) noexcept : outer_(tls_current_loop) {
    tls_current_loop = loop;
  }
  ~CurrentLoopScope() { tls_current_loop = outer_; }
  CurrentLoopScope(const CurrentLoopScope&) = delete;
  CurrentLoopScope& operator=(const CurrentLoopScope&) = delete;

 private:
  EventLoop* outer_;
};

}  // namespace

// ---- Handle ----------------------------------------------------------------

struct Handle::Entry : detail::TimerNode {
  std::function<void()> fn;
  EventLoop* loop = nullptr;
  std::shared_ptr<Entry> keep_alive;  // held while queued, dropped when run or cancelled
  bool cancelled = false;

  static void run(void* arg) noexcept {
    auto* entry = static_cast<Entry*>(arg);
    std::shared_ptr<Entry> self = std::move(entry->keep_alive);
    if (entry->cancelled) return;
    entry->cancelled = true;  // a Handle runs at most once
    try {
      entry->fn();
    } catch (...) {
      entry->loop->call_exception_handler({"exception in a callback", std::current_exception()});
    }
  }
  static void fire_timer(detail::TimerNode* node) noexcept {
    auto* entry = static_cast<Entry*>(node);
    try {
      entry->loop->schedule({&Entry::run, entry});
    } catch (...) {
      std::terminate();
    }
  }
};

void Handle::cancel() noexcept {
  if (!entry_ || entry_->cancelled) return;
  entry_->cancelled = true;
  if (entry_->queued()) {
    entry_->loop->remove_timer(*entry_);
    entry_->keep_alive.reset();
  }
}

bool Handle::cancelled() const noexcept { return entry_ && entry_->cancelled; }

// ---- detail hooks used by headers -------------------------------------------

namespace detail {

EventLoop* current_loop() noexcept { return tls_current_loop; }
bool on_running_loop_thread() noexcept { return tls_current_loop != nullptr; }

bool post_to_current_loop(std::function<void()> fn) {
  if (!tls_current_loop) return false;
  tls_current_loop->call_soon(std::move(fn));
  return true;
}

void post_to_loop(EventLoop& loop, std::function<void()> fn) {
  if (tls_current_loop == &loop) {
    loop.call_soon(std::move(fn));
  } else {
    loop.call_soon_threadsafe(std::move(fn));
  }
}

void report_callback_error(std::exception_ptr error) noexcept {
  ExceptionContext context{"exception in a done callback", std::move(error)};
  if (tls_current_loop) {
    tls_current_loop->call_exception_handler(context);
  } else {
    EventLoop::default_exception_handler(context);
  }
}

void report_unretrieved(const std::exception_ptr& error) noexcept {
  ExceptionContext context{"Future exception was never retrieved", error};
  if (tls_current_loop) {
    tls_current_loop->call_exception_handler(context);
  } else {
    EventLoop::default_exception_handler(context);
  }
}

void report_never_awaited() noexcept {
  // On by default, as Python's RuntimeWarning; LANES_NO_UNAWAITED_WARNING=1 silences it.
  static const bool silenced = [] {
    const char* v = std::getenv("LANES_NO_UNAWAITED_WARNING");
    return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
  }();
  if (silenced) return;
  ExceptionContext context{
      "a lanes::Task was destroyed without ever being awaited: co_await it or pass it to "
      "create_task",
      nullptr};
  if (tls_current_loop) {
    tls_current_loop->call_exception_handler(context);
  } else {
    EventLoop::default_exception_handler(context);
  }
}

}  // namespace detail

// ---- run_until_complete's stop ---------------------------------------------------

struct detail::StopOnDone::Node : detail::DoneCallback {
  std::mutex mutex;
  EventLoop* loop = nullptr;  // guarded by mutex; null once the owner detached
  // Invariant: one reference for the owner, one while the node is listed in the
  // future (dropped by invoke or discard), one per stop posted and not yet run.
  std::atomic<int> refs{2};

  void drop() noexcept {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  static void on_done(detail::DoneCallback* self, detail::FutureStateBase&) noexcept {
    auto* node = static_cast<Node*>(self);
    {
      std::lock_guard<std::mutex> guard(node->mutex);
      if (node->loop == tls_current_loop && node->loop != nullptr) {
        node->loop->stop();
      } else if (node->loop) {
        node->refs.fetch_add(1, std::memory_order_relaxed);
        try {
          node->loop->post({&Node::stop_posted, node});
        } catch (...) {
          std::terminate();  // out of memory: the loop could never be stopped
        }
      }
    }
    node->drop();
  }
  static void stop_posted(void* arg) noexcept {
    auto* node = static_cast<Node*>(arg);
    {
      std::lock_guard<std::mutex> guard(node->mutex);
      if (node->loop) node->loop->stop();
    }
    node->drop();
  }
};

detail::StopOnDone::StopOnDone(EventLoop& loop, FutureStateBase& state)
    : state_(&state), node_(new Node) {
  node_->loop = &loop;
  node_->invoke = &Node::on_done;
  node_->discard = [](DoneCallback* self) noexcept { static_cast<Node*>(self)->drop(); };
  if (!state.add_callback(node_)) {
    node_->drop();  // done already: never listed
    loop.stop();    // run_forever then runs one iteration and returns
  }
}

detail::StopOnDone::~StopOnDone() {
  const bool listed = state_->remove_callback(node_);
  {
    std::lock_guard<std::mutex> guard(node_->mutex);
    node_->loop = nullptr;
  }
  if (listed) node_->drop();
  node_->drop();
}

EventLoop& get_running_loop() {
  if (!tls_current_loop || !tls_current_loop->is_running())
    throw RuntimeError("no running event loop on this thread: start one with lanes::run");
  return *tls_current_loop;
}

// ---- EventLoop ---------------------------------------------------------------

EventLoop::EventLoop() : EventLoop(Backend::automatic) {}

EventLoop::EventLoop(Backend backend) : reactor_(detail::make_reactor(backend)) {
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  wake_watcher_.on_ready = &EventLoop::wake_thunk;
  wake_watcher_.loop = this;
  try {
    reactor_->add(wake_fd_, detail::kReadable, &wake_watcher_);
    internal_descriptors_ = 1;
  } catch (...) {
    ::close(wake_fd_);
    throw;
  }
  debug_ = debug_from_environment();
}

EventLoop::~EventLoop() {
  if (running_) {
    std::fputs("lanes: an EventLoop was destroyed while running; aborting\n", stderr);
    std::abort();
  }
  close();
}

bool EventLoop::is_running() const noexcept { return running_; }
bool EventLoop::is_closed() const noexcept { return closed_; }

void EventLoop::check_open() const {
  if (closed_) throw RuntimeError("the event loop is closed: make a new one (or use lanes::run)");
}

void EventLoop::wake_thunk(detail::IoWatcher* self, std::uint32_t) noexcept {
  auto* loop = static_cast<WakeWatcher*>(self)->loop;
  std::uint64_t count;
  while (::read(loop->wake_fd_, &count, sizeof count) > 0) {
  }
}

void EventLoop::push_remote(Remote item) {
  bool was_empty;
  {
    std::lock_guard<std::mutex> guard(remote_mutex_);
    was_empty = remote_.empty();
    remote_.push_back(std::move(item));
    remote_pending_.store(true, std::memory_order_release);
  }
  if (was_empty) {
    const std::uint64_t one = 1;
    // A full counter (never in practice) still leaves the loop readable.
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  }
}

void EventLoop::post(detail::ReadyJob job) { push_remote(Remote{job, {}}); }

void EventLoop::call_soon_threadsafe(std::function<void()> fn) {
  if (closed_) throw RuntimeError("call_soon_threadsafe: the event loop is closed");
  push_remote(Remote{{nullptr, nullptr}, std::move(fn)});
}

std::shared_ptr<Handle::Entry> EventLoop::make_entry(std::function<void()> fn) {
  auto entry = std::make_shared<Handle::Entry>();
  entry->fn = std::move(fn);
  entry->loop = this;
  entry->keep_alive = entry;  // dropped when it runs or is cancelled
  return entry;
}

void EventLoop::drain_remote() {
  if (!remote_pending_.load(std::memory_order_acquire)) return;
  {
    std::lock_guard<std::mutex> guard(remote_mutex_);
    remote_.swap(remote_spare_);
    remote_pending_.store(false, std::memory_order_relaxed);
  }
  for (auto& item : remote_spare_) {
    if (item.job.run) {
      item.job.run(item.job.arg);
    } else {
      schedule({&Handle::Entry::run, make_entry(std::move(item.fn)).get()});
    }
  }
  remote_spare_.clear();
}

Handle EventLoop::call_soon(std::function<void()> fn) {
  check_open();
  auto entry = make_entry(std::move(fn));
  schedule({&Handle::Entry::run, entry.get()});
  return Handle(std::move(entry));
}

Handle EventLoop::call_later(Clock::duration delay, std::function<void()> fn) {
  return call_at(Clock::now() + delay, std::move(fn));
}

Handle EventLoop::call_at(Clock::time_point when, std::function<void()> fn) {
  check_open();
  auto entry = make_entry(std::move(fn));
  entry->when = when;
  entry->fire = &Handle::Entry::fire_timer;
  try {
    timers_.push(entry.get());
  } catch (...) {
    entry->keep_alive.reset();
    throw;
  }
  return Handle(std::move(entry));
}

void EventLoop::stop() noexcept { stopping_ = true; }

void EventLoop::run_forever() {
  check_open();
  if (running_) throw RuntimeError("run_forever: this loop is already running");
  if (tls_current_loop != nullptr)
    throw RuntimeError("run_forever: another event loop is running on this thread");
  CurrentLoopScope scope(this);
  running_ = true;
  try {
    while (!stopping_) run_once();
  } catch (...) {
    running_ = false;
    stopping_ = false;
    throw;
  }
  running_ = false;
  stopping_ = false;
}

void EventLoop::run_once() {
  drain_remote();
  std::chrono::nanoseconds timeout{-1};
  if (!ready_.empty() || stopping_) {
    timeout = std::chrono::nanoseconds::zero();
  } else if (!timers_.empty()) {
    const auto left = timers_.top()->when - Clock::now();
    timeout = left > Clock::duration::zero() ? left : Clock::duration::zero();
  }
  // With work ready and no descriptor of the user's to look at, polling would be a
  // wasted system call per iteration: posts are seen through remote_pending_. The
  // loop's own descriptors (its wake-up eventfd, the signal eventfd) are still
  // polled every kMaxSkippedPolls iterations, and at least every kMaxPollGap when
  // signals are watched, so that Ctrl-C reaches a loop that is never idle.
  bool must_poll = timeout != std::chrono::nanoseconds::zero() ||
                   reactor_->watched() > internal_descriptors_;
  if (!must_poll) {
    must_poll = ++skipped_polls_ >= kMaxSkippedPolls ||
                (internal_descriptors_ > 1 && Clock::now() - last_poll_ >= kMaxPollGap);
  }
  if (must_poll) {
    skipped_polls_ = 0;
    ++reactor_polls_;
    reactor_->poll(timeout);
    if (internal_descriptors_ > 1) last_poll_ = Clock::now();
  }
  drain_remote();

  if (!timers_.empty()) {
    const auto now = Clock::now();
    while (!timers_.empty() && timers_.top()->when <= now) {
      detail::TimerNode* node = timers_.pop();
      if (node->wakes_task()) {
        node->task->wake();
      } else {
        node->fire(node);
      }
    }
  }

  // Only what is ready now runs in this iteration: I/O is checked between batches.
  for (std::size_t n = ready_.size(); n > 0; --n) {
    detail::ReadyJob job = ready_.pop();
    if (debug_) {
      const auto start = Clock::now();
      job.run(job.arg);
      const auto took = Clock::now() - start;
      if (took > slow_callback_) {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
        call_exception_handler({"slow callback: a step of a task or a callback took " +
                                    std::to_string(ms) + " ms and blocked the event loop",
                                nullptr});
      }
    } else {
      job.run(job.arg);
    }
  }
}

void EventLoop::link_task(detail::TaskCoreBase& task) noexcept { live_.push_front(task); }

void EventLoop::unlink_task(detail::TaskCoreBase& task) noexcept { live_.remove(task); }

void EventLoop::cancel_all_tasks() {
  if (closed_ || live_.empty()) return;
  {
    CurrentLoopScope scope(this);
    // Retain every task first: cancelling one may end and free another.
    std::vector<detail::TaskCoreBase*> tasks;
    for (auto* t = live_.front(); t; t = decltype(live_)::next(*t)) {
      t->retain();
      tasks.push_back(t);
    }
    for (auto* t : tasks) t->request_cancel();
    for (auto* t : tasks) t->drop();
  }
  CurrentLoopScope scope(this);
  running_ = true;
  try {
    while (!live_.empty()) run_once();
    // One more pass: the done callbacks the last endings queued (each cancelled
    // task's callbacks run once, seeing it cancelled, as with Python's gather).
    // stopping_ keeps it from sleeping when nothing is ready.
    stopping_ = true;
    run_once();
  } catch (...) {
    running_ = false;
    stopping_ = false;
    throw;
  }
  running_ = false;
  stopping_ = false;
}

void EventLoop::close() {
  if (running_) throw RuntimeError("close: the event loop is running; stop it first");
  if (closed_) return;
  {
    CurrentLoopScope scope(this);
    // Pending tasks are destroyed: their frames (and what they own) are freed, their
    // futures end cancelled.
    while (!live_.empty()) {
      detail::TaskCoreBase* t = live_.front();
      if (debug_) {
        call_exception_handler({"a task was destroyed while still pending", nullptr});
      }
      t->abandon();
    }
    drain_remote();
    while (!ready_.empty()) {
      detail::ReadyJob job = ready_.pop();
      if (job.run == &Handle::Entry::run) {
        static_cast<Handle::Entry*>(job.arg)->cancelled = true;
        job.run(job.arg);
      } else {
        job.run(job.arg);  // a stale task step: it only lets go of its task
      }
    }
    while (!timers_.empty()) {
      detail::TimerNode* node = timers_.pop();
      if (!node->wakes_task() && node->fire == &Handle::Entry::fire_timer) {
        static_cast<Handle::Entry*>(node)->keep_alive.reset();
      }
    }
    // Newest first: a module made later may rely on one made before it.
    while (!extensions_.empty()) {
      auto ext = std::move(extensions_.back().second);
      extensions_.pop_back();
      ext.reset();
    }
  }
  reactor_->remove(wake_fd_);
  ::close(wake_fd_);
  wake_fd_ = -1;
  closed_ = true;
}

void EventLoop::set_exception_handler(ExceptionHandler handler) { handler_ = std::move(handler); }

void EventLoop::call_exception_handler(const ExceptionContext& context) noexcept {
  if (!handler_) {
    default_exception_handler(context);
    return;
  }
  try {
    handler_(*this, context);
  } catch (...) {
    ExceptionContext failure{"the exception handler itself threw", std::current_exception()};
    default_exception_handler(failure);
    default_exception_handler(context);
  }
}

void EventLoop::default_exception_handler(const ExceptionContext& context) noexcept {
  std::string line = "lanes: " + context.message;
  if (context.exception) line += ": " + describe_exception(context.exception);
  line += '\n';
  std::fputs(line.c_str(), stderr);
}

}  // namespace lanes
