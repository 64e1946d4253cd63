#!/usr/bin/env bash
# Fuzz every parser for a fixed budget and print a markdown record.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 60)
#
# Installs the pinned cargo-fuzz if it is missing, builds every target in
# fuzz/, runs each for the budget with a fixed libFuzzer seed (from the
# committed seeds plus whatever fuzz/corpus/ already holds), and prints one
# table row per target. Exits non-zero on any finding, after naming the
# input that triggered it (replay it with `cargo fuzz run TARGET PATH`).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [SECONDS_PER_TARGET]" >&2; exit 2; }

CARGO_FUZZ_VERSION=0.13.2
SEED=1

if [[ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]]; then
    echo "== installing cargo-fuzz $CARGO_FUZZ_VERSION" >&2
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

# cargo-fuzz passes nightly-only -Z flags (sanitizer, coverage options);
# the machines have the stable toolchain, which accepts them with this set.
export RUSTC_BOOTSTRAP=1
build_flags=(--sanitizer address)
if [[ -n ${CARGO_TARGET_DIR:-} ]]; then
    build_flags+=(--target-dir "$CARGO_TARGET_DIR/fuzz")
fi

echo "== cargo fuzz build" >&2
started=$SECONDS
cargo fuzz build "${build_flags[@]}" >&2
echo "   built in $((SECONDS - started)) s" >&2

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
rows=()
failed=0
for target in $(cargo fuzz list); do
    corpus=fuzz/corpus/$target
    mkdir -p "$corpus"
    echo "== $target: $seconds s" >&2
    log=$logs/$target.log
    started=$SECONDS
    status=0
    cargo fuzz run "${build_flags[@]}" "$target" "$corpus" "fuzz/seeds/$target" -- \
        -max_total_time="$seconds" -seed="$SEED" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 >"$log" 2>&1 || status=$?
    took=$((SECONDS - started))
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    # A finding: libFuzzer names the crash-/timeout-/oom-/leak- file it wrote.
    findings=$(grep -c 'Test unit written to' "$log" || true)
    if [[ $status -ne 0 ]]; then
        failed=1
        if [[ $findings -eq 0 ]]; then findings="run failed (exit $status)"; fi
        echo "-- $target failed; the end of its log:" >&2
        tail -n 40 "$log" >&2
        grep 'Test unit written to' "$log" | sed 's/.*Test unit written to /   input: /' >&2 || true
    fi
    rows+=("| $target | ${executions:-?} | $took | $(find "$corpus" -type f | wc -l) | $findings |")
done

echo
echo "libFuzzer, -seed=$SEED, $seconds s per target, $(rustc --version | cut -d' ' -f2) with RUSTC_BOOTSTRAP=1, ASan:"
echo
echo "| target | executions | seconds | corpus | findings |"
echo "| --- | ---: | ---: | ---: | ---: |"
printf '%s\n' "${rows[@]}"
exit $failed
