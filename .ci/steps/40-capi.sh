#!/usr/bin/env bash
# The C ABI: the committed header must equal what the pinned cbindgen generates; every header
# item documented; version macros equal Cargo.toml; every prototype exported by the shared
# library; struct layouts equal in C and Rust; the C examples pass as C99 with every warning an
# error, linked shared, linked static, under ASan and UBSan, and under Valgrind without errors or
# leaks; the Python binding's tests pass.
set -euo pipefail
cbindgen_version=0.29.4

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    gcc libc6-dev make pkg-config valgrind binutils python3 python3-venv >/dev/null
if [ "$(cbindgen --version 2>/dev/null)" != "cbindgen $cbindgen_version" ]; then
    cargo install --locked cbindgen --version "$cbindgen_version"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "--- header"
cbindgen --config cbindgen.toml --output "$work/keyprov.h" src/ffi/mod.rs
if ! diff -u include/keyprov.h "$work/keyprov.h"; then
    echo "include/keyprov.h differs from what cbindgen $cbindgen_version generates; run" >&2
    echo "  cbindgen --config cbindgen.toml --output include/keyprov.h src/ffi/mod.rs" >&2
    exit 1
fi
python3 bindings/c/header_tool.py docs include/keyprov.h
# The check itself must catch a missing doc comment: strip one and expect a failure.
sed '0,/^\/\*\*$/s//\/* plain comment/' include/keyprov.h >"$work/undocumented.h"
if python3 bindings/c/header_tool.py docs "$work/undocumented.h" 2>/dev/null; then
    echo "header_tool.py docs accepted a header with an undocumented item" >&2
    exit 1
fi
python3 bindings/c/header_tool.py version include/keyprov.h Cargo.toml

echo "--- library and pkg-config"
bindings/c/install.sh "$work/prefix"
python3 bindings/c/header_tool.py symbols include/keyprov.h "$work/prefix/lib/libkeyprov.so"
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
pkg-config --print-errors --cflags --libs keyprov

echo "--- C examples"
make -C examples/c BUILD="$work/c" test static sanitize valgrind

echo "--- Python binding"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet bindings/python pytest
tests="$PWD/bindings/python/tests"
(cd "$work" && KEYPROV_LIBRARY="$work/prefix/lib/libkeyprov.so" "$work/venv/bin/pytest" -q "$tests")
