#!/usr/bin/env bash
# One command for every benchmark figure (docs/BENCHMARKS.md):
#   1. installs Erlang/OTP (Debian's erlang-base) when `erl` is missing: P5 runs Erlang on the
#      same workloads in the same run (bench/luna_bench.erl, `erl +S 1`);
#   2. builds luna-bench (and luna-conform, the adapter P4 replays through) in release mode;
#   3. runs `luna-bench all` unpinned: P1–P6, each next to its comparison;
#   4. runs the message-passing figures (P5, P6) again pinned to one CPU (`taskset -c 0`: Luna's
#      threads and the erl it starts share CPU 0);
#   5. counts instructions per event with callgrind (bench/callgrind.sh): P1 per traced event,
#      P3 per decoded event; set LUNA_BENCH_CALLGRIND=0 to skip.
# Extra arguments go to both `luna-bench all` runs, e.g. `bench/run.sh --quick` or `--repeats 5`.
# Needs Swift 6.3, libzstd-dev and the zstd CLI; taskset (util-linux); valgrind for step 5.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v erl >/dev/null || ! command -v erlc >/dev/null; then
    echo "== installing Erlang/OTP (erlang-base) for P5's Erlang columns =="
    sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
    if ! { $sudo apt-get install -y -qq erlang-base >/dev/null 2>&1 \
           || { $sudo apt-get update -qq && $sudo apt-get install -y -qq erlang-base >/dev/null; }; }; then
        echo "   could not install erlang-base: P5's rows will say \"Erlang not installed\""
    fi
fi

echo "== build (release) =="
swift build -c release --product luna-conform
swift build -c release --product luna-bench
bin="$(swift build -c release --show-bin-path)"

echo
echo "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg) =="
echo "== erl: $(command -v erl || echo 'not installed') =="
echo
echo "== luna-bench all — UNPINNED (the scheduler may put the two sides of a ping-pong on different CPUs) =="
"$bin/luna-bench" all --erlang-source bench "$@"

echo
if command -v taskset >/dev/null; then
    echo "== luna-bench all --only P5,P6 — PINNED (taskset -c 0: every thread on CPU 0, Erlang's too) =="
    taskset -c 0 "$bin/luna-bench" all --only P5,P6 --erlang-source bench "$@"
else
    echo "== pinned run skipped: taskset not found (apt-get install util-linux) =="
fi

if [[ "${LUNA_BENCH_CALLGRIND:-1}" != 0 ]]; then
    echo
    if command -v valgrind >/dev/null; then
        n=40000; [[ " $* " == *" --quick "* ]] && n=20000
        bench/callgrind.sh --no-build "$n"
    else
        echo "== instruction counts skipped: valgrind not found (apt-get install valgrind) =="
    fi
fi
