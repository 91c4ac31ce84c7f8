#!/usr/bin/env bash
# Fuzz smoke run: every cargo-fuzz target for KEYPROV_FUZZ_SECONDS (default 20) seconds, starting
# from its committed seed corpus. cargo fuzz needs a nightly toolchain; without one the run is
# skipped and says so (the corpora are still replayed on stable by `cargo test`, step 20).
set -euo pipefail
seconds="${KEYPROV_FUZZ_SECONDS:-20}"

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    echo "SKIPPED the fuzz smoke run: no nightly toolchain is installed, and cargo fuzz needs one."
    echo "The seed corpora and saved regressions were replayed by tests/fuzz_corpus_replay.rs."
    exit 0
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install --locked cargo-fuzz
fi

cd fuzz
cargo +nightly fuzz build
scratch="$(mktemp -d)"
trap 'rm -rf "${scratch}"' EXIT
for target in $(cargo +nightly fuzz list); do
    echo "--> fuzzing ${target} for ${seconds}s"
    mkdir -p "${scratch}/${target}"
    # New inputs go to the scratch directory; the committed seeds are only read.
    log="${scratch}/${target}.log"
    if ! cargo +nightly fuzz run "${target}" "${scratch}/${target}" "corpus/${target}" -- \
        -max_total_time="${seconds}" -print_final_stats=1 >"${log}" 2>&1; then
        tail -n 60 "${log}"
        echo "fuzz target ${target} failed; its crash input is under fuzz/artifacts/${target}/"
        exit 1
    fi
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "${log}" || true
done
echo "fuzz smoke run: every target ran ${seconds}s without a failure"
