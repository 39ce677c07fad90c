// Asynchronous files, Python's aiofiles in lanes: write, read back, read pages at
// offsets from several tasks at once, and catch the errors Python would raise.
//
//   async with aiofiles.open(path, "w") as f: await f.write(text)
//   -> lanes::AsyncFile f = co_await lanes::open_file(path, "w"); co_await f.write(text);
//
// On io_uring each read and write is one operation in the loop's ring; on epoll
// (LANES_BACKEND=epoll) it runs on the loop's default executor, as aiofiles does.
// Everything happens in a fresh directory under /tmp, removed at the end.
#include <lanes/lanes.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace {

constexpr std::size_t kPage = 4096;

lanes::Task<void> main_task(std::string dir) {
  const std::string path = dir + "/pages.bin";

  // write_file / read_file: the whole file at once.
  std::string data;
  for (int page = 0; page < 16; ++page) data += std::string(kPage, static_cast<char>('a' + page));
  co_await lanes::write_file(path, data);
  std::string back = co_await lanes::read_file(path);
  std::printf("wrote and read back %zu bytes: %s\n", back.size(), back == data ? "same" : "DIFFERENT");

  // An AsyncFile: read() moves the position, read_at() does not, so many tasks can
  // share one file with read_at.
  lanes::AsyncFile f = co_await lanes::open_file(path, "rb");
  std::string head = co_await f.read(3);
  std::printf("read(3) = \"%s\", tell() = %llu\n", head.c_str(),
              static_cast<unsigned long long>(f.tell()));
  std::vector<lanes::Task<char>> readers;
  for (std::size_t page = 0; page < 16; ++page)
    readers.push_back([](lanes::AsyncFile file, std::size_t page) -> lanes::Task<char> {
      std::string bytes = co_await file.read_at(page * kPage, kPage);
      co_return bytes.empty() ? '?' : bytes.front();
    }(f, page));
  std::vector<char> firsts = co_await lanes::gather(std::move(readers));
  std::printf("16 pages read at once, their first bytes: %s\n",
              std::string(firsts.begin(), firsts.end()).c_str());
  co_await f.close();

  // Append mode writes at the end; fsync waits until the device has it.
  lanes::AsyncFile log = co_await lanes::open_file(dir + "/events.log", "a");
  co_await log.write("started\n");
  co_await log.write("finished\n");
  co_await log.fsync();
  co_await log.close();
  std::printf("events.log: %s", (co_await lanes::read_file(dir + "/events.log")).c_str());

  // Errors are Python's: the class from the errno, the path in filename().
  try {
    co_await lanes::open_file(dir + "/missing.txt", "r");
  } catch (const lanes::FileNotFoundError& e) {
    std::printf("FileNotFoundError: %s (filename() = %s)\n", e.what(), e.filename().c_str());
  }
  try {
    co_await lanes::open_file(path, "x");  // 'x': create, refuse an existing file
  } catch (const lanes::FileExistsError& e) {
    std::printf("FileExistsError: %s\n", e.what());
  }
  try {
    co_await lanes::read_file(dir);
  } catch (const lanes::IsADirectoryError& e) {
    std::printf("IsADirectoryError: %s\n", e.what());
  }
  try {
    lanes::AsyncFile ro = co_await lanes::open_file(path, "r");
    co_await ro.write("no");
  } catch (const lanes::UnsupportedOperation& e) {
    std::printf("UnsupportedOperation: %s\n", e.what());
  }
  try {
    co_await f.read();
  } catch (const lanes::ValueError& e) {
    std::printf("ValueError: %s\n", e.what());
  }
}

}  // namespace

int main() {
  char tmpl[] = "/tmp/lanes_files_example_XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string dir = tmpl;
  int status = 0;
  try {
    lanes::run(main_task(dir));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "files: %s\n", e.what());
    status = 1;
  }
  std::filesystem::remove_all(dir);
  return status;
}
