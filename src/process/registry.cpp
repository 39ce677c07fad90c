// The registry of functions callable in process-pool workers, and the lookup of a
// function's name for the error about an unregistered one.
#include "lanes/detail/process/process_registry.hpp"

#include <cxxabi.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace lanes::detail {
namespace {

struct Registry {
  std::mutex mutex;  // registrations may also come from a dlopen'd library
  std::unordered_map<std::string_view, const RemoteFunction*> by_name;
  std::unordered_map<AnyFunction, const RemoteFunction*> by_address;
};

Registry& registry() {
  // Built on first use: registrations run during static initialisation, in any order.
  static Registry* r = new Registry;  // never destroyed: workers look up until _exit
  return *r;
}

std::string demangle(const char* name) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(name, nullptr, nullptr, &status),
                                             std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(name);
}

int main_program_base(dl_phdr_info* info, std::size_t, void* data) {
  *static_cast<ElfW(Addr)*>(data) = info->dlpi_addr;
  return 1;  // the first object is the main program
}

/// Looks `address` up in the .symtab of /proc/self/exe (present unless stripped);
/// dladdr alone only sees exported symbols, which an executable rarely has.
std::string symtab_name(AnyFunction address) {
  const int fd = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  struct stat st {};
  void* map = MAP_FAILED;
  if (::fstat(fd, &st) == 0 && st.st_size > static_cast<off_t>(sizeof(ElfW(Ehdr))))
    map = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return {};
  const auto size = static_cast<std::size_t>(st.st_size);
  const auto* base = static_cast<const unsigned char*>(map);
  std::string found;
  const auto* eh = reinterpret_cast<const ElfW(Ehdr)*>(base);
  const bool sane = std::memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 &&
                    eh->e_shentsize == sizeof(ElfW(Shdr)) &&
                    eh->e_shoff + std::size_t{eh->e_shnum} * sizeof(ElfW(Shdr)) <= size;
  if (sane) {
    ElfW(Addr) bias = 0;
    ::dl_iterate_phdr(&main_program_base, &bias);
    const auto target = reinterpret_cast<ElfW(Addr)>(address) - bias;
    const auto* sections = reinterpret_cast<const ElfW(Shdr)*>(base + eh->e_shoff);
    for (unsigned i = 0; i < eh->e_shnum && found.empty(); ++i) {
      const auto& sh = sections[i];
      if (sh.sh_type != SHT_SYMTAB || sh.sh_link >= eh->e_shnum) continue;
      const auto& strs = sections[sh.sh_link];
      if (sh.sh_offset + sh.sh_size > size || strs.sh_offset + strs.sh_size > size) continue;
      const auto* syms = reinterpret_cast<const ElfW(Sym)*>(base + sh.sh_offset);
      const std::size_t count = sh.sh_size / sizeof(ElfW(Sym));
      for (std::size_t k = 0; k < count; ++k) {
        const auto& sym = syms[k];
        if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_name >= strs.sh_size) continue;
        if (target < sym.st_value || target >= sym.st_value + (sym.st_size ? sym.st_size : 1))
          continue;
        const char* name = reinterpret_cast<const char*>(base + strs.sh_offset + sym.st_name);
        if (::strnlen(name, strs.sh_size - sym.st_name) < strs.sh_size - sym.st_name)
          found = demangle(name);
        break;
      }
    }
  }
  ::munmap(map, size);
  return found;
}

}  // namespace

void register_remote(const RemoteFunction* fn) noexcept {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  r.by_name.emplace(std::string_view(fn->name), fn);  // the first one of a name wins
  r.by_address.emplace(fn->address(), fn);
}

void unregister_remote(const RemoteFunction* fn) noexcept {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  // Only this entry: the first registration of a name wins, so another object's entry
  // of the same name (or address) may be the one kept.
  if (auto it = r.by_name.find(std::string_view(fn->name)); it != r.by_name.end() && it->second == fn)
    r.by_name.erase(it);
  if (auto it = r.by_address.find(fn->address()); it != r.by_address.end() && it->second == fn)
    r.by_address.erase(it);
}

std::string library_of(const RemoteFunction* fn) {
  Dl_info info{};
  link_map* map = nullptr;
  if (!::dladdr1(fn, &info, reinterpret_cast<void**>(&map), RTLD_DL_LINKMAP) || !map)
    return {};
  // The main program's link map has an empty name; a library's is its path.
  return map->l_name && *map->l_name ? std::string(map->l_name) : std::string();
}

const RemoteFunction* find_remote(std::string_view name) noexcept {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.by_name.find(name);
  return it == r.by_name.end() ? nullptr : it->second;
}

const RemoteFunction* find_remote(AnyFunction address) noexcept {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.by_address.find(address);
  return it == r.by_address.end() ? nullptr : it->second;
}

std::string describe_function(AnyFunction address) {
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(address), &info) && info.dli_sname)
    return demangle(info.dli_sname);
  std::string name = symtab_name(address);
  if (!name.empty()) return name;
  char buf[64];
  std::snprintf(buf, sizeof buf, "the function at %p", reinterpret_cast<void*>(address));
  return buf;
}

}  // namespace lanes::detail
