// Descriptions of errors for messages and reports.
#include "lanes/errors.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <typeinfo>

namespace lanes {
namespace {

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(mangled);
}

}  // namespace

std::string describe_exception(const std::exception_ptr& error) noexcept {
  if (!error) return "no exception";
  try {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      return demangle(typeid(e).name()) + ": " + e.what();
    } catch (...) {
      const std::type_info* type = abi::__cxa_current_exception_type();
      return type ? demangle(type->name()) + " (not derived from std::exception)"
                  : std::string("unknown exception");
    }
  } catch (...) {
    return "unknown exception";
  }
}

std::string ExceptionGroup::describe(const std::string& message,
                                      const std::vector<std::exception_ptr>& errors) {
  std::string text = message + " (" + std::to_string(errors.size()) + " sub-exception" +
                     (errors.size() == 1 ? "" : "s") + ")";
  for (const auto& e : errors) text += "\n  - " + describe_exception(e);
  return text;
}

}  // namespace lanes
