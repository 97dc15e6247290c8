#!/usr/bin/env bash
# CI fuzzing of the conformance harness (docs/FUZZING.md):
#   1. .ci/fuzz-adapters.sh: generated workloads on the Python and the built-in adapter, every
#      kind of interaction on (the built-in adapter's open causes, .ci/fuzz-known-causes.txt,
#      reported, not failures);
#   2. check that every fault of the built-in adapter is found from seed 1 and shrunk to at most
#      12 adapter requests (the goal is 10; a case that needs two processes takes 11).
#
#   .ci/fuzz.sh [WORKLOADS_PER_ADAPTER]     (default 1000; needs swift and python3)
set -uo pipefail
cd "$(dirname "$0")/.."

count=${1:-1000}
swift build --product luna-conform || exit 1
conform="$(swift build --show-bin-path)/luna-conform"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
started=$SECONDS
step() { echo; echo "== $*"; }

step "fuzz: Python and built-in adapter, $count workloads each"
LUNA_FUZZ_WORKLOADS=$count LUNA_FUZZ_OUT="$work/adapters" bash .ci/fuzz-adapters.sh "$conform" || status=1

step "faults of the built-in adapter (each found from seed 1 and shrunk to <= 12 requests)"
faults=$("$conform" adapter --help | sed -n 's/^\([a-z0-9-]*\)\(\[=N\]\)\{0,1\}: .*/\1/p')
printf '%-28s %-6s %-8s %-8s %s\n' fault found seed seconds requests
for fault in $faults; do
    extra="--no-lifecycle"
    [ "$fault" = link-died-returns-0 ] && extra=""
    t0=$SECONDS
    # shellcheck disable=SC2086
    "$conform" fuzz --adapter "$conform adapter --fault $fault" --seed 1 --time 60s --shrink-time 20 $extra \
        -o "$work/$fault" > "$work/$fault.txt" 2>&1
    seed=$(sed -n 's/^DIVERGED: seed \([0-9]*\):.*/\1/p' "$work/$fault.txt")
    requests=$(sed -n 's/^  minimal case: \([0-9]*\) adapter requests/\1/p' "$work/$fault.txt")
    if [ -z "$seed" ]; then
        printf '%-28s %-6s\n' "$fault" NO
        status=1
    else
        printf '%-28s %-6s %-8s %-8s %s\n' "$fault" yes "$seed" "$((SECONDS - t0))" "${requests:-?}"
        if [ -z "$requests" ] || [ "$requests" -gt 12 ]; then status=1; fi
    fi
done

echo
echo "fuzz.sh took $((SECONDS - started)) s; status $status"
exit $status
