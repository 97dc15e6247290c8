#!/usr/bin/env bash
# Formats Swift sources with the toolchain's swift-format and the repo's .swift-format.
#   scripts/format.sh                 format the Swift files changed since origin/main (or main)
#   scripts/format.sh FILE…           format these files
#   scripts/format.sh --check [FILE…] report what would change (lint), exit 1 if anything would
# Only changed files by default: the code base predates the configuration, and formatting it all
# at once would bury its history under one commit.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=format
if [[ "${1:-}" == "--check" ]]; then mode=lint; shift; fi
if [[ $# -gt 0 ]]; then
    files=("$@")
else
    base=$(git rev-parse --verify -q origin/main || git rev-parse --verify -q main || echo HEAD)
    mapfile -t files < <( { git diff --name-only --diff-filter=AM "$base" -- '*.swift'; \
                            git ls-files --others --exclude-standard -- '*.swift'; } | sort -u)
fi
[[ ${#files[@]} -eq 0 ]] && { echo "format.sh: no Swift files changed"; exit 0; }
if [[ $mode == lint ]]; then
    swift format lint --strict --configuration .swift-format "${files[@]}"
else
    swift format format --in-place --configuration .swift-format "${files[@]}"
    echo "format.sh: formatted ${#files[@]} files"
fi
