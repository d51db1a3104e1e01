/*
 * faults.c - a C client of the fault-injection and leak-report API of
 * d3dkmt-emu, built against include/d3dkmt_emu.h only.
 *
 * Arms faults on a fresh kernel (the 2nd D3DKMTCreateDevice fails; a
 * record-only fault on every call), checks the failed call wrote nothing,
 * reads the fault log, refuses bad specs, and reads the leak report before
 * and after the process exits.
 *
 * Prints "N passed, 0 failed" and exits 0, or stops at the first failed
 * check and exits 1.
 */
#include "d3dkmt_emu.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned g_passed;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (cond) {                                                                  \
            g_passed++;                                                              \
        } else {                                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            fprintf(stderr, "%u passed, 1 failed\n", g_passed);                      \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

static NTSTATUS create_device(D3DKMT_HANDLE adapter, D3DKMT_HANDLE *device) {
    D3DKMT_CREATEDEVICE args;
    memset(&args, 0, sizeof args);
    args.hAdapter = adapter;
    args.hDevice = 0xA5A5A5A5u;
    NTSTATUS status = D3DKMTCreateDevice(&args);
    *device = args.hDevice;
    return status;
}

static d3dkmt_emu_fault_spec spec_for(const char *entry, NTSTATUS status, UINT when) {
    d3dkmt_emu_fault_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.struct_size = sizeof spec;
    spec.status = status;
    spec.entry = entry;
    spec.when = when;
    return spec;
}

int main(void) {
    d3dkmt_emu_kernel *kernel = d3dkmt_emu_kernel_create(NULL);
    CHECK(kernel != NULL);
    d3dkmt_emu_process *proc = d3dkmt_emu_process_create(kernel);
    CHECK(proc != NULL);
    d3dkmt_emu_binding *binding = d3dkmt_emu_thread_bind(proc);
    CHECK(binding != NULL);

    D3DKMT_OPENADAPTERFROMLUID open;
    memset(&open, 0, sizeof open);
    open.AdapterLuid.LowPart = 0x1234;
    CHECK(D3DKMTOpenAdapterFromLuid(&open) == STATUS_SUCCESS); /* call 1 */

    /* The 2nd device create fails with STATUS_NO_MEMORY and writes nothing. */
    d3dkmt_emu_fault_spec nth = spec_for("D3DKMTCreateDevice", STATUS_NO_MEMORY, D3DKMT_EMU_FAULT_NTH);
    nth.nth = 2;
    uint64_t nth_id = 0;
    CHECK(d3dkmt_emu_fault_arm(kernel, &nth, &nth_id) == STATUS_SUCCESS);
    CHECK(nth_id != 0);
    d3dkmt_emu_fault_spec what_if = spec_for(NULL, STATUS_INVALID_PARAMETER, D3DKMT_EMU_FAULT_EVERY);
    what_if.record_only = 1;
    uint64_t what_if_id = 0;
    CHECK(d3dkmt_emu_fault_arm(kernel, &what_if, &what_if_id) == STATUS_SUCCESS);
    CHECK(what_if_id != nth_id);

    D3DKMT_HANDLE first = 0, second = 0, third = 0;
    CHECK(create_device(open.hAdapter, &first) == STATUS_SUCCESS); /* call 2 */
    CHECK(first != 0 && first != 0xA5A5A5A5u);
    CHECK(create_device(open.hAdapter, &second) == STATUS_NO_MEMORY); /* call 3 */
    CHECK(second == 0xA5A5A5A5u);
    CHECK(create_device(open.hAdapter, &third) == STATUS_SUCCESS); /* call 4 */
    CHECK(d3dkmt_emu_kernel_live_objects(kernel, D3DKMT_EMU_OBJECT_DEVICE) == 2);

    /* The log: the record-only fault on calls 2, 3 and 4, the real one on 3. */
    size_t count = 0;
    CHECK(d3dkmt_emu_fault_log(kernel, NULL, 0, &count) == STATUS_SUCCESS);
    CHECK(count == 4);
    d3dkmt_emu_fault_record records[8];
    memset(records, 0, sizeof records);
    CHECK(d3dkmt_emu_fault_log(kernel, records, 8, &count) == STATUS_SUCCESS);
    CHECK(count == 4);
    CHECK(records[0].fault_id == what_if_id && records[0].sequence == 2 && records[0].injected == 0);
    /* Matched in arming order: the real fault, then the record-only one. */
    CHECK(records[1].fault_id == nth_id && records[1].sequence == 3 && records[1].injected == 1);
    CHECK(records[1].status == STATUS_NO_MEMORY);
    CHECK(records[1].process_id == d3dkmt_emu_process_id(proc));
    CHECK(strcmp(records[1].entry, "D3DKMTCreateDevice") == 0);
    CHECK(records[2].fault_id == what_if_id && records[2].sequence == 3 && records[2].injected == 0);
    CHECK(records[2].status == STATUS_INVALID_PARAMETER);
    CHECK(records[3].sequence == 4);
    CHECK(d3dkmt_emu_fault_log_clear(kernel) == STATUS_SUCCESS);
    CHECK(d3dkmt_emu_fault_log(kernel, NULL, 0, &count) == STATUS_SUCCESS && count == 0);

    /* Disarm: once, then the id is unknown. */
    CHECK(d3dkmt_emu_fault_disarm(kernel, what_if_id) == STATUS_SUCCESS);
    CHECK(d3dkmt_emu_fault_disarm(kernel, what_if_id) == STATUS_INVALID_PARAMETER);
    CHECK(d3dkmt_emu_fault_disarm(kernel, nth_id) == STATUS_SUCCESS);

    /* Bad specs and arguments are refused, and arm nothing. */
    uint64_t id = 77;
    d3dkmt_emu_fault_spec bad = spec_for("D3DKMTNoSuchThing", STATUS_NO_MEMORY, D3DKMT_EMU_FAULT_EVERY);
    CHECK(d3dkmt_emu_fault_arm(kernel, &bad, &id) == STATUS_INVALID_PARAMETER);
    bad = spec_for(NULL, STATUS_NO_MEMORY, D3DKMT_EMU_FAULT_NTH); /* nth 0 */
    CHECK(d3dkmt_emu_fault_arm(kernel, &bad, &id) == STATUS_INVALID_PARAMETER);
    bad = spec_for(NULL, STATUS_NO_MEMORY, D3DKMT_EMU_FAULT_PROBABILITY);
    bad.probability = 1.5;
    CHECK(d3dkmt_emu_fault_arm(kernel, &bad, &id) == STATUS_INVALID_PARAMETER);
    bad = spec_for(NULL, STATUS_NO_MEMORY, 9);
    CHECK(d3dkmt_emu_fault_arm(kernel, &bad, &id) == STATUS_INVALID_PARAMETER);
    bad = spec_for(NULL, STATUS_NO_MEMORY, D3DKMT_EMU_FAULT_EVERY);
    bad.struct_size = 8;
    CHECK(d3dkmt_emu_fault_arm(kernel, &bad, &id) == STATUS_INVALID_PARAMETER);
    CHECK(d3dkmt_emu_fault_arm(kernel, NULL, &id) == STATUS_INVALID_PARAMETER);
    CHECK(d3dkmt_emu_fault_arm(NULL, &bad, &id) == STATUS_INVALID_PARAMETER);
    CHECK(id == 77);
    D3DKMT_HANDLE fourth = 0;
    CHECK(create_device(open.hAdapter, &fourth) == STATUS_SUCCESS);

    /* The leak report: three devices alive, each named with its creator. */
    size_t needed = 0;
    CHECK(d3dkmt_emu_kernel_leak_report(kernel, NULL, 0, &needed) == 3);
    CHECK(needed > 0);
    char *text = malloc(needed + 1);
    CHECK(text != NULL);
    CHECK(d3dkmt_emu_kernel_leak_report(kernel, text, needed + 1, NULL) == 3);
    CHECK(strlen(text) == needed);
    CHECK(strstr(text, "3 live object(s)") != NULL);
    CHECK(strstr(text, "in D3DKMTCreateDevice (call 2)") != NULL);
    free(text);
    char small[8];
    CHECK(d3dkmt_emu_kernel_leak_report(kernel, small, sizeof small, &needed) == 3);
    CHECK(strlen(small) == sizeof small - 1);

    /* Exit closes everything: the report is clean. */
    CHECK(d3dkmt_emu_thread_unbind(binding) == STATUS_SUCCESS);
    d3dkmt_emu_process_exit(proc);
    char clean[128];
    CHECK(d3dkmt_emu_kernel_leak_report(kernel, clean, sizeof clean, NULL) == 0);
    CHECK(strstr(clean, "no live objects") != NULL);
    CHECK(d3dkmt_emu_kernel_leak_report(NULL, clean, sizeof clean, NULL) == -1);

    d3dkmt_emu_process_release(proc);
    d3dkmt_emu_kernel_release(kernel);
    printf("%u passed, 0 failed\n", g_passed);
    return 0;
}
