#!/usr/bin/env bash
# Instructions per event, counted by valgrind --tool=callgrind: the same count on a busy or a
# quiet machine, so a change can be judged on any day (docs/BENCHMARKS.md, "Instruction counts").
#   P1: instructions per traced event (native one-way and ping-pong traced into a TraceWriter,
#       minus the same run untraced, per recorded event) and the traced run's total per event;
#       and per event recorded into a flight recorder (one thread), in format 2 and 1.x;
#   P3: instructions per decoded event of `luna-trace stats`' path, of TraceReader alone, of the
#       zstd decompression alone, and of `zstd -dc` (the CLI) on the same file.
# Counts are differences between two sizes (N and 2N), so process start-up cancels out.
# valgrind 3.19 cannot read Swift 6.3's debug info, so it runs a `strip -g` copy of luna-bench.
# Usage: bench/callgrind.sh [--no-build] [N]   (default N: 40000 events/messages; larger N can
# exceed the workloads' 120 s limits under valgrind on a loaded machine)
# LUNA_BENCH_BIN=path/to/luna-bench measures that binary instead (implies --no-build), e.g. a
# release build in another scratch path or of another commit.
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
if [[ "${1:-}" == "--no-build" ]]; then build=0; shift; fi
n="${1:-40000}"
for tool in valgrind zstd strip; do
    command -v "$tool" >/dev/null || { echo "bench/callgrind.sh: $tool not found (apt-get install valgrind zstd binutils)" >&2; exit 1; }
done
if [[ -n "${LUNA_BENCH_BIN:-}" ]]; then
    bin="$LUNA_BENCH_BIN"
else
    if [[ $build == 1 ]]; then swift build -c release --product luna-bench >&2; fi
    bin="$(swift build -c release --show-bin-path)/luna-bench"
fi
[[ -x "$bin" ]] || { echo "bench/callgrind.sh: $bin not built (swift build -c release --product luna-bench)" >&2; exit 1; }

work="$(mktemp -d /tmp/luna-callgrind.XXXXXX)"
trap 'rm -rf "$work"' EXIT
strip -g -o "$work/luna-bench" "$bin"

# Instructions (Ir) of one command under callgrind; the command's own output goes to $work/out.
instructions() {
    local out="$work/cg.out"
    valgrind --tool=callgrind --callgrind-out-file="$out" --dump-instr=no "$@" >"$work/out" 2>"$work/vg.err" \
        || { echo "bench/callgrind.sh: failed under valgrind: $*" >&2; tail -n 20 "$work/vg.err" >&2; exit 1; }
    awk '/^(summary|totals):/ { print $2; exit }' "$out"
}
events() { awk '/^events / { print $2; exit }' "$work/out"; }
# Inclusive instructions of the trace writer's background thread in the last run, so the
# producing threads' share can be told apart: BlockAssembler.add (encoding the staged events,
# zstd, write(2)), or in builds before the writer encoded, BlockOutput.write (zstd, write(2)).
# The first match is the one with the most instructions: the writer's entry point.
writerIr() { callgrind_annotate --inclusive=yes "$work/cg.out" 2>/dev/null | awk '/BlockAssemblerC3add|BlockOutputC5write/ && !seen { gsub(",", "", $1); print $1; seen = 1 }'; }
per() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", a / b }'; }
declare -A fl

echo "== instructions per event (valgrind --tool=callgrind, N=$n and 2N; $(valgrind --version)) =="
for workload in one-way ping-pong; do
    # ping-pong records about 11 events per round trip, one-way 4 per message.
    count=$n; [[ $workload == ping-pong ]] && count=$((n / 11 * 4))
    i1=$(instructions "$work/luna-bench" workload "$workload" --count "$count" --trace "$work/p1.trace"); e1=$(events); w1=$(writerIr)
    i2=$(instructions "$work/luna-bench" workload "$workload" --count $((2 * count)) --trace "$work/p1.trace"); e2=$(events); w2=$(writerIr)
    u1=$(instructions "$work/luna-bench" workload "$workload" --count "$count")
    u2=$(instructions "$work/luna-bench" workload "$workload" --count $((2 * count)))
    de=$((e2 - e1))
    echo "P1 $workload: traced $(per $((i2 - i1)) $de) instructions/event, untraced $(per $((u2 - u1)) $de) per event-equivalent:" \
         "tracing adds $(per $(( (i2 - i1) - (u2 - u1) )) $de) instructions per traced event ($de events):" \
         "$(per $((w2 - w1)) $de) on the writer's thread, $(per $(( (i2 - i1) - (u2 - u1) - (w2 - w1) )) $de) on the producing threads"
done

# The flight recorder's recording path (one thread, lock and encoding into its ring), in the
# current format and in 1.x (times inside each record), so the time column's cost shows.
for major in 2 1; do
    f1=$(instructions "$work/luna-bench" workload flight --count $((5 * n)) --format-major "$major")
    f2=$(instructions "$work/luna-bench" workload flight --count $((10 * n)) --format-major "$major")
    fl[$major]=$(per $((f2 - f1)) $((5 * n)))
done
echo "P1 flight recorder: ${fl[2]} instructions per recorded write_data-like event (format 2), ${fl[1]} in format 1.x ($((5 * n)) events)"

"$bin" workload record --count "$n" --trace "$work/small.trace" >/dev/null
"$bin" workload record --count $((2 * n)) --trace "$work/large.trace" >/dev/null
declare -A p3
for what in stats reader inflate; do
    i1=$(instructions "$work/luna-bench" workload "$what" --trace "$work/small.trace"); e1=$(events)
    i2=$(instructions "$work/luna-bench" workload "$what" --trace "$work/large.trace"); e2=$(events)
    p3[$what]=$(per $((i2 - i1)) $((e2 - e1)))
done
z1=$(instructions "$(command -v zstd)" -q -dc "$work/small.trace")
z2=$(instructions "$(command -v zstd)" -q -dc "$work/large.trace")
p3[zstd]=$(per $((z2 - z1)) $((e2 - e1)))
echo "P3 decoded event ($((e2 - e1)) events): luna-trace stats path ${p3[stats]} instructions/event," \
     "TraceReader alone ${p3[reader]}, zstd decompression alone ${p3[inflate]}, zstd -dc CLI ${p3[zstd]}"
awk -v s="${p3[stats]}" -v z="${p3[zstd]}" 'BEGIN { printf "P3 stats ÷ zstd -dc instructions: %.2f (goal: stats 1.5× faster than zstd -dc, i.e. ≤ 0.67)\n", s / z }'
