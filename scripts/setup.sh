#!/usr/bin/env bash
# Installs what building and testing Luna needs on a Debian-like machine that has Swift 6.3,
# and says what it installs. Idempotent: when everything is present it installs nothing.
#
#   scripts/setup.sh            (test.sh and .ci/run call it first)
#   scripts/setup.sh --demo     (demo.sh: everything but the browser the HTML tests use)
#
# Needs: libzstd, OpenSSL and SQLite (headers + pkg-config entries), the zstd
# and openssl command-line tools (tests compare against them), pkg-config, python3 (the
# independent adapter) and chromium (the HTML export's tests load the page in it, headless).
# Root installs directly; others go through sudo when it is there.
set -euo pipefail

if ! command -v swift >/dev/null 2>&1; then
    echo "setup: swift is not on PATH; install Swift 6.3 first (https://swift.org/install)" >&2
    exit 1
fi

need=()
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
pkg-config --exists libzstd 2>/dev/null || need+=(libzstd-dev)
pkg-config --exists openssl 2>/dev/null || need+=(libssl-dev)
pkg-config --exists sqlite3 2>/dev/null || need+=(libsqlite3-dev)
command -v zstd >/dev/null 2>&1 || need+=(zstd)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v python3 >/dev/null 2>&1 || need+=(python3)
# The HTML export's tests run a headless browser; the demo does not need one.
if [ "${1:-}" != "--demo" ]; then
    command -v chromium >/dev/null 2>&1 || need+=(chromium)
fi

if [ ${#need[@]} -eq 0 ]; then
    echo "setup: all build and test dependencies present"
    exit 0
fi

echo "setup: installing missing packages: ${need[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: no apt-get here; install these yourself: ${need[*]}" >&2
    exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo=(sudo)
    else
        echo "setup: not root and no sudo; install these yourself: ${need[*]}" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq "${need[@]}"
echo "setup: installed ${need[*]}"
