// TaskGroup: tracking children, aborting on the first failure, joining.
#include "lanes/task_group.hpp"

#include "lanes/detail/core/task_state.hpp"

namespace lanes {

// The leaf join() awaits: woken by the last child to end. Loop thread only.
class TaskGroup::JoinAwaiter : detail::CancelHook {
 public:
  explicit JoinAwaiter(TaskGroup& group) noexcept : group_(group) {}
  JoinAwaiter(const JoinAwaiter&) = delete;
  JoinAwaiter& operator=(const JoinAwaiter&) = delete;
  ~JoinAwaiter() {
    if (group_.joiner_ == this) group_.joiner_ = nullptr;
  }

  bool await_ready() const noexcept { return group_.live_ == 0; }
  void await_suspend(std::coroutine_handle<> h) {
    task_ = &detail::require_current_task();
    on_cancel = &JoinAwaiter::cancel_thunk;
    group_.joiner_ = this;
    task_->suspend(h, this);
  }
  void await_resume() {
    if (task_) task_->throw_if_cancelled();
  }

  void wake() noexcept {
    group_.joiner_ = nullptr;
    task_->wake();
  }

 private:
  static bool cancel_thunk(detail::CancelHook* self) noexcept {
    auto* a = static_cast<JoinAwaiter*>(self);
    a->group_.joiner_ = nullptr;
    return false;  // join() sees the CancelledError and decides (Python's __aexit__)
  }

  TaskGroup& group_;
  detail::TaskCoreBase* task_ = nullptr;
};

TaskGroup::TaskGroup() : parent_(&detail::require_current_task()) {}

TaskGroup::~TaskGroup() {
  while (Child* c = children_.pop_front()) {
    c->state->remove_callback(c);
    if (!c->state->done()) c->state->cancel();
    c->state->release();
    delete c;
  }
}

void TaskGroup::check_can_spawn() const {
  if (finished_ || (exiting_ && live_ == 0))
    throw RuntimeError("TaskGroup::create_task: the group is finished; make a new TaskGroup");
  if (aborting_)
    throw RuntimeError(
        "TaskGroup::create_task: the group is shutting down (a child failed or the group was "
        "cancelled); no new child can start");
}

void TaskGroup::adopt(detail::FutureStateBase* state) {
  auto* c = new Child{};
  c->invoke = &TaskGroup::on_child_done;
  c->group = this;
  c->state = state;
  state->add_ref();
  children_.push_front(*c);
  ++live_;
  if (!state->add_callback(c)) on_child_done(c, *state);
}

void TaskGroup::abort() noexcept {
  aborting_ = true;
  for (Child* c = children_.front(); c;) {
    Child* next = decltype(children_)::next(*c);  // a cancel never ends a task synchronously, but be safe
    if (!c->state->done()) c->state->cancel();
    c = next;
  }
}

void TaskGroup::on_child_done(detail::DoneCallback* self, detail::FutureStateBase& state) noexcept {
  auto* c = static_cast<Child*>(self);
  TaskGroup& g = *c->group;
  g.children_.remove(*c);
  --g.live_;
  delete c;

  if (state.has_error()) {
    try {
      g.errors_.push_back(state.take_error());
    } catch (...) {
      // Out of memory recording it: the error stays in the child's future.
    }
    if (!g.aborting_) {
      g.abort();
      // Interrupt the body too (Python does), unless it is already waiting in join.
      if (!g.exiting_ && !g.parent_cancel_requested_) {
        g.parent_cancel_requested_ = true;
        g.parent_->request_cancel();
      }
    }
  }
  state.release();
  if (g.live_ == 0 && g.joiner_) g.joiner_->wake();
}

Task<void> TaskGroup::join(std::exception_ptr body_error) {
  if (exiting_) throw RuntimeError("TaskGroup::join: the group was already joined");
  exiting_ = true;
  std::exception_ptr cancel_error;
  if (body_error) {
    if (detail::is_cancelled_error(body_error)) cancel_error = body_error;
    if (!aborting_) abort();
  }
  while (live_ > 0) {
    try {
      co_await JoinAwaiter(*this);
    } catch (const CancelledError&) {
      // Cancelled from outside while waiting: cancel the children, keep waiting.
      if (!aborting_) {
        cancel_error = std::current_exception();
        abort();
      }
    }
  }
  finished_ = true;
  if (parent_cancel_requested_) {
    parent_cancel_requested_ = false;
    // Our own cancellation of the parent is not a reason to propagate one.
    if (parent_->uncancel() == 0) cancel_error = nullptr;
  }
  if (cancel_error && errors_.empty()) std::rethrow_exception(cancel_error);
  if (body_error && !detail::is_cancelled_error(body_error)) errors_.push_back(body_error);
  if (!errors_.empty()) {
    std::vector<std::exception_ptr> errors = std::move(errors_);
    errors_.clear();
    throw ExceptionGroup("unhandled errors in a TaskGroup", std::move(errors));
  }
}

}  // namespace lanes
