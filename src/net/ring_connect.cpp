// Connecting a socket through the loop's ring (io_uring): detail/net/socket.hpp.
//
// The operation and the address it points at live in a heap FileOpState (the
// generic "one IoOp and its bytes" record of detail/io/file_op.hpp), never in the
// task's frame: if the task is cancelled (asyncio.wait_for's timeout, a
// TaskGroup...), FileOpAwaiter forwards the cancellation as IORING_OP_ASYNC_CANCEL
// and the task resumes only with the operation's own completion, so the kernel
// never reads an address that is gone. If the frame itself is destroyed with the
// connect in flight (its loop closing), the completion frees the record.
#include <cerrno>
#include <memory>

#include "lanes/detail/io/file_op.hpp"
#include "lanes/detail/net/socket.hpp"
#include "lanes/errors.hpp"

namespace lanes::detail {

Task<void> ring_connect(Reactor& reactor, int fd, const ResolvedAddress& addr) {
  auto state = std::make_unique<FileOpState>();
  state->net = IoOp::Net::connect;
  state->fd = fd;
  state->bytes.assign(reinterpret_cast<const char*>(addr.get()), addr.length);
  state->buffer = state->bytes.data();
  state->length = addr.length;
  auto done = co_await FileOpAwaiter(reactor, std::move(state));
  const int result = done->result;
  // A connect that completed before the cancel reached it still leaves the task
  // cancelled: asyncio's wait_for raises TimeoutError either way.
  if (done->cancelled) throw CancelledError();
  if (result < 0) throw_os_error(-result, "connecting to " + addr.to_address().to_string());
}

}  // namespace lanes::detail
