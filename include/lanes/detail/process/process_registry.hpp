// lanes/detail/process/process_registry.hpp — the functions a process-pool worker may run.
//
// A worker is a fresh exec of the same program, so a function pointer means nothing
// across the process boundary: each registered function is known by a stable name
// (its spelling in LANES_REGISTER) plus a hash of its signature, and the caller's
// process maps a pointer back to that entry. A worker that finds no entry for the name,
// or a different signature, answers with an error instead of running anything.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "lanes/detail/core/future_state.hpp"
#include "lanes/detail/process/wire_buffer.hpp"
#include "lanes/detail/process/wire_types.hpp"

namespace lanes::detail {

using AnyFunction = void (*)();

/// One registered function. Constant data plus two entry points, in static storage
/// of the object that registered it (the program, or a library until its dlclose).
struct RemoteFunction {
  const char* name;
  std::uint64_t signature;
  /// Returns the function's address (a reinterpret_cast, which a constant expression
  /// may not hold, so the entry itself stays constant-initialised).
  AnyFunction (*address)() noexcept;
  /// Decodes one call's arguments from `args` (which must then be at its end if
  /// `last`), sets `args_ok`, calls the function and writes its result to `out`. The
  /// function's own exceptions propagate; so does WireFormatError with args_ok false.
  void (*invoke)(WireReader& args, WireWriter& out, bool& args_ok, bool last);
};

/// Adds `fn` to the registry (static initialisation; the entry must stay valid until
/// unregister_remote). A second entry with the same name and address is ignored.
void register_remote(const RemoteFunction* fn) noexcept;
/// Removes `fn` (and only `fn`: another entry of its name or address stays). Run when
/// the object holding it goes away: a library's dlclose, or the program's exit.
void unregister_remote(const RemoteFunction* fn) noexcept;
/// The path of the shared library that holds `fn` if that is not the main program
/// (e.g. a library loaded with dlopen, which a worker, a fresh exec of the program,
/// does not load); empty if it is the main program.
std::string library_of(const RemoteFunction* fn);
/// The entry registered under `name`, or null.
const RemoteFunction* find_remote(std::string_view name) noexcept;
/// The entry registered for the function at `address`, or null.
const RemoteFunction* find_remote(AnyFunction address) noexcept;
/// The name of the function at `address` from the program's symbol table, demangled
/// (for error messages about unregistered functions); "the function at 0x..." if the
/// program carries no symbols.
std::string describe_function(AnyFunction address);

// ---- compile-time signature -----------------------------------------------------------

/// The compiler's spelling of T (stable within one build of one program).
template <class T>
constexpr std::string_view type_spelling() noexcept {
  return __PRETTY_FUNCTION__;
}

constexpr std::uint64_t fnv1a(std::string_view s) noexcept {
  std::uint64_t h = 14695981039346656037ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

template <class F>
struct RemoteFunctionTraits;
template <class R, class... P>
struct RemoteFunctionTraits<R (*)(P...)> {
  using Result = R;
  using Args = std::tuple<std::decay_t<P>...>;
  static constexpr std::size_t arity = sizeof...(P);
  static constexpr bool args_by_value_or_const_ref =
      (... && (!std::is_lvalue_reference_v<P> ||
               std::is_const_v<std::remove_reference_t<P>>));
};
template <class R, class... P>
struct RemoteFunctionTraits<R (*)(P...) noexcept> : RemoteFunctionTraits<R (*)(P...)> {};

template <auto Fn>
void invoke_remote(WireReader& args, WireWriter& out, bool& args_ok, bool last) {
  using Traits = RemoteFunctionTraits<decltype(Fn)>;
  typename Traits::Args decoded;
  wire_decode(args, decoded);
  if (last) args.expect_end("arguments");
  args_ok = true;
  if constexpr (std::is_void_v<typename Traits::Result>) {
    std::apply(Fn, std::move(decoded));
  } else {
    wire_encode(out, std::apply(Fn, std::move(decoded)));
  }
}

template <auto Fn>
AnyFunction address_of() noexcept {
  return reinterpret_cast<AnyFunction>(Fn);
}

template <auto Fn>
constexpr RemoteFunction make_remote(const char* name) noexcept {
  using Traits = RemoteFunctionTraits<decltype(Fn)>;
  static_assert(wire_supported<typename Traits::Args>,
                "LANES_REGISTER: a parameter type of this function has no wire encoding "
                "(see lanes/codec.hpp for the supported types and how a struct opts in)");
  static_assert(std::is_void_v<typename Traits::Result> ||
                    wire_supported<std::remove_cvref_t<typename Traits::Result>>,
                "LANES_REGISTER: the return type of this function has no wire encoding "
                "(see lanes/codec.hpp for the supported types and how a struct opts in)");
  static_assert(Traits::args_by_value_or_const_ref,
                "LANES_REGISTER: take parameters by value or const reference; a worker runs "
                "in another process and cannot modify the caller's objects");
  return RemoteFunction{name, fnv1a(type_spelling<decltype(Fn)>()),
                        &address_of<Fn>, &invoke_remote<Fn>};
}

/// Registers one entry during static initialisation and removes it when its object
/// is unloaded, so the registry never points into a dlclose'd library.
struct RemoteRegistrar {
  explicit RemoteRegistrar(const RemoteFunction* fn) noexcept : fn_(fn) { register_remote(fn); }
  RemoteRegistrar(const RemoteRegistrar&) = delete;
  RemoteRegistrar& operator=(const RemoteRegistrar&) = delete;
  ~RemoteRegistrar() { unregister_remote(fn_); }

 private:
  const RemoteFunction* fn_;
};

}  // namespace lanes::detail

#define LANES_DETAIL_CAT2(a, b) a##b
#define LANES_DETAIL_CAT(a, b) LANES_DETAIL_CAT2(a, b)
// Registrations run at init priority 200, before every ordinary static initialiser, so
// they are all in place when a worker starts (which happens during static
// initialisation of the library, before main).
#define LANES_DETAIL_REGISTER(fn, name, id)                                                  \
  static constexpr ::lanes::detail::RemoteFunction LANES_DETAIL_CAT(lanes_remote_fn_, id) = \
      ::lanes::detail::make_remote<fn>(name);                                                \
  [[maybe_unused]] __attribute__((init_priority(200))) static const ::lanes::detail::        \
      RemoteRegistrar LANES_DETAIL_CAT(lanes_remote_reg_, id){                               \
          &LANES_DETAIL_CAT(lanes_remote_fn_, id)}

/// Makes a free function callable in process-pool workers, under its spelling as name:
///     int fib(int n) { ... }
///     LANES_REGISTER(fib);
/// At namespace scope, once per program, in any file of the program (usually next to the
/// function). Parameters and result must be Serializable (lanes/codec.hpp); parameters
/// are taken by value or const reference. A compile-time error says which rule failed.
#define LANES_REGISTER(fn) LANES_DETAIL_REGISTER(fn, #fn, __COUNTER__)
/// Same, under an explicit name (for overloads: pass a cast, e.g.
/// LANES_REGISTER_AS("area_d", static_cast<double (*)(double)>(area))).
#define LANES_REGISTER_AS(name, fn) LANES_DETAIL_REGISTER(fn, name, __COUNTER__)
