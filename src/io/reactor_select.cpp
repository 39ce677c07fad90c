// Choosing a backend (detail/io/reactor.hpp, lanes/backend.hpp).
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "lanes/detail/io/reactor.hpp"
#include "lanes/errors.hpp"

namespace lanes::detail {
namespace {

Backend from_environment() {
  const char* v = std::getenv("LANES_BACKEND");
  if (v == nullptr || *v == '\0' || std::strcmp(v, "automatic") == 0) return Backend::automatic;
  if (std::strcmp(v, "epoll") == 0) return Backend::epoll;
  if (std::strcmp(v, "io_uring") == 0 || std::strcmp(v, "uring") == 0) return Backend::io_uring;
  throw ValueError(std::string("LANES_BACKEND='") + v +
                   "' is not a backend: use epoll, io_uring or automatic (or unset it)");
}

bool debug_on() noexcept {
  const char* v = std::getenv("LANES_DEBUG");
  return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
}

}  // namespace

std::unique_ptr<Reactor> make_reactor(Backend choice) {
  if (choice == Backend::automatic) choice = from_environment();
  if (choice == Backend::epoll) return make_epoll_reactor();
  int error = 0;
  if (auto ring = make_uring_reactor(error)) return ring;
  // One line per process: a test suite makes many loops.
  static std::atomic<bool> said{false};  // true once the line was printed
  if ((choice == Backend::io_uring || debug_on()) && !said.exchange(true)) {
    std::fprintf(stderr, "lanes: io_uring unavailable (%s); using epoll\n",
                 error ? std::strerror(error) : "not built with liburing");
  }
  return make_epoll_reactor();
}

std::unique_ptr<Reactor> Reactor::create() { return make_reactor(Backend::automatic); }

void Reactor::submit(IoOp&) {
  throw RuntimeError("this event loop's backend does not complete operations itself (epoll)");
}

void Reactor::cancel(IoOp&) noexcept {}

}  // namespace lanes::detail
