/*
 * dlopen_dxcore.c - a D3DKMT client written the way WSL clients are.
 *
 * Production Linux clients of D3DKMT (GPU container runtimes, compute
 * runtimes, profilers) never link a D3DKMT library: they dlopen
 * "libdxcore.so" (or /usr/lib/wsl/lib/libdxcore.so), dlsym the D3DKMT*
 * functions they need, and are compiled against libdxg-style declarations,
 * where WCHAR is the 4-byte wchar_t. This program does the same against our
 * libdxcore.so (found through LD_LIBRARY_PATH, see tests/c/run.sh):
 *
 *   1. count-then-fill enumeration: EnumAdapters2 and EnumAdapters3 with a
 *      NULL array for the count, then with an array that size;
 *   2. per adapter, QueryAdapterInfo: the driver version against a WDDM
 *      threshold, the adapter type, the PCI ids, the registry info and
 *      driver description as wchar_t text, and the driver store path through
 *      the registry query (first for OutputValueSize, then for the path);
 *      the GDI display name as wchar_t;
 *   3. a device, a monitored fence, a CPU signal and CPU waits (one from
 *      another thread), then teardown; no handle may be left behind.
 *
 * Built with -DDXG_LINKED it links -ldxg instead (pkg-config dxg) and takes
 * the same functions from the link, as libdxg's own samples do.
 *
 *   5. libdxg's extras: a fence created with NtSecuritySharing shared with
 *      the host (ShareObjectWithHost), the stable power state, and last,
 *      CloseDxCoreDevice, after which every call fails with
 *      STATUS_UNSUCCESSFUL as with libdxg.
 *
 *   4. the GPU work (gpu_work()): a virtual context, a paging queue, an
 *      allocation, a GPU VA reservation and map (waiting for the paging
 *      fence), residency, a CPU mapping with Lock2, a submission and a GPU
 *      signal of the fence, a CPU wait on it, and the teardown.
 *
 * Prints "N passed, 0 failed" and exits 0, or stops at the first failed
 * check and exits 1.
 */
#define D3DKMT_EMU_LIBDXG_ABI 1
#include "d3dkmt_emu.h"

#include <dlfcn.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

_Static_assert(sizeof(wchar_t) == 4, "the libdxg ABI: 4-byte wchar_t");
_Static_assert(sizeof(D3DKMT_ADAPTERREGISTRYINFO) == 4160, "libdxg layout (measured with libdxg's headers)");
_Static_assert(sizeof(D3DKMT_DRIVER_DESCRIPTION) == 16384, "libdxg layout (measured with libdxg's headers)");
_Static_assert(sizeof(D3DKMT_ENUMADAPTERS3) == 24, "libdxg layout (measured with libdxg's headers)");

/* ---- Checks ---- */

static unsigned g_passed;
static NTSTATUS g_status;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (cond) {                                                                   \
            g_passed++;                                                               \
        } else {                                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n  last status: 0x%08" PRIX32 "\n", \
                    __FILE__, __LINE__, #cond, (uint32_t)g_status);                   \
            fprintf(stderr, "%u passed, 1 failed\n", g_passed);                        \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

#define CHECK_NT(call, want)          \
    do {                              \
        g_status = (call);            \
        CHECK(g_status == (want));    \
    } while (0)

/* ---- The thunks, as a WSL client finds them ---- */

#define THUNKS(X)                                                              \
    X(EnumAdapters2, D3DKMT_ENUMADAPTERS2 *)                                   \
    X(EnumAdapters3, D3DKMT_ENUMADAPTERS3 *)                                   \
    X(QueryAdapterInfo, D3DKMT_QUERYADAPTERINFO *)                             \
    X(OpenAdapterFromGdiDisplayName, D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME *)   \
    X(CloseAdapter, const D3DKMT_CLOSEADAPTER *)                               \
    X(CreateDevice, D3DKMT_CREATEDEVICE *)                                     \
    X(DestroyDevice, const D3DKMT_DESTROYDEVICE *)                             \
    X(CreateSynchronizationObject2, D3DKMT_CREATESYNCHRONIZATIONOBJECT2 *)     \
    X(SignalSynchronizationObjectFromCpu, const D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU *) \
    X(WaitForSynchronizationObjectFromCpu, const D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU *) \
    X(DestroySynchronizationObject, const D3DKMT_DESTROYSYNCHRONIZATIONOBJECT *) \
    X(ShareObjectWithHost, D3DKMT_SHAREOBJECTWITHHOST *)                       \
    X(SetStablePowerState, const D3DKMT_SETSTABLEPOWERSTATE *)

#define DECLARE(name, arg) NTSTATUS (*name)(arg);
static struct {
    THUNKS(DECLARE)
} kmt;

/* What a GPU-work client probes for; all must resolve, as a client's
 * symbol probe requires. */
static const char *const GPU_WORK_SYMBOLS[] = {
    "D3DKMTCreateContextVirtual", "D3DKMTDestroyContext", "D3DKMTCreateAllocation2",
    "D3DKMTDestroyAllocation2", "D3DKMTCreatePagingQueue", "D3DKMTDestroyPagingQueue",
    "D3DKMTReserveGpuVirtualAddress", "D3DKMTMapGpuVirtualAddress", "D3DKMTFreeGpuVirtualAddress",
    "D3DKMTMakeResident", "D3DKMTEvict", "D3DKMTLock2", "D3DKMTUnlock2", "D3DKMTSubmitCommand",
    "D3DKMTCreateHwQueue", "D3DKMTSubmitCommandToHwQueue", "D3DKMTSignalSynchronizationObjectFromGpu",
    "D3DKMTWaitForSynchronizationObjectFromGpu", "D3DKMTQueryStatistics", "D3DKMTEscape",
    "D3DKMTQueryClockCalibration", "D3DKMTCreateSyncFile", "D3DKMTCloseDxCoreDevice",
};

static void *g_lib;

static void load(void) {
#ifdef DXG_LINKED
#define TAKE(name, arg) kmt.name = D3DKMT##name;
    THUNKS(TAKE)
    g_lib = dlopen(NULL, RTLD_NOW);
#else
    /* The production order: the WSL path first, then the soname. */
    g_lib = dlopen("/usr/lib/wsl/lib/libdxcore.so", RTLD_NOW | RTLD_LOCAL);
    if (!g_lib) {
        g_lib = dlopen("libdxcore.so", RTLD_NOW | RTLD_LOCAL);
    }
    if (!g_lib) {
        fprintf(stderr, "dlopen(libdxcore.so): %s\n", dlerror());
    }
    CHECK(g_lib != NULL);
#define RESOLVE(name, arg)                                              \
    *(void **)&kmt.name = dlsym(g_lib, "D3DKMT" #name);                 \
    CHECK(kmt.name != NULL);
    THUNKS(RESOLVE)
#endif
    for (size_t i = 0; i < sizeof GPU_WORK_SYMBOLS / sizeof *GPU_WORK_SYMBOLS; i++) {
        void *symbol = dlsym(g_lib, GPU_WORK_SYMBOLS[i]);
        if (!symbol) {
            fprintf(stderr, "missing symbol %s\n", GPU_WORK_SYMBOLS[i]);
        }
        CHECK(symbol != NULL);
    }
}

/* ---- 1. Count-then-fill enumeration ---- */

/* EnumAdapters2 twice; returns the filled rows (caller frees, closes). */
static D3DKMT_ADAPTERINFO *enumerate2(UINT *count) {
    D3DKMT_ENUMADAPTERS2 e = {0};
    CHECK_NT(kmt.EnumAdapters2(&e), STATUS_SUCCESS);
    CHECK(e.NumAdapters >= 1);
    D3DKMT_ADAPTERINFO *rows = calloc(e.NumAdapters, sizeof *rows);
    CHECK(rows != NULL);
    e.pAdapters = rows;
    CHECK_NT(kmt.EnumAdapters2(&e), STATUS_SUCCESS);
    CHECK(e.NumAdapters == 1); /* the default kernel: one adapter */
    CHECK(rows[0].hAdapter != 0);
    CHECK(rows[0].AdapterLuid.LowPart != 0 || rows[0].AdapterLuid.HighPart != 0);
    *count = e.NumAdapters;
    return rows;
}

static void enumerate3(LUID expected) {
    D3DKMT_ENUMADAPTERS3 e = {0};
    e.Filter.IncludeComputeOnly = 1;
    CHECK_NT(kmt.EnumAdapters3(&e), STATUS_SUCCESS);
    CHECK(e.NumAdapters >= 1);
    D3DKMT_ADAPTERINFO *rows = calloc(e.NumAdapters, sizeof *rows);
    CHECK(rows != NULL);
    e.pAdapters = rows;
    CHECK_NT(kmt.EnumAdapters3(&e), STATUS_SUCCESS);
    CHECK(e.NumAdapters == 1);
    CHECK(rows[0].AdapterLuid.LowPart == expected.LowPart && rows[0].AdapterLuid.HighPart == expected.HighPart);
    D3DKMT_CLOSEADAPTER close = {rows[0].hAdapter};
    CHECK_NT(kmt.CloseAdapter(&close), STATUS_SUCCESS);
    free(rows);
}

/* ---- 2. Adapter queries ---- */

static NTSTATUS query(D3DKMT_HANDLE adapter, KMTQUERYADAPTERINFOTYPE type, void *data, UINT size) {
    D3DKMT_QUERYADAPTERINFO q = {adapter, type, data, size};
    return kmt.QueryAdapterInfo(&q);
}

static const wchar_t DESCRIPTION[] = L"d3dkmt-emu virtual adapter";
static const wchar_t STORE_PATH[] = L"/usr/lib/wsl/drivers/d3dkmt_emu.inf_amd64_0000000000000000";

static void query_adapter(D3DKMT_HANDLE adapter) {
    /* The WDDM threshold check every probe makes. */
    D3DKMT_DRIVERVERSION version = 0;
    CHECK_NT(query(adapter, KMTQAITYPE_DRIVERVERSION, &version, sizeof version), STATUS_SUCCESS);
    CHECK(version == 3100 && version >= 2700);

    D3DKMT_ADAPTERTYPE type = {0};
    CHECK_NT(query(adapter, KMTQAITYPE_ADAPTERTYPE, &type, sizeof type), STATUS_SUCCESS);
    CHECK((type.Value & 1) != 0); /* RenderSupported */

    D3DKMT_QUERY_DEVICE_IDS ids = {0};
    CHECK_NT(query(adapter, KMTQAITYPE_PHYSICALADAPTERDEVICEIDS, &ids, sizeof ids), STATUS_SUCCESS);
    CHECK(ids.DeviceIds.VendorID == 0x1414 && ids.DeviceIds.DeviceID == 0x008C);

    /* wchar_t text, at the libdxg sizes. */
    D3DKMT_ADAPTERREGISTRYINFO *registry = calloc(1, sizeof *registry);
    CHECK(registry != NULL);
    CHECK_NT(query(adapter, KMTQAITYPE_ADAPTERREGISTRYINFO, registry, sizeof *registry), STATUS_SUCCESS);
    CHECK(wcscmp(registry->AdapterString, DESCRIPTION) == 0);
    CHECK(wcscmp(registry->ChipType, DESCRIPTION) == 0);
    /* The Windows size is wrong for this library, and nothing is written. */
    memset(registry, 0xA5, sizeof *registry);
    CHECK_NT(query(adapter, KMTQAITYPE_ADAPTERREGISTRYINFO, registry, 2080), STATUS_INVALID_PARAMETER);
    CHECK(((unsigned char *)registry)[0] == 0xA5);
    free(registry);

    D3DKMT_DRIVER_DESCRIPTION *description = calloc(1, sizeof *description);
    CHECK(description != NULL);
    CHECK_NT(query(adapter, KMTQAITYPE_DRIVER_DESCRIPTION, description, sizeof *description), STATUS_SUCCESS);
    CHECK(wcscmp(description->DriverDescription, DESCRIPTION) == 0);
    free(description);

    /* The driver store path: ask for the size, then for the path. */
    D3DDDI_QUERYREGISTRY_INFO probe;
    memset(&probe, 0, sizeof probe);
    probe.QueryType = D3DDDI_QUERYREGISTRY_DRIVERSTOREPATH;
    CHECK_NT(query(adapter, KMTQAITYPE_QUERYREGISTRY, &probe, sizeof probe), STATUS_SUCCESS);
    CHECK(probe.Status == D3DDDI_QUERYREGISTRY_STATUS_BUFFER_OVERFLOW);
    CHECK(probe.OutputValueSize == sizeof STORE_PATH); /* 4-byte units, NUL included */
    UINT size = (UINT)sizeof probe + probe.OutputValueSize;
    D3DDDI_QUERYREGISTRY_INFO *info = calloc(1, size);
    CHECK(info != NULL);
    info->QueryType = D3DDDI_QUERYREGISTRY_DRIVERSTOREPATH;
    CHECK_NT(query(adapter, KMTQAITYPE_QUERYREGISTRY, info, size), STATUS_SUCCESS);
    CHECK(info->Status == D3DDDI_QUERYREGISTRY_STATUS_SUCCESS);
    CHECK(info->OutputValueSize == sizeof STORE_PATH);
    CHECK(wcscmp(info->OutputString, STORE_PATH) == 0);
    free(info);

    /* Bad input is answered, never obeyed. */
    CHECK_NT(kmt.QueryAdapterInfo(NULL), STATUS_INVALID_PARAMETER);
    CHECK_NT(query(adapter, KMTQAITYPE_DRIVERVERSION, NULL, 4), STATUS_INVALID_PARAMETER);
}

static void open_by_gdi_name(LUID expected) {
    D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME open;
    memset(&open, 0, sizeof open);
    wcscpy(open.DeviceName, L"\\\\.\\DISPLAY1");
    CHECK_NT(kmt.OpenAdapterFromGdiDisplayName(&open), STATUS_SUCCESS);
    CHECK(open.AdapterLuid.LowPart == expected.LowPart && open.VidPnSourceId == 0);
    D3DKMT_CLOSEADAPTER close = {open.hAdapter};
    CHECK_NT(kmt.CloseAdapter(&close), STATUS_SUCCESS);
}

/* ---- 3. Device and monitored fence ---- */

struct waiter {
    D3DKMT_HANDLE device, fence;
    UINT64 value;
    NTSTATUS status;
};

static void *wait_on_fence(void *arg) {
    struct waiter *w = arg;
    D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU wait;
    memset(&wait, 0, sizeof wait);
    wait.hDevice = w->device;
    wait.ObjectCount = 1;
    wait.ObjectHandleArray = &w->fence;
    wait.FenceValueArray = &w->value;
    w->status = kmt.WaitForSynchronizationObjectFromCpu(&wait);
    return NULL;
}

static void signal_fence(D3DKMT_HANDLE device, D3DKMT_HANDLE fence, UINT64 value) {
    D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU signal;
    memset(&signal, 0, sizeof signal);
    signal.hDevice = device;
    signal.ObjectCount = 1;
    signal.ObjectHandleArray = &fence;
    signal.FenceValueArray = &value;
    CHECK_NT(kmt.SignalSynchronizationObjectFromCpu(&signal), STATUS_SUCCESS);
}

/*
 * ==== GPU WORK ====
 * The rest of the WSL cycle on `device` and `fence`, each function taken
 * with dlsym as a client does: CreateContextVirtual (client hint, engine
 * affinity), CreatePagingQueue, CreateAllocation2 over our own memory,
 * ReserveGpuVirtualAddress + MapGpuVirtualAddress (then a CPU wait for the
 * paging fence value), MakeResident (the same), Lock2 (the pointer is our
 * memory: written through it, read back), SubmitCommand at the mapped VA and
 * a GPU signal of `fence` to `value` on the context, a CPU wait on it; then
 * the destroys in reverse order, with a few bad calls answered on the way.
 */
#define GPU_THUNKS(X)                                                              \
    X(CreateContextVirtual, D3DKMT_CREATECONTEXTVIRTUAL *)                         \
    X(DestroyContext, const D3DKMT_DESTROYCONTEXT *)                               \
    X(CreatePagingQueue, D3DKMT_CREATEPAGINGQUEUE *)                               \
    X(DestroyPagingQueue, D3DDDI_DESTROYPAGINGQUEUE *)                             \
    X(CreateAllocation2, D3DKMT_CREATEALLOCATION *)                                \
    X(DestroyAllocation2, const D3DKMT_DESTROYALLOCATION2 *)                       \
    X(ReserveGpuVirtualAddress, D3DDDI_RESERVEGPUVIRTUALADDRESS *)                 \
    X(MapGpuVirtualAddress, D3DDDI_MAPGPUVIRTUALADDRESS *)                         \
    X(FreeGpuVirtualAddress, const D3DKMT_FREEGPUVIRTUALADDRESS *)                 \
    X(MakeResident, D3DDDI_MAKERESIDENT *)                                         \
    X(Evict, D3DKMT_EVICT *)                                                       \
    X(Lock2, D3DKMT_LOCK2 *)                                                       \
    X(Unlock2, const D3DKMT_UNLOCK2 *)                                             \
    X(SubmitCommand, const D3DKMT_SUBMITCOMMAND *)                                 \
    X(SignalSynchronizationObjectFromGpu, const D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU *)

static struct {
    GPU_THUNKS(DECLARE)
} gpu;

static void wait_value(D3DKMT_HANDLE device, D3DKMT_HANDLE object, UINT64 value) {
    D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU wait;
    memset(&wait, 0, sizeof wait);
    wait.hDevice = device;
    wait.ObjectCount = 1;
    wait.ObjectHandleArray = &object;
    wait.FenceValueArray = &value;
    CHECK_NT(kmt.WaitForSynchronizationObjectFromCpu(&wait), STATUS_SUCCESS);
}

enum { ALLOCATION_BYTES = 4 * 4096, VA_BYTES = 64 * 1024 };

static void gpu_work(D3DKMT_HANDLE adapter, D3DKMT_HANDLE device, D3DKMT_HANDLE fence, UINT64 value) {
#define RESOLVE_GPU(name, arg)                                  \
    *(void **)&gpu.name = dlsym(g_lib, "D3DKMT" #name);         \
    CHECK(gpu.name != NULL);
    GPU_THUNKS(RESOLVE_GPU)

    /* A virtual context, as a compute runtime makes it. */
    D3DKMT_CREATECONTEXTVIRTUAL context;
    memset(&context, 0, sizeof context);
    context.hDevice = device;
    context.NodeOrdinal = 0;
    context.EngineAffinity = 1;
    context.ClientHint = D3DKMT_CLIENTHINT_CUDA;
    CHECK_NT(gpu.CreateContextVirtual(&context), STATUS_SUCCESS);
    CHECK(context.hContext != 0);

    D3DKMT_CREATEPAGINGQUEUE paging;
    memset(&paging, 0, sizeof paging);
    paging.hDevice = device;
    paging.Priority = D3DDDI_PAGINGQUEUE_PRIORITY_NORMAL;
    CHECK_NT(gpu.CreatePagingQueue(&paging), STATUS_SUCCESS);
    volatile UINT64 *paging_value = paging.FenceValueCPUVirtualAddress;
    CHECK(paging_value != NULL && *paging_value == 0);

    /* An allocation over our own memory. */
    unsigned char *memory = aligned_alloc(4096, ALLOCATION_BYTES);
    CHECK(memory != NULL);
    memset(memory, 0, ALLOCATION_BYTES);
    D3DKMT_CREATESTANDARDALLOCATION standard;
    memset(&standard, 0, sizeof standard);
    standard.Type = D3DKMT_STANDARDALLOCATIONTYPE_EXISTINGHEAP;
    standard.ExistingHeapData.Size = ALLOCATION_BYTES;
    D3DDDI_ALLOCATIONINFO2 info;
    memset(&info, 0, sizeof info);
    info.pSystemMem = memory;
    D3DKMT_CREATEALLOCATION create;
    memset(&create, 0, sizeof create);
    create.hDevice = device;
    create.pStandardAllocation = &standard;
    create.NumAllocations = 1;
    create.pAllocationInfo2 = &info;
    create.Flags.StandardAllocation = 1;
    create.Flags.ExistingSysMem = 1;
    CHECK_NT(gpu.CreateAllocation2(&create), STATUS_SUCCESS);
    D3DKMT_HANDLE allocation = info.hAllocation;
    CHECK(allocation != 0);

    /* GPU VA: reserve 64 KiB on the adapter, map the allocation there. */
    D3DDDI_RESERVEGPUVIRTUALADDRESS reserve;
    memset(&reserve, 0, sizeof reserve);
    reserve.hAdapter = adapter;
    reserve.Size = VA_BYTES;
    CHECK_NT(gpu.ReserveGpuVirtualAddress(&reserve), STATUS_SUCCESS);
    UINT64 va = reserve.VirtualAddress;
    CHECK(va != 0 && va % VA_BYTES == 0);

    D3DDDI_MAPGPUVIRTUALADDRESS map;
    memset(&map, 0, sizeof map);
    map.hPagingQueue = paging.hPagingQueue;
    map.BaseAddress = va;
    map.hAllocation = allocation;
    map.SizeInPages = ALLOCATION_BYTES / 4096 + 1; /* one page too many */
    map.Protection.Value = 1;                     /* Write */
    CHECK_NT(gpu.MapGpuVirtualAddress(&map), STATUS_INVALID_PARAMETER);
    CHECK(map.PagingFenceValue == 0 && map.VirtualAddress == 0);
    map.SizeInPages = ALLOCATION_BYTES / 4096;
    CHECK_NT(gpu.MapGpuVirtualAddress(&map), STATUS_SUCCESS);
    CHECK(map.VirtualAddress == va);
    CHECK(map.PagingFenceValue == 1);
    wait_value(device, paging.hSyncObject, map.PagingFenceValue);
    CHECK(*paging_value >= map.PagingFenceValue);

    D3DDDI_MAKERESIDENT resident;
    memset(&resident, 0, sizeof resident);
    resident.hPagingQueue = paging.hPagingQueue;
    resident.NumAllocations = 1;
    resident.AllocationList = &allocation;
    CHECK_NT(gpu.MakeResident(&resident), STATUS_SUCCESS);
    CHECK(resident.PagingFenceValue == 2 && resident.NumBytesToTrim == 0);
    wait_value(device, paging.hSyncObject, resident.PagingFenceValue);

    /* CPU access: the pointer is the allocation's memory. */
    D3DKMT_LOCK2 lock;
    memset(&lock, 0, sizeof lock);
    lock.hDevice = device;
    lock.hAllocation = allocation;
    CHECK_NT(gpu.Lock2(&lock), STATUS_SUCCESS);
    CHECK(lock.pData == memory);
    ((volatile UINT *)lock.pData)[1] = 0xC0DE;
    CHECK(((UINT *)memory)[1] == 0xC0DE);
    D3DKMT_UNLOCK2 unlock = {device, allocation};
    CHECK_NT(gpu.Unlock2(&unlock), STATUS_SUCCESS);
    CHECK_NT(gpu.Unlock2(&unlock), STATUS_INVALID_PARAMETER);

    /* Submit at the mapped VA, then a GPU signal of the fence behind it. */
    D3DKMT_SUBMITCOMMAND submit;
    memset(&submit, 0, sizeof submit);
    submit.Commands = va;
    submit.CommandLength = 256;
    submit.BroadcastContextCount = 1;
    submit.BroadcastContext[0] = context.hContext;
    CHECK_NT(gpu.SubmitCommand(&submit), STATUS_SUCCESS);
    D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU signal;
    memset(&signal, 0, sizeof signal);
    signal.hContext = context.hContext;
    signal.ObjectCount = 1;
    signal.ObjectHandleArray = &fence;
    signal.MonitoredFenceValueArray = &value;
    CHECK_NT(gpu.SignalSynchronizationObjectFromGpu(&signal), STATUS_SUCCESS);
    wait_value(device, fence, value);

    /* Teardown in reverse order. */
    D3DKMT_EVICT evict;
    memset(&evict, 0, sizeof evict);
    evict.hDevice = device;
    evict.NumAllocations = 1;
    evict.AllocationList = &allocation;
    CHECK_NT(gpu.Evict(&evict), STATUS_SUCCESS);
    CHECK_NT(gpu.Evict(&evict), STATUS_INVALID_PARAMETER); /* not resident any more */
    D3DKMT_FREEGPUVIRTUALADDRESS free_va = {adapter, va, VA_BYTES};
    CHECK_NT(gpu.FreeGpuVirtualAddress(&free_va), STATUS_SUCCESS);
    CHECK_NT(gpu.FreeGpuVirtualAddress(&free_va), STATUS_INVALID_PARAMETER);
    D3DKMT_DESTROYALLOCATION2 destroy;
    memset(&destroy, 0, sizeof destroy);
    destroy.hDevice = device;
    destroy.phAllocationList = &allocation;
    destroy.AllocationCount = 1;
    CHECK_NT(gpu.DestroyAllocation2(&destroy), STATUS_SUCCESS);
    free(memory);
    D3DDDI_DESTROYPAGINGQUEUE destroy_paging = {paging.hPagingQueue};
    CHECK_NT(gpu.DestroyPagingQueue(&destroy_paging), STATUS_SUCCESS);
    D3DKMT_DESTROYCONTEXT destroy_context = {context.hContext};
    CHECK_NT(gpu.DestroyContext(&destroy_context), STATUS_SUCCESS);
}

/* ---- 5. libdxg's extras ---- */

static void host_extras(D3DKMT_HANDLE adapter, D3DKMT_HANDLE device) {
    D3DKMT_CREATESYNCHRONIZATIONOBJECT2 sync;
    memset(&sync, 0, sizeof sync);
    sync.hDevice = device;
    sync.Info.Type = D3DDDI_MONITORED_FENCE;
    sync.Info.Flags.Shared = 1;
    sync.Info.Flags.NtSecuritySharing = 1;
    CHECK_NT(kmt.CreateSynchronizationObject2(&sync), STATUS_SUCCESS);

    D3DKMT_SHAREOBJECTWITHHOST host = {device, sync.hSyncObject, 0, 0};
    CHECK_NT(kmt.ShareObjectWithHost(&host), STATUS_SUCCESS);
    CHECK(host.hVailProcessNtHandle != 0 && host.hVailProcessNtHandle % 4 == 0);
    D3DKMT_SHAREOBJECTWITHHOST again = host;
    CHECK_NT(kmt.ShareObjectWithHost(&again), STATUS_SUCCESS);
    CHECK(again.hVailProcessNtHandle != host.hVailProcessNtHandle);
    D3DKMT_SHAREOBJECTWITHHOST bad = {device, device, 0, 77};
    CHECK_NT(kmt.ShareObjectWithHost(&bad), STATUS_INVALID_PARAMETER);
    CHECK(bad.hVailProcessNtHandle == 77);
    CHECK_NT(kmt.ShareObjectWithHost(NULL), STATUS_INVALID_PARAMETER);

    D3DKMT_SETSTABLEPOWERSTATE power = {adapter, 1};
    CHECK_NT(kmt.SetStablePowerState(&power), STATUS_SUCCESS);
    power.Enabled = 0;
    CHECK_NT(kmt.SetStablePowerState(&power), STATUS_SUCCESS);
    D3DKMT_SETSTABLEPOWERSTATE wrong = {device, 1};
    CHECK_NT(kmt.SetStablePowerState(&wrong), STATUS_INVALID_PARAMETER);

    D3DKMT_DESTROYSYNCHRONIZATIONOBJECT destroy = {sync.hSyncObject};
    CHECK_NT(kmt.DestroySynchronizationObject(&destroy), STATUS_SUCCESS);
}

static void device_and_fence(D3DKMT_HANDLE adapter) {
    D3DKMT_CREATEDEVICE create;
    memset(&create, 0, sizeof create);
    create.hAdapter = adapter;
    CHECK_NT(kmt.CreateDevice(&create), STATUS_SUCCESS);
    CHECK(create.hDevice != 0);

    D3DKMT_CREATESYNCHRONIZATIONOBJECT2 sync;
    memset(&sync, 0, sizeof sync);
    sync.hDevice = create.hDevice;
    sync.Info.Type = D3DDDI_MONITORED_FENCE;
    sync.Info.MonitoredFence.InitialFenceValue = 1;
    CHECK_NT(kmt.CreateSynchronizationObject2(&sync), STATUS_SUCCESS);
    volatile UINT64 *cpu_value = sync.Info.MonitoredFence.FenceValueCPUVirtualAddress;
    CHECK(cpu_value != NULL && *cpu_value == 1);

    signal_fence(create.hDevice, sync.hSyncObject, 5);
    CHECK(*cpu_value == 5);
    struct waiter reached = {create.hDevice, sync.hSyncObject, 5, -1};
    wait_on_fence(&reached);
    CHECK(reached.status == STATUS_SUCCESS);

    /* A wait from another thread, released by a later signal. */
    struct waiter later = {create.hDevice, sync.hSyncObject, 10, -1};
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, wait_on_fence, &later) == 0);
    signal_fence(create.hDevice, sync.hSyncObject, 10);
    CHECK(pthread_join(thread, NULL) == 0);
    CHECK(later.status == STATUS_SUCCESS);
    CHECK(*cpu_value == 10);

    gpu_work(adapter, create.hDevice, sync.hSyncObject, 11);
    host_extras(adapter, create.hDevice);

    D3DKMT_DESTROYSYNCHRONIZATIONOBJECT destroy_sync = {sync.hSyncObject};
    CHECK_NT(kmt.DestroySynchronizationObject(&destroy_sync), STATUS_SUCCESS);
    CHECK_NT(kmt.DestroySynchronizationObject(&destroy_sync), STATUS_INVALID_PARAMETER);
    D3DKMT_DESTROYDEVICE destroy = {create.hDevice};
    CHECK_NT(kmt.DestroyDevice(&destroy), STATUS_SUCCESS);
}

int main(void) {
    load();

    UINT count = 0;
    D3DKMT_ADAPTERINFO *adapters = enumerate2(&count);
    enumerate3(adapters[0].AdapterLuid);
    for (UINT i = 0; i < count; i++) {
        query_adapter(adapters[i].hAdapter);
        device_and_fence(adapters[i].hAdapter);
    }
    open_by_gdi_name(adapters[0].AdapterLuid);
    for (UINT i = 0; i < count; i++) {
        D3DKMT_CLOSEADAPTER close = {adapters[i].hAdapter};
        CHECK_NT(kmt.CloseAdapter(&close), STATUS_SUCCESS);
        CHECK_NT(kmt.CloseAdapter(&close), STATUS_INVALID_PARAMETER);
    }
    free(adapters);

    /* Nothing left behind in the (default) process. The control API comes
     * from the same library. */
    d3dkmt_emu_process *(*current)(void) = NULL;
    uint32_t (*handle_count)(const d3dkmt_emu_process *, uint32_t) = NULL;
    void (*release)(d3dkmt_emu_process *) = NULL;
    *(void **)&current = dlsym(g_lib, "d3dkmt_emu_process_current");
    *(void **)&handle_count = dlsym(g_lib, "d3dkmt_emu_process_handle_count");
    *(void **)&release = dlsym(g_lib, "d3dkmt_emu_process_release");
    CHECK(current && handle_count && release);
    d3dkmt_emu_process *process = current();
    CHECK(process != NULL);
    CHECK(handle_count(process, 0) == 0);
    release(process);

    /* Last, as libdxg's destructor would: close the dxg device. Every later
     * call answers STATUS_UNSUCCESSFUL and writes nothing. */
    void (*close_dxcore)(void) = NULL;
    *(void **)&close_dxcore = dlsym(g_lib, "D3DKMTCloseDxCoreDevice");
    CHECK(close_dxcore != NULL);
    close_dxcore();
    D3DKMT_ENUMADAPTERS2 after;
    memset(&after, 0, sizeof after);
    after.NumAdapters = 12345;
    CHECK_NT(kmt.EnumAdapters2(&after), STATUS_UNSUCCESSFUL);
    CHECK(after.NumAdapters == 12345);
    close_dxcore(); /* a second close does nothing more */

#ifndef DXG_LINKED
    CHECK(dlclose(g_lib) == 0);
#endif
    printf("%u passed, 0 failed\n", g_passed);
    return 0;
}
