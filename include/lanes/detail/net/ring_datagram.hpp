// lanes/detail/net/ring_datagram.hpp — UDP datagrams through the loop's ring (io_uring).
//
// IORING_OP_RECVMSG / IORING_OP_SENDMSG instead of readiness plus recvfrom /
// sendto (src/net/ring_datagram.cpp).
//
// The DatagramRing (opaque here) holds both operations, their msghdrs, buffers and
// addresses. Its owner (DatagramCore) calls ring_close() before closing the
// descriptor; from then on the record belongs to its operations still in flight
// and the last completion frees it. Loop-thread only.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "lanes/address.hpp"
#include "lanes/detail/io/io_handle.hpp"

namespace lanes::detail {

struct DatagramRing;

/// The ring record for `io` (open, unwatched, on a loop whose reactor
/// completes_operations()). Throws std::bad_alloc.
DatagramRing* make_datagram_ring(IoHandle& io, Reactor& reactor);

/// Completes a receive if it can: a datagram already received (cut to `max`
/// bytes) or a stored error; else starts one RECVMSG (if none is in flight) and
/// returns false: the completion notifies `io` readable.
bool ring_recvfrom(DatagramRing& r, std::size_t max, std::pair<std::string, SocketAddress>& got,
                   int& error) noexcept;

/// Takes a copy of the datagram for `to` (`to_len` 0: the connected peer) and
/// returns true; the sends go out in order, one SENDMSG at a time. Returns true
/// with `error` set for the error a previous send met (the kernel's pending error,
/// as sendto() would report it) and then sends nothing; false while 256 datagrams
/// or 1 MiB wait (the completions notify `io` writable).
bool ring_sendto(DatagramRing& r, std::string_view data, const void* to, unsigned to_len,
                 int& error) noexcept;

/// Before the descriptor is closed: submits what is queued, cancels the receive in
/// flight and gives the record up (freed now, or by its last completion).
void ring_close(DatagramRing* r) noexcept;

}  // namespace lanes::detail
