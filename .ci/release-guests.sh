#!/usr/bin/env bash
# Release-build coverage: guests that use networking, traced, run by the release luna-trace
# (a crash that only release builds have hid behind debug-only test runs); with --bench, the
# large-guest figures printed by the release luna-bench too.
#
#   .ci/release-guests.sh [--bench]      # builds release products (swift build -c release)
#   LUNA_RELEASE_BIN=DIR .ci/release-guests.sh   # uses the release binaries in DIR as they are
#                                                # (test.sh: those `swift test -c release` built)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${LUNA_RELEASE_BIN:-}" ]; then
    B=$LUNA_RELEASE_BIN
else
    swift build -c release
    B=$(swift build -c release --show-bin-path)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
guest=traces/guests/net_handover.wasm
fail=0

# run NAME ENTRY EXPECTED_STATUS TEXT...: records ENTRY, checks its exit status and that its
# output holds every TEXT, and that the trace decodes.
run() {
    local name=$1 entry=$2 want=$3
    shift 3
    local status=0
    "$B/luna-trace" record "$guest" --entry "$entry" -o "$tmp/$name.trace" "${ARGS[@]+"${ARGS[@]}"}" \
        > "$tmp/$name.out" 2>&1 || status=$?
    local ok=1
    [ "$status" = "$want" ] || ok=0
    for text in "$@"; do grep -qF -- "$text" "$tmp/$name.out" || ok=0; done
    "$B/luna-trace" verify "$tmp/$name.trace" > /dev/null 2>&1 || ok=0
    if [ $ok = 1 ]; then
        echo "ok   $name ($("$B/luna-trace" stats "$tmp/$name.trace" 2>/dev/null | head -1))"
    else
        echo "FAIL $name (status $status, wanted $want)"; sed 's/^/     /' "$tmp/$name.out"; fail=1
    fi
}

ARGS=()
# TCP echo between guests (the listener hands the accepted stream to a worker; its own later
# read of the old id traps, status 1); UDP round trip through a handed-over socket; DNS.
run tcp tcp_listener 1 "worker: echoed" "client: got echo:ping"
run udp udp_owner 1 "worker: answered" "client: got pong:ping"
run resolve resolve_localhost 0
# TLS echo with a self-signed certificate made here.
if command -v openssl > /dev/null; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 1 \
        -subj /CN=localhost -addext subjectAltName=DNS:localhost > /dev/null 2>&1
    ARGS=(-- "$(cat "$tmp/cert.pem")" "$(cat "$tmp/key.pem")")
    run tls tls_listener 1 "worker: echoed over tls" "client: got tls-echo:ping"
fi

[ $fail = 0 ] || exit 1
if [ "${1:-}" = "--bench" ]; then "$B/luna-bench" guests; fi
