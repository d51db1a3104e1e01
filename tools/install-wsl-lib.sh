#!/usr/bin/env bash
# Installs d3dkmt-emu's drop-in libraries where WSL-style clients look for them.
#
# Usage: tools/install-wsl-lib.sh [--release] [--no-build] [--wsl] [PREFIX]
#
#   PREFIX       installs PREFIX/lib/{libdxg,libdxcore,libd3dkmt_emu}.so,
#                PREFIX/lib/pkgconfig/{dxg,dxcore}.pc and PREFIX/include/
#                (d3dkmt_emu.h, dxg/d3dkmt_emu_dxg.h). Then
#                  PKG_CONFIG_PATH=PREFIX/lib/pkgconfig pkg-config --cflags --libs dxg
#                links a client with -ldxg, and LD_LIBRARY_PATH=PREFIX/lib lets
#                dlopen("libdxcore.so") find ours.
#   --wsl        also copies libdxcore.so and libdxg.so to
#                $WSL_ROOT/usr/lib/wsl/lib/ (WSL_ROOT defaults to /), the path
#                clients hard-code (dlopen("/usr/lib/wsl/lib/libdxcore.so")).
#                On a CI runner: sudo tools/install-wsl-lib.sh --wsl
#                Do not do this on a real WSL machine: it would shadow
#                Microsoft's libdxcore.so.
#   --release    installs the release build (default: debug).
#   --no-build   installs what target/ already holds.
#
# Builds with `cargo build -p d3dkmt-emu -p dxg -p dxcore --lib` (one target
# directory, so the dependencies build once).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

profile=debug
build=1
wsl=0
prefix=""
for arg in "$@"; do
    case "$arg" in
        --release) profile=release ;;
        --no-build) build=0 ;;
        --wsl) wsl=1 ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        -*) echo "install-wsl-lib.sh: unknown option $arg" >&2; exit 2 ;;
        *) [[ -z "$prefix" ]] || { echo "install-wsl-lib.sh: one PREFIX only" >&2; exit 2; }
           prefix="$arg" ;;
    esac
done
if [[ -z "$prefix" && "$wsl" == 0 ]]; then
    echo "usage: tools/install-wsl-lib.sh [--release] [--no-build] [--wsl] [PREFIX]" >&2
    exit 2
fi

if [[ "$build" == 1 ]]; then
    flags=()
    [[ "$profile" == release ]] && flags+=(--release)
    cargo build "${flags[@]}" -p d3dkmt-emu -p dxg -p dxcore --lib
fi
libdir="target/$profile"
for lib in libdxg.so libdxcore.so libd3dkmt_emu.so; do
    [[ -f "$libdir/$lib" ]] || { echo "install-wsl-lib.sh: $libdir/$lib is not built" >&2; exit 1; }
done

if [[ -n "$prefix" ]]; then
    mkdir -p "$prefix"
    prefix="$(cd "$prefix" && pwd)"
    install -d "$prefix/lib/pkgconfig" "$prefix/include/dxg"
    install -m 0755 "$libdir/libdxg.so" "$libdir/libdxcore.so" "$libdir/libd3dkmt_emu.so" "$prefix/lib/"
    install -m 0644 include/d3dkmt_emu.h "$prefix/include/"
    install -m 0644 include/dxg/d3dkmt_emu_dxg.h "$prefix/include/dxg/"
    for pc in dxg dxcore; do
        sed "s|@PREFIX@|$prefix|" "$pc/$pc.pc.in" > "$prefix/lib/pkgconfig/$pc.pc"
    done
    echo "installed into $prefix (lib/, lib/pkgconfig/dxg.pc, dxcore.pc, include/)"
fi

if [[ "$wsl" == 1 ]]; then
    wsl_dir="${WSL_ROOT:-}/usr/lib/wsl/lib"
    install -d "$wsl_dir"
    install -m 0755 "$libdir/libdxcore.so" "$libdir/libdxg.so" "$wsl_dir/"
    echo "installed libdxcore.so and libdxg.so into $wsl_dir"
fi
