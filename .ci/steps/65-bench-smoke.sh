#!/usr/bin/env bash
# Benches: every bench compiles, and the key, key identifier and registrar memory benches run
# each routine once (criterion's --test mode; the memory bench then fills 10,000 devices).
set -euo pipefail
cargo bench --all-features --no-run
for bench in keys keyid registrar_memory; do
    cargo bench --all-features --bench "${bench}" -- --test
done
