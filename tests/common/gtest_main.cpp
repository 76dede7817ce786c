// SPDX-License-Identifier: MIT
/*
 * The main() of every GoogleTest executable here, in place of gtest_main:
 * the same run, but an executable whose every case that ran was skipped
 * exits 77, which meson reads as SKIP (GoogleTest's own main exits 0, so
 * meson counted such a suite as passed). A failure still exits 1, and a run
 * with some case passed exits 0. Run with no case selected (a
 * --gtest_filter that matches nothing) it exits 0, as GoogleTest does.
 */
#include <gtest/gtest.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const int status = RUN_ALL_TESTS();
  const ::testing::UnitTest& u = *::testing::UnitTest::GetInstance();
  if (status == 0 && u.test_to_run_count() > 0 && u.skipped_test_count() == u.test_to_run_count()) return 77;
  return status;
}
