#!/usr/bin/env bash
# The tests in one command: installs what is missing (scripts/setup.sh), then
#   0. scripts/format.sh --check --all   every Swift file formatted as .swift-format says
#                                    (seconds; before any build, so it fails fast);
#   1. swift test                    every unit, integration and golden test (debug build);
#                                    (the corpus checks are in it: CorpusTests);
#   2. ./demo.sh                     the README's main job, end to end;
#   3. swift test -c release         the guest, networking and runner tests again on a release
#                                    build (release-only failures exist: optimisation changes
#                                    thread and memory behaviour), then the release luna-trace
#                                    recording networking guests (.ci/release-guests.sh);
#   4. .ci/fuzz-adapters.sh          LUNA_FUZZ_WORKLOADS (default 1000) generated workloads
#                                    recorded on LunaRuntime and replayed on the Python and on
#                                    the built-in adapter, by the release luna-conform;
#   5. fuzz/run.sh                   libFuzzer on the trace reader and the adapter-protocol
#                                    parser for LUNA_FUZZ_SECONDS (default 60) each.
# Warnings are errors (LUNA_WARNINGS_AS_ERRORS). .ci/run calls this script.
#
#   ./test.sh            everything
#   ./test.sh --quick    steps 0 and 1 only
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
export LUNA_WARNINGS_AS_ERRORS=1

echo "== format check (scripts/format.sh --check --all)"
bash scripts/format.sh --check --all

echo "== swift test (debug)"
swift test

[ "${1:-}" = "--quick" ] && exit 0

echo "== the main job (./demo.sh): record the sample guest, inspect it, replay it on both adapters"
DEMO_OUT=.build/demo-ci ./demo.sh

echo "== swift test -c release (guests, networking, runner)"
swift test -c release --filter 'LunaRuntimeTests|Runner|EndToEnd'

echo "== release luna-trace on networking guests (TCP, UDP, TLS echo, DNS), traced"
LUNA_RELEASE_BIN=$(swift build -c release --show-bin-path) bash .ci/release-guests.sh

echo "== luna-conform fuzz: ${LUNA_FUZZ_WORKLOADS:-1000} generated workloads on each adapter (release build)"
release_bin=$(swift build -c release --show-bin-path)
[ -x "$release_bin/luna-conform" ] || swift build -c release --product luna-conform
bash .ci/fuzz-adapters.sh "$release_bin/luna-conform"

# Coverage-guided fuzzing of the trace reader and the adapter-protocol parser, bounded in time
# (LUNA_FUZZ_SECONDS per target; 0 skips it, and says so).
if [ "${LUNA_FUZZ_SECONDS:-60}" != 0 ]; then
    echo "== libFuzzer: trace reader and adapter protocol, ${LUNA_FUZZ_SECONDS:-60} s each"
    fuzz/run.sh "${LUNA_FUZZ_SECONDS:-60}"
else
    echo "== libFuzzer skipped (LUNA_FUZZ_SECONDS=0)"
fi
