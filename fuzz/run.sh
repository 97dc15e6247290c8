#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer) of the trace reader and of the adapter protocol's JSON
# lines, for a bounded time; CI runs it as `fuzz/run.sh 60`.
#
#   fuzz/run.sh [SECONDS-PER-TARGET] [trace-reader|adapter-protocol ...]
#
# Each target is built with `swiftc -sanitize=fuzzer,address` as one module from the sources
# it exercises, seeded from the conformance corpus (trace reader) and from the protocol's
# worked examples (adapter protocol), plus fuzz/regressions/TARGET (inputs that once failed:
# keep each one a fix was made for). Corpora grow in .build/fuzz/corpus-TARGET; a crash,
# leak, timeout or out-of-memory input is saved in .build/fuzz/artifacts and the script exits
# non-zero naming it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(trace-reader adapter-protocol)
swiftc=${SWIFTC:-swiftc}
out=.build/fuzz
mkdir -p "$out/src" "$out/artifacts"
export SWIFT_BACKTRACE=enable=no  # let libFuzzer report crashes itself

flags=(-sanitize=fuzzer,address -parse-as-library -package-name luna -O -g -I Sources/CZstd -lzstd)

build() {  # build NAME SOURCES...
    local name=$1; shift
    echo "== building $name" >&2
    if ! "$swiftc" "${flags[@]}" -module-name "Fuzz_${name//-/_}" "$@" -o "$out/$name" 2> "$out/$name.build.log"; then
        grep -v 'warning: Cannot export local symbol' "$out/$name.build.log" >&2
        exit 1
    fi
}

seed_adapter_protocol() {
    local dir=$1
    mkdir -p "$dir"
    local n=0
    # Every request and response line of the protocol document.
    grep -E '^[<>] \{' docs/ADAPTER_PROTOCOL.md | cut -c3- | while IFS= read -r line; do
        n=$((n + 1))
        printf '%s' "$line" > "$dir/doc-$n"
    done
    printf '%s' '{"id":1,"result":{"a":[1,-2.5e3,"\u00e9\ud83d\ude00",true,false,null]}}' > "$dir/types"
}

status=0
for target in "${targets[@]}"; do
    corpus="$out/corpus-$target"
    seeds="$out/seeds-$target"
    mkdir -p "$corpus" "$seeds"
    cp fuzz/regressions/"$target"/* "$seeds/"  # inputs that once failed
    case "$target" in
        trace-reader)
            # TraceFormat and the bottom module it imports (LunaSupport), compiled as one module.
            mkdir -p "$out/src/trace-format"
            for f in Sources/TraceFormat/*.swift; do
                sed '/^import LunaSupport$/d' "$f" > "$out/src/trace-format/$(basename "$f")"
            done
            build "$target" "$out"/src/trace-format/*.swift Sources/LunaSupport/*.swift fuzz/TraceReaderFuzz.swift
            cp traces/corpus/*.trace "$seeds/"
            # The golden inputs too (a format 1.0 file, a flight window); some share a corpus name.
            for f in Tests/Golden/inputs/*.trace; do cp "$f" "$seeds/golden-$(basename "$f")"; done
            # Their raw event streams (what zstd -dc prints: format 1.x and 2.0 blocks), which
            # the harness also decodes, so mutations reach the record and time-column decoding
            # without first having to survive zstd's checksum.
            for f in Tests/Golden/inputs/*.trace; do zstd -q -dc "$f" > "$seeds/raw-$(basename "$f" .trace)" || true; done
            options=(-max_len=262144)
            ;;
        adapter-protocol)
            # The JSON codec and ConformanceKit's response decoding, compiled into the fuzz module.
            sed '/^import TraceFormat$/d' Sources/ConformanceKit/AdapterResponse.swift > "$out/src/AdapterResponse.swift"
            build "$target" Sources/TraceFormat/JSONString.swift Sources/TraceFormat/JSONValue.swift \
                Sources/TraceFormat/Hex.swift "$out/src/AdapterResponse.swift" fuzz/AdapterProtocolFuzz.swift
            seed_adapter_protocol "$seeds"
            options=(-max_len=4096)
            ;;
        *) echo "unknown target $target (trace-reader, adapter-protocol)" >&2; exit 64 ;;
    esac
    echo "== fuzzing $target for ${seconds}s" >&2
    if ! "$out/$target" "$corpus" "$seeds" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$out/artifacts/$target-" -print_final_stats=1 "${options[@]}" 2> "$out/$target.log"; then
        tail -40 "$out/$target.log" >&2
        echo "fuzz/run.sh: $target failed; input saved as $(ls -t "$out/artifacts/$target-"* 2>/dev/null | head -1)" >&2
        status=1
    else
        grep -E 'stat::number_of_executed_runs|stat::peak_rss_mb|cov:' "$out/$target.log" | tail -3 >&2 || true
    fi
done
exit $status
