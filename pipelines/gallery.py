#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The pictures of docs/gallery.md, from what pipelines/gallery.sh prepared.

  ids.png        the frame's crop before filtering and after each filter id
  strength.png   filter-id=6 at strength 0 (the input), 0.25, 0.5, 0.75, 1
  impulse.png    each id's 1-D impulse response h[k] (refcpu, one pass)
  magnitude.png  each id's magnitude frequency response |H(f)| in dB
  perf.png       GPU time per call by filter id, from docs/perf/*.csv

Crops are 8-bit gray (the luma that planes=luma filters), PNGs optimised so
that the gallery stays a few hundred kB.

Usage: gallery.py --work DIR --out DIR --crop WxH+X+Y --response CSV PERF.csv...
"""
import argparse
import csv
import re
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402

NAMES = {}  # filter id -> refcpu's filter_description(), from the response CSV
LABEL_H = 20


def font(size=13):
    return ImageFont.truetype(font_manager.findfont("DejaVu Sans"), size)


def crop(path, box):
    w, h, x, y = box
    return Image.open(path).convert("L").crop((x, y, x + w, y + h))


def labelled(tile, text):
    img = Image.new("L", (tile.width, tile.height + LABEL_H), 255)
    img.paste(tile, (0, LABEL_H))
    draw = ImageDraw.Draw(img)
    size = 13
    while size > 8 and draw.textlength(text, font=font(size)) > tile.width - 6:
        size -= 1  # long names in a smaller type
    draw.text((4, 2 + (13 - size) // 2), text, fill=0, font=font(size))
    return img


def grid(tiles, columns, gap=4):
    w, h = tiles[0].size
    rows = (len(tiles) + columns - 1) // columns
    img = Image.new("L", (columns * w + (columns - 1) * gap, rows * h + (rows - 1) * gap), 255)
    for i, t in enumerate(tiles):
        img.paste(t, ((i % columns) * (w + gap), (i // columns) * (h + gap)))
    return img


def save(img, path):
    img.save(path, optimize=True)
    print("wrote", path)


def crops(work, out, box):
    tiles = [labelled(crop("%s/before.png" % work, box), "before")]
    tiles += [labelled(crop("%s/id%d.png" % (work, i), box), "%d: %s" % (i, NAMES[i])) for i in range(1, 9)]
    save(grid(tiles, 3), "%s/ids.png" % out)
    # The ramp on a narrower crop of the same place.
    w, h, x, y = box
    narrow = (w * 2 // 3, h, x + w // 6, y)
    ramp = [labelled(crop("%s/before.png" % work, narrow), "strength=0")]
    ramp += [labelled(crop("%s/strength%s.png" % (work, s), narrow), "strength=%s" % s) for s in ("0.25", "0.5", "0.75", "1")]
    save(grid(ramp, 5), "%s/strength.png" % out)


def read_responses(path):
    h = defaultdict(dict)
    with open(path) as f:
        for row in csv.DictReader(f):
            h[int(row["id"])][int(row["k"])] = float(row["h"])
            NAMES[int(row["id"])] = row["name"]
    return h


def responses(path, out):
    h = read_responses(path)
    fig, axes = plt.subplots(2, 4, figsize=(10, 4.2), sharex=True)
    for i, ax in zip(range(1, 9), axes.flat):
        ks = sorted(k for k in h[i] if -24 <= k <= 40)
        ax.vlines(ks, 0, [h[i][k] for k in ks], color="C0", lw=1.2)
        ax.axhline(0, color="0.6", lw=0.6)
        ax.set_title("id %d: %s" % (i, NAMES[i]), fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[1]:
        ax.set_xlabel("k (samples from the impulse)", fontsize=7)
    fig.suptitle("1-D impulse response h[k] of one pass (refcpu, float64, border constant 0)", fontsize=9)
    fig.tight_layout()
    fig.savefig("%s/impulse.png" % out, dpi=72)
    plt.close(fig)
    print("wrote %s/impulse.png" % out)

    fig, ax = plt.subplots(figsize=(7, 3.6))
    for i in range(1, 9):
        ks = sorted(h[i])
        x = np.array([h[i][k] for k in ks])
        n = 4096
        spec = np.abs(np.fft.rfft(x, n))
        f = np.arange(len(spec)) / n
        style = dict(ls="--", lw=1.0) if i in (7, 8) else dict(lw=1.4)
        ax.plot(f, 20 * np.log10(np.maximum(spec, 1e-12)), label="id %d" % i, **style)
    ax.set_xlim(0, 0.5)
    ax.set_ylim(-60, 3)
    ax.set_xlabel("frequency (cycles per sample; 0.5 = Nyquist)", fontsize=8)
    ax.set_ylabel("|H(f)| (dB)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(True, lw=0.4, color="0.85")
    ax.legend(fontsize=7, ncol=4, loc="upper right")
    ax.set_title("Magnitude frequency response of one pass (DFT of refcpu's h[k]; ids 7, 8 dashed = 1, 3)", fontsize=8)
    fig.tight_layout()
    fig.savefig("%s/magnitude.png" % out, dpi=72)
    plt.close(fig)
    print("wrote %s/magnitude.png" % out)


def perf(paths, out):
    rows = []
    for p in paths:
        with open(p) as f:
            rows += [r for r in csv.DictReader(f) if r.get("mode") == "kernel"]
    if not rows:
        print("no kernel rows in", paths)
        return
    gpu = rows[0].get("gpu", "?")
    panels = [("u8", "8-bit video component"), ("f32", "float32 plane")]
    paths_shown = [("fast", "this project's kernels", "C0"), ("tiles", "round 1 row pass", "C1"),
                   ("generic", "correctness-first kernels (issue 2)", "C7")]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.0), sharey=True)
    for ax, (ptype, title) in zip(axes, panels):
        sel = [r for r in rows if r["size"] == "4K" and r["plane_type"] == ptype and r["precision"] == "f32"]
        width = 0.27
        for j, (path, label, color) in enumerate(paths_shown):
            ms = {int(r["filter_id"]): float(r["median_ms"]) for r in sel if r["path"] == path}
            ids = sorted(ms)
            if ids:
                ax.bar([i + (j - 1) * width for i in ids], [ms[i] for i in ids], width, label=label, color=color)
        copy = [float(r["copy_median_ms"]) for r in sel if r["path"] == "fast" and r["copy_median_ms"]]
        if copy:
            c = float(np.median(copy))
            ax.axhline(c, color="C3", ls="--", lw=1.2, label="device copy of the same bytes")
        ax.set_yscale("log")
        ax.set_xticks(range(1, 9))
        ax.set_xlabel("filter id", fontsize=8)
        ax.set_title("3840x2160 %s, precision f32" % title, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(True, axis="y", lw=0.4, color="0.85")
        ax.set_ylim(0.004, 8)
    axes[0].set_ylabel("ms per call (median of 50; log scale)", fontsize=8)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc="lower center", ncol=4, frameon=False)
    fig.suptitle("%s: time per call by filter id (docs/perf; lower is better)" % re.sub(r"[^\w .-]", "", gpu), fontsize=9)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig("%s/perf.png" % out, dpi=72)
    plt.close(fig)
    print("wrote %s/perf.png" % out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--crop", required=True)
    ap.add_argument("--response", required=True)
    ap.add_argument("perf", nargs="*")
    a = ap.parse_args()
    m = re.fullmatch(r"(\d+)x(\d+)\+(\d+)\+(\d+)", a.crop)
    if not m:
        ap.error("--crop must be WxH+X+Y")
    read_responses(a.response)  # the names
    crops(a.work, a.out, tuple(int(v) for v in m.groups()))
    responses(a.response, a.out)
    perf(a.perf, a.out)


if __name__ == "__main__":
    main()
