// lanes::Timeout: the deadline scope behind timeout(), timeout_at() and wait_for().
#include "lanes/timeout.hpp"

#include "lanes/loop.hpp"

namespace lanes {

Timeout::Timeout(Clock::time_point when)
    : task_(&detail::require_current_task()), when_(when),
      cancelling_at_entry_(task_->cancelling()) {
  alarm_.owner = this;
  alarm_.fire = &Timeout::fire_thunk;
  arm();
}

Timeout::~Timeout() {
  if (alarm_.queued()) task_->loop().remove_timer(alarm_);
  if (state_ == State::expiring) {
    // The deadline fired but no CancelledError reached check(): the guarded code
    // finished anyway. Take our request back so the task is not left "cancelling".
    state_ = State::expired;
    task_->uncancel();
  }
}

void Timeout::arm() {
  if (when_ == Clock::time_point::max()) return;
  alarm_.when = when_;
  task_->loop().add_timer(alarm_);
}

void Timeout::reschedule(Clock::time_point when) {
  if (state_ != State::armed)
    throw RuntimeError(
        "Timeout::reschedule: the deadline has already passed and the task was cancelled; "
        "make a new Timeout instead");
  if (alarm_.queued()) task_->loop().remove_timer(alarm_);
  when_ = when;
  arm();
}

void Timeout::fire_thunk(detail::TimerNode* node) noexcept {
  Timeout* self = static_cast<Alarm*>(node)->owner;
  self->state_ = State::expiring;
  self->task_->request_cancel();
}

void Timeout::check() {
  if (state_ != State::expiring) return;
  state_ = State::expired;
  // Only if no other cancellation arrived since the scope began is this one ours.
  if (task_->uncancel() <= cancelling_at_entry_)
    throw TimeoutError("the deadline passed before the awaited operation finished");
}

}  // namespace lanes
