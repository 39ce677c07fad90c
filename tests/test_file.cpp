// Asynchronous files (lanes/file.hpp), on whichever backend LANES_BACKEND picks
// (ctest runs this file on epoll and again on io_uring as uring.*).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lanes/combinators.hpp>
#include <lanes/detail/io/reactor.hpp>
#include <lanes/errors.hpp>
#include <lanes/file.hpp>
#include <lanes/loop.hpp>
#include <lanes/time.hpp>
#include <lanes/timeout.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

/// A fresh directory, removed with everything in it.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/lanes_file_XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string operator/(const char* name) const { return (path / name).string(); }
};

std::string pattern(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + seed * 7 + (i >> 9)) & 0xff);
  return s;
}

TEST(File, WriteThenReadWholeFile) {
  TempDir dir;
  const std::string path = dir / "a.bin";
  const std::string data = pattern(3 * 1024 * 1024 + 17, 1);  // several 1 MiB chunks
  lanes::run([&]() -> lanes::Task<void> {
    co_await lanes::write_file(path, data);
    EXPECT_EQ(co_await lanes::read_file(path), data);
  }());
  EXPECT_EQ(std::filesystem::file_size(path), data.size());
}

TEST(File, ReadAdvancesThePositionAndStopsAtTheEnd) {
  TempDir dir;
  const std::string path = dir / "b.txt";
  lanes::run([&]() -> lanes::Task<void> {
    co_await lanes::write_file(path, "hello world");
    lanes::AsyncFile f = co_await lanes::open_file(path, "r");
    EXPECT_EQ(f.name(), path);
    EXPECT_EQ(f.mode(), "r");
    EXPECT_EQ(co_await f.read(5), "hello");
    EXPECT_EQ(f.tell(), 5u);
    EXPECT_EQ(co_await f.read(100), " world");  // fewer only at the end
    EXPECT_EQ(co_await f.read(10), "");
    EXPECT_EQ(co_await f.read(0), "");
    EXPECT_EQ(f.seek(-5, SEEK_END), 6u);
    EXPECT_EQ(co_await f.read(), "world");
    f.seek(0);
    EXPECT_EQ(co_await f.read(), "hello world");
    co_await f.close();
    EXPECT_TRUE(f.closed());
    co_await f.close();  // harmless twice
  }());
}

TEST(File, ReadAtAndWriteAtLeaveThePositionAlone) {
  TempDir dir;
  const std::string path = dir / "c.bin";
  lanes::run([&]() -> lanes::Task<void> {
    lanes::AsyncFile f = co_await lanes::open_file(path, "w+");
    EXPECT_EQ(co_await f.write("0123456789"), 10u);
    EXPECT_EQ(f.tell(), 10u);
    EXPECT_EQ(co_await f.write_at(2, "AB"), 2u);
    EXPECT_EQ(f.tell(), 10u);
    EXPECT_EQ(co_await f.read_at(0, 10), "01AB456789");
    EXPECT_EQ(co_await f.read_at(8, 10), "89");
    EXPECT_EQ(co_await f.read_at(100, 10), "");
    EXPECT_EQ(f.tell(), 10u);
    co_await f.fsync();
    co_await f.close();
  }());
}

TEST(File, AppendModeWritesAtTheEnd) {
  TempDir dir;
  const std::string path = dir / "d.log";
  lanes::run([&]() -> lanes::Task<void> {
    co_await lanes::write_file(path, "one\n");
    lanes::AsyncFile f = co_await lanes::open_file(path, "a");
    EXPECT_EQ(f.tell(), 4u);
    co_await f.write("two\n");
    co_await f.write("three\n");
    co_await f.close();
    EXPECT_EQ(co_await lanes::read_file(path), "one\ntwo\nthree\n");
  }());
}

// The errors (classes, filename(), Python's texts) are in test_file_errors.cpp.

/// Many tasks reading distinct pages of one file at once, at several counts.
class FileConcurrency : public ::testing::TestWithParam<int> {};

TEST_P(FileConcurrency, ConcurrentReadAtsEachGetTheirOwnPage) {
  const int tasks = GetParam();
  TempDir dir;
  const std::string path = dir / "pages.bin";
  constexpr std::size_t kPage = 4096;
  const std::string data = pattern(kPage * 64, 3);
  lanes::run([&]() -> lanes::Task<void> {
    co_await lanes::write_file(path, data);
    lanes::AsyncFile f = co_await lanes::open_file(path, "rb");
    std::vector<lanes::Task<int>> readers;
    for (int t = 0; t < tasks; ++t) {
      readers.push_back([](lanes::AsyncFile file, const std::string& whole, int t, int tasks) -> lanes::Task<int> {
        int good = 0;
        for (std::size_t page = static_cast<std::size_t>(t); page < 64; page += static_cast<std::size_t>(tasks)) {
          std::string got = co_await file.read_at(page * 4096, 4096);
          good += got == whole.substr(page * 4096, 4096);
        }
        co_return good;
      }(f, data, t, tasks));
    }
    auto counts = co_await lanes::wait_for(lanes::gather(std::move(readers)), 60s);
    int total = 0;
    for (int c : counts) total += c;
    EXPECT_EQ(total, 64);
    co_await f.close();
  }());
}

INSTANTIATE_TEST_SUITE_P(Tasks, FileConcurrency, ::testing::Values(1, 4, 64));

TEST(File, CancellingAReadLeavesTheFileUsable) {
  TempDir dir;
  const std::string path = dir / "fifo";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  // On epoll the read is a thread blocked in read(2): cancelling waits for it, as
  // with aiofiles. Only a ring can take an operation back.
  if (lanes::detail::make_reactor()->backend() != lanes::Backend::io_uring)
    GTEST_SKIP() << "a blocked read on a thread cannot be cancelled";
  lanes::run([&]() -> lanes::Task<void> {
    // A FIFO opened read-write never blocks the open and has no writer data: the
    // read waits until cancelled.
    lanes::AsyncFile f = co_await lanes::open_file(path, "r+");
    EXPECT_THROW(co_await lanes::wait_for(f.read(1), 20ms), lanes::TimeoutError);
    EXPECT_EQ(co_await f.write("z"), 1u);  // the cancelled read took nothing
    EXPECT_EQ(co_await f.read(1), "z");
    try {
      co_await f.read_at(0, 1);
      ADD_FAILURE() << "read_at on a FIFO should throw";
    } catch (const lanes::OSError& e) {
      EXPECT_EQ(e.errno_value(), ESPIPE);
    }
    co_await f.close();
  }());
}

}  // namespace
