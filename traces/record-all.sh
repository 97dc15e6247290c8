#!/bin/sh
# Rebuilds the corpus guests and re-records every trace of traces/MANIFEST.tsv.
#
#   traces/record-all.sh [--out DIR] [--no-build]
#
# 1. compiles traces/corpus/*.c to .wasm next to them (CLANG, default /opt/swift/usr/bin/clang);
# 2. builds luna-trace (swift build --product luna-trace) unless LUNA_TRACE names a binary or
#    --no-build is given;
# 3. records each manifest line with `luna-trace record GUEST --entry ENTRY -o FILE` and checks
#    the exit status against the manifest's `exit` column.
#
# --out DIR records into DIR (same file names) instead of over the committed traces; CI uses
# it to check that re-recording gives the same calls and results. tls_acceptor gets
# traces/corpus/tls/localhost.{crt,key} (a test-only certificate for localhost) as arguments.
set -eu
# RECORD_TIMEOUT (seconds, default 120) bounds each recording, so a hung guest fails the run.
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
clang=${CLANG:-/opt/swift/usr/bin/clang}
out="$here"
build=1
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=$(mkdir -p "$2" && cd "$2" && pwd); shift 2 ;;
        --no-build) build=0; shift ;;
        *) echo "usage: $0 [--out DIR] [--no-build]" >&2; exit 64 ;;
    esac
done

for src in "$here"/corpus/*.c; do
    "$clang" --target=wasm32 -nostdlib -fno-builtin -O2 \
        -I "$here/guests/include" -I "$here/corpus" \
        -Wl,--no-entry -Wl,--allow-undefined -Wl,--export-dynamic -Wl,--strip-debug \
        -o "${src%.c}.wasm" "$src"
done
echo "built $(ls "$here"/corpus/*.wasm | wc -l | tr -d ' ') corpus guests"

if [ -n "${LUNA_TRACE:-}" ]; then
    trace_bin=$(cd "$(dirname "$LUNA_TRACE")" && pwd)/$(basename "$LUNA_TRACE")
else
    if [ "$build" = 1 ]; then (cd "$root" && swift build --product luna-trace >&2); fi
    trace_bin=$(cd "$root" && swift build --show-bin-path)/luna-trace
fi

cert=$(cat "$here/corpus/tls/localhost.crt")
key=$(cat "$here/corpus/tls/localhost.key")
failures=0
count=0
cd "$here"  # guests by their manifest paths, so trace headers name them relative to traces/
tab=$(printf '\t')
while IFS="$tab" read -r file guest entry status rules description; do
    case "$file" in '#'*|'') continue ;; esac
    target="$out/$file"
    mkdir -p "$(dirname "$target")"
    set +e
    if [ "$entry" = tls_acceptor ]; then
        timeout "${RECORD_TIMEOUT:-120}" "$trace_bin" record "$guest" --entry "$entry" -o "$target" -- "$cert" "$key" >/dev/null 2>"$target.log"
    else
        timeout "${RECORD_TIMEOUT:-120}" "$trace_bin" record "$guest" --entry "$entry" -o "$target" >/dev/null 2>"$target.log"
    fi
    got=$?
    set -e
    count=$((count + 1))
    if [ "$got" != "$status" ]; then
        echo "FAIL $file: luna-trace record exited $got, manifest says $status" >&2
        cat "$target.log" >&2
        failures=$((failures + 1))
    fi
    rm -f "$target.log"
done < "$here/MANIFEST.tsv"
echo "recorded $count traces into ${out#$root/}, $failures with an unexpected exit status"
[ "$failures" = 0 ]
