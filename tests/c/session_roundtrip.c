/*
 * session_roundtrip.c - a C client of d3dkmt-emu, built against
 * include/d3dkmt_emu.h only (no Windows headers).
 *
 * Walks a protected session through its whole life across two virtual
 * processes of a fresh kernel, with the test playing the kernel-mode driver:
 *
 *   process A  opens the adapter, creates a device, a shareable monitored
 *              fence and a protected session on them, shares the session
 *              and the fence as NT handles and duplicates both into B;
 *   process B  queries the session's blobs, opens the session, the fence
 *              and its own device, and watches the status change as the
 *              "driver" flips it INVALID and back to OK;
 *   then       both close everything, and the driver's destroy callback must
 *              run exactly once, only when the last handle goes.
 *
 * It also feeds NULL, zeroed and 0xA5-filled structs to the five session
 * entry points and checks they fail with the required status without
 * writing anything.
 *
 * Prints "N passed, 0 failed" and exits 0, or stops at the first failed
 * check with its location and status and exits 1.
 */
#include "d3dkmt_emu.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Checks ---- */

#include "check.h"

/* ---- The fake kernel-mode driver ---- */

#define KMD_SESSION_BASE 0x4B4D000000000000ull
#define REWRITTEN_BYTE 0xD7u

/* Shared with callbacks that may run on any thread, hence atomics. */
typedef struct kmd_state {
    atomic_int creates;
    atomic_int destroys;
    _Atomic uint64_t last_key;
    _Atomic uint64_t destroyed_session;
    atomic_int bad_args;           /* a callback saw arguments it did not expect */
    const d3dkmt_emu_kernel *kernel;
} kmd_state;

static NTSTATUS kmd_create(void *context, LUID adapter, uint64_t session_key, void *driver_data,
                           uint32_t driver_data_size, uint64_t *kmd_session) {
    kmd_state *kmd = context;
    atomic_fetch_add(&kmd->creates, 1);
    if (adapter.LowPart != 0x1234 || adapter.HighPart != 0 || session_key == 0 || kmd_session == NULL ||
        *kmd_session != session_key || driver_data == NULL || driver_data_size != 8) {
        atomic_fetch_add(&kmd->bad_args, 1);
        return STATUS_INVALID_PARAMETER;
    }
    /* No kernel lock is held here: calling back in must not deadlock. */
    if (d3dkmt_emu_kernel_live_objects(kmd->kernel, D3DKMT_EMU_OBJECT_ALL) < 0) {
        atomic_fetch_add(&kmd->bad_args, 1);
    }
    atomic_store(&kmd->last_key, session_key);
    ((uint8_t *)driver_data)[0] = (uint8_t)REWRITTEN_BYTE;
    *kmd_session = KMD_SESSION_BASE | session_key;
    return STATUS_SUCCESS;
}

static void kmd_destroy(void *context, LUID adapter, uint64_t kmd_session) {
    kmd_state *kmd = context;
    if (adapter.LowPart != 0x1234 || adapter.HighPart != 0) {
        atomic_fetch_add(&kmd->bad_args, 1);
    }
    atomic_store(&kmd->destroyed_session, kmd_session);
    atomic_fetch_add(&kmd->destroys, 1);
}

/* ---- Helpers ---- */

static uint64_t fence_value(const void *cpu_va) {
    return __atomic_load_n((const uint64_t *)cpu_va, __ATOMIC_SEQ_CST);
}

static int all_bytes(const void *p, size_t n, uint8_t value) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        if (b[i] != value) {
            return 0;
        }
    }
    return 1;
}

/* A thread acting as process B that blocks on B's fence handle. */
typedef struct waiter {
    const d3dkmt_emu_process *process;
    D3DKMT_HANDLE device;
    D3DKMT_HANDLE fence;
    uint64_t value;
    NTSTATUS status;
    int bound;
} waiter;

static void *wait_thread(void *arg) {
    waiter *w = arg;
    d3dkmt_emu_binding *binding = d3dkmt_emu_thread_bind(w->process);
    w->bound = binding != NULL;
    D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU wait;
    memset(&wait, 0, sizeof wait);
    wait.hDevice = w->device;
    wait.ObjectCount = 1;
    wait.ObjectHandleArray = &w->fence;
    wait.FenceValueArray = &w->value;
    w->status = D3DKMTWaitForSynchronizationObjectFromCpu(&wait);
    CHECK_OK(d3dkmt_emu_thread_unbind(binding));
    return NULL;
}

/* NULL, zeroed and 0xA5-filled structs for the five session entry points.
 * Each call must fail with the expected status and leave the struct as it
 * was, byte for byte. */
#define GARBAGE_CASE(type, fn, want_filled)                                          \
    do {                                                                             \
        type args_, copy_;                                                           \
        CHECK_NT(fn(NULL), STATUS_INVALID_PARAMETER);                                \
        CHECK(d3dkmt_emu_last_error(NULL, 0) > 0);                                   \
        memset(&args_, 0, sizeof args_);                                             \
        memcpy(&copy_, &args_, sizeof args_);                                        \
        CHECK_NT(fn(&args_), want_filled);                                           \
        CHECK(memcmp(&args_, &copy_, sizeof args_) == 0);                            \
        memset(&args_, 0xA5, sizeof args_);                                          \
        memcpy(&copy_, &args_, sizeof args_);                                        \
        CHECK_NT(fn(&args_), want_filled);                                           \
        CHECK(memcmp(&args_, &copy_, sizeof args_) == 0);                            \
    } while (0)

static void garbage_structs(void) {
    GARBAGE_CASE(D3DKMT_CREATEPROTECTEDSESSION, D3DKMTCreateProtectedSession, STATUS_INVALID_PARAMETER);
    GARBAGE_CASE(D3DKMT_DESTROYPROTECTEDSESSION, D3DKMTDestroyProtectedSession, STATUS_INVALID_PARAMETER);
    GARBAGE_CASE(D3DKMT_QUERYPROTECTEDSESSIONSTATUS, D3DKMTQueryProtectedSessionStatus, STATUS_INVALID_PARAMETER);
    GARBAGE_CASE(D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE, D3DKMTQueryProtectedSessionInfoFromNtHandle,
                 STATUS_INVALID_HANDLE);
    GARBAGE_CASE(D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE, D3DKMTOpenProtectedSessionFromNtHandle,
                 STATUS_INVALID_HANDLE);

    /* Exported, not emulated: they link and say so. */
    CHECK_NT(D3DKMTSetHwProtectionTeardownRecovery(NULL), STATUS_NOT_IMPLEMENTED);
    CHECK(D3DKMTCheckExclusiveOwnership() == 0);
    CHECK(d3dkmt_emu_last_error(NULL, 0) > 0);
}

/* ---- Device removal and TDR, as the driver reports them ---- */

static void device_removal(void) {
    d3dkmt_emu_kernel *kernel = d3dkmt_emu_kernel_create(NULL);
    CHECK(kernel != NULL);
    d3dkmt_emu_process *proc = d3dkmt_emu_process_create(kernel);
    d3dkmt_emu_binding *binding = d3dkmt_emu_thread_bind(proc);
    CHECK(binding != NULL);

    D3DKMT_OPENADAPTERFROMLUID open;
    memset(&open, 0, sizeof open);
    open.AdapterLuid.LowPart = 0x1234;
    CHECK_OK(D3DKMTOpenAdapterFromLuid(&open));
    D3DKMT_CREATEDEVICE create_device;
    memset(&create_device, 0, sizeof create_device);
    create_device.hAdapter = open.hAdapter;
    CHECK_OK(D3DKMTCreateDevice(&create_device));
    const D3DKMT_HANDLE device = create_device.hDevice;

    D3DKMT_CREATESYNCHRONIZATIONOBJECT2 create_fence;
    memset(&create_fence, 0, sizeof create_fence);
    create_fence.hDevice = device;
    create_fence.Info.Type = D3DDDI_MONITORED_FENCE;
    create_fence.Info.MonitoredFence.InitialFenceValue = 3;
    CHECK_OK(D3DKMTCreateSynchronizationObject2(&create_fence));
    const D3DKMT_HANDLE fence = create_fence.hSyncObject;
    const void *fence_va = create_fence.Info.MonitoredFence.FenceValueCPUVirtualAddress;
    create_fence.Info.Flags.NoSignalMaxValueOnTdr = 1;
    CHECK_OK(D3DKMTCreateSynchronizationObject2(&create_fence));
    const D3DKMT_HANDLE kept = create_fence.hSyncObject;
    const void *kept_va = create_fence.Info.MonitoredFence.FenceValueCPUVirtualAddress;

    D3DKMT_GETDEVICESTATE state;
    memset(&state, 0, sizeof state);
    state.hDevice = device;
    state.StateType = D3DKMT_DEVICESTATE_EXECUTION;
    CHECK_OK(D3DKMTGetDeviceState(&state));
    CHECK(state.ExecutionState == D3DKMT_DEVICEEXECUTION_ACTIVE);

    CHECK_NT(d3dkmt_emu_kmd_remove_device(NULL, device, 99), STATUS_INVALID_PARAMETER);
    CHECK_OK(d3dkmt_emu_kmd_remove_device(NULL, device, D3DKMT_DEVICEEXECUTION_HUNG));
    CHECK(fence_value(fence_va) == UINT64_MAX); /* the TDR rule */
    CHECK(fence_value(kept_va) == 3);          /* NoSignalMaxValueOnTdr */
    CHECK_OK(D3DKMTGetDeviceState(&state));
    CHECK(state.ExecutionState == D3DKMT_DEVICEEXECUTION_HUNG);
    state.StateType = D3DKMT_DEVICESTATE_RESET;
    CHECK_NT(D3DKMTGetDeviceState(&state), STATUS_DEVICE_REMOVED);
    CHECK_NT(D3DKMTCreateSynchronizationObject2(&create_fence), STATUS_DEVICE_REMOVED);
    CHECK(create_fence.hSyncObject == kept); /* untouched */
    CHECK_NT(d3dkmt_emu_kmd_reset_device(NULL, device), STATUS_DEVICE_REMOVED);

    /* Clean-up works on a removed device. */
    D3DKMT_DESTROYSYNCHRONIZATIONOBJECT destroy_fence = {fence};
    CHECK_OK(D3DKMTDestroySynchronizationObject(&destroy_fence));
    destroy_fence.hSyncObject = kept;
    CHECK_OK(D3DKMTDestroySynchronizationObject(&destroy_fence));
    D3DKMT_DESTROYDEVICE destroy_device = {device};
    CHECK_OK(D3DKMTDestroyDevice(&destroy_device));

    /* A stopped adapter takes no new devices. */
    CHECK_OK(d3dkmt_emu_kmd_remove_adapter(kernel, open.AdapterLuid));
    create_device.hDevice = 0;
    CHECK_NT(D3DKMTCreateDevice(&create_device), STATUS_DEVICE_REMOVED);
    CHECK(create_device.hDevice == 0);
    CHECK_NT(d3dkmt_emu_kmd_remove_adapter(kernel, open.AdapterLuid), STATUS_DEVICE_REMOVED);
    D3DKMT_CLOSEADAPTER close_adapter = {open.hAdapter};
    CHECK_OK(D3DKMTCloseAdapter(&close_adapter));

    CHECK_OK(d3dkmt_emu_thread_unbind(binding));
    CHECK(d3dkmt_emu_kernel_live_objects(kernel, D3DKMT_EMU_OBJECT_ALL) == 0);
    d3dkmt_emu_process_release(proc);
    d3dkmt_emu_kernel_release(kernel);
}

/* Opening by GDI name, one adapter query, and VidPn ownership with
 * occlusion, in a fresh default kernel (one adapter, one monitor). */
static void adapters_and_vidpn(void) {
    d3dkmt_emu_kernel *kernel = d3dkmt_emu_kernel_create(NULL);
    CHECK(kernel != NULL);
    d3dkmt_emu_process *proc = d3dkmt_emu_process_create(kernel);
    CHECK(proc != NULL);
    d3dkmt_emu_binding *binding = d3dkmt_emu_thread_bind(proc);
    CHECK(binding != NULL);

    static const char name[] = "\\\\.\\DISPLAY1";
    D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME open;
    memset(&open, 0, sizeof open);
    for (size_t i = 0; name[i] != 0; i++) {
        open.DeviceName[i] = (WCHAR)name[i];
    }
    CHECK_OK(D3DKMTOpenAdapterFromGdiDisplayName(&open));
    CHECK(open.hAdapter != 0 && open.AdapterLuid.LowPart == 0x1234 && open.VidPnSourceId == 0);
    CHECK_NT(D3DKMTOpenAdapterFromGdiDisplayName(NULL), STATUS_UNSUCCESSFUL);

    D3DKMT_DRIVERVERSION version = 0;
    D3DKMT_QUERYADAPTERINFO query = {open.hAdapter, KMTQAITYPE_DRIVERVERSION, &version, sizeof version};
    CHECK_OK(D3DKMTQueryAdapterInfo(&query));
    CHECK(version >= 1300);
    query.PrivateDriverDataSize = sizeof version - 1;
    CHECK_NT(D3DKMTQueryAdapterInfo(&query), STATUS_INVALID_PARAMETER);

    D3DKMT_CREATEDEVICE create_device;
    memset(&create_device, 0, sizeof create_device);
    create_device.hAdapter = open.hAdapter;
    CHECK_OK(D3DKMTCreateDevice(&create_device));

    const D3DKMT_VIDPNSOURCEOWNER_TYPE exclusive = D3DKMT_VIDPNSOURCEOWNER_EXCLUSIVE;
    const UINT source = 0;
    D3DKMT_SETVIDPNSOURCEOWNER owner = {create_device.hDevice, &exclusive, &source, 1};
    CHECK_OK(D3DKMTSetVidPnSourceOwner(&owner));
    const D3DKMT_CHECKVIDPNEXCLUSIVEOWNERSHIP check = {open.hAdapter, 0};
    CHECK_NT(D3DKMTCheckVidPnExclusiveOwnership(&check), STATUS_GRAPHICS_PRESENT_OCCLUDED);
    D3DKMT_CHECKOCCLUSION occlusion = {(void *)0x10010};
    CHECK_NT(D3DKMTCheckOcclusion(&occlusion), STATUS_GRAPHICS_PRESENT_OCCLUDED);
    D3DKMT_DESTROYDEVICE destroy_device = {create_device.hDevice};
    CHECK_OK(D3DKMTDestroyDevice(&destroy_device)); /* releases the source */
    CHECK_OK(D3DKMTCheckVidPnExclusiveOwnership(&check));
    CHECK_OK(D3DKMTCheckOcclusion(&occlusion));

    D3DKMT_CLOSEADAPTER close_adapter = {open.hAdapter};
    CHECK_OK(D3DKMTCloseAdapter(&close_adapter));
    CHECK(d3dkmt_emu_process_handle_count(proc, 0) == 0);
    CHECK_OK(d3dkmt_emu_thread_unbind(binding));
    d3dkmt_emu_process_release(proc);
    d3dkmt_emu_kernel_release(kernel);
}

/* ---- The test ---- */

/* ---- A keyed-mutex handoff between two processes ---- */

#define KM_ROUNDS 20

typedef struct km_peer {
    const d3dkmt_emu_process *process;
    D3DKMT_HANDLE global;
    NTSTATUS status;
    unsigned good_rounds;
} km_peer;

static NTSTATUS km_acquire(D3DKMT_HANDLE mutex, uint64_t key, int64_t *timeout, uint64_t *fence) {
    D3DKMT_ACQUIREKEYEDMUTEX acquire;
    memset(&acquire, 0, sizeof acquire);
    acquire.hKeyedMutex = mutex;
    acquire.Key = key;
    acquire.pTimeout = timeout;
    acquire.FenceValue = UINT64_MAX;
    NTSTATUS status = D3DKMTAcquireKeyedMutex(&acquire);
    *fence = acquire.FenceValue;
    return status;
}

static NTSTATUS km_release(D3DKMT_HANDLE mutex, uint64_t key, uint64_t fence) {
    D3DKMT_RELEASEKEYEDMUTEX release;
    memset(&release, 0, sizeof release);
    release.hKeyedMutex = mutex;
    release.Key = key;
    release.FenceValue = fence;
    return D3DKMTReleaseKeyedMutex(&release);
}

/* Process B: opens the mutex by its global handle, then acquires with key
 * 1 and releases with key 0, KM_ROUNDS times. */
static void *km_peer_thread(void *arg) {
    km_peer *p = arg;
    d3dkmt_emu_binding *binding = d3dkmt_emu_thread_bind(p->process);
    D3DKMT_OPENKEYEDMUTEX open;
    memset(&open, 0, sizeof open);
    open.hSharedHandle = p->global;
    p->status = D3DKMTOpenKeyedMutex(&open);
    for (uint64_t round = 0; p->status == STATUS_SUCCESS && round < KM_ROUNDS; round++) {
        uint64_t fence = 0;
        if (km_acquire(open.hKeyedMutex, 1, NULL, &fence) != STATUS_SUCCESS || fence != 2 * round + 1)
            break;
        if (km_release(open.hKeyedMutex, 0, 2 * round + 2) != STATUS_SUCCESS)
            break;
        p->good_rounds++;
    }
    D3DKMT_DESTROYKEYEDMUTEX destroy = {open.hKeyedMutex};
    if (p->status == STATUS_SUCCESS)
        p->status = D3DKMTDestroyKeyedMutex(&destroy);
    d3dkmt_emu_thread_unbind(binding);
    return NULL;
}

static void keyed_mutex_handoff(void) {
    d3dkmt_emu_kernel_config config;
    CHECK_OK(d3dkmt_emu_kernel_config_init(&config));
    d3dkmt_emu_kernel *kernel = d3dkmt_emu_kernel_create(&config);
    CHECK(kernel != NULL);
    d3dkmt_emu_process *proc_a = d3dkmt_emu_process_create(kernel);
    d3dkmt_emu_process *proc_b = d3dkmt_emu_process_create(kernel);
    d3dkmt_emu_binding *binding = d3dkmt_emu_thread_bind(proc_a);

    D3DKMT_CREATEKEYEDMUTEX create;
    memset(&create, 0, sizeof create);
    CHECK_OK(D3DKMTCreateKeyedMutex(&create));
    CHECK((create.hSharedHandle & 0x3F) == 2 && (create.hSharedHandle & 0xC0000000u) != 0); /* WINE #3 */
    D3DKMT_HANDLE mutex = create.hKeyedMutex;

    km_peer peer = {proc_b, create.hSharedHandle, (NTSTATUS)0xC0000001L, 0};
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, km_peer_thread, &peer) == 0);
    for (uint64_t round = 0; round < KM_ROUNDS; round++) {
        uint64_t fence = 0;
        CHECK_OK(km_acquire(mutex, 0, NULL, &fence));
        CHECK(fence == 2 * round);
        CHECK_OK(km_release(mutex, 1, 2 * round + 1));
    }
    CHECK(pthread_join(thread, NULL) == 0);
    CHECK_OK(peer.status);
    CHECK(peer.good_rounds == KM_ROUNDS);

    /* A 10-second timeout on the virtual kernel clock: no wall time. */
    int64_t ten_seconds = -100000000;
    uint64_t fence = 0;
    CHECK_NT(km_acquire(mutex, 9, &ten_seconds, &fence), STATUS_TIMEOUT);
    CHECK(fence == UINT64_MAX); /* not written */

    /* B takes it and exits holding it: abandoned for A. */
    CHECK_OK(km_acquire(mutex, 0, NULL, &fence));
    CHECK_OK(km_release(mutex, 1, 77));
    {
        d3dkmt_emu_binding *as_b = d3dkmt_emu_thread_bind(proc_b);
        D3DKMT_OPENKEYEDMUTEX open;
        memset(&open, 0, sizeof open);
        open.hSharedHandle = create.hSharedHandle;
        CHECK_OK(D3DKMTOpenKeyedMutex(&open));
        CHECK_OK(km_acquire(open.hKeyedMutex, 1, NULL, &fence));
        CHECK(fence == 77);
        CHECK_OK(d3dkmt_emu_thread_unbind(as_b));
    }
    d3dkmt_emu_process_exit(proc_b);
    int64_t zero = 0;
    CHECK_NT(km_acquire(mutex, 1, &zero, &fence), STATUS_ABANDONED);
    CHECK_NT(km_release(mutex, 0, 0), STATUS_ABANDONED);

    D3DKMT_DESTROYKEYEDMUTEX destroy = {mutex};
    CHECK_OK(D3DKMTDestroyKeyedMutex(&destroy));
    CHECK_NT(D3DKMTDestroyKeyedMutex(&destroy), STATUS_INVALID_PARAMETER); /* WINE #57 */
    CHECK(d3dkmt_emu_kernel_live_objects(kernel, D3DKMT_EMU_OBJECT_KEYED_MUTEX) == 0);
    CHECK_OK(d3dkmt_emu_thread_unbind(binding));
    d3dkmt_emu_process_release(proc_a);
    d3dkmt_emu_process_release(proc_b);
    d3dkmt_emu_kernel_release(kernel);
}

/* Sync objects of other types, global handles and names, from C
 * (WINE #42-#53, #93, #95, #98, #100), in a kernel of their own. */
static void sync_objects(void) {
    static const char name[] = "\\BaseNamedObjects\\C_Sync";
    WCHAR wname[sizeof name];
    for (size_t i = 0; i < sizeof name; i++) {
        wname[i] = (WCHAR)name[i];
    }
    UNICODE_STRING uname = {(uint16_t)((sizeof name - 1) * 2), (uint16_t)((sizeof name - 1) * 2), wname};
    OBJECT_ATTRIBUTES attributes;
    memset(&attributes, 0, sizeof attributes);
    attributes.Length = sizeof attributes;
    attributes.ObjectName = &uname;

    d3dkmt_emu_kernel *kernel = d3dkmt_emu_kernel_create(NULL);
    CHECK(kernel != NULL);
    d3dkmt_emu_process *proc_a = d3dkmt_emu_process_create(kernel);
    d3dkmt_emu_process *proc_b = d3dkmt_emu_process_create(kernel);
    CHECK(proc_a != NULL && proc_b != NULL);
    d3dkmt_emu_binding *binding = d3dkmt_emu_thread_bind(proc_a);
    CHECK(binding != NULL);

    D3DKMT_OPENADAPTERFROMLUID open_adapter;
    memset(&open_adapter, 0, sizeof open_adapter);
    open_adapter.AdapterLuid.LowPart = 0x1234;
    CHECK_OK(D3DKMTOpenAdapterFromLuid(&open_adapter));
    D3DKMT_CREATEDEVICE create_device;
    memset(&create_device, 0, sizeof create_device);
    create_device.hAdapter = open_adapter.hAdapter;
    CHECK_OK(D3DKMTCreateDevice(&create_device));
    const D3DKMT_HANDLE device = create_device.hDevice;

    /* v1: mutexes and semaphores only. */
    D3DKMT_CREATESYNCHRONIZATIONOBJECT v1;
    memset(&v1, 0, sizeof v1);
    v1.hDevice = device;
    v1.Info.Type = D3DDDI_FENCE;
    CHECK_NT(D3DKMTCreateSynchronizationObject(&v1), STATUS_INVALID_PARAMETER);
    v1.Info.Type = D3DDDI_SEMAPHORE;
    v1.Info.Semaphore.MaxCount = 2;
    CHECK_OK(D3DKMTCreateSynchronizationObject(&v1));
    CHECK(v1.hSyncObject != 0 && (v1.hSyncObject & 0x3F) == 0);

    /* v2, Shared alone: a global handle, openable from another process. */
    D3DKMT_CREATESYNCHRONIZATIONOBJECT2 shared;
    memset(&shared, 0, sizeof shared);
    shared.hDevice = device;
    shared.Info.Type = D3DDDI_SYNCHRONIZATION_MUTEX;
    shared.Info.Flags.Shared = 1;
    CHECK_OK(D3DKMTCreateSynchronizationObject2(&shared));
    const D3DKMT_HANDLE global = shared.Info.SharedHandle;
    CHECK((global & 0x3F) == 2 && (global & 0xC0000000u) != 0);
    D3DKMT_DESTROYSYNCHRONIZATIONOBJECT destroy;
    destroy.hSyncObject = global;
    CHECK_NT(D3DKMTDestroySynchronizationObject(&destroy), STATUS_INVALID_PARAMETER);

    /* v2, Shared + NtSecuritySharing: no global, but a named NT object. */
    D3DKMT_CREATESYNCHRONIZATIONOBJECT2 nt_shared;
    memset(&nt_shared, 0, sizeof nt_shared);
    nt_shared.hDevice = device;
    nt_shared.Info.Type = D3DDDI_FENCE;
    nt_shared.Info.Flags.Shared = 1;
    nt_shared.Info.Flags.NtSecuritySharing = 1;
    nt_shared.Info.SharedHandle = 0x1eadbeed;
    CHECK_OK(D3DKMTCreateSynchronizationObject2(&nt_shared));
    CHECK(nt_shared.Info.SharedHandle == 0);
    HANDLE nt = NULL;
    CHECK_OK(D3DKMTShareObjects(1, &nt_shared.hSyncObject, &attributes, 0x20000, &nt));
    char text[64];
    size_t length = 0;
    CHECK_OK(d3dkmt_emu_nt_object_type_name(NULL, nt, text, sizeof text, &length));
    CHECK(strcmp(text, "DxgkSharedSyncObject") == 0 && length == strlen(text));
    CHECK_OK(d3dkmt_emu_nt_object_name(proc_a, nt, text, sizeof text, &length));
    CHECK(strcmp(text, name) == 0 && length == sizeof name - 1);
    CHECK_NT(d3dkmt_emu_nt_object_name(proc_b, nt, text, sizeof text, &length), STATUS_INVALID_HANDLE);
    CHECK_OK(d3dkmt_emu_thread_unbind(binding));

    binding = d3dkmt_emu_thread_bind(proc_b);
    CHECK(binding != NULL);
    D3DKMT_OPENSYNCHRONIZATIONOBJECT open_global;
    memset(&open_global, 0, sizeof open_global);
    open_global.hSharedHandle = global;
    CHECK_OK(D3DKMTOpenSynchronizationObject(&open_global));
    CHECK(open_global.hSyncObject != 0);

    D3DKMT_OPENSYNCOBJECTNTHANDLEFROMNAME by_name;
    memset(&by_name, 0, sizeof by_name);
    CHECK_NT(D3DKMTOpenSyncObjectNtHandleFromName(&by_name), STATUS_INVALID_PARAMETER);
    by_name.pObjAttrib = &attributes;
    CHECK_NT(D3DKMTOpenSyncObjectNtHandleFromName(&by_name), STATUS_ACCESS_DENIED);
    by_name.dwDesiredAccess = 0x20000;
    CHECK_OK(D3DKMTOpenSyncObjectNtHandleFromName(&by_name));
    D3DKMT_OPENSYNCOBJECTFROMNTHANDLE open_nt;
    memset(&open_nt, 0, sizeof open_nt);
    CHECK_NT(D3DKMTOpenSyncObjectFromNtHandle(&open_nt), STATUS_INVALID_HANDLE);
    open_nt.hNtHandle = by_name.hNtHandle;
    CHECK_OK(D3DKMTOpenSyncObjectFromNtHandle(&open_nt));
    CHECK(open_nt.hSyncObject != 0);
    CHECK_OK(d3dkmt_emu_nt_close(NULL, by_name.hNtHandle));
    CHECK_OK(d3dkmt_emu_thread_unbind(binding));

    /* A's NT handle was the last: the name goes, the fence stays (B's handle). */
    CHECK_OK(d3dkmt_emu_nt_close(proc_a, nt));
    binding = d3dkmt_emu_thread_bind(proc_b);
    CHECK_NT(D3DKMTOpenSyncObjectNtHandleFromName(&by_name), STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK_OK(d3dkmt_emu_thread_unbind(binding));

    /* Exits hold nothing: everything goes, the global too. */
    d3dkmt_emu_process_exit(proc_b);
    d3dkmt_emu_process_exit(proc_a);
    CHECK(d3dkmt_emu_kernel_live_objects(kernel, D3DKMT_EMU_OBJECT_ALL) == 0);
    d3dkmt_emu_process_release(proc_a);
    d3dkmt_emu_process_release(proc_b);
    d3dkmt_emu_kernel_release(kernel);
}

int main(void) {
    static kmd_state kmd;
    static const uint8_t driver_blob[8] = {0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18};
    static const uint8_t runtime_blob[5] = {0x21, 0x22, 0x23, 0x24, 0x25};
    const uint64_t initial_value = 41;

    /* ---- A kernel with our KMD, and two processes ---- */

    d3dkmt_emu_kernel_config config;
    CHECK_OK(d3dkmt_emu_kernel_config_init(&config));
    CHECK(config.struct_size == sizeof config);
    CHECK(config.adapter_count == 1 && config.adapters != NULL);
    d3dkmt_emu_kernel *kernel = d3dkmt_emu_kernel_create(&config);
    CHECK(kernel != NULL);

    kmd.kernel = kernel;
    d3dkmt_emu_kmd_callbacks callbacks;
    memset(&callbacks, 0, sizeof callbacks);
    callbacks.context = &kmd;
    callbacks.create_protected_session = kmd_create;
    callbacks.destroy_protected_session = kmd_destroy;
    CHECK_OK(d3dkmt_emu_kernel_set_kmd(kernel, &callbacks));

    d3dkmt_emu_process *proc_a = d3dkmt_emu_process_create(kernel);
    d3dkmt_emu_process *proc_b = d3dkmt_emu_process_create(kernel);
    CHECK(proc_a != NULL && proc_b != NULL);
    CHECK(d3dkmt_emu_process_id(proc_a) != d3dkmt_emu_process_id(proc_b));

    /* ---- Process A: adapter, device, fence, session, sharing ---- */

    d3dkmt_emu_binding *binding = d3dkmt_emu_thread_bind(proc_a);
    CHECK(binding != NULL);
    {
        d3dkmt_emu_process *current = d3dkmt_emu_process_current();
        CHECK(d3dkmt_emu_process_id(current) == d3dkmt_emu_process_id(proc_a));
        d3dkmt_emu_process_release(current);
    }

    D3DKMT_ENUMADAPTERS2 enum2;
    memset(&enum2, 0, sizeof enum2);
    CHECK_OK(D3DKMTEnumAdapters2(&enum2)); /* NULL array: how many rows to allow */
    CHECK(enum2.NumAdapters >= 1);
    CHECK(d3dkmt_emu_process_handle_count(NULL, 0) == 0); /* that opened nothing */
    D3DKMT_ADAPTERINFO *rows = calloc(enum2.NumAdapters, sizeof *rows);
    CHECK(rows != NULL);
    enum2.pAdapters = rows;
    CHECK_OK(D3DKMTEnumAdapters2(&enum2));
    CHECK(enum2.NumAdapters == 1);
    const UINT adapter_rows = enum2.NumAdapters;
    CHECK(rows[0].AdapterLuid.LowPart == 0x1234 && rows[0].AdapterLuid.HighPart == 0);
    CHECK(rows[0].hAdapter != 0);
    CHECK(d3dkmt_emu_last_error(NULL, 0) == 0);
    const D3DKMT_HANDLE adapter_a = rows[0].hAdapter;

    D3DKMT_CREATEDEVICE create_device;
    memset(&create_device, 0, sizeof create_device);
    create_device.hAdapter = adapter_a;
    CHECK_OK(D3DKMTCreateDevice(&create_device));
    const D3DKMT_HANDLE device_a = create_device.hDevice;
    CHECK(device_a != 0);

    D3DKMT_CREATESYNCHRONIZATIONOBJECT2 create_fence;
    memset(&create_fence, 0, sizeof create_fence);
    create_fence.hDevice = device_a;
    create_fence.Info.Type = D3DDDI_MONITORED_FENCE;
    create_fence.Info.Flags.Shared = 1;
    create_fence.Info.Flags.NtSecuritySharing = 1;
    create_fence.Info.MonitoredFence.InitialFenceValue = initial_value;
    CHECK_OK(D3DKMTCreateSynchronizationObject2(&create_fence));
    const D3DKMT_HANDLE fence_a = create_fence.hSyncObject;
    const void *fence_a_va = create_fence.Info.MonitoredFence.FenceValueCPUVirtualAddress;
    CHECK(fence_a != 0);
    CHECK(fence_a_va != NULL);
    CHECK(fence_value(fence_a_va) == initial_value);
    CHECK(create_fence.Info.SharedHandle == 0);

    uint8_t driver_in[8];
    memcpy(driver_in, driver_blob, sizeof driver_in);
    D3DKMT_CREATEPROTECTEDSESSION create_session;
    memset(&create_session, 0, sizeof create_session);
    create_session.hDevice = device_a;
    create_session.hSyncObject = fence_a;
    create_session.pPrivateDriverData = driver_in;
    create_session.PrivateDriverDataSize = sizeof driver_in;
    create_session.pPrivateRuntimeData = runtime_blob;
    create_session.PrivateRuntimeDataSize = sizeof runtime_blob;
    CHECK_OK(D3DKMTCreateProtectedSession(&create_session));
    const D3DKMT_HANDLE session_a = create_session.hHandle;
    CHECK(session_a != 0);
    CHECK(atomic_load(&kmd.creates) == 1);
    CHECK(atomic_load(&kmd.destroys) == 0);
    CHECK(atomic_load(&kmd.bad_args) == 0);
    /* The KMD rewrote the kernel's copy, not the caller's buffer. */
    CHECK(memcmp(driver_in, driver_blob, sizeof driver_in) == 0);

    const uint64_t session_key = atomic_load(&kmd.last_key);
    CHECK(session_key != 0);
    uint64_t key = 0;
    CHECK_OK(d3dkmt_emu_protected_session_key(proc_a, session_a, &key));
    CHECK(key == session_key);

    HANDLE nt_session_a = NULL, nt_fence_a = NULL;
    CHECK_OK(D3DKMTShareObjects(1, &session_a, NULL, GENERIC_ALL, &nt_session_a));
    CHECK(nt_session_a != NULL);
    CHECK_OK(D3DKMTShareObjects(1, &fence_a, NULL, GENERIC_ALL, &nt_fence_a));
    CHECK(nt_fence_a != NULL && nt_fence_a != nt_session_a);
    CHECK(d3dkmt_emu_process_handle_count(proc_a, 1) == 2);

    HANDLE nt_session_b = NULL, nt_fence_b = NULL;
    CHECK_OK(d3dkmt_emu_nt_duplicate(proc_a, nt_session_a, proc_b, &nt_session_b, 0, DUPLICATE_SAME_ACCESS));
    CHECK_OK(d3dkmt_emu_nt_duplicate(proc_a, nt_fence_a, proc_b, &nt_fence_b, 0, DUPLICATE_SAME_ACCESS));
    CHECK(nt_session_b != NULL && nt_fence_b != NULL);
    CHECK(d3dkmt_emu_process_handle_count(proc_b, 1) == 2);

    CHECK_OK(d3dkmt_emu_nt_close(proc_a, nt_session_a));
    CHECK_OK(d3dkmt_emu_nt_close(NULL, nt_fence_a)); /* NULL: the bound process, A */
    CHECK_NT(d3dkmt_emu_nt_close(proc_a, nt_fence_a), STATUS_INVALID_HANDLE);
    CHECK(d3dkmt_emu_process_handle_count(proc_a, 1) == 0);
    CHECK_OK(d3dkmt_emu_thread_unbind(binding));

    /* ---- Process B: query, open, watch the status ---- */

    binding = d3dkmt_emu_thread_bind(proc_b);
    CHECK(binding != NULL);

    /* A's handles mean nothing in B. */
    {
        D3DKMT_QUERYPROTECTEDSESSIONSTATUS foreign;
        memset(&foreign, 0, sizeof foreign);
        foreign.hHandle = session_a;
        CHECK_NT(D3DKMTQueryProtectedSessionStatus(&foreign), STATUS_INVALID_PARAMETER);
    }

    D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE info;
    memset(&info, 0, sizeof info);
    info.hNtHandle = nt_session_b;
    CHECK_OK(D3DKMTQueryProtectedSessionInfoFromNtHandle(&info)); /* NULL buffers: sizes only */
    CHECK(info.PrivateDriverDataSize == 8);
    CHECK(info.PrivateRuntimeDataSize == 5);

    uint8_t driver_out[8], runtime_out[5];
    memset(driver_out, 0, sizeof driver_out);
    memset(runtime_out, 0, sizeof runtime_out);
    info.pPrivateDriverData = driver_out;
    info.PrivateDriverDataSize = sizeof driver_out;
    info.pPrivateRuntimeData = runtime_out;
    info.PrivateRuntimeDataSize = sizeof runtime_out;
    CHECK_OK(D3DKMTQueryProtectedSessionInfoFromNtHandle(&info));
    CHECK(info.PrivateDriverDataSize == 8 && info.PrivateRuntimeDataSize == 5);
    CHECK(driver_out[0] == REWRITTEN_BYTE); /* as the KMD left it */
    CHECK(memcmp(driver_out + 1, driver_blob + 1, sizeof driver_out - 1) == 0);
    CHECK(memcmp(runtime_out, runtime_blob, sizeof runtime_out) == 0);

    /* Too little room for one blob: the call fails and writes nothing at
     * all, not even the blob that would have fitted. */
    {
        uint8_t small_driver[16], small_runtime[16];
        D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE before;

        memset(small_driver, 0xEE, sizeof small_driver);
        memset(small_runtime, 0xEE, sizeof small_runtime);
        info.pPrivateDriverData = small_driver;
        info.PrivateDriverDataSize = 4;
        info.pPrivateRuntimeData = small_runtime;
        info.PrivateRuntimeDataSize = sizeof small_runtime;
        memcpy(&before, &info, sizeof info);
        CHECK_NT(D3DKMTQueryProtectedSessionInfoFromNtHandle(&info), STATUS_BUFFER_TOO_SMALL);
        CHECK(memcmp(&info, &before, sizeof info) == 0);
        CHECK(all_bytes(small_driver, sizeof small_driver, 0xEE));
        CHECK(all_bytes(small_runtime, sizeof small_runtime, 0xEE));

        info.PrivateDriverDataSize = sizeof small_driver;
        info.PrivateRuntimeDataSize = 4;
        memcpy(&before, &info, sizeof info);
        CHECK_NT(D3DKMTQueryProtectedSessionInfoFromNtHandle(&info), STATUS_BUFFER_TOO_SMALL);
        CHECK(memcmp(&info, &before, sizeof info) == 0);
        CHECK(all_bytes(small_driver, sizeof small_driver, 0xEE));
        CHECK(all_bytes(small_runtime, sizeof small_runtime, 0xEE));
    }

    D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE open_session;
    memset(&open_session, 0, sizeof open_session);
    open_session.hNtHandle = nt_session_b;
    CHECK_OK(D3DKMTOpenProtectedSessionFromNtHandle(&open_session));
    const D3DKMT_HANDLE session_b = open_session.hHandle;
    CHECK(session_b != 0);
    CHECK_OK(d3dkmt_emu_protected_session_key(NULL, session_b, &key));
    CHECK(key == session_key);

    D3DKMT_OPENADAPTERFROMLUID open_adapter;
    memset(&open_adapter, 0, sizeof open_adapter);
    open_adapter.AdapterLuid = rows[0].AdapterLuid;
    CHECK_OK(D3DKMTOpenAdapterFromLuid(&open_adapter));
    const D3DKMT_HANDLE adapter_b = open_adapter.hAdapter;
    CHECK(adapter_b != 0);

    memset(&create_device, 0, sizeof create_device);
    create_device.hAdapter = adapter_b;
    CHECK_OK(D3DKMTCreateDevice(&create_device));
    const D3DKMT_HANDLE device_b = create_device.hDevice;
    CHECK(device_b != 0);

    D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2 open_fence;
    memset(&open_fence, 0, sizeof open_fence);
    open_fence.hNtHandle = nt_fence_b;
    open_fence.hDevice = device_b;
    CHECK_OK(D3DKMTOpenSyncObjectFromNtHandle2(&open_fence));
    const D3DKMT_HANDLE fence_b = open_fence.hSyncObject;
    const void *fence_b_va = open_fence.MonitoredFence.FenceValueCPUVirtualAddress;
    CHECK(fence_b != 0);
    CHECK(fence_b_va != NULL);
    CHECK(fence_value(fence_b_va) == initial_value);

    D3DKMT_QUERYPROTECTEDSESSIONSTATUS status;
    memset(&status, 0, sizeof status);
    status.hHandle = session_b;
    status.Status = (D3DKMT_PROTECTED_SESSION_STATUS)-1;
    CHECK_OK(D3DKMTQueryProtectedSessionStatus(&status));
    CHECK(status.Status == D3DKMT_PROTECTED_SESSION_STATUS_OK);

    /* The driver invalidates the session: B sees it, and the status fence
     * moves on by one. */
    CHECK_OK(d3dkmt_emu_kmd_set_protected_session_status(kernel, session_key, D3DKMT_EMU_SESSION_STATUS_INVALID));
    CHECK_OK(D3DKMTQueryProtectedSessionStatus(&status));
    CHECK(status.Status == D3DKMT_PROTECTED_SESSION_STATUS_INVALID);
    CHECK(fence_value(fence_b_va) == initial_value + 1);
    {
        const uint64_t reached = initial_value + 1;
        D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU wait;
        memset(&wait, 0, sizeof wait);
        wait.hDevice = device_b;
        wait.ObjectCount = 1;
        wait.ObjectHandleArray = &fence_b;
        wait.FenceValueArray = &reached;
        CHECK_OK(D3DKMTWaitForSynchronizationObjectFromCpu(&wait)); /* already reached: returns at once */
    }
    /* Setting the same status again is no change and no bump. */
    CHECK_OK(d3dkmt_emu_kmd_set_protected_session_status(kernel, session_key, D3DKMT_EMU_SESSION_STATUS_INVALID));
    CHECK(fence_value(fence_b_va) == initial_value + 1);
    CHECK_NT(d3dkmt_emu_kmd_set_protected_session_status(kernel, session_key, 7), STATUS_INVALID_PARAMETER);

    /* Back to OK, while another thread (also acting as B) blocks on the
     * next fence value. */
    {
        waiter w;
        pthread_t thread;
        memset(&w, 0, sizeof w);
        w.process = proc_b;
        w.device = device_b;
        w.fence = fence_b;
        w.value = initial_value + 2;
        w.status = STATUS_INTERNAL_ERROR;
        CHECK(pthread_create(&thread, NULL, wait_thread, &w) == 0);
        CHECK_OK(d3dkmt_emu_kmd_set_protected_session_status(kernel, session_key, D3DKMT_EMU_SESSION_STATUS_OK));
        CHECK(pthread_join(thread, NULL) == 0);
        CHECK(w.bound);
        CHECK_OK(w.status);
    }
    CHECK_OK(D3DKMTQueryProtectedSessionStatus(&status));
    CHECK(status.Status == D3DKMT_PROTECTED_SESSION_STATUS_OK);
    CHECK(fence_value(fence_b_va) == initial_value + 2);
    CHECK(fence_value(fence_a_va) == initial_value + 2); /* the same fence, seen from A */

    /* Garbage in, nothing out. */
    garbage_structs();
    CHECK(atomic_load(&kmd.creates) == 1);

    /* ---- Teardown: the session must outlive every handle but the last ---- */

    CHECK_OK(d3dkmt_emu_thread_unbind(binding));
    binding = d3dkmt_emu_thread_bind(proc_a);
    CHECK(binding != NULL);
    {
        D3DKMT_DESTROYPROTECTEDSESSION destroy_session;
        D3DKMT_DESTROYSYNCHRONIZATIONOBJECT destroy_fence;
        D3DKMT_DESTROYDEVICE destroy_device;

        destroy_session.hHandle = session_a;
        CHECK_OK(D3DKMTDestroyProtectedSession(&destroy_session));
        CHECK_NT(D3DKMTDestroyProtectedSession(&destroy_session), STATUS_INVALID_PARAMETER);
        CHECK(atomic_load(&kmd.destroys) == 0);
        destroy_fence.hSyncObject = fence_a;
        CHECK_OK(D3DKMTDestroySynchronizationObject(&destroy_fence));
        destroy_device.hDevice = device_a;
        CHECK_OK(D3DKMTDestroyDevice(&destroy_device));
        for (UINT i = 0; i < adapter_rows; i++) {
            D3DKMT_CLOSEADAPTER close_adapter;
            close_adapter.hAdapter = rows[i].hAdapter;
            CHECK_OK(D3DKMTCloseAdapter(&close_adapter));
        }
        CHECK(d3dkmt_emu_process_handle_count(proc_a, 0) == 0);
        CHECK(d3dkmt_emu_process_handle_count(proc_a, 1) == 0);
        CHECK(atomic_load(&kmd.destroys) == 0);
    }
    CHECK_OK(d3dkmt_emu_thread_unbind(binding));

    binding = d3dkmt_emu_thread_bind(proc_b);
    CHECK(binding != NULL);
    {
        D3DKMT_DESTROYPROTECTEDSESSION destroy_session;
        D3DKMT_DESTROYSYNCHRONIZATIONOBJECT destroy_fence;
        D3DKMT_DESTROYDEVICE destroy_device;
        D3DKMT_CLOSEADAPTER close_adapter;

        destroy_session.hHandle = session_b;
        CHECK_OK(D3DKMTDestroyProtectedSession(&destroy_session));
        CHECK(atomic_load(&kmd.destroys) == 0); /* B's NT handle still holds it */
        destroy_fence.hSyncObject = fence_b;
        CHECK_OK(D3DKMTDestroySynchronizationObject(&destroy_fence));
        destroy_device.hDevice = device_b;
        CHECK_OK(D3DKMTDestroyDevice(&destroy_device));
        close_adapter.hAdapter = adapter_b;
        CHECK_OK(D3DKMTCloseAdapter(&close_adapter));
        CHECK(d3dkmt_emu_process_handle_count(proc_b, 0) == 0);

        CHECK_OK(d3dkmt_emu_nt_close(proc_b, nt_fence_b));
        CHECK(atomic_load(&kmd.destroys) == 0);
        CHECK(d3dkmt_emu_kernel_live_objects(kernel, D3DKMT_EMU_OBJECT_PROTECTED_SESSION) == 1);

        CHECK_OK(d3dkmt_emu_nt_close(proc_b, nt_session_b)); /* the last reference */
        CHECK(atomic_load(&kmd.destroys) == 1);
        CHECK(atomic_load(&kmd.destroyed_session) == (KMD_SESSION_BASE | session_key));
        CHECK(d3dkmt_emu_process_handle_count(proc_b, 1) == 0);
    }
    CHECK_OK(d3dkmt_emu_thread_unbind(binding));

    /* The key died with the session. */
    CHECK_NT(d3dkmt_emu_kmd_set_protected_session_status(kernel, session_key, D3DKMT_EMU_SESSION_STATUS_OK),
             STATUS_INVALID_HANDLE);
    CHECK(atomic_load(&kmd.creates) == 1);
    CHECK(atomic_load(&kmd.destroys) == 1);
    CHECK(atomic_load(&kmd.bad_args) == 0);
    CHECK(d3dkmt_emu_kernel_live_objects(kernel, D3DKMT_EMU_OBJECT_ALL) == 0);

    sync_objects();

    free(rows);
    d3dkmt_emu_process_release(proc_a);
    d3dkmt_emu_process_release(proc_b);
    d3dkmt_emu_kernel_release(kernel);

    device_removal();

    adapters_and_vidpn();

    keyed_mutex_handoff();

    printf("%u passed, 0 failed\n", g_passed);
    return 0;
}
