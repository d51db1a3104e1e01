#!/usr/bin/env bash
# Builds libd3dkmt_emu (debug), compiles the C client test against
# include/d3dkmt_emu.h, checks the header also parses as C++, runs the test,
# then runs it again under valgrind.
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

echo "==> $CC: tests/c/session_roundtrip.c"
"$CC" -std=c11 -Wall -Wextra -Werror -g -Iinclude \
    tests/c/session_roundtrip.c \
    -o "$BIN" \
    -L"$LIBDIR" -Wl,-rpath,"$LIBDIR" -ld3dkmt_emu \
    -lpthread -ldl -lm

echo "==> run"
"$BIN"

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

echo "==> C tests passed"
