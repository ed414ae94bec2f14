#!/usr/bin/env bash
# Run every cargo-fuzz target for SECONDS each (default 60), on nightly.
#
#   bash rust/fuzz/run.sh 300                 # every target, 300 s each
#   bash rust/fuzz/run.sh 60 server_receive   # one target
#
# Seeds live in rust/fuzz/seeds/<target>/ (committed); libFuzzer grows its
# working corpus in rust/fuzz/corpus/<target>/ (not committed). A crash stops
# the run and leaves its input in rust/fuzz/artifacts/<target>/: turn it into
# a regression test, then fix the engine. Needs `cargo install cargo-fuzz`.
set -euo pipefail
cd "$(dirname "$0")/../.."
fuzz=rust/fuzz
seconds=${1:-60}
shift || true
targets=("${@:-parse_frame server_receive handshake utf8 inflate}")
# shellcheck disable=SC2206
targets=(${targets[*]})
for target in "${targets[@]}"; do
    mkdir -p "$fuzz/corpus/$target"
    echo "::: fuzzing $target for ${seconds}s"
    cargo +nightly fuzz run --fuzz-dir "$fuzz" "$target" \
        "$fuzz/corpus/$target" "$fuzz/seeds/$target" -- \
        -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 -print_final_stats=1
done
