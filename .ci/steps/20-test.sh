#!/usr/bin/env bash
# The README's test command (all features), the no-std build and the doc tests.
set -euo pipefail
cargo test --workspace --all-features
# The core without std: built as an rlib only, since the C ABI library types need std.
cargo rustc --lib --no-default-features --features alloc --crate-type rlib
cargo test --doc --all-features
