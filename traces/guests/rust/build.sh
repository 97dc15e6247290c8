#!/bin/sh
# Compiles the Rust guests (lunatic-rs-shaped programs, see README.md) to wasm32-wasi with
# rustc alone: no cargo, no crates (lunatic.rs is the hand-written host-API module they share).
#
#   traces/guests/rust/build.sh
#
# Each program is built twice, as a lunatic-rs user gets it from cargo:
#   NAME.wasm          the debug profile (opt-level 0, debug assertions, overflow checks);
#   NAME-release.wasm  the release profile (opt-level 3).
# DWARF sections are stripped from both to keep the committed files small (the debug build's
# std debuginfo alone is several MB); the name section stays.
#
# RUSTC overrides the compiler (default /usr/bin/rustc: Debian's rustc 1.63 with
# libstd-rust-dev-wasm32 and lld; rustup's rustc on PATH may lack the wasm32-wasi target).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
rustc=${RUSTC:-/usr/bin/rustc}

build() {
    src=$1 name=$2 out=$3
    shift 3
    "$rustc" --target wasm32-wasi --edition 2021 --crate-type bin --crate-name "$name" \
        -C strip=debuginfo "$@" -o "$out" "$src"
    echo "built ${out#$root/} ($(wc -c < "$out" | tr -d ' ') bytes)"
}

# Sources by relative path: panic messages name the file as compiled, and the wasm must not
# depend on where the checkout lives.
cd "$here"
for program in examples lunatic_tests; do
    build "$program.rs" "$program" "$here/$program.wasm" \
        -C opt-level=0 -C debug-assertions=on -C overflow-checks=on
    build "$program.rs" "$program" "$here/$program-release.wasm" \
        -C opt-level=3 -C debug-assertions=off -C overflow-checks=off
done
