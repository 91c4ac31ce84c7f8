#!/usr/bin/env bash
# Builds the C library and installs header, static and shared library and keyprov.pc:
#
#   bindings/c/install.sh PREFIX
#
# afterwards `PKG_CONFIG_PATH=PREFIX/lib/pkgconfig pkg-config --cflags --libs keyprov` finds it
# (add --static to link libkeyprov.a). Set KEYPROV_SKIP_BUILD=1 to install what
# `cargo build --release --features capi` already built.
set -euo pipefail
prefix=${1:?usage: install.sh PREFIX}
top=$(cd "$(dirname "$0")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$top/target}
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)

cd "$top"
if [ "${KEYPROV_SKIP_BUILD:-0}" != 1 ]; then
    cargo build --release --features capi --lib
fi
version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)

# The system libraries the Rust standard library inside libkeyprov.a needs, as rustc reports
# them; the fallback is what it reports on glibc Linux.
libs_private=$(cargo rustc --release --features capi --lib --crate-type staticlib --quiet \
    -- --print native-static-libs 2>&1 | sed -n 's/.*native-static-libs: //p' | tail -n 1)
libs_private=${libs_private:--lgcc_s -lutil -lrt -lpthread -lm -ldl -lc}

install -d "$prefix/include" "$prefix/lib/pkgconfig"
install -m 644 include/keyprov.h "$prefix/include/keyprov.h"
install -m 644 "$target/release/libkeyprov.a" "$prefix/lib/libkeyprov.a"
install -m 755 "$target/release/libkeyprov.so" "$prefix/lib/libkeyprov.so"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" -e "s|@LIBS_PRIVATE@|$libs_private|" \
    keyprov.pc.in >"$prefix/lib/pkgconfig/keyprov.pc"
echo "installed keyprov $version into $prefix"
