// SPDX-License-Identifier: MIT
/*
 * Prints refcpu's 1-D impulse response of each filter id (not a test; the
 * data of docs/gallery.md's response plots, pipelines/gallery.sh).
 *
 * For each id 1..8: a unit impulse at the middle of N samples (default 129),
 * run through refcpu::filter_sequence once (one pass of the 1-D program, as
 * along a row; contract section 1) with border constant 0, exact
 * initialisation and float64 (so the border adds nothing and the samples are
 * the program's own h[k]), sigma 2 for id 6, unity gain off.
 *
 * Output (CSV on stdout): id,name,k,h   with name = filter_description(id)
 * and k = sample index - middle (negative k: the anti-causal part of ids 5
 * and 6). The magnitude frequency response
 * |H(f)| is the DFT of these N samples (the plot script computes it).
 *
 * Usage: iir2d_response [N]   (odd, 3..65535)
 */
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "iir2d/filters.h"
#include "iir2d/refcpu.h"

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 129;
  if (n < 3 || n > 65535 || n % 2 == 0) {
    std::fprintf(stderr, "usage: %s [N]  (N odd, 3..65535)\n", argv[0]);
    return 2;
  }
  const int mid = n / 2;
  std::printf("id,name,k,h\n");
  for (int id = iir2d::kMinFilterId; id <= iir2d::kMaxFilterId; ++id) {
    iir2d::FilterParams p;
    p.filter_id = id;
    p.border = iir2d::Border::Constant;
    p.border_constant = 0.0;
    p.border_init = iir2d::BorderInit::Exact;
    p.precision = iir2d::Precision::F64;
    std::vector<double> x(n, 0.0), y(n, 0.0);
    x[mid] = 1.0;
    iir2d::ref::filter_sequence(x.data(), y.data(), n, 1, p);
    for (int i = 0; i < n; ++i)
      std::printf("%d,\"%s\",%d,%.17g\n", id, iir2d::filter_description(id), i - mid, y[i]);
  }
  return 0;
}
