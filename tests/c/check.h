/* The C tests' checks: CHECK(cond), CHECK_NT(call, want) and CHECK_OK(call)
 * count passes and, on the first failure, print the expression, the last
 * status and d3dkmt_emu_last_error, then exit(1). Include after
 * d3dkmt_emu.h, <inttypes.h>, <stdio.h> and <stdlib.h>; the test prints
 * g_passed at the end. */
#ifndef D3DKMT_EMU_TESTS_CHECK_H
#define D3DKMT_EMU_TESTS_CHECK_H

static unsigned g_passed;
/* The status of the last call a CHECK_NT made, printed by every failure. */
static NTSTATUS g_status;

static void check_failed(const char *file, int line, const char *expr) {
    char why[512];
    size_t len = d3dkmt_emu_last_error(why, sizeof why);
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", file, line, expr);
    fprintf(stderr, "  last status: 0x%08" PRIX32 "\n", (uint32_t)g_status);
    fprintf(stderr, "  d3dkmt_emu_last_error: %s\n", len ? why : "(none)");
    fprintf(stderr, "%u passed, 1 failed\n", g_passed);
    exit(1);
}

#define CHECK(cond)                                  \
    do {                                             \
        if (cond) {                                  \
            g_passed++;                              \
        } else {                                     \
            check_failed(__FILE__, __LINE__, #cond); \
        }                                            \
    } while (0)

/* Runs `call` (an NTSTATUS expression) and checks it returned `want`. */
#define CHECK_NT(call, want)                                      \
    do {                                                          \
        g_status = (call);                                        \
        if (g_status == (NTSTATUS)(want)) {                       \
            g_passed++;                                           \
        } else {                                                  \
            check_failed(__FILE__, __LINE__, #call " == " #want); \
        }                                                         \
    } while (0)

#define CHECK_OK(call) CHECK_NT(call, STATUS_SUCCESS)

#endif
