// lanes/detail/core/intrusive_list.hpp — the one intrusive doubly linked list of
// lanes: waiters of the sync primitives and queues, a TaskGroup's children, a
// loop's live tasks.
//
// A node embeds its links (ListLinks<T>, named by a member pointer), so linking
// allocates nothing and a node can unlink itself in O(1) from wherever it is. The
// list does no locking: its owner guards it (one loop thread, or a mutex).
#pragma once

#include <cstddef>
#include <cstdint>

namespace lanes::detail {

/// The links a node embeds, one per list it can be on. Two words and no flag (they
/// sit in every task state): a node is linked exactly when `prev` is not null, the
/// first node's `prev` being IntrusiveList's head mark.
template <class T>
struct ListLinks {
  T* prev = nullptr;
  T* next = nullptr;
};

/// A FIFO of T linked through the member `Links` of each node.
template <class T, ListLinks<T> T::*Links>
class IntrusiveList {
 public:
  IntrusiveList() = default;
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;

  bool empty() const noexcept { return head_ == nullptr; }
  std::size_t size() const noexcept { return size_; }
  T* front() const noexcept { return head_; }
  /// The node after `node`, or null.
  static T* next(const T& node) noexcept { return (node.*Links).next; }
  static bool linked(const T& node) noexcept { return (node.*Links).prev != nullptr; }

  void push_back(T& node) noexcept {
    ListLinks<T>& l = node.*Links;
    l.prev = tail_ ? tail_ : head_mark();
    l.next = nullptr;
    if (tail_) {
      (tail_->*Links).next = &node;
    } else {
      head_ = &node;
    }
    tail_ = &node;
    ++size_;
  }

  void push_front(T& node) noexcept {
    ListLinks<T>& l = node.*Links;
    l.prev = head_mark();
    l.next = head_;
    if (head_) {
      (head_->*Links).prev = &node;
    } else {
      tail_ = &node;
    }
    head_ = &node;
    ++size_;
  }

  /// Unlinks `node` if it is on this list; harmless otherwise.
  void remove(T& node) noexcept {
    ListLinks<T>& l = node.*Links;
    if (l.prev == nullptr) return;
    const bool first = l.prev == head_mark();
    if (first) {
      head_ = l.next;
    } else {
      (l.prev->*Links).next = l.next;
    }
    if (l.next) {
      (l.next->*Links).prev = l.prev;  // the head mark passes on to a new first node
    } else {
      tail_ = first ? nullptr : l.prev;
    }
    l.prev = l.next = nullptr;
    --size_;
  }

  /// Unlinks and returns the first node, or null if the list is empty.
  T* pop_front() noexcept {
    T* node = head_;
    if (node) remove(*node);
    return node;
  }

 private:
  // The first node's `prev`: not null, so that it reads as linked, and never the
  // address of a node (no T lives at the address alignof(T)).
  static T* head_mark() noexcept { return reinterpret_cast<T*>(std::uintptr_t{alignof(T)}); }

  T* head_ = nullptr;
  T* tail_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace lanes::detail
