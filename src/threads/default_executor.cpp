// The loop's default executor (declared in lanes/loop.hpp): what to_thread and
// run_in_executor(nullptr, ...) use, a ThreadPoolExecutor of the default size.
#include <memory>

#include "lanes/loop.hpp"
#include "lanes/thread_pool.hpp"

namespace lanes::detail {

namespace {
/// Owned by the loop as an extension, so close() destroys it (waiting for its jobs)
/// after the tasks are gone and before the loop's descriptors are.
struct DefaultExecutor final : LoopExtension {
  ThreadPoolExecutor pool;
  explicit DefaultExecutor(std::size_t workers)
      : pool(ThreadPoolOptions{workers, {}, "lanes-default"}) {}
};
const char kDefaultExecutorKey = 0;
}  // namespace

ThreadPoolExecutor& default_executor(EventLoop& loop) {
  if (auto* ext = loop.extension(&kDefaultExecutorKey)) {
    return static_cast<DefaultExecutor*>(ext)->pool;
  }
  // asyncio's default, min(32, cores + 4): these threads mostly wait on I/O.
  auto ext = std::make_unique<DefaultExecutor>(ThreadPoolExecutor::default_workers());
  return static_cast<DefaultExecutor&>(loop.set_extension(&kDefaultExecutorKey, std::move(ext)))
      .pool;
}

}  // namespace lanes::detail
