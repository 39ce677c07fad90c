// lanes/lanes.hpp — everything lanes offers, in one include.
#pragma once

#include "lanes/codec.hpp"
#include "lanes/combinators.hpp"
#include "lanes/errors.hpp"
#include "lanes/future.hpp"
#include "lanes/loop.hpp"
#include "lanes/process_pool.hpp"
#include "lanes/queue.hpp"
#include "lanes/sync.hpp"
#include "lanes/task.hpp"
#include "lanes/task_group.hpp"
#include "lanes/thread_pool.hpp"
#include "lanes/time.hpp"
#include "lanes/to_thread.hpp"
