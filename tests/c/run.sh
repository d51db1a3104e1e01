#!/usr/bin/env bash
# Builds libd3dkmt_emu (debug), compiles the C client test against
# include/d3dkmt_emu.h, checks the header also parses as C++, runs the test,
# then runs it again under valgrind. Then the Linux drop-ins: builds
# libdxg.so and libdxcore.so (packages dxg, dxcore), checks their exports
# with nm, and runs tests/c/dlopen_dxcore.c the way WSL clients load the
# library (dlopen("libdxcore.so") through LD_LIBRARY_PATH), under valgrind,
# and linked with -ldxg through the installed dxg.pc.
#
# Usage: tests/c/run.sh   (from anywhere; it works from the repository root)
# Environment: CC (default gcc), CXX (default g++), CI=true makes a missing
# valgrind an error instead of a skipped step.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

CC="${CC:-gcc}"
CXX="${CXX:-g++}"
LIBDIR="$PWD/target/debug"
OUTDIR="$PWD/target/c-tests"
BIN="$OUTDIR/session_roundtrip"

echo "==> cargo build --lib (debug)"
cargo build --lib

if [[ ! -f "$LIBDIR/libd3dkmt_emu.so" ]]; then
    echo "error: $LIBDIR/libd3dkmt_emu.so was not built" >&2
    exit 1
fi

mkdir -p "$OUTDIR"

# Every D3DKMT* and d3dkmt_emu_* function the library exports must have a
# prototype in the header (a line starting with its return type).
if command -v nm >/dev/null 2>&1; then
    echo "==> every exported D3DKMT*/d3dkmt_emu_* function is declared in include/d3dkmt_emu.h"
    exported="$(nm -D --defined-only "$LIBDIR/libd3dkmt_emu.so" |
        awk '$2 == "T" && $3 ~ /^(D3DKMT|d3dkmt_emu_)/ { print $3 }' | sort -u)"
    declared="$(grep -oE '^[A-Za-z_][A-Za-z0-9_ ]*[ *](D3DKMT|d3dkmt_emu_)[A-Za-z0-9_]*\(' include/d3dkmt_emu.h |
        sed -E 's/.*[ *]([A-Za-z0-9_]+)\($/\1/' | sort -u)"
    missing="$(comm -23 <(printf '%s\n' "$exported") <(printf '%s\n' "$declared"))"
    if [[ -n "$missing" ]]; then
        echo "error: exported but not declared in include/d3dkmt_emu.h:" >&2
        printf '  %s\n' $missing >&2
        exit 1
    fi
    unexported="$(comm -13 <(printf '%s\n' "$exported") <(printf '%s\n' "$declared") |
        grep -vx 'd3dkmt_emu_process_win32_handle' || true)"
    if [[ -n "$unexported" ]]; then
        echo "warning: declared in include/d3dkmt_emu.h but not exported:" >&2
        printf '  %s\n' $unexported >&2
    fi
    echo "    $(printf '%s\n' "$exported" | wc -l) exports, all declared"
else
    echo "warning: nm not found; skipping the export/prototype comparison" >&2
fi

echo "==> $CXX: include/d3dkmt_emu.h parses as C++17"
"$CXX" -std=c++17 -Wall -Wextra -Werror -fsyntax-only -x c++ include/d3dkmt_emu.h

echo "==> $CXX: include/d3dkmt_emu.h with the libdxg ABI (4-byte WCHAR) parses as C++17"
"$CXX" -std=c++17 -Wall -Wextra -Werror -fsyntax-only -x c++ -DD3DKMT_EMU_LIBDXG_ABI=1 include/d3dkmt_emu.h

echo "==> $CC: tests/c/session_roundtrip.c"
"$CC" -std=c11 -Wall -Wextra -Werror -g -Iinclude \
    tests/c/session_roundtrip.c \
    -o "$BIN" \
    -L"$LIBDIR" -Wl,-rpath,"$LIBDIR" -ld3dkmt_emu \
    -lpthread -ldl -lm

echo "==> run"
"$BIN"

echo "==> $CC: tests/c/faults.c"
"$CC" -std=c11 -Wall -Wextra -Werror -g -Iinclude \
    tests/c/faults.c \
    -o "$OUTDIR/faults" \
    -L"$LIBDIR" -Wl,-rpath,"$LIBDIR" -ld3dkmt_emu \
    -lpthread -ldl -lm
"$OUTDIR/faults"

echo "==> $CC: the same test linked against the static library"
"$CC" -std=c11 -Wall -Wextra -Werror -g -Iinclude \
    tests/c/session_roundtrip.c \
    -o "$BIN-static" \
    "$LIBDIR/libd3dkmt_emu.a" \
    -lpthread -ldl -lm
"$BIN-static"

if command -v valgrind >/dev/null 2>&1; then
    echo "==> run under valgrind"
    valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible "$BIN"
    valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible "$OUTDIR/faults"
elif [[ "${CI:-}" == "true" ]]; then
    echo "error: valgrind is not installed, and CI=true requires the valgrind run" >&2
    exit 1
else
    echo "warning: valgrind is not installed; skipping the valgrind run" >&2
fi

echo "==> $CC: tests/c/gpu_cycle.c (contexts, queues, submission, sync files)"
"$CC" -std=c11 -Wall -Wextra -Werror -g -Iinclude \
    tests/c/gpu_cycle.c \
    -o "$OUTDIR/gpu_cycle" \
    -L"$LIBDIR" -Wl,-rpath,"$LIBDIR" -ld3dkmt_emu \
    -lpthread -ldl -lm
"$OUTDIR/gpu_cycle"
if command -v valgrind >/dev/null 2>&1; then
    valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible "$OUTDIR/gpu_cycle"
fi

echo "==> cargo build -p dxg -p dxcore (the libdxg-ABI drop-ins, same target directory)"
cargo build -p dxg -p dxcore
for lib in libdxg.so libdxcore.so; do
    [[ -f "$LIBDIR/$lib" ]] || { echo "error: $LIBDIR/$lib was not built" >&2; exit 1; }
done

if command -v nm >/dev/null 2>&1; then
    echo "==> libdxg.so and libdxcore.so export every D3DKMT* name of windows-sys and libdxg"
    exports_of() {
        nm -D --defined-only "$LIBDIR/$1" | awk '$2 == "T" && $3 ~ /^(D3DKMT|d3dkmt_emu_)/ { print $3 }' | sort -u
    }
    # The libdxcore.so cdylib exports the #[no_mangle] symbols of its dxg
    # rlib dependency: the two lists must be the same, and the same as
    # libd3dkmt_emu's.
    if ! diff <(exports_of libdxg.so) <(exports_of libdxcore.so) >/dev/null; then
        echo "error: libdxg.so and libdxcore.so export different symbols" >&2
        diff <(exports_of libdxg.so) <(exports_of libdxcore.so) >&2 || true
        exit 1
    fi
    if ! diff <(exports_of libdxg.so) <(exports_of libd3dkmt_emu.so) >/dev/null; then
        echo "error: libdxg.so and libd3dkmt_emu.so export different symbols" >&2
        exit 1
    fi
    wanted="$(cat fixtures/coverage/windows-sys.tsv fixtures/coverage/libdxg.tsv | awk -F'\t' '$1 ~ /^D3DKMT/ { print $1 }' | sort -u)"
    missing="$(comm -23 <(printf '%s\n' "$wanted") <(exports_of libdxcore.so))"
    if [[ -n "$missing" ]]; then
        echo "error: not exported by libdxcore.so:" >&2
        printf '  %s\n' $missing >&2
        exit 1
    fi
    echo "    $(printf '%s\n' "$wanted" | wc -l) names wanted, $(exports_of libdxcore.so | grep -c '^D3DKMT') D3DKMT* exported"
fi

DLOPEN_BIN="$OUTDIR/dlopen_dxcore"
echo "==> $CC: tests/c/dlopen_dxcore.c (libdxg ABI, 4-byte wchar_t; no link to the library)"
"$CC" -std=c11 -Wall -Wextra -Werror -g -Iinclude \
    tests/c/dlopen_dxcore.c \
    -o "$DLOPEN_BIN" \
    -lpthread -ldl

echo "==> run: dlopen(\"libdxcore.so\") through LD_LIBRARY_PATH"
LD_LIBRARY_PATH="$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$DLOPEN_BIN"

if command -v valgrind >/dev/null 2>&1; then
    echo "==> run under valgrind"
    # Only definite and indirect leaks fail this run: the test talks to the
    # default kernel, a static that lives until exit, whose hash tables are
    # held through interior pointers (valgrind's "possibly lost").
    LD_LIBRARY_PATH="$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
        valgrind -q --error-exitcode=1 --leak-check=full \
        --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect "$DLOPEN_BIN"
fi

echo "==> tools/install-wsl-lib.sh, then the same test linked with -ldxg (pkg-config dxg)"
PREFIX="$OUTDIR/prefix"
rm -rf "$PREFIX" "$OUTDIR/wslroot"
tools/install-wsl-lib.sh --no-build "$PREFIX"
WSL_ROOT="$OUTDIR/wslroot" tools/install-wsl-lib.sh --no-build --wsl
[[ -x "$OUTDIR/wslroot/usr/lib/wsl/lib/libdxcore.so" ]] || { echo "error: --wsl did not install libdxcore.so" >&2; exit 1; }
PKG_CONFIG="${PKG_CONFIG:-pkg-config}"
if command -v "$PKG_CONFIG" >/dev/null 2>&1; then
    export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
    "$PKG_CONFIG" --exists dxg dxcore
    # shellcheck disable=SC2046
    "$CC" -std=c11 -Wall -Wextra -Werror -g -DDXG_LINKED \
        tests/c/dlopen_dxcore.c \
        -o "$OUTDIR/linked_dxg" \
        $("$PKG_CONFIG" --cflags --libs dxg) -lpthread -ldl
    LD_LIBRARY_PATH="$("$PKG_CONFIG" --variable=libdir dxg)" "$OUTDIR/linked_dxg"
else
    echo "warning: pkg-config not found; skipping the -ldxg build" >&2
fi

echo "==> C tests passed"
