#!/usr/bin/env bash
# Generated workloads (docs/FUZZING.md) recorded on LunaRuntime and replayed on both adapters,
# with every kind of interaction on (lifecycle, skip-search waits):
#   - the Python adapter: any divergence fails the run, Luna's own included (--no-reference);
#   - the built-in adapter: the open causes of that adapter listed in .ci/fuzz-known-causes.txt
#     are reported, not failures (with the Python adapter as reference, so that a trace Luna
#     itself got wrong still fails); anything else fails the run.
# A failure prints its seed and the command that reruns exactly that workload; its minimal case
# is left in LUNA_FUZZ_OUT.
#
#   .ci/fuzz-adapters.sh [LUNA_CONFORM]    (default: builds the debug luna-conform)
#   LUNA_FUZZ_WORKLOADS   workloads per adapter (default 1000; 0 skips the step)
#   LUNA_FUZZ_SEED        first seed (default 1: the same workloads every run)
#   LUNA_FUZZ_OUT         where minimal cases go (default .build/fuzz)
set -uo pipefail
cd "$(dirname "$0")/.."

count=${LUNA_FUZZ_WORKLOADS:-1000}
seed=${LUNA_FUZZ_SEED:-1}
out=${LUNA_FUZZ_OUT:-.build/fuzz}
if [ "$count" = 0 ]; then echo "fuzz-adapters: skipped (LUNA_FUZZ_WORKLOADS=0)"; exit 0; fi
if [ -n "${1:-}" ]; then
    conform=$1
else
    swift build --product luna-conform || exit 1
    conform="$(swift build --show-bin-path)/luna-conform"
fi
python="python3 adapters/python/luna_adapter.py"
rm -rf "$out"
status=0

# run NAME ARGS...: one fuzz run; on failure, says how to rerun it.
run() {
    local name=$1
    shift
    local t0=$SECONDS
    echo "-- $name: $count workloads from seed $seed"
    if "$conform" fuzz --seed "$seed" --count "$count" --shrink-time 15 -o "$out/$name" "$@"; then
        echo "-- $name: ok in $((SECONDS - t0)) s"
    else
        echo "-- $name: FAILED in $((SECONDS - t0)) s (the DIVERGED line above gives the seed and the rerun command; minimal case in $out/$name)"
        status=1
    fi
}

run python --adapter "$python" --no-reference
run built-in --reference "$python" --known-causes .ci/fuzz-known-causes.txt
exit $status
