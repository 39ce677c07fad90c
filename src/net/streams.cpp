// StreamReader's reads and StreamWriter's drain (lanes/streams.hpp).
//
// Each read is a coroutine over the shared transport (held by shared_ptr, so a
// read in progress keeps it alive). It looks at the buffer, and when that is not
// enough, awaits one fill — the only suspension point — then looks again. Bytes are
// taken out of the buffer only once the answer is complete, so a read cancelled
// while it waits loses nothing.
#include "lanes/streams.hpp"

#include <algorithm>

#include "lanes/errors.hpp"

namespace lanes {
namespace detail {
namespace {

Task<std::string> read_upto(std::shared_ptr<StreamCore> core, std::ptrdiff_t n) {
  if (n == 0) co_return std::string();
  if (n < 0) {
    // Everything until the end.
    for (;;) {
      core->rethrow_read_error();
      if (core->eof()) co_return core->take(core->buffered());
      co_await FillAwaiter(*core);
    }
  }
  for (;;) {
    core->rethrow_read_error();
    if (core->buffered() > 0 || core->eof()) break;
    co_await FillAwaiter(*core);
  }
  co_return core->take(std::min(core->buffered(), static_cast<std::size_t>(n)));
}

Task<std::string> read_until(std::shared_ptr<StreamCore> core, std::string separator) {
  const std::size_t seplen = separator.size();
  if (seplen == 0) throw ValueError("readuntil: the separator must not be empty");
  std::size_t offset = 0;  // where the search resumes: nothing before it can match
  for (;;) {
    core->rethrow_read_error();
    const std::string_view data = core->rview();
    if (data.size() >= seplen) {
      const std::size_t pos = data.find(separator, offset);
      if (pos != std::string_view::npos) {
        if (pos + seplen > core->limit())
          throw LimitOverrunError(
              "readuntil: the separator was found, but the chunk before it is longer than the "
              "reader's limit (" + std::to_string(core->limit()) +
                  " bytes): raise the limit or read in pieces with read(n)",
              pos);
        co_return core->take(pos + seplen);
      }
      offset = data.size() + 1 - seplen;
      if (offset > core->limit())
        throw LimitOverrunError(
            "readuntil: no separator within the reader's limit (" +
                std::to_string(core->limit()) + " bytes): raise the limit or read in pieces",
            offset);
    }
    if (core->eof()) {
      std::string partial = core->take(core->buffered());
      throw IncompleteReadError(std::move(partial), 0, false);
    }
    co_await FillAwaiter(*core);
  }
}

Task<std::string> read_line(std::shared_ptr<StreamCore> core) {
  std::string line;
  try {
    line = co_await read_until(core, "\n");
  } catch (const IncompleteReadError& e) {
    line = e.partial();
  } catch (const LimitOverrunError& e) {
    // Python's readline drops the over-long line (up to its separator, if seen).
    const std::string_view data = core->rview();
    if (data.substr(e.consumed()).starts_with('\n')) {
      core->consume(e.consumed() + 1);
    } else {
      core->consume(data.size());
    }
    throw;
  }
  co_return line;
}

Task<std::string> read_exactly(std::shared_ptr<StreamCore> core, std::size_t n) {
  for (;;) {
    core->rethrow_read_error();
    if (core->buffered() >= n) co_return core->take(n);
    if (core->eof()) {
      std::string partial = core->take(core->buffered());
      throw IncompleteReadError(std::move(partial), n);
    }
    co_await FillAwaiter(*core);
  }
}

}  // namespace

void DrainAwaiter::await_resume() {
  if (resumed()) task->throw_if_cancelled();
  if (const auto& error = core_->write_error()) std::rethrow_exception(error);
  if (core_->closed())
    throw ConnectionResetError(0, "drain: the connection is closed (connection lost)");
}

}  // namespace detail

Task<std::string> StreamReader::read(std::ptrdiff_t n) const {
  return detail::read_upto(ref_.shared(), n);
}

Task<std::string> StreamReader::readline() const { return detail::read_line(ref_.shared()); }

Task<std::string> StreamReader::readuntil(std::string separator) const {
  return detail::read_until(ref_.shared(), std::move(separator));
}

Task<std::string> StreamReader::readexactly(std::size_t n) const {
  return detail::read_exactly(ref_.shared(), n);
}

}  // namespace lanes
