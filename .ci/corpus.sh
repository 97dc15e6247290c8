#!/usr/bin/env bash
# CI checks of the conformance corpus (traces/MANIFEST.tsv, traces/corpus/):
#   1. every rule of docs/SEMANTICS.md §2–§6 is covered (luna-conform coverage);
#   2. every committed trace decodes under the current format version (luna-trace verify);
#   3. the corpus replays against the built-in adapter and the Python adapter;
#   4. every fault of the built-in adapter is caught by the corpus;
#   5. re-recording every trace gives the same calls and results, timing aside.
#
#   .ci/corpus.sh            (from anywhere; needs swift, clang at /opt/swift/usr/bin, python3)
set -euo pipefail
cd "$(dirname "$0")/.."

swift build --product luna-trace
swift build --product luna-conform
bin=$(swift build --show-bin-path)
trace="$bin/luna-trace"
conform="$bin/luna-conform"
expect=traces/corpus/EXPECTED_FAILURES
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
step() { echo; echo "== $*"; }

step "coverage"
"$conform" coverage traces || status=1

step "decode (format $("$trace" verify traces/corpus/msg_kinds.trace | sed -n 's/^format: \([0-9.]*\).*/\1/p'))"
bad=0
for f in traces/corpus/*.trace; do
    out=$("$trace" verify "$f" 2>&1) || { echo "FAIL verify $f"; echo "$out"; bad=1; continue; }
    echo "$out" | grep -q '^format: 1\.1 ' || { echo "FAIL $f: not format 1.1"; bad=1; }
done
[ "$bad" = 0 ] && echo "all $(ls traces/corpus/*.trace | wc -l) traces verify" || status=1

step "replay: built-in adapter"
"$conform" replay traces/corpus --expect "$expect" | grep -v '^PASS' || status=1

step "replay: Python adapter"
"$conform" replay traces/corpus --expect "$expect" --adapter "python3 adapters/python/luna_adapter.py" \
    | grep -v '^PASS' || status=1

step "faults of the built-in adapter (each must be caught)"
faults=$("$conform" adapter --help | sed -n 's/^\([a-z0-9-]*\)\(\[=N\]\)\{0,1\}: .*/\1/p')
printf '%-28s %-8s %s\n' fault caught "failed traces"
for fault in $faults; do
    if "$conform" replay traces/corpus --expect "$expect" --timeout 1 --adapter "$conform adapter --fault $fault" \
        > "$work/fault.txt" 2>&1; then
        caught=NO
        status=1
    else
        caught=yes
    fi
    failed=$(grep -c '^FAIL' "$work/fault.txt" || true)
    printf '%-28s %-8s %s\n' "$fault" "$caught" "$failed ($(grep '^FAIL' "$work/fault.txt" | head -3 | sed 's/^FAIL traces\/corpus\/\([^ ]*\)\.trace.*/\1/' | paste -sd, -)…)"
done

step "re-record and compare calls and results (timing aside)"
LUNA_TRACE="$trace" traces/record-all.sh --no-build --out "$work/rerecorded" || status=1
differ=0
for f in traces/corpus/*.trace; do
    name=$(basename "$f")
    "$trace" show --format jsonl "$f" | python3 .ci/corpus-normalize.py > "$work/committed.jsonl"
    "$trace" show --format jsonl "$work/rerecorded/corpus/$name" | python3 .ci/corpus-normalize.py > "$work/again.jsonl" \
        || { echo "FAIL $name: re-recorded trace unreadable"; differ=1; continue; }
    if ! cmp -s "$work/committed.jsonl" "$work/again.jsonl"; then
        echo "FAIL $name: re-recording differs"
        diff "$work/committed.jsonl" "$work/again.jsonl" | head -10
        differ=1
    fi
done
[ "$differ" = 0 ] && echo "all traces re-record to the same calls and results" || status=1

echo
[ "$status" = 0 ] && echo "corpus: all checks passed" || echo "corpus: FAILED"
exit "$status"
