#!/usr/bin/env bash
# The full provisioning and registration cycle bench runs its routine once (criterion's --test
# mode), so a cycle that stops working fails CI rather than only the next measurement.
set -euo pipefail
cargo bench --bench cycle -- --test
