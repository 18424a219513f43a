#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (a package of its own, so the main build never sees them) and
# runs them on their committed seeds:
#   scripts/fuzz.sh TARGET [SECONDS] [LIBFUZZER_FLAG...]   one target (default 60 s), e.g. frame-parser 600
#   scripts/fuzz.sh all [SECONDS]                          every target in turn, SECONDS each
#   scripts/fuzz.sh smoke [SECONDS]                        every target, 10 s each by default (for CI)
#   scripts/fuzz.sh list                                   the target names
# The seeds (Fuzz/Corpus/TARGET) are copied into a working corpus under .build-fuzz/corpus/TARGET that
# grows from run to run; git stays clean. A crash, leak or timeout stops the target, is saved under
# .build-fuzz/crashes/TARGET/ (the path is printed) and makes this script exit 1. Replay one with
# `.build-fuzz/debug/PRODUCT FILE`. Each run ends with a line: target, seconds, execs/s, edges, crashes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi

declare -A PRODUCTS=(
    [frame-parser]=FrameParserFuzzer
    [handshake]=ClientHandshakeFuzzer
    [deflate-negotiation]=DeflateNegotiationFuzzer
    [inflater]=InflaterFuzzer
    [config]=ConfigurationFuzzer
    [admin-query]=AdminQueryFuzzer
)
TARGETS=(frame-parser handshake deflate-negotiation inflater config admin-query)
SCRATCH=.build-fuzz
# Swift's own crash backtracer would take over from libFuzzer's handler (and can hang there for
# minutes); libFuzzer prints the symbolicated stack and saves the input itself.
export SWIFT_BACKTRACE=enable=no

usage() {
    echo "usage: scripts/fuzz.sh TARGET|all|smoke|list [SECONDS] [LIBFUZZER_FLAG...]" >&2
    echo "targets: ${TARGETS[*]}" >&2
    exit 2
}

[ $# -ge 1 ] || usage
mode=$1
shift
case "$mode" in
    list) printf '%s\n' "${TARGETS[@]}"; exit 0 ;;
    smoke) seconds=${1:-10} ;;
    all) seconds=${1:-60} ;;
    *) [ -n "${PRODUCTS[$mode]:-}" ] || usage; seconds=${1:-60} ;;
esac
[ $# -ge 1 ] && shift
[[ "$seconds" =~ ^[0-9]+$ ]] || usage

# libFuzzer's main replaces the executables' own; a debug build keeps `@testable import WSGate` linking.
build() {
    echo "==> swift build --package-path Fuzz (-sanitize=fuzzer,address)"
    local start=$SECONDS
    swift build --package-path Fuzz -c debug --scratch-path "$SCRATCH" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
    echo "==> built in $((SECONDS - start)) s"
}

# Runs one target; returns libFuzzer's status (non-zero on a crash, leak or timeout).
run_target() {
    local target=$1 product=${PRODUCTS[$1]}
    shift
    local corpus=$SCRATCH/corpus/$target crashes=$SCRATCH/crashes/$target log=$SCRATCH/logs/$target.log
    mkdir -p "$corpus" "$crashes" "$SCRATCH/logs"
    cp -n Fuzz/Corpus/"$target"/* "$corpus"/
    local flags=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$crashes/")
    [ -f Fuzz/Dictionaries/"$target".dict ] && flags+=(-dict=Fuzz/Dictionaries/"$target".dict)
    echo "==> $target ($product) for $seconds s, corpus $corpus"
    local before status=0
    before=$(ls "$crashes" | wc -l)
    "$SCRATCH/debug/$product" "${flags[@]}" "$@" "$corpus" >"$log" 2>&1 || status=$?
    # libFuzzer names each input it saves; with -fork the parent does not, so new files are counted.
    local inputs found
    inputs=$(sed -n 's/.*Test unit written to //p' "$log")
    found=$(($(ls "$crashes" | wc -l) - before))
    [ -n "$inputs" ] || inputs=$(ls -t "$crashes" | head -n "$found" | sed "s|^|$crashes/|")
    found=$(echo -n "$inputs" | grep -c '^' || true)
    # The last status line reads "#N  REDUCE cov: E ft: F corp: C/S exec/s: X rss: M", or with -fork
    # "#N: cov: E ft: F corp: C exec/s: X oom/timeout/crash: A/B/C time: Ts ...".
    local line runs elapsed
    line=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1 || true)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    [ -n "$runs" ] || runs=$(echo "$line" | sed -n 's/^#\([0-9]*\).*/\1/p')
    elapsed=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
    [ -n "$elapsed" ] || elapsed=$(echo "$line" | sed -n 's/.* time: \([0-9]*\)s.*/\1/p')
    local rate
    if [ -n "$runs" ] && [ "${elapsed:-0}" -gt 0 ]; then
        rate=$((runs / elapsed))
    else
        rate=$(echo "$line" | sed -n 's/.*exec\/s: \([0-9]*\).*/\1/p')
    fi
    echo "$target: ${elapsed:-?} s, ${runs:-?} runs, $rate execs/s," \
        "$(echo "$line" | sed -n 's/.*cov: \([0-9]*\).*/\1/p') edges, $found crash input(s)"
    if [ "$status" -ne 0 ]; then
        echo "error: $target failed (libFuzzer status $status); log $log" >&2
        grep -E '^==[0-9]+==ERROR|^SUMMARY|Fatal error|^artifact_prefix|Test unit written to' "$log" >&2 || true
        for file in $(echo "$inputs" | head -n 5); do
            echo "crash input: $file (replay: $SCRATCH/debug/$product $file)" >&2
        done
        [ "$found" -le 5 ] || echo "... and $((found - 5)) more in $crashes" >&2
    fi
    return "$status"
}

start=$SECONDS
build
case "$mode" in
    all | smoke)
        failed=()
        for target in "${TARGETS[@]}"; do
            run_target "$target" "$@" || failed+=("$target")
        done
        echo "==> $mode done in $((SECONDS - start)) s"
        if [ "${#failed[@]}" -gt 0 ]; then
            echo "error: crashes in ${failed[*]}" >&2
            exit 1
        fi
        ;;
    *)
        run_target "$mode" "$@" || exit 1
        ;;
esac
