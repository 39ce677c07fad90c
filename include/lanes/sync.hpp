// lanes/sync.hpp — asyncio's synchronization primitives for tasks: Lock, Event,
// Condition, Semaphore, BoundedSemaphore, Barrier.
//
// As in asyncio they belong to one event loop: tasks of that loop await them and
// only that loop's thread may touch them (they take no lock, so they cost a few
// instructions). Waiters are served in FIFO order. Cancellation is Python's: a
// task cancelled while it waits throws CancelledError from the co_await, and a
// wake-up it had already received (a lock handed to it, a notification, a
// semaphore slot) passes on to the next waiter, so cancelling never strands the
// others. To coordinate plain threads, or threads with tasks, use lanes::Queue.
//
//   lanes::Lock lock;
//   {
//     auto guard = co_await lock.scoped();   // async with lock:
//     ...
//   }
#pragma once

#include "lanes/sync/barrier.hpp"
#include "lanes/sync/event.hpp"
#include "lanes/sync/lock.hpp"
#include "lanes/sync/semaphore.hpp"
