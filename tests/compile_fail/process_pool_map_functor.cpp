// Must not compile: a callable object given to ProcessPoolExecutor::map.
#include <lanes/process_pool.hpp>

#include <vector>

struct Twice {
  int operator()(int x) const { return 2 * x; }
};

int main() {
  lanes::ProcessPoolExecutor pool(1);
  auto results = pool.map(Twice{}, std::vector<int>{1, 2});
  (void)results;
}
