// Unix signals delivered to event loops (signal.hpp), and lanes::run's SIGINT.
//
// The process-wide part is a table indexed by signal number: which eventfd to poke
// and whether the signal is pending. The C-level handler only touches those
// (lock-free atomics and write(2): async-signal-safe). Each loop with handlers has
// a SignalService (a loop extension) whose eventfd is registered with the reactor;
// when it becomes readable, the service runs the callbacks of the pending signals
// through call_soon.
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <mutex>

#include "lanes/detail/io/io_handle.hpp"
#include "lanes/errors.hpp"
#include "lanes/loop.hpp"
#include "lanes/signal.hpp"

namespace lanes {
namespace detail {
namespace {

constexpr int kMaxSignal = 65;

// Invariant: the eventfd of the loop that handles signal i, or -1; written under
// g_table_mutex, read by the C handler (a relaxed load: the descriptor is valid
// until the handler is uninstalled, which happens before it is reset to -1).
std::atomic<int> g_wake_fd[kMaxSignal];
// Invariant: set by the C handler when signal i arrives, cleared (exchange) by
// the owning loop before it runs the callback: a signal after the exchange is
// seen on the next wake-up.
std::atomic<bool> g_pending[kMaxSignal];
std::mutex g_table_mutex;  // add / remove, across loops
// Invariant: true while lanes::run's SIGINT handler is installed and has not fired.
// The C handler clears it and puts SIGINT back to its default at once, so that a
// second Ctrl-C kills the process even if the loop is stuck and never runs the
// callback.
std::atomic<bool> g_sigint_oneshot{false};

struct TableInit {
  TableInit() {
    for (auto& fd : g_wake_fd) fd.store(-1, std::memory_order_relaxed);
  }
} g_table_init;

extern "C" void lanes_on_signal(int sig) {
  const int saved = errno;
  if (sig == SIGINT && g_sigint_oneshot.exchange(false, std::memory_order_acq_rel)) {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGINT, &dfl, nullptr);  // async-signal-safe
  }
  if (sig > 0 && sig < kMaxSignal) {
    g_pending[sig].store(true, std::memory_order_release);
    const int fd = g_wake_fd[sig].load(std::memory_order_acquire);
    if (fd >= 0) {
      const std::uint64_t one = 1;
      [[maybe_unused]] auto n = ::write(fd, &one, sizeof one);
    }
  }
  errno = saved;
}

const char service_key = 0;

class SignalService final : public LoopExtension {
 public:
  explicit SignalService(EventLoop& loop) : loop_(&loop) {
    const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) throw_os_error(errno, "eventfd() for signal handlers");
    watch_.service = this;
    watch_.ready = &SignalService::ready_thunk;
    io_.open(loop, fd);
    io_.read_waiter = &watch_;
    loop.count_internal_descriptor(+1);
  }
  ~SignalService() override {
    while (!handlers_.empty()) remove(handlers_.begin()->first);
    loop_->count_internal_descriptor(-1);
  }

  void add(int sig, std::function<void()> callback) {
    std::lock_guard<std::mutex> guard(g_table_mutex);
    if (sig == SIGINT) g_sigint_oneshot.store(false, std::memory_order_release);  // the user's now
    const int current = g_wake_fd[sig].load(std::memory_order_relaxed);
    if (current >= 0 && current != io_.fd())
      throw RuntimeError("add_signal_handler: signal " + std::to_string(sig) +
                         " is already handled by another event loop; remove it there first");
    auto it = handlers_.find(sig);
    if (it == handlers_.end()) {
      struct sigaction ours {}, previous {};
      ours.sa_handler = &lanes_on_signal;
      sigemptyset(&ours.sa_mask);
      ours.sa_flags = SA_RESTART;
      g_pending[sig].store(false, std::memory_order_relaxed);
      g_wake_fd[sig].store(io_.fd(), std::memory_order_release);
      if (::sigaction(sig, &ours, &previous) != 0) {
        const int err = errno;
        g_wake_fd[sig].store(-1, std::memory_order_release);
        throw_os_error(err, "sigaction(" + std::to_string(sig) + ")");
      }
      handlers_.emplace(sig, Entry{std::move(callback), previous});
    } else {
      it->second.callback = std::move(callback);
    }
  }

  bool remove(int sig) noexcept {
    std::lock_guard<std::mutex> guard(g_table_mutex);
    auto it = handlers_.find(sig);
    if (it == handlers_.end()) return false;
    if (sig == SIGINT) g_sigint_oneshot.store(false, std::memory_order_release);
    ::sigaction(sig, &it->second.previous, nullptr);  // first: no more handler calls
    g_wake_fd[sig].store(-1, std::memory_order_release);
    handlers_.erase(it);
    return true;
  }

 private:
  struct Entry {
    std::function<void()> callback;
    struct sigaction previous;
  };
  struct Watch : IoWaiter {
    SignalService* service;
  };
  static void ready_thunk(IoWaiter* w) noexcept { static_cast<Watch*>(w)->service->deliver(); }

  void deliver() noexcept {
    std::uint64_t count;
    while (::read(io_.fd(), &count, sizeof count) > 0) {
    }
    io_.read_waiter = &watch_;
    for (auto& [sig, entry] : handlers_) {
      if (!g_pending[sig].exchange(false, std::memory_order_acq_rel)) continue;
      try {
        // As an ordinary callback: its errors go to the exception handler, and it
        // may add or remove handlers (this map) safely.
        loop_->call_soon([cb = entry.callback] { cb(); });
      } catch (...) {
        loop_->call_exception_handler({"could not schedule a signal handler", std::current_exception()});
      }
    }
  }

  EventLoop* loop_;
  IoHandle io_;
  Watch watch_;
  std::map<int, Entry> handlers_;
};

SignalService* find_service(const EventLoop& loop) noexcept {
  return static_cast<SignalService*>(loop.extension(&service_key));
}

void check_signal(int sig) {
  if (sig <= 0 || sig >= kMaxSignal || sig >= NSIG)
    throw ValueError("add_signal_handler: " + std::to_string(sig) + " is not a valid signal number");
  if (sig == SIGKILL || sig == SIGSTOP)
    throw ValueError("add_signal_handler: SIGKILL and SIGSTOP cannot be caught");
}

}  // namespace

// ---- lanes::run's SIGINT -------------------------------------------------------

namespace {

std::terminate_handler g_previous_terminate = nullptr;

/// Python's ending for an uncaught KeyboardInterrupt: one line on stderr, then the
/// process ends by SIGINT (the shell reports status 130), so that a calling script
/// sees an interrupt and not a crash. Anything else goes to the previous handler.
[[noreturn]] void terminate_on_keyboard_interrupt() noexcept {
  bool interrupt = false;
  if (std::exception_ptr error = std::current_exception()) {
    try {
      std::rethrow_exception(error);
    } catch (const KeyboardInterrupt&) {
      interrupt = true;
    } catch (...) {
    }
  }
  if (interrupt) {
    std::fputs("KeyboardInterrupt: lanes::run was interrupted by SIGINT (Ctrl-C)\n", stderr);
    std::fflush(stderr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    ::sigaction(SIGINT, &dfl, nullptr);
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, SIGINT);
    ::pthread_sigmask(SIG_UNBLOCK, &only, nullptr);
    ::raise(SIGINT);
    std::_Exit(130);  // SIGINT was blocked or ignored anyway: the same status
  }
  if (g_previous_terminate) g_previous_terminate();
  std::abort();
}

}  // namespace

void throw_keyboard_interrupt() {
  static std::once_flag once;
  std::call_once(once, [] { g_previous_terminate = std::set_terminate(&terminate_on_keyboard_interrupt); });
  throw KeyboardInterrupt();
}

SigintCancel::SigintCancel(EventLoop& loop, FutureStateBase& main) noexcept : loop_(&loop), main_(&main) {
  struct sigaction current {};
  if (::sigaction(SIGINT, nullptr, &current) != 0 || current.sa_handler != SIG_DFL) return;
  if (g_wake_fd[SIGINT].load(std::memory_order_relaxed) >= 0) return;  // another loop has it
  try {
    loop.add_signal_handler(SIGINT, [this] {
      if (interrupted_) return;
      interrupted_ = true;
      // From now on a second Ctrl-C kills the process, even if main ignores this.
      loop_->remove_signal_handler(SIGINT);
      installed_ = false;
      main_->cancel();
    });
    installed_ = true;
    g_sigint_oneshot.store(true, std::memory_order_release);
  } catch (...) {
    installed_ = false;  // no Ctrl-C cancellation: SIGINT keeps its default
  }
}

SigintCancel::~SigintCancel() {
  // After close() the service (and the handler) is gone already.
  if (installed_ && find_service(*loop_) != nullptr) loop_->remove_signal_handler(SIGINT);
}

}  // namespace detail

void EventLoop::add_signal_handler(int sig, std::function<void()> callback) {
  detail::check_signal(sig);
  check_open();
  if (!callback) throw ValueError("add_signal_handler: the callback is empty");
  auto* service = detail::find_service(*this);
  if (!service) {
    service = static_cast<detail::SignalService*>(
        &set_extension(&detail::service_key, std::make_unique<detail::SignalService>(*this)));
  }
  service->add(sig, std::move(callback));
}

bool EventLoop::remove_signal_handler(int sig) noexcept {
  if (sig <= 0 || sig >= detail::kMaxSignal) return false;
  auto* service = detail::find_service(*this);
  return service != nullptr && service->remove(sig);
}

}  // namespace lanes
