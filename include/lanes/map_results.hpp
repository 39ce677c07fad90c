// lanes/map_results.hpp — what Executor::map returns: the results, in input order.
//
// map() submits every call at once (in chunks of `chunksize` inputs per job) and
// hands back this range. Iterating it waits for each result in turn, in the order
// of the inputs, whatever order the jobs finish in (Python's Executor.map). A call
// that threw rethrows when its result is reached (with a chunk size, the thread pool
// fails that item alone, the process pool its whole chunk: see MapOutputs); a
// deadline given to map() is shared by the whole iteration. Destroying the range
// early cancels the jobs that have not started (as closing Python's map generator
// does).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <exception>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "lanes/errors.hpp"
#include "lanes/future.hpp"

namespace lanes {

namespace detail {
/// Where the jobs of one map() write their results: slot i for input i. Each slot
/// is written by one job before its future completes and read only after.
///
/// Two failure rules. Whole chunk (per_item false, the process pool's, Python's
/// ProcessPoolExecutor): a call that fails fails its chunk, and no result of that
/// chunk is delivered. Per item (per_item true, the thread pool's; Python's
/// ThreadPoolExecutor ignores the chunk size): errors[i] holds input i's error,
/// and the results before and after it are delivered as if each were its own job.
template <class T>
struct MapOutputs {
  std::vector<std::optional<T>> outputs;
  std::vector<std::exception_ptr> errors;  // per_item only: sized like outputs
  bool per_item = false;
};
}  // namespace detail

/// The results of Executor::map, an input range of T (Unit for a void callable).
template <class T>
class MapResults {
 public:
  using value_type = T;
  using Clock = std::chrono::steady_clock;

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using reference = T&;
    using pointer = T*;

    iterator() = default;
    /// Waits for this result. Rethrows the error of its call; throws TimeoutError
    /// if map()'s timeout passes first, CancelledError if the job was cancelled.
    reference operator*() const { return owner_->at(index_); }
    pointer operator->() const { return &owner_->at(index_); }
    iterator& operator++() {
      ++index_;
      return *this;
    }
    iterator operator++(int) {
      iterator before = *this;
      ++index_;
      return before;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept {
      return a.index_ == b.index_;
    }

   private:
    friend class MapResults;
    iterator(MapResults* owner, std::size_t index) noexcept : owner_(owner), index_(index) {}
    MapResults* owner_ = nullptr;
    std::size_t index_ = 0;
  };

  /// Internal: made by Executor::map.
  MapResults(std::shared_ptr<detail::MapOutputs<T>> outputs, std::vector<Future<void>> chunks,
             std::size_t chunksize, std::optional<Clock::time_point> deadline)
      : outputs_(std::move(outputs)), chunks_(std::move(chunks)), chunksize_(chunksize),
        deadline_(deadline) {}
  MapResults(MapResults&& other) noexcept = default;
  MapResults& operator=(MapResults&& other) noexcept {
    if (this != &other) {
      cancel_pending();
      outputs_ = std::move(other.outputs_);
      chunks_ = std::move(other.chunks_);
      chunksize_ = other.chunksize_;
      deadline_ = other.deadline_;
    }
    return *this;
  }
  MapResults(const MapResults&) = delete;
  MapResults& operator=(const MapResults&) = delete;
  ~MapResults() { cancel_pending(); }

  iterator begin() noexcept { return iterator(this, 0); }
  iterator end() noexcept { return iterator(this, size()); }
  /// How many results (one per input).
  std::size_t size() const noexcept { return outputs_ ? outputs_->outputs.size() : 0; }

  /// Waits for result i (0 ≤ i < size()). Throws as iterator::operator* does;
  /// throws std::out_of_range for a bad index.
  T& at(std::size_t i) {
    if (i >= size()) throw std::out_of_range("MapResults::at: index past the last result");
    Future<void>& chunk = chunks_[i / chunksize_];
    std::exception_ptr chunk_error;
    try {
      wait_for(chunk);
    } catch (...) {
      if (!chunk.done()) throw;  // timed out, or refused to block: nothing to deliver
      chunk_error = std::current_exception();
    }
    auto& slot = outputs_->outputs[i];
    if (outputs_->per_item) {
      if (slot) return *slot;
      if (outputs_->errors[i]) std::rethrow_exception(outputs_->errors[i]);
    }
    if (chunk_error) std::rethrow_exception(chunk_error);
    if (!slot)
      throw InvalidStateError("Executor::map: this call produced no result (it was stopped early)");
    return *slot;
  }

 private:
  /// Returns once `chunk` is done; rethrows its error. Throws TimeoutError if map()'s
  /// deadline passes first.
  void wait_for(Future<void>& chunk) {
    if (!deadline_ || chunk.done()) {
      chunk.result();
      return;
    }
    const auto left = *deadline_ - Clock::now();
    if (left <= Clock::duration::zero()) throw timed_out();
    try {
      chunk.result(left);
    } catch (const TimeoutError&) {
      if (!chunk.done()) throw timed_out();
      throw;  // the call's own TimeoutError
    }
  }
  static TimeoutError timed_out() {
    return TimeoutError("Executor::map: the results were not all ready within the timeout");
  }

  void cancel_pending() noexcept {
    // Jobs already done ignore this; running ones keep running (or get a stop
    // request if they take a std::stop_token).
    for (auto& chunk : chunks_) {
      try {
        chunk.cancel();
      } catch (...) {
      }
    }
  }

  std::shared_ptr<detail::MapOutputs<T>> outputs_;
  std::vector<Future<void>> chunks_;
  std::size_t chunksize_ = 1;
  std::optional<Clock::time_point> deadline_;
};

}  // namespace lanes
