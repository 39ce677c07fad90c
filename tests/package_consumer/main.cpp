// Uses lanes through find_package(lanes CONFIG): proves the installed package works.
#include <lanes/lanes.hpp>

lanes::Task<int> answer() { co_return 42; }

int main() { return lanes::run(answer()) == 42 ? 0 : 1; }
