#!/usr/bin/env bash
# The example services end to end: the README's first program provisions and registers the
# 300 phones of the sample inventory on loopback and must end with the exact summary line.
# Built in the debug profile the test step already compiled, to spare CI a release build.
set -euo pipefail
cargo build --quiet -p keyprov-services --bins
output=$(timeout 300 cargo run --quiet -p keyprov-services --bin enterprise)
printf '%s\n' "${output}"
last=$(printf '%s\n' "${output}" | tail -n 1)
if [[ "${last}" != "provisioned=300 registered=300 failed=0" ]]; then
    echo "enterprise run ended with '${last}'" >&2
    exit 1
fi
