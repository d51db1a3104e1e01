/*
 * gpu_cycle.c - a C client of d3dkmt-emu's GPU-work surface, built against
 * include/d3dkmt_emu.h only.
 *
 * With the test playing the kernel-mode driver (d3dkmt_emu_kernel_set_kmd2):
 * adapter, device, virtual context, hardware queue; a GPU wait that holds
 * back a submission until the CPU signals; the progress fence read at its
 * CPU address and waited on from the CPU; a sync file (an eventfd) that
 * becomes readable when its fence gets there; a driver-private escape; a
 * paging queue; the clock calibration; then the device destroyed, the
 * process gone, and nothing left alive.
 *
 * Prints "N passed, 0 failed" and exits 0, or stops at the first failed
 * check and exits 1.
 */
#include "d3dkmt_emu.h"

#include <inttypes.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

/* ---- The fake KMD ---- */

typedef struct kmd_state {
    atomic_int contexts;
    atomic_int destroyed;
    atomic_int submissions;
    _Atomic uint64_t last_progress;
    atomic_int bad_args;
} kmd_state;

static NTSTATUS kmd_create_context(void *context, LUID adapter, uint64_t key, uint32_t kind, uint32_t node,
                                   void *data, uint32_t size) {
    kmd_state *kmd = context;
    if (adapter.LowPart != 0x1234 || key == 0 || kind != 1 || node != 1 || size != 4 || data == NULL) {
        atomic_fetch_add(&kmd->bad_args, 1);
        return STATUS_INVALID_PARAMETER;
    }
    atomic_fetch_add(&kmd->contexts, 1);
    return STATUS_SUCCESS;
}

static void kmd_destroy_context(void *context, LUID adapter, uint64_t key) {
    kmd_state *kmd = context;
    (void)adapter;
    (void)key;
    atomic_fetch_add(&kmd->destroyed, 1);
}

static NTSTATUS kmd_submit(void *context, const d3dkmt_emu_submission *s) {
    kmd_state *kmd = context;
    if (s->hw_queue_key == 0 || !s->has_progress_fence_value || s->command_buffer != 0x10000 ||
        s->private_data_size != 2 || memcmp(s->private_data, "ud", 2) != 0) {
        atomic_fetch_add(&kmd->bad_args, 1);
    }
    atomic_store(&kmd->last_progress, s->progress_fence_value);
    atomic_fetch_add(&kmd->submissions, 1);
    return STATUS_SUCCESS;
}

static NTSTATUS kmd_escape(void *context, LUID adapter, uint32_t device, uint64_t key, void *data, uint32_t size) {
    (void)context;
    (void)adapter;
    (void)device;
    (void)key;
    for (uint32_t i = 0; i < size; i++) {
        ((uint8_t *)data)[i] ^= 0xFF;
    }
    return STATUS_SUCCESS;
}

static uint64_t read_fence(const void *cpu_va) {
    return __atomic_load_n((const uint64_t *)cpu_va, __ATOMIC_SEQ_CST);
}

static int readable(int fd) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

int main(void) {
    d3dkmt_emu_kernel_config config;
    CHECK_OK(d3dkmt_emu_kernel_config_init(&config));
    d3dkmt_emu_kernel *kernel = d3dkmt_emu_kernel_create(&config);
    CHECK(kernel != NULL);

    kmd_state kmd;
    memset(&kmd, 0, sizeof kmd);
    d3dkmt_emu_kmd_gpu_callbacks gpu = {
        .struct_size = sizeof(d3dkmt_emu_kmd_gpu_callbacks),
        .context = &kmd,
        .create_context = kmd_create_context,
        .destroy_context = kmd_destroy_context,
        .submit = kmd_submit,
        .escape = kmd_escape,
    };
    CHECK_OK(d3dkmt_emu_kernel_set_kmd2(kernel, NULL, &gpu));

    d3dkmt_emu_process *process = d3dkmt_emu_process_create(kernel);
    d3dkmt_emu_binding *binding = d3dkmt_emu_thread_bind(process);

    D3DKMT_OPENADAPTERFROMLUID open = {.AdapterLuid = {.LowPart = 0x1234, .HighPart = 0}};
    CHECK_OK(D3DKMTOpenAdapterFromLuid(&open));
    D3DKMT_CREATEDEVICE device;
    memset(&device, 0, sizeof device);
    device.hAdapter = open.hAdapter;
    CHECK_OK(D3DKMTCreateDevice(&device));

    /* A virtual context on node 1, with private data for the KMD. */
    uint8_t driver_data[4] = {1, 2, 3, 4};
    D3DKMT_CREATECONTEXTVIRTUAL ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.hDevice = device.hDevice;
    ctx.NodeOrdinal = 1;
    ctx.pPrivateDriverData = driver_data;
    ctx.PrivateDriverDataSize = sizeof driver_data;
    ctx.ClientHint = D3DKMT_CLIENTHINT_VULKAN;
    CHECK_OK(D3DKMTCreateContextVirtual(&ctx));
    CHECK(atomic_load(&kmd.contexts) == 1);
    ctx.NodeOrdinal = 7;
    CHECK_NT(D3DKMTCreateContextVirtual(&ctx), STATUS_INVALID_PARAMETER);

    D3DKMT_CREATEHWQUEUE queue;
    memset(&queue, 0, sizeof queue);
    queue.hHwContext = ctx.hContext;
    CHECK_OK(D3DKMTCreateHwQueue(&queue));
    CHECK(queue.HwQueueProgressFenceCPUVirtualAddress != NULL);
    CHECK(read_fence(queue.HwQueueProgressFenceCPUVirtualAddress) == 0);

    D3DKMT_CREATESYNCHRONIZATIONOBJECT2 gate;
    memset(&gate, 0, sizeof gate);
    gate.hDevice = device.hDevice;
    gate.Info.Type = D3DDDI_MONITORED_FENCE;
    CHECK_OK(D3DKMTCreateSynchronizationObject2(&gate));

    /* The queue waits for gate >= 1, then runs a submission. */
    UINT64 one = 1;
    D3DKMT_SUBMITWAITFORSYNCOBJECTSTOHWQUEUE wait = {
        .hHwQueue = queue.hHwQueue, .ObjectCount = 1, .ObjectHandleArray = &gate.hSyncObject, .FenceValueArray = &one};
    CHECK_OK(D3DKMTSubmitWaitForSyncObjectsToHwQueue(&wait));
    D3DKMT_SUBMITCOMMANDTOHWQUEUE submit;
    memset(&submit, 0, sizeof submit);
    submit.hHwQueue = queue.hHwQueue;
    submit.HwQueueProgressFenceId = 5;
    submit.CommandBuffer = 0x10000;
    submit.CommandLength = 256;
    submit.pPrivateDriverData = (void *)"ud";
    submit.PrivateDriverDataSize = 2;
    CHECK_OK(D3DKMTSubmitCommandToHwQueue(&submit));
    CHECK(atomic_load(&kmd.submissions) == 1 && atomic_load(&kmd.last_progress) == 5);
    CHECK(read_fence(queue.HwQueueProgressFenceCPUVirtualAddress) == 0);

    /* A sync file on the progress fence reaching 5. */
    D3DKMT_CREATESYNCFILE sync_file = {
        .hDevice = device.hDevice, .hMonitoredFence = queue.hHwQueueProgressFence, .FenceValue = 5};
    CHECK_OK(D3DKMTCreateSyncFile(&sync_file));
    int fd = (int)sync_file.hSyncFile;
    CHECK(fd >= 0 && !readable(fd));

    /* The CPU opens the gate: the queue runs, the progress fence reaches 5. */
    D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU signal = {
        .hDevice = device.hDevice, .ObjectCount = 1, .ObjectHandleArray = &gate.hSyncObject, .FenceValueArray = &one};
    CHECK_OK(D3DKMTSignalSynchronizationObjectFromCpu(&signal));
    CHECK(read_fence(queue.HwQueueProgressFenceCPUVirtualAddress) == 5);
    CHECK(readable(fd));
    close(fd);
    UINT64 five = 5;
    D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU cpu_wait = {.hDevice = device.hDevice,
                                                           .ObjectCount = 1,
                                                           .ObjectHandleArray = &queue.hHwQueueProgressFence,
                                                           .FenceValueArray = &five};
    CHECK_OK(D3DKMTWaitForSynchronizationObjectFromCpu(&cpu_wait));

    /* A driver-private escape comes back as the KMD left it. */
    uint8_t escape_data[3] = {0x00, 0x0F, 0xF0};
    D3DKMT_ESCAPE escape;
    memset(&escape, 0, sizeof escape);
    escape.hAdapter = open.hAdapter;
    escape.hDevice = device.hDevice;
    escape.Type = D3DKMT_ESCAPE_DRIVERPRIVATE;
    escape.pPrivateDriverData = escape_data;
    escape.PrivateDriverDataSize = sizeof escape_data;
    CHECK_OK(D3DKMTEscape(&escape));
    CHECK(escape_data[0] == 0xFF && escape_data[1] == 0xF0 && escape_data[2] == 0x0F);

    D3DKMT_CREATEPAGINGQUEUE paging;
    memset(&paging, 0, sizeof paging);
    paging.hDevice = device.hDevice;
    paging.Priority = D3DDDI_PAGINGQUEUE_PRIORITY_NORMAL;
    CHECK_OK(D3DKMTCreatePagingQueue(&paging));
    CHECK(paging.FenceValueCPUVirtualAddress != NULL && read_fence(paging.FenceValueCPUVirtualAddress) == 0);

    D3DKMT_QUERYCLOCKCALIBRATION clock;
    memset(&clock, 0, sizeof clock);
    clock.hAdapter = open.hAdapter;
    CHECK_OK(d3dkmt_emu_kernel_advance_ns(kernel, 2000));
    CHECK_OK(D3DKMTQueryClockCalibration(&clock));
    CHECK(clock.ClockData.GpuFrequency == 1000000000u && clock.ClockData.GpuClockCounter == 2000);

    CHECK(d3dkmt_emu_kernel_live_objects(kernel, D3DKMT_EMU_OBJECT_HW_QUEUE) == 1);
    D3DKMT_DESTROYDEVICE destroy = {.hDevice = device.hDevice};
    CHECK_OK(D3DKMTDestroyDevice(&destroy));
    CHECK(atomic_load(&kmd.destroyed) == 1);
    CHECK(d3dkmt_emu_kernel_live_objects(kernel, D3DKMT_EMU_OBJECT_CONTEXT) == 0);
    CHECK(d3dkmt_emu_kernel_live_objects(kernel, D3DKMT_EMU_OBJECT_HW_QUEUE) == 0);
    CHECK(d3dkmt_emu_kernel_live_objects(kernel, D3DKMT_EMU_OBJECT_PAGING_QUEUE) == 0);
    CHECK(atomic_load(&kmd.bad_args) == 0);

    CHECK_OK(d3dkmt_emu_thread_unbind(binding));
    d3dkmt_emu_process_exit(process);
    CHECK(d3dkmt_emu_kernel_live_objects(kernel, D3DKMT_EMU_OBJECT_ALL) == 0);
    d3dkmt_emu_process_release(process);
    d3dkmt_emu_kernel_release(kernel);
    printf("gpu_cycle: %u passed, 0 failed\n", g_passed);
    return 0;
}
