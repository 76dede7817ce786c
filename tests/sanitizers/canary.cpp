// SPDX-License-Identifier: MIT
// The sanitizer leg's self-check (tests/ci/sanitize.sh): built with the
// leg's flags and run with its environment, each case must end the process
// with a sanitizer report and a non-zero status; if one does not, a report
// in the suites would not fail them either, and the leg fails.
//   canary ubsan | asan | leak
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  volatile int big = INT_MAX;
  if (std::strcmp(argv[1], "ubsan") == 0) {
    int v = big + argc;  // signed overflow
    std::printf("%d\n", v);
  } else if (std::strcmp(argv[1], "asan") == 0) {
    char* p = static_cast<char*>(std::malloc(8));
    p[big - INT_MAX + 8] = 1;  // heap-buffer-overflow
    std::free(p);
  } else if (std::strcmp(argv[1], "leak") == 0) {
    void* volatile p = std::malloc(64);
    p = nullptr;
    (void)p;
  }
  return 0;  // reached only when the sanitizer did not stop the process
}
