#!/usr/bin/env bash
# Formats Swift sources with the toolchain's swift-format and the repo's .swift-format.
#   scripts/format.sh                 format the Swift files changed since origin/main (or main)
#   scripts/format.sh FILE…           format these files
#   scripts/format.sh --all           format every tracked Swift file
#   scripts/format.sh --check [--all | FILE…]
#                                     report what would change (lint, strict), exit 1 if anything
#                                     would; test.sh runs `--check --all` first, so CI fails on
#                                     unformatted code
set -euo pipefail
cd "$(dirname "$0")/.."
mode=format
if [[ "${1:-}" == "--check" ]]; then mode=lint; shift; fi
if [[ "${1:-}" == "--all" ]]; then
    mapfile -t files < <(git ls-files -- '*.swift')
elif [[ $# -gt 0 ]]; then
    files=("$@")
else
    base=$(git rev-parse --verify -q origin/main || git rev-parse --verify -q main || echo HEAD)
    mapfile -t files < <( { git diff --name-only --diff-filter=AM "$base" -- '*.swift'; \
                            git ls-files --others --exclude-standard -- '*.swift'; } | sort -u)
fi
[[ ${#files[@]} -eq 0 ]] && { echo "format.sh: no Swift files to format"; exit 0; }
if [[ $mode == lint ]]; then
    if ! swift format lint --strict --parallel --configuration .swift-format "${files[@]}"; then
        echo "format.sh: unformatted code above; scripts/format.sh FILE… formats it" >&2
        exit 1
    fi
    echo "format.sh: ${#files[@]} files formatted as .swift-format says"
else
    swift format format --in-place --parallel --configuration .swift-format "${files[@]}"
    echo "format.sh: formatted ${#files[@]} files"
fi
