#!/usr/bin/env bash
# One command for every benchmark figure of issue #8 (docs/BENCHMARKS.md):
#   1. builds luna-bench (and luna-conform, the adapter P4 replays through) in release mode;
#   2. runs `luna-bench all` unpinned: P1–P6, each next to its comparison;
#   3. runs the ping-pong figures (P5, P6) again pinned to one CPU (`taskset -c 0`), because a
#      handoff to the other vCPU costs 20–50 µs and one on the same vCPU about 3.5 µs.
# Extra arguments go to both `luna-bench all` runs, e.g. `bench/run.sh --quick` or `--repeats 5`.
# Needs Swift 6.3, libzstd-dev and the zstd CLI; taskset (util-linux) for the pinned run.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== build (release) =="
swift build -c release --product luna-conform
swift build -c release --product luna-bench
bin="$(swift build -c release --show-bin-path)"

echo
echo "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(date -u '+%Y-%m-%d %H:%M UTC') =="
echo
echo "== luna-bench all — UNPINNED (the scheduler may put the two sides of a ping-pong on different CPUs) =="
"$bin/luna-bench" all "$@"

echo
if command -v taskset >/dev/null; then
    echo "== luna-bench all --only P5,P6 — PINNED (taskset -c 0: every thread on CPU 0) =="
    taskset -c 0 "$bin/luna-bench" all --only P5,P6 "$@"
else
    echo "== pinned run skipped: taskset not found (apt-get install util-linux) =="
fi
