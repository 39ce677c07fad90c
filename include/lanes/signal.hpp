// lanes/signal.hpp — Unix signals delivered to the event loop (asyncio's
// loop.add_signal_handler), and the Ctrl-C behaviour of lanes::run.
//
//   lanes::add_signal_handler(SIGTERM, [&] { server.close(); });
//
// The callback runs on the loop's thread, as an ordinary callback (call_soon), never
// inside the signal handler: it may do anything a callback may. A signal handler
// installed by lanes only marks the signal pending and writes to an eventfd the loop
// watches (async-signal-safe); this works whichever thread the kernel picks to
// deliver the signal to, which signalfd (needing the signal blocked in every
// thread, including threads lanes did not start) would not.
//
// lanes::run: while it runs, the first SIGINT (Ctrl-C) cancels the main task, whose
// clean-up (catch / destructors) runs, and run() then throws KeyboardInterrupt —
// Python 3.11's asyncio.run. A second SIGINT kills the process as usual. This
// only happens when SIGINT had its default disposition and no handler was added
// for it.
#pragma once

#include <functional>

#include "lanes/loop.hpp"

namespace lanes {

/// Runs `callback` on the running loop each time signal `sig` arrives (signals that
/// arrive together may be reported once). Replaces a handler this loop had for
/// `sig`. Throws ValueError for an invalid signal or one that cannot be caught
/// (SIGKILL, SIGSTOP), RuntimeError if no loop runs or another loop handles `sig`.
inline void add_signal_handler(int sig, std::function<void()> callback) {
  get_running_loop().add_signal_handler(sig, std::move(callback));
}

/// Removes the running loop's handler for `sig` and restores the disposition that
/// was there before; false if there was none. Throws RuntimeError if no loop runs.
inline bool remove_signal_handler(int sig) { return get_running_loop().remove_signal_handler(sig); }

}  // namespace lanes
