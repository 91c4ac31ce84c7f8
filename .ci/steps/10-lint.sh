#!/usr/bin/env bash
# Formatting and lints: rustfmt check, clippy with every warning denied.
set -euo pipefail
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --all-features -- -D warnings
