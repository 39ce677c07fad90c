// A library loaded with dlopen by test_process_pool: it registers a function for
// process-pool workers, which a worker (a fresh exec of the test program) does not
// have, and is unloaded and loaded again to check the registry lets go of its entries.
#include <lanes/detail/process/process_registry.hpp>

extern "C" int lanes_plugin_triple(int x) { return 3 * x; }
LANES_REGISTER(lanes_plugin_triple);
