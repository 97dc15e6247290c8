#!/usr/bin/env bash
# The main job in one command: record a trace of a sample guest (a supervisor with linked
# workers, one of which traps) under LunaRuntime, summarise it, then replay it through
# luna-conform against the built-in adapter and against the independent Python adapter.
# Installs what is missing first (scripts/setup.sh).
#
#   ./demo.sh [GUEST.wasm ENTRY]      (default: traces/corpus/flows.wasm supervisor)
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh --demo
guest=${1:-traces/corpus/flows.wasm}
entry=${2:-supervisor}
out=${DEMO_OUT:-.build/demo}
mkdir -p "$out"
trace="$out/$entry.trace"

swift build --product luna-trace
swift build --product luna-conform
bin=$(swift build --show-bin-path)

echo "== record: $guest --entry $entry"
status=0
"$bin/luna-trace" record "$guest" --entry "$entry" -o "$trace" || status=$?
echo "(guest exit status $status)"
echo "== stats"
"$bin/luna-trace" stats "$trace"
echo "== lost (postmortem lint)"
"$bin/luna-trace" lost "$trace" || true
echo "== replay through the built-in LunaRuntime adapter"
"$bin/luna-conform" replay "$trace"
echo "== replay through the Python adapter"
"$bin/luna-conform" replay "$trace" --adapter "python3 adapters/python/luna_adapter.py"
