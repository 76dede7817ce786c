#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The summary of one leg of tests/run.sh: GoogleTest's own counts per suite.

meson counts a GoogleTest executable as one test (SKIP only when every case
skipped: tests/common/gtest_main.cpp exits 77 then). This reads meson's
testlog.json (each test's stdout) and prints a block headed by the title,
one line per suite (meson suite/test name) with its passed, skipped and
failed GoogleTest cases and meson's result, the skip reasons (three at most)
and failed cases under it, and last, alone on a line:

    N passed, N failed, N skipped

A test that is not a GoogleTest executable (tests/install's script) counts
as one case: passed, skipped (exit 77) or failed, by meson's result.

A suite that crashed, timed out or otherwise failed in meson's eyes counts
at least one failed case, even where its GoogleTest output is cut: the case
that was running when it stopped.

Usage: summary.py [--title TEXT] [<build>/meson-logs/testlog.json]   (default: build/...)
Exit status: 0 when nothing failed, 1 when something did, 2 without a log.
"""
import json
import re
import sys
from collections import Counter

TIERS = ("refcpu", "cuda", "elements", "install")

RUN = re.compile(r"^\[ RUN      \] (\S+)")
# Per-case result lines carry the time; the listings at the end do not.
DONE = re.compile(r"^\[ {7}OK \] (\S+?)(?:, where GetParam\(\) = .*)? \(\d+ ms\)$")
SKIPPED = re.compile(r"^\[  SKIPPED \] (\S+?)(?:, where GetParam\(\) = .*)? \(\d+ ms\)$")
FAILED = re.compile(r"^\[  FAILED  \] (\S+?)(?:, where GetParam\(\) = .*)? \(\d+ ms\)$")
SKIP_AT = re.compile(r"^.*:\d+: Skipped$")
MARK = re.compile(r"^\[[ A-Z=-]{10}\]")  # GoogleTest's "[ RUN      ]", "[  SKIPPED ]", ...


class Suite:
    def __init__(self, entry):
        name = entry.get("name", "?")
        name = name.split(":", 1)[1] if ":" in name else name  # drop "project:"
        self.name = name.replace(" / ", "/")
        self.tier = self.name.split("/", 1)[0]
        self.result = entry.get("result", "?")
        self.returncode = entry.get("returncode")
        self.passed = 0
        self.failed = []  # case names
        self.skip_reasons = Counter()
        self.stopped_in = None  # the case that was running when the output ends
        self.gtest_output = False
        self._parse(entry.get("stdout") or "")
        # meson's verdict wins: a crash, a timeout or a failing exit status
        # is a failure even when every case printed so far passed.
        if self.result not in ("OK", "SKIP", "EXPECTEDFAIL"):
            if self.stopped_in:
                self.failed.append("%s (%s while it ran)" % (self.stopped_in, self.meson_text()))
            elif not self.failed:
                self.failed.append("the executable (%s, %s)" % (
                    self.meson_text(), "after its cases" if self.gtest_output else "no GoogleTest output"))
        elif not self.gtest_output:  # a plain test: one case
            if self.result == "SKIP":
                self.skip_reasons["exit 77 (see the log)"] += 1
            else:
                self.passed = 1

    def _parse(self, out):
        running = None
        reason = None  # lines of a skip message being read
        for line in out.splitlines():
            if reason is not None and not MARK.match(line):
                if line == "Google Test trace:":  # the SCOPED_TRACE of the case, not the reason
                    reason.append(None)
                elif None not in reason:
                    reason.append(line)
                continue
            m = RUN.match(line)
            if m:
                self.gtest_output = True
                running, reason = m.group(1), None
                continue
            if SKIP_AT.match(line) and running:
                reason = []
                continue
            m = DONE.match(line)
            if m:
                self.passed += 1
                running = None
                continue
            m = SKIPPED.match(line)
            if m:
                text = " ".join(part.strip() for part in (reason or []) if part and part.strip())
                self.skip_reasons[text or "(no reason given)"] += 1
                running, reason = None, None
                continue
            m = FAILED.match(line)
            if m:
                self.failed.append(m.group(1))
                running, reason = None, None
                continue
            if line.startswith("[==========]"):
                self.gtest_output = True
        self.stopped_in = running

    @property
    def skipped(self):
        return sum(self.skip_reasons.values())

    def meson_text(self):
        text = self.result
        if self.result not in ("OK", "SKIP") and self.returncode not in (None, 0):
            rc = self.returncode
            text += " (signal %d)" % -rc if rc < 0 else " (exit %d)" % rc
        return text


def shorten(text, width=110):
    return text if len(text) <= width else text[: width - 1] + "…"


def main(argv):
    args = argv[1:]
    title = "GoogleTest cases per suite"
    if len(args) >= 2 and args[0] == "--title":
        title, args = args[1], args[2:]
    path = args[0] if args else "build/meson-logs/testlog.json"
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            suites = [Suite(json.loads(line)) for line in f if line.strip()]
    except (OSError, ValueError) as e:
        print("summary: cannot read %s: %s" % (path, e))
        return 2
    order = {t: i for i, t in enumerate(TIERS)}
    suites.sort(key=lambda s: (order.get(s.tier, len(TIERS)), s.name))

    width = max([len("suite")] + [len(s.name) for s in suites])
    print("==== %s" % title)
    print("%-*s  %7s  %7s  %6s  %s" % (width, "suite", "passed", "skipped", "failed", "meson"))
    for s in suites:
        print("%-*s  %7d  %7d  %6d  %s" % (width, s.name, s.passed, s.skipped, len(s.failed), s.meson_text()))
        for reason, n in s.skip_reasons.most_common(3):
            print("    %d skipped: %s" % (n, shorten(reason)))
        if len(s.skip_reasons) > 3:
            print("    %d skipped for %d other reasons (see the log)"
                  % (sum(n for _, n in s.skip_reasons.most_common()[3:]), len(s.skip_reasons) - 3))
        if s.failed:
            shown = ", ".join(s.failed[:5]) + (" and %d more" % (len(s.failed) - 5) if len(s.failed) > 5 else "")
            print("    failed: %s" % shorten(shown, 200))
    for tier in TIERS:
        if not any(s.tier == tier for s in suites):
            print("(no %s suite ran: not built in this configuration, or not selected)" % tier)

    passed = sum(s.passed for s in suites)
    failed = sum(len(s.failed) for s in suites)
    skipped = sum(s.skipped for s in suites)
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
