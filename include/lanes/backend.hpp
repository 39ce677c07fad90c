// lanes/backend.hpp — which operating-system interface an event loop waits with.
//
//   lanes::EventLoop loop(lanes::Backend::epoll);
//   lanes::run(main(), {.backend = lanes::Backend::io_uring});
//   LANES_BACKEND=epoll ./program      # the environment decides `automatic`
//
// `automatic` takes LANES_BACKEND if set, else io_uring when the kernel allows a
// ring (Linux 5.x+, io_uring not disabled, memory lock limit large enough), else
// epoll. A ring that cannot be created never fails a program: the loop falls back
// to epoll and says so in one line on stderr when the choice was explicit or
// LANES_DEBUG is set. (Python has no such choice; asyncio always uses epoll here.)
#pragma once

#include <string_view>

namespace lanes {

enum class Backend {
  automatic,
  epoll,
  io_uring,
};

/// "automatic", "epoll" or "io_uring".
constexpr std::string_view backend_name(Backend b) noexcept {
  switch (b) {
    case Backend::epoll:
      return "epoll";
    case Backend::io_uring:
      return "io_uring";
    case Backend::automatic:
      break;
  }
  return "automatic";
}

}  // namespace lanes
