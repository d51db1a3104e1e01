/*
 * d3dkmt_emu.h - C interface of d3dkmt-emu (library `d3dkmt_emu`).
 *
 * d3dkmt-emu is an in-process stand-in for the Windows graphics kernel as
 * user mode reaches it through the D3DKMT* thunks. Link a driver, runtime or
 * translation layer against libd3dkmt_emu instead of gdi32/libdxg and its
 * tests run on plain Linux: no Windows, no GPU, no /dev/dxg.
 *
 * This header has three parts:
 *
 *   1. Windows-named types and constants (NTSTATUS, HANDLE, LUID, the
 *      D3DKMT_* argument structs, STATUS_* values, access rights). Their
 *      layout is identical to the windows-sys crate's on x86_64; the sizes
 *      are checked at compile time below, and tests/header_layout.rs checks
 *      every size, member offset and enumerator against windows-sys (after
 *      changing a type here, regenerate it with python3 tools/gen_layout.py,
 *      which also writes tests/c/layout_dump.c). A program that already has the
 *      Windows SDK/WDK definitions can define D3DKMT_EMU_USE_SYSTEM_TYPES
 *      before including this file to skip ours.
 *   2. Prototypes of the D3DKMT* entry points the library exports. Define
 *      D3DKMT_EMU_NO_THUNK_PROTOTYPES to leave them out (for example when
 *      another header already declares them).
 *   3. The d3dkmt_emu_* control API: kernels, virtual processes, thread
 *      binding, the fake kernel-mode driver (KMD), NT-handle close and
 *      duplicate, and diagnostics.
 *
 * ---------------------------------------------------------------------------
 * Which kernel and process a D3DKMT* call talks to
 * ---------------------------------------------------------------------------
 *
 * D3DKMT* calls carry no process argument. Each thread acts as one virtual
 * process: the one it is bound to with d3dkmt_emu_thread_bind, or, when it
 * is not bound, the default process of the default kernel. The default
 * kernel is created on first use with the default configuration (one full
 * adapter with LUID {0x1234, 0} that supports protected sessions, every
 * policy at its default) and lives until the program ends. So code that
 * never calls a d3dkmt_emu_* function still works: all its threads share
 * that one default process.
 *
 * ---------------------------------------------------------------------------
 * Error conventions of the D3DKMT* entry points
 * ---------------------------------------------------------------------------
 *
 *  - A NULL argument-struct pointer: STATUS_INVALID_PARAMETER.
 *  - A D3DKMT_HANDLE (adapter, device, sync object, session) that names
 *    nothing of the expected kind in the calling process - zero, stale,
 *    destroyed, another process's, another kind's, or garbage:
 *    STATUS_INVALID_PARAMETER (that is what the Windows kernel answers for
 *    these handles).
 *  - An NT HANDLE that is not open in the calling process (NULL, closed,
 *    garbage): STATUS_INVALID_HANDLE. An NT handle to an object of another
 *    type: the kernel's wrong_nt_object_type policy (default
 *    STATUS_OBJECT_TYPE_MISMATCH).
 *  - A call that fails writes nothing: the argument struct and every buffer
 *    it points to are left exactly as they were. Outputs are written only
 *    on success.
 *  - A thread bound to a process that has exited gets
 *    STATUS_PROCESS_IS_TERMINATING.
 *  - Parts of the API the library does not emulate answer
 *    STATUS_NOT_IMPLEMENTED; nothing pretends to succeed.
 *  - A bug inside the library is caught at the boundary and reported as
 *    STATUS_INTERNAL_ERROR; it never unwinds into C.
 *  - After a failed D3DKMT* call, d3dkmt_emu_last_error gives a one-line
 *    explanation naming the entry point and the argument or rule.
 *
 * All pointers passed in must be valid for the duration of the call, as
 * with the real thunks; the library can only detect NULL.
 */
#ifndef D3DKMT_EMU_H
#define D3DKMT_EMU_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The thunks use the Windows "system" calling convention: the plain C one
 * everywhere except 32-bit Windows. */
#if defined(_WIN32) && (defined(_M_IX86) || defined(__i386__))
#define D3DKMT_EMU_APIENTRY __stdcall
#else
#define D3DKMT_EMU_APIENTRY
#endif

#ifdef __cplusplus
#define D3DKMT_EMU_STATIC_ASSERT(expr, msg) static_assert(expr, msg)
#else
#define D3DKMT_EMU_STATIC_ASSERT(expr, msg) _Static_assert(expr, msg)
#endif

/* ======================================================================== */
/* Part 1: Windows-named types and constants                                */
/* ======================================================================== */

#ifndef D3DKMT_EMU_USE_SYSTEM_TYPES

/* ---- Basic types ---- */

typedef int32_t NTSTATUS;         /* negative: failure (see NT_SUCCESS) */
typedef void *HANDLE;             /* NT handle: an opaque pointer-sized value */
typedef uint32_t D3DKMT_HANDLE;   /* process-local graphics-kernel handle */
typedef uint32_t UINT;
typedef uint64_t UINT64;
typedef int32_t BOOL;
typedef uint8_t BOOLEAN;
#ifdef D3DKMT_EMU_LIBDXG_ABI
/* The libdxg (Linux) ABI, for code built the way libdxg's headers build it:
 * WCHAR is wchar_t (4 bytes, UTF-32), so the structs with WCHAR text are
 * larger. Only libdxg.so and libdxcore.so serve this layout (see README,
 * "Linux drop-in"); libd3dkmt_emu serves the Windows one. */
#include <wchar.h>
typedef wchar_t WCHAR;
#define D3DKMT_EMU_WCHAR_SIZE 4
#else
/* A UTF-16 code unit. Windows' wide character is 2 bytes, unlike Linux's
 * wchar_t (4 bytes), so strings handed to the library are uint16_t arrays. */
typedef uint16_t WCHAR;
#define D3DKMT_EMU_WCHAR_SIZE 2
#endif

#ifndef NT_SUCCESS
#define NT_SUCCESS(status) (((NTSTATUS)(status)) >= 0)
#endif

/* A locally unique 64-bit identifier, split in two halves. */
typedef struct _LUID {
    uint32_t LowPart;
    int32_t HighPart;
} LUID;

/* A counted UTF-16 string. Length and MaximumLength are in bytes (not
 * characters); Buffer need not be NUL-terminated. */
typedef struct _UNICODE_STRING {
    uint16_t Length;
    uint16_t MaximumLength;
    uint16_t *Buffer;
} UNICODE_STRING;

/* Naming and security attributes of a new NT object. The library reads
 * Length (must equal sizeof(OBJECT_ATTRIBUTES)), RootDirectory (must be NULL)
 * and ObjectName (an optional name, compared case-insensitively); it ignores
 * the rest. */
typedef struct _OBJECT_ATTRIBUTES {
    UINT Length;
    HANDLE RootDirectory;
    UNICODE_STRING *ObjectName;
    UINT Attributes;
    void *SecurityDescriptor;
    void *SecurityQualityOfService;
} OBJECT_ATTRIBUTES;

/* ---- Status codes the library returns ---- */

#ifndef STATUS_SUCCESS
#define STATUS_SUCCESS ((NTSTATUS)0x00000000L)
#endif
#ifndef STATUS_ABANDONED
/* A success-class status: a keyed mutex's owner went away holding it. */
#define STATUS_ABANDONED ((NTSTATUS)0x00000080L)
#endif
#ifndef STATUS_TIMEOUT
/* A success-class status: an acquire's timeout passed. */
#define STATUS_TIMEOUT ((NTSTATUS)0x00000102L)
#endif
#ifndef STATUS_NOT_IMPLEMENTED
#define STATUS_NOT_IMPLEMENTED ((NTSTATUS)0xC0000002L)
#endif
#ifndef STATUS_INVALID_HANDLE
#define STATUS_INVALID_HANDLE ((NTSTATUS)0xC0000008L)
#endif
#ifndef STATUS_INVALID_PARAMETER
#define STATUS_INVALID_PARAMETER ((NTSTATUS)0xC000000DL)
#endif
#ifndef STATUS_NO_MEMORY
#define STATUS_NO_MEMORY ((NTSTATUS)0xC0000017L)
#endif
#ifndef STATUS_ACCESS_DENIED
#define STATUS_ACCESS_DENIED ((NTSTATUS)0xC0000022L)
#endif
#ifndef STATUS_BUFFER_TOO_SMALL
#define STATUS_BUFFER_TOO_SMALL ((NTSTATUS)0xC0000023L)
#endif
#ifndef STATUS_OBJECT_TYPE_MISMATCH
#define STATUS_OBJECT_TYPE_MISMATCH ((NTSTATUS)0xC0000024L)
#endif
#ifndef STATUS_OBJECT_NAME_NOT_FOUND
#define STATUS_OBJECT_NAME_NOT_FOUND ((NTSTATUS)0xC0000034L)
#endif
#ifndef STATUS_OBJECT_NAME_COLLISION
#define STATUS_OBJECT_NAME_COLLISION ((NTSTATUS)0xC0000035L)
#endif
#ifndef STATUS_NOT_SUPPORTED
#define STATUS_NOT_SUPPORTED ((NTSTATUS)0xC00000BBL)
#endif
#ifndef STATUS_INTERNAL_ERROR
#define STATUS_INTERNAL_ERROR ((NTSTATUS)0xC00000E5L)
#endif
#ifndef STATUS_PROCESS_IS_TERMINATING
#define STATUS_PROCESS_IS_TERMINATING ((NTSTATUS)0xC000010AL)
#endif
#ifndef STATUS_DEVICE_REMOVED
#define STATUS_DEVICE_REMOVED ((NTSTATUS)0xC00002B6L)
#endif
#ifndef STATUS_UNSUCCESSFUL
#define STATUS_UNSUCCESSFUL ((NTSTATUS)0xC0000001L)
#endif
#ifndef STATUS_GRAPHICS_PRESENT_OCCLUDED
#define STATUS_GRAPHICS_PRESENT_OCCLUDED ((NTSTATUS)0xC01E0006L)
#endif
#ifndef STATUS_GRAPHICS_VIDPN_SOURCE_IN_USE
#define STATUS_GRAPHICS_VIDPN_SOURCE_IN_USE ((NTSTATUS)0xC01E0342L)
#endif

/* ---- Access rights for NT handles to shared objects ---- */

#ifndef READ_CONTROL
#define READ_CONTROL 0x00020000u /* needed to open or query through a handle */
#endif
#ifndef STANDARD_RIGHTS_READ
#define STANDARD_RIGHTS_READ READ_CONTROL
#endif
#ifndef STANDARD_RIGHTS_REQUIRED
#define STANDARD_RIGHTS_REQUIRED 0x000F0000u
#endif
#ifndef SYNCHRONIZE
#define SYNCHRONIZE 0x00100000u
#endif
#ifndef GENERIC_READ
#define GENERIC_READ 0x80000000u
#endif
#ifndef GENERIC_WRITE
#define GENERIC_WRITE 0x40000000u
#endif
#ifndef GENERIC_EXECUTE
#define GENERIC_EXECUTE 0x20000000u
#endif
#ifndef GENERIC_ALL
#define GENERIC_ALL 0x10000000u
#endif
#ifndef MAXIMUM_ALLOWED
#define MAXIMUM_ALLOWED 0x02000000u
#endif
/* Sync-object specific rights: a handle opened from an NT handle may wait
 * only with ..._WAIT and signal only with ..._SIGNAL. */
#ifndef D3DDDI_SYNC_OBJECT_WAIT
#define D3DDDI_SYNC_OBJECT_WAIT 0x1u
#endif
#ifndef D3DDDI_SYNC_OBJECT_SIGNAL
#define D3DDDI_SYNC_OBJECT_SIGNAL 0x2u
#endif
#ifndef D3DDDI_SYNC_OBJECT_ALL_ACCESS
#define D3DDDI_SYNC_OBJECT_ALL_ACCESS \
    (STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | D3DDDI_SYNC_OBJECT_WAIT | D3DDDI_SYNC_OBJECT_SIGNAL)
#endif

/* Options of d3dkmt_emu_nt_duplicate (as for DuplicateHandle). */
#ifndef DUPLICATE_CLOSE_SOURCE
#define DUPLICATE_CLOSE_SOURCE 0x1u
#endif
#ifndef DUPLICATE_SAME_ACCESS
#define DUPLICATE_SAME_ACCESS 0x2u
#endif

/* ---- Adapters ---- */

/* One row of an adapter enumeration. */
typedef struct _D3DKMT_ADAPTERINFO {
    D3DKMT_HANDLE hAdapter;  /* out: a new adapter handle the caller closes */
    LUID AdapterLuid;
    UINT NumOfSources;
    BOOL bPrecisePresentRegionsPreferred; /* always 0 here */
} D3DKMT_ADAPTERINFO;

typedef struct _D3DKMT_ENUMADAPTERS2 {
    UINT NumAdapters;                /* in: room in pAdapters; out: rows written */
    D3DKMT_ADAPTERINFO *pAdapters;   /* NULL: only ask how many rows to allow */
} D3DKMT_ENUMADAPTERS2;

/* Which adapter kinds EnumAdapters3 lists besides full adapters. */
typedef struct _D3DKMT_ENUMADAPTERS_FILTER {
    union {
        struct {
            UINT64 IncludeComputeOnly : 1;
            UINT64 IncludeDisplayOnly : 1;
            UINT64 Reserved : 62;
        };
        UINT64 Value;
    };
} D3DKMT_ENUMADAPTERS_FILTER;

typedef struct _D3DKMT_ENUMADAPTERS3 {
    D3DKMT_ENUMADAPTERS_FILTER Filter;
    UINT NumAdapters;
    D3DKMT_ADAPTERINFO *pAdapters;
} D3DKMT_ENUMADAPTERS3;

typedef struct _D3DKMT_OPENADAPTERFROMLUID {
    LUID AdapterLuid;
    D3DKMT_HANDLE hAdapter; /* out */
} D3DKMT_OPENADAPTERFROMLUID;

typedef struct _D3DKMT_CLOSEADAPTER {
    D3DKMT_HANDLE hAdapter;
} D3DKMT_CLOSEADAPTER;

/* ---- Devices ---- */

/* Device-creation flag bits; the library ignores them. */
typedef struct _D3DKMT_CREATEDEVICEFLAGS {
    union {
        UINT Value;
    };
} D3DKMT_CREATEDEVICEFLAGS;

typedef struct _D3DKMT_CREATEDEVICE {
    union {
        D3DKMT_HANDLE hAdapter; /* in: the adapter (the library reads this) */
        void *pAdapter;         /* legacy kernel-mode form; not used */
    };
    D3DKMT_CREATEDEVICEFLAGS Flags;
    D3DKMT_HANDLE hDevice;         /* out */
    /* Legacy (pre-WDDM 2) outputs: set to NULL / 0 on success. */
    void *pCommandBuffer;
    UINT CommandBufferSize;
    void *pAllocationList;         /* a D3DDDI_ALLOCATIONLIST array on Windows */
    UINT AllocationListSize;
    void *pPatchLocationList;      /* a D3DDDI_PATCHLOCATIONLIST array on Windows */
    UINT PatchLocationListSize;
} D3DKMT_CREATEDEVICE;

typedef struct _D3DKMT_DESTROYDEVICE {
    D3DKMT_HANDLE hDevice;
} D3DKMT_DESTROYDEVICE;

typedef enum _D3DKMT_DEVICESTATE_TYPE {
    D3DKMT_DEVICESTATE_EXECUTION = 1,     /* emulated */
    D3DKMT_DEVICESTATE_PRESENT = 2,       /* STATUS_NOT_IMPLEMENTED */
    D3DKMT_DEVICESTATE_RESET = 3,         /* emulated */
    D3DKMT_DEVICESTATE_PRESENT_DWM = 4,   /* STATUS_NOT_IMPLEMENTED */
    D3DKMT_DEVICESTATE_PAGE_FAULT = 5,    /* STATUS_NOT_IMPLEMENTED */
    D3DKMT_DEVICESTATE_PRESENT_QUEUE = 6  /* STATUS_NOT_IMPLEMENTED */
} D3DKMT_DEVICESTATE_TYPE;

typedef enum _D3DKMT_DEVICEEXECUTION_STATE {
    D3DKMT_DEVICEEXECUTION_ACTIVE = 1,
    D3DKMT_DEVICEEXECUTION_RESET = 2,
    D3DKMT_DEVICEEXECUTION_HUNG = 3,
    D3DKMT_DEVICEEXECUTION_STOPPED = 4,
    D3DKMT_DEVICEEXECUTION_ERROR_OUTOFMEMORY = 5,
    D3DKMT_DEVICEEXECUTION_ERROR_DMAFAULT = 6,
    D3DKMT_DEVICEEXECUTION_ERROR_DMAPAGEFAULT = 7
} D3DKMT_DEVICEEXECUTION_STATE;

typedef struct _D3DKMT_DEVICERESET_STATE {
    union {
        struct {
            UINT DesktopSwitched : 1; /* always 0: the library models no desktops */
            UINT Reserved : 31;
        };
        UINT Value;
    };
} D3DKMT_DEVICERESET_STATE;

typedef struct _D3DKMT_GETDEVICESTATE {
    D3DKMT_HANDLE hDevice;              /* in */
    D3DKMT_DEVICESTATE_TYPE StateType;  /* in */
    union {
        D3DKMT_DEVICEEXECUTION_STATE ExecutionState; /* out, for EXECUTION */
        D3DKMT_DEVICERESET_STATE ResetState;         /* out, for RESET */
        /* Room for the present, DWM-present, present-queue and page-fault
         * members, which the library does not emulate. */
        UINT64 Reserved[6];
    };
} D3DKMT_GETDEVICESTATE;

/* ---- Adapters by name, adapter queries ---- */

typedef struct _D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME {
    WCHAR DeviceName[32];       /* in: e.g. u"\\\\.\\DISPLAY1", NUL-terminated UTF-16 */
    D3DKMT_HANDLE hAdapter;     /* out: a new adapter handle to close */
    LUID AdapterLuid;           /* out */
    UINT VidPnSourceId;         /* out: the source the output shows */
} D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME;

typedef struct _D3DKMT_OPENADAPTERFROMDEVICENAME {
    const WCHAR *pDeviceName;   /* in: a device-interface path, NUL-terminated UTF-16 */
    D3DKMT_HANDLE hAdapter;     /* out */
    LUID AdapterLuid;           /* out */
} D3DKMT_OPENADAPTERFROMDEVICENAME;

typedef struct _D3DKMT_OPENADAPTERFROMHDC {
    void *hDc;                  /* an HDC; there are none here (see below) */
    D3DKMT_HANDLE hAdapter;
    LUID AdapterLuid;
    UINT VidPnSourceId;
} D3DKMT_OPENADAPTERFROMHDC;

/* The query types D3DKMTQueryAdapterInfo answers (Windows has more; they
 * answer STATUS_NOT_IMPLEMENTED here). */
typedef enum _KMTQUERYADAPTERINFOTYPE {
    KMTQAITYPE_UMDRIVERPRIVATE = 0,
    KMTQAITYPE_GETSEGMENTSIZE = 3,
    KMTQAITYPE_ADAPTERGUID = 4,
    KMTQAITYPE_ADAPTERADDRESS = 6,
    KMTQAITYPE_ADAPTERREGISTRYINFO = 8,
    KMTQAITYPE_CHECKDRIVERUPDATESTATUS = 11,
    KMTQAITYPE_DRIVERVERSION = 13,
    KMTQAITYPE_ADAPTERTYPE = 15,
    KMTQAITYPE_PHYSICALADAPTERCOUNT = 30,
    KMTQAITYPE_PHYSICALADAPTERDEVICEIDS = 31,
    KMTQAITYPE_HWDRM_SUPPORT = 44,
    KMTQAITYPE_QUERYREGISTRY = 48,
    KMTQAITYPE_DRIVER_DESCRIPTION = 65,
    KMTQAITYPE_WDDM_2_7_CAPS = 70
} KMTQUERYADAPTERINFOTYPE;

/* A KMT_DRIVERVERSION_* value, e.g. 1300 for WDDM 1.3, 3100 for WDDM 3.1. */
typedef int32_t D3DKMT_DRIVERVERSION;

typedef struct _D3DKMT_QUERYADAPTERINFO {
    D3DKMT_HANDLE hAdapter;
    KMTQUERYADAPTERINFOTYPE Type;
    void *pPrivateDriverData;   /* in/out: the type's struct */
    UINT PrivateDriverDataSize; /* its exact size (adapter_info_size policy) */
} D3DKMT_QUERYADAPTERINFO;

/* KMTQAITYPE_GETSEGMENTSIZE */
typedef struct _D3DKMT_SEGMENTSIZEINFO {
    UINT64 DedicatedVideoMemorySize;
    UINT64 DedicatedSystemMemorySize;
    UINT64 SharedSystemMemorySize;
} D3DKMT_SEGMENTSIZEINFO;

/* KMTQAITYPE_ADAPTERADDRESS */
typedef struct _D3DKMT_ADAPTERADDRESS {
    UINT BusNumber;
    UINT DeviceNumber;
    UINT FunctionNumber;
} D3DKMT_ADAPTERADDRESS;

/* KMTQAITYPE_ADAPTERREGISTRYINFO (UTF-16 strings) */
typedef struct _D3DKMT_ADAPTERREGISTRYINFO {
    WCHAR AdapterString[260];
    WCHAR BiosString[260];
    WCHAR DacType[260];
    WCHAR ChipType[260];
} D3DKMT_ADAPTERREGISTRYINFO;

/* KMTQAITYPE_ADAPTERTYPE: bit 0 RenderSupported, bit 1 DisplaySupported,
 * bit 11 ComputeOnly (others 0 here). */
typedef struct _D3DKMT_ADAPTERTYPE {
    UINT Value;
} D3DKMT_ADAPTERTYPE;

typedef struct _D3DKMT_DEVICE_IDS {
    UINT VendorID;
    UINT DeviceID;
    UINT SubVendorID;
    UINT SubSystemID;
    UINT RevisionID;
    UINT BusType;
} D3DKMT_DEVICE_IDS;

/* KMTQAITYPE_PHYSICALADAPTERDEVICEIDS */
typedef struct _D3DKMT_QUERY_DEVICE_IDS {
    UINT PhysicalAdapterIndex;  /* in: 0, the only physical adapter here */
    D3DKMT_DEVICE_IDS DeviceIds; /* out */
} D3DKMT_QUERY_DEVICE_IDS;

/* KMTQAITYPE_HWDRM_SUPPORT */
typedef struct _D3DKMT_HWDRM_SUPPORT {
    BOOLEAN Supported;
} D3DKMT_HWDRM_SUPPORT;

/* KMTQAITYPE_DRIVER_DESCRIPTION (UTF-16) */
typedef struct _D3DKMT_DRIVER_DESCRIPTION {
    WCHAR DriverDescription[4096];
} D3DKMT_DRIVER_DESCRIPTION;

/* KMTQAITYPE_QUERYREGISTRY: which value D3DDDI_QUERYREGISTRY_INFO asks
 * for. Only the driver store path is answered here; registry values and the
 * driver image path answer the unemulated_adapter_info policy status. */
typedef enum _D3DDDI_QUERYREGISTRY_TYPE {
    D3DDDI_QUERYREGISTRY_SERVICEKEY = 0,
    D3DDDI_QUERYREGISTRY_ADAPTERKEY = 1,
    D3DDDI_QUERYREGISTRY_DRIVERSTOREPATH = 2,
    D3DDDI_QUERYREGISTRY_DRIVERIMAGEPATH = 3,
    D3DDDI_QUERYREGISTRY_MAX = 4
} D3DDDI_QUERYREGISTRY_TYPE;

/* The outcome of a registry query that returned STATUS_SUCCESS. */
typedef enum _D3DDDI_QUERYREGISTRY_STATUS {
    D3DDDI_QUERYREGISTRY_STATUS_SUCCESS = 0,         /* the value is in Output* */
    D3DDDI_QUERYREGISTRY_STATUS_BUFFER_OVERFLOW = 1, /* only OutputValueSize is set */
    D3DDDI_QUERYREGISTRY_STATUS_FAIL = 2,
    D3DDDI_QUERYREGISTRY_STATUS_MAX = 3
} D3DDDI_QUERYREGISTRY_STATUS;

/* KMTQAITYPE_QUERYREGISTRY: a variable-size struct. PrivateDriverDataSize is
 * at least sizeof(D3DDDI_QUERYREGISTRY_INFO); the value is written from the
 * union on, and may run past the struct's end. When it does not fit, the
 * call still succeeds with Status BUFFER_OVERFLOW and OutputValueSize the
 * bytes needed: grow the buffer to offsetof(..., OutputDword) plus that and
 * ask again. Strings are WCHAR units, NUL-terminated (OutputValueSize
 * counts the NUL). */
typedef struct _D3DDDI_QUERYREGISTRY_INFO {
    D3DDDI_QUERYREGISTRY_TYPE QueryType; /* in */
    UINT QueryFlags;                     /* in: bit 0 TranslatePath, bit 1 MutableValue */
    WCHAR ValueName[260];                /* in: registry queries only */
    UINT ValueType;                      /* in: 0 for path queries */
    UINT PhysicalAdapterIndex;           /* in: 0 */
    UINT OutputValueSize;                /* out: bytes, even on overflow */
    D3DDDI_QUERYREGISTRY_STATUS Status;  /* out */
    union {
        UINT OutputDword;
        UINT64 OutputQword;
        WCHAR OutputString[1];
        uint8_t OutputBinary[1];
    };
} D3DDDI_QUERYREGISTRY_INFO;

/* KMTQAITYPE_WDDM_2_7_CAPS: bit 0 HwSchSupported, bit 1 HwSchEnabled,
 * bit 2 HwSchEnabledByDefault, bit 3 IndependentVidPnVSyncControl. */
typedef struct _D3DKMT_WDDM_2_7_CAPS {
    UINT Value;
} D3DKMT_WDDM_2_7_CAPS;

typedef enum _D3DKMT_MEMORY_SEGMENT_GROUP {
    D3DKMT_MEMORY_SEGMENT_GROUP_LOCAL = 0,    /* dedicated video memory */
    D3DKMT_MEMORY_SEGMENT_GROUP_NON_LOCAL = 1 /* shared system memory */
} D3DKMT_MEMORY_SEGMENT_GROUP;

typedef struct _D3DKMT_QUERYVIDEOMEMORYINFO {
    HANDLE hProcess;            /* NULL or (HANDLE)-1: the calling process */
    D3DKMT_HANDLE hAdapter;
    D3DKMT_MEMORY_SEGMENT_GROUP MemorySegmentGroup;
    UINT64 Budget;              /* out */
    UINT64 CurrentUsage;        /* out: 0 here */
    UINT64 CurrentReservation;  /* out: 0 here */
    UINT64 AvailableForReservation; /* out */
    UINT PhysicalAdapterIndex;  /* in: 0 */
} D3DKMT_QUERYVIDEOMEMORYINFO;

/* ---- VidPn source ownership, occlusion ---- */

typedef enum _D3DKMT_VIDPNSOURCEOWNER_TYPE {
    D3DKMT_VIDPNSOURCEOWNER_UNOWNED = 0,      /* give the source back */
    D3DKMT_VIDPNSOURCEOWNER_SHARED = 1,       /* always IN_USE: the compositor holds it */
    D3DKMT_VIDPNSOURCEOWNER_EXCLUSIVE = 2,
    D3DKMT_VIDPNSOURCEOWNER_EXCLUSIVEGDI = 3, /* STATUS_INVALID_PARAMETER */
    D3DKMT_VIDPNSOURCEOWNER_EMULATED = 4
} D3DKMT_VIDPNSOURCEOWNER_TYPE;

typedef struct _D3DKMT_SETVIDPNSOURCEOWNER {
    D3DKMT_HANDLE hDevice;
    const D3DKMT_VIDPNSOURCEOWNER_TYPE *pType; /* VidPnSourceCount entries */
    const UINT *pVidPnSourceId;                /* VidPnSourceCount entries */
    UINT VidPnSourceCount;                     /* 0: give back every source */
} D3DKMT_SETVIDPNSOURCEOWNER;

typedef struct _D3DKMT_VIDPNSOURCEOWNER_FLAGS {
    UINT Value;                 /* bit 0 AllowOutputDuplication (no effect here) */
} D3DKMT_VIDPNSOURCEOWNER_FLAGS;

typedef struct _D3DKMT_SETVIDPNSOURCEOWNER1 {
    D3DKMT_SETVIDPNSOURCEOWNER Version0;
    D3DKMT_VIDPNSOURCEOWNER_FLAGS Flags;
} D3DKMT_SETVIDPNSOURCEOWNER1;

typedef struct _D3DKMT_CHECKVIDPNEXCLUSIVEOWNERSHIP {
    D3DKMT_HANDLE hAdapter;
    UINT VidPnSourceId;
} D3DKMT_CHECKVIDPNEXCLUSIVEOWNERSHIP;

typedef struct _D3DKMT_CHECKOCCLUSION {
    void *hWindow;              /* an HWND: any nonzero value is a visible window */
} D3DKMT_CHECKOCCLUSION;

/* ---- Synchronization objects ---- */

typedef enum _D3DDDI_SYNCHRONIZATIONOBJECT_TYPE {
    D3DDDI_SYNCHRONIZATION_MUTEX = 1,
    D3DDDI_SEMAPHORE = 2,
    D3DDDI_FENCE = 3,
    D3DDDI_CPU_NOTIFICATION = 4,
    D3DDDI_MONITORED_FENCE = 5,          /* the only type the CPU signal and wait take */
    D3DDDI_PERIODIC_MONITORED_FENCE = 6, /* not emulated */
    D3DDDI_SYNCHRONIZATION_TYPE_LIMIT = 7
} D3DDDI_SYNCHRONIZATIONOBJECT_TYPE;

typedef struct _D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS {
    union {
        struct {
            UINT Shared : 1;                /* bit 0 */
            UINT NtSecuritySharing : 1;     /* bit 1: shared through NT handles */
            UINT CrossAdapter : 1;          /* bit 2 */
            UINT TopOfPipeline : 1;         /* bit 3 */
            UINT NoSignal : 1;              /* bit 4: this handle may not signal */
            UINT NoWait : 1;                /* bit 5: this handle may not wait */
            UINT NoSignalMaxValueOnTdr : 1; /* bit 6 */
            UINT NoGPUAccess : 1;           /* bit 7 */
            UINT SignalByKmd : 1;           /* bit 8 */
            UINT Reserved : 23;
        };
        UINT Value;
    };
} D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS;

typedef struct _D3DDDI_SYNCHRONIZATIONOBJECTINFO2 {
    D3DDDI_SYNCHRONIZATIONOBJECT_TYPE Type;
    D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS Flags;
    union {
        struct {
            BOOL InitialState;
        } SynchronizationMutex;
        struct {
            UINT MaxCount;
            UINT InitialCount;
        } Semaphore;
        struct {
            UINT64 FenceValue;
        } Fence;
        struct {
            HANDLE Event;
        } CPUNotification;
        struct {
            UINT64 InitialFenceValue;           /* in */
            void *FenceValueCPUVirtualAddress;  /* out: the fence's value, readable */
            UINT64 FenceValueGPUVirtualAddress; /* out: a fake GPU address */
            UINT EngineAffinity;
            UINT Padding;
        } MonitoredFence;
        struct {
            D3DKMT_HANDLE hAdapter;
            UINT VidPnTargetId;
            UINT64 Time;
            void *FenceValueCPUVirtualAddress;
            UINT64 FenceValueGPUVirtualAddress;
            UINT EngineAffinity;
            UINT Padding;
        } PeriodicMonitoredFence;
        struct {
            UINT64 Reserved[8];
        } Reserved;
    };
    D3DKMT_HANDLE SharedHandle; /* out: the global handle with Shared alone, else 0 */
} D3DDDI_SYNCHRONIZATIONOBJECTINFO2;

typedef struct _D3DKMT_CREATESYNCHRONIZATIONOBJECT2 {
    D3DKMT_HANDLE hDevice;
    D3DDDI_SYNCHRONIZATIONOBJECTINFO2 Info;
    D3DKMT_HANDLE hSyncObject; /* out */
} D3DKMT_CREATESYNCHRONIZATIONOBJECT2;

/* The v1 create's info: mutexes and semaphores only, no flags. */
typedef struct _D3DDDI_SYNCHRONIZATIONOBJECTINFO {
    D3DDDI_SYNCHRONIZATIONOBJECT_TYPE Type;
    union {
        struct {
            BOOL InitialState;
        } SynchronizationMutex;
        struct {
            UINT MaxCount;
            UINT InitialCount;
        } Semaphore;
        struct {
            UINT Reserved[16];
        } Reserved;
    };
} D3DDDI_SYNCHRONIZATIONOBJECTINFO;

typedef struct _D3DKMT_CREATESYNCHRONIZATIONOBJECT {
    D3DKMT_HANDLE hDevice;
    D3DDDI_SYNCHRONIZATIONOBJECTINFO Info;
    D3DKMT_HANDLE hSyncObject; /* out */
} D3DKMT_CREATESYNCHRONIZATIONOBJECT;

typedef struct _D3DKMT_OPENSYNCHRONIZATIONOBJECT {
    D3DKMT_HANDLE hSharedHandle; /* in: a global (KMT) handle */
    D3DKMT_HANDLE hSyncObject;   /* out */
    UINT64 Reserved[8];
} D3DKMT_OPENSYNCHRONIZATIONOBJECT;

typedef struct _D3DKMT_OPENSYNCOBJECTFROMNTHANDLE {
    HANDLE hNtHandle;          /* in */
    D3DKMT_HANDLE hSyncObject; /* out */
} D3DKMT_OPENSYNCOBJECTFROMNTHANDLE;

typedef struct _D3DKMT_OPENSYNCOBJECTNTHANDLEFROMNAME {
    UINT dwDesiredAccess;           /* in: e.g. STANDARD_RIGHTS_READ, D3DDDI_SYNC_OBJECT_ALL_ACCESS */
    OBJECT_ATTRIBUTES *pObjAttrib;  /* in: the name to look up */
    HANDLE hNtHandle;               /* out: a new NT handle */
} D3DKMT_OPENSYNCOBJECTNTHANDLEFROMNAME;

typedef struct _D3DKMT_DESTROYSYNCHRONIZATIONOBJECT {
    D3DKMT_HANDLE hSyncObject;
} D3DKMT_DESTROYSYNCHRONIZATIONOBJECT;

/* Signal flag bits; the library ignores them. */
typedef struct _D3DDDICB_SIGNALFLAGS {
    union {
        UINT Value;
    };
} D3DDDICB_SIGNALFLAGS;

typedef struct _D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU {
    D3DKMT_HANDLE hDevice;
    UINT ObjectCount;                       /* 1 to 32 */
    const D3DKMT_HANDLE *ObjectHandleArray;
    const UINT64 *FenceValueArray;
    D3DDDICB_SIGNALFLAGS Flags;
} D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU;

typedef struct _D3DDDI_WAITFORSYNCHRONIZATIONOBJECTFROMCPU_FLAGS {
    union {
        struct {
            UINT WaitAny : 1; /* return when any one object is reached */
            UINT Reserved : 31;
        };
        UINT Value;
    };
} D3DDDI_WAITFORSYNCHRONIZATIONOBJECTFROMCPU_FLAGS;

typedef struct _D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU {
    D3DKMT_HANDLE hDevice;
    UINT ObjectCount;                       /* 1 to 32 */
    const D3DKMT_HANDLE *ObjectHandleArray;
    const UINT64 *FenceValueArray;
    HANDLE hAsyncEvent;                     /* must be NULL: blocking waits only */
    D3DDDI_WAITFORSYNCHRONIZATIONOBJECTFROMCPU_FLAGS Flags;
} D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU;

typedef struct _D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2 {
    HANDLE hNtHandle;
    D3DKMT_HANDLE hDevice;
    D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS Flags; /* in; out: Shared/NtSecuritySharing cleared */
    D3DKMT_HANDLE hSyncObject;                /* out */
    union {
        struct {
            void *FenceValueCPUVirtualAddress;  /* out */
            UINT64 FenceValueGPUVirtualAddress; /* out */
            UINT EngineAffinity;
        } MonitoredFence;
        UINT64 Reserved[8];
    };
} D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2;

/* ---- Protected sessions ---- */

typedef enum _D3DKMT_PROTECTED_SESSION_STATUS {
    D3DKMT_PROTECTED_SESSION_STATUS_OK = 0,
    D3DKMT_PROTECTED_SESSION_STATUS_INVALID = 1
} D3DKMT_PROTECTED_SESSION_STATUS;

typedef struct _D3DKMT_CREATEPROTECTEDSESSION {
    D3DKMT_HANDLE hDevice;
    D3DKMT_HANDLE hSyncObject;        /* a monitored fence: the status fence */
    const void *pPrivateDriverData;   /* given to the KMD, which may rewrite it */
    UINT PrivateDriverDataSize;
    const void *pPrivateRuntimeData;  /* stored as is */
    UINT PrivateRuntimeDataSize;
    D3DKMT_HANDLE hHandle;            /* out */
} D3DKMT_CREATEPROTECTEDSESSION;

typedef struct _D3DKMT_DESTROYPROTECTEDSESSION {
    D3DKMT_HANDLE hHandle;
} D3DKMT_DESTROYPROTECTEDSESSION;

typedef struct _D3DKMT_QUERYPROTECTEDSESSIONSTATUS {
    D3DKMT_HANDLE hHandle;
    D3DKMT_PROTECTED_SESSION_STATUS Status; /* out */
} D3DKMT_QUERYPROTECTEDSESSIONSTATUS;

/* The buffer pointers are const-qualified, as in the Windows definition,
 * although the call writes the blobs through them. */
typedef struct _D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE {
    HANDLE hNtHandle;
    const void *pPrivateDriverData;
    UINT PrivateDriverDataSize;       /* in: room; out: the blob's size */
    const void *pPrivateRuntimeData;
    UINT PrivateRuntimeDataSize;      /* in: room; out: the blob's size */
} D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE;

typedef struct _D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE {
    HANDLE hNtHandle;
    D3DKMT_HANDLE hHandle; /* out */
} D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE;

/* ---- Keyed mutexes ---- */

typedef struct _D3DKMT_CREATEKEYEDMUTEX {
    UINT64 InitialValue;         /* the key the first acquire must use */
    D3DKMT_HANDLE hSharedHandle; /* out: a global handle (low 6 bits 2) */
    D3DKMT_HANDLE hKeyedMutex;   /* out */
} D3DKMT_CREATEKEYEDMUTEX;

typedef struct _D3DKMT_CREATEKEYEDMUTEX2_FLAGS {
    union {
        struct {
            UINT NtSecuritySharing : 1; /* bit 0: no global handle; share by NT handle */
            UINT Reserved : 31;
        };
        UINT Value;
    };
} D3DKMT_CREATEKEYEDMUTEX2_FLAGS;

typedef struct _D3DKMT_CREATEKEYEDMUTEX2 {
    UINT64 InitialValue;
    D3DKMT_HANDLE hSharedHandle; /* out: 0 with NtSecuritySharing */
    D3DKMT_HANDLE hKeyedMutex;   /* out */
    void *pPrivateRuntimeData;   /* stored; NULL needs size 0 */
    UINT PrivateRuntimeDataSize;
    D3DKMT_CREATEKEYEDMUTEX2_FLAGS Flags;
} D3DKMT_CREATEKEYEDMUTEX2;

typedef struct _D3DKMT_OPENKEYEDMUTEX {
    D3DKMT_HANDLE hSharedHandle; /* a global handle */
    D3DKMT_HANDLE hKeyedMutex;   /* out */
} D3DKMT_OPENKEYEDMUTEX;

/* The runtime data is never copied back; the size must be 0 or, once
 * limited to the stored size, equal to it. */
typedef struct _D3DKMT_OPENKEYEDMUTEX2 {
    D3DKMT_HANDLE hSharedHandle;
    D3DKMT_HANDLE hKeyedMutex; /* out */
    void *pPrivateRuntimeData;
    UINT PrivateRuntimeDataSize;
} D3DKMT_OPENKEYEDMUTEX2;

typedef struct _D3DKMT_OPENKEYEDMUTEXFROMNTHANDLE {
    HANDLE hNtHandle;          /* a DxgkSharedResource with a keyed mutex */
    D3DKMT_HANDLE hKeyedMutex; /* out */
    void *pPrivateRuntimeData;
    UINT PrivateRuntimeDataSize;
} D3DKMT_OPENKEYEDMUTEXFROMNTHANDLE;

typedef struct _D3DKMT_DESTROYKEYEDMUTEX {
    D3DKMT_HANDLE hKeyedMutex;
} D3DKMT_DESTROYKEYEDMUTEX;

/* pTimeout: NULL waits for ever; a negative value is relative, in 100 ns
 * units; zero or positive is an absolute kernel-clock time in 100 ns units
 * (0: just try). */
typedef struct _D3DKMT_ACQUIREKEYEDMUTEX {
    D3DKMT_HANDLE hKeyedMutex;
    UINT64 Key;
    int64_t *pTimeout;
    UINT64 FenceValue; /* out: the value the releasing call stored */
} D3DKMT_ACQUIREKEYEDMUTEX;

typedef struct _D3DKMT_ACQUIREKEYEDMUTEX2 {
    D3DKMT_HANDLE hKeyedMutex;
    UINT64 Key;
    int64_t *pTimeout;
    UINT64 FenceValue;          /* out */
    void *pPrivateRuntimeData;  /* out: the releaser's runtime data */
    UINT PrivateRuntimeDataSize; /* room; 0 copies nothing */
} D3DKMT_ACQUIREKEYEDMUTEX2;

typedef struct _D3DKMT_RELEASEKEYEDMUTEX {
    D3DKMT_HANDLE hKeyedMutex;
    UINT64 Key;        /* the key the next acquire must use */
    UINT64 FenceValue; /* handed to that acquire */
} D3DKMT_RELEASEKEYEDMUTEX;

typedef struct _D3DKMT_RELEASEKEYEDMUTEX2 {
    D3DKMT_HANDLE hKeyedMutex;
    UINT64 Key;
    UINT64 FenceValue;
    void *pPrivateRuntimeData; /* handed to the next AcquireKeyedMutex2 */
    UINT PrivateRuntimeDataSize;
} D3DKMT_RELEASEKEYEDMUTEX2;

/* ---- Allocations and resources ---- */

typedef enum _D3DKMT_STANDARDALLOCATIONTYPE {
    D3DKMT_STANDARDALLOCATIONTYPE_EXISTINGHEAP = 1, /* the only type emulated */
    D3DKMT_STANDARDALLOCATIONTYPE_INTERNALBACKINGSTORE = 2,
    D3DKMT_STANDARDALLOCATIONTYPE_MAX = 3
} D3DKMT_STANDARDALLOCATIONTYPE;

typedef struct _D3DKMT_STANDARDALLOCATION_EXISTINGHEAP {
    size_t Size; /* a nonzero multiple of 4096 */
} D3DKMT_STANDARDALLOCATION_EXISTINGHEAP;

typedef struct _D3DKMT_CREATESTANDARDALLOCATIONFLAGS {
    union {
        struct {
            UINT Reserved : 32;
        };
        UINT Value;
    };
} D3DKMT_CREATESTANDARDALLOCATIONFLAGS;

typedef struct _D3DKMT_CREATESTANDARDALLOCATION {
    D3DKMT_STANDARDALLOCATIONTYPE Type;
    union {
        D3DKMT_STANDARDALLOCATION_EXISTINGHEAP ExistingHeapData;
    };
    D3DKMT_CREATESTANDARDALLOCATIONFLAGS Flags;
} D3DKMT_CREATESTANDARDALLOCATION;

typedef struct _D3DKMT_CREATEALLOCATIONFLAGS {
    union {
        struct {
            UINT CreateResource : 1;        /* bit 0 */
            UINT CreateShared : 1;          /* bit 1: a global handle (needs CreateResource) */
            UINT NonSecure : 1;
            UINT CreateProtected : 1;
            UINT RestrictSharedAccess : 1;
            UINT ExistingSysMem : 1;        /* bit 5: required */
            UINT NtSecuritySharing : 1;     /* bit 6: no global handle; share by NT handle */
            UINT ReadOnly : 1;
            UINT CreateWriteCombined : 1;
            UINT CreateCached : 1;
            UINT SwapChainBackBuffer : 1;
            UINT CrossAdapter : 1;
            UINT OpenCrossAdapter : 1;
            UINT PartialSharedCreation : 1;
            UINT Zeroed : 1;
            UINT WriteWatch : 1;
            UINT StandardAllocation : 1;    /* bit 16: required */
            UINT ExistingSection : 1;
            UINT Reserved : 14;
        };
        UINT Value;
    };
} D3DKMT_CREATEALLOCATIONFLAGS;

typedef struct _D3DDDI_ALLOCATIONINFO {
    D3DKMT_HANDLE hAllocation; /* out */
    const void *pSystemMem;    /* required (never read by the library) */
    void *pPrivateDriverData;  /* per-allocation data for the KMD */
    UINT PrivateDriverDataSize;
    UINT VidPnSourceId;
    union {
        UINT Value; /* allocation flag bits; ignored */
    } Flags;
} D3DDDI_ALLOCATIONINFO;

typedef struct _D3DDDI_ALLOCATIONINFO2 {
    D3DKMT_HANDLE hAllocation; /* out */
    union {
        HANDLE hSection;
        const void *pSystemMem; /* required (never read by the library) */
    };
    void *pPrivateDriverData;
    UINT PrivateDriverDataSize;
    UINT VidPnSourceId;
    union {
        UINT Value; /* allocation flag bits; ignored */
    } Flags;
    UINT64 GpuVirtualAddress;
    union {
        UINT Priority;
        uintptr_t Unused;
    };
    uintptr_t Reserved[5];
} D3DDDI_ALLOCATIONINFO2;

/* D3DKMTCreateAllocation takes pAllocationInfo, D3DKMTCreateAllocation2
 * pAllocationInfo2. hResource must be 0 (a live resource:
 * STATUS_INVALID_PARAMETER; any other value: STATUS_INVALID_HANDLE). */
typedef struct _D3DKMT_CREATEALLOCATION {
    D3DKMT_HANDLE hDevice;
    D3DKMT_HANDLE hResource;      /* in: 0; out: the new resource with CreateResource */
    D3DKMT_HANDLE hGlobalShare;   /* out: global handle with CreateShared, else 0 */
    const void *pPrivateRuntimeData; /* stored with a new resource */
    UINT PrivateRuntimeDataSize;
    union {
        D3DKMT_CREATESTANDARDALLOCATION *pStandardAllocation;
        const void *pPrivateDriverData;
    };
    UINT PrivateDriverDataSize;   /* 0 for standard allocations */
    UINT NumAllocations;          /* 1 */
    union {
        D3DDDI_ALLOCATIONINFO *pAllocationInfo;
        D3DDDI_ALLOCATIONINFO2 *pAllocationInfo2;
    };
    D3DKMT_CREATEALLOCATIONFLAGS Flags;
    HANDLE hPrivateRuntimeResourceHandle; /* not written */
} D3DKMT_CREATEALLOCATION;

/* A resource handle destroys its allocation handles with it. */
typedef struct _D3DKMT_DESTROYALLOCATION {
    D3DKMT_HANDLE hDevice;
    D3DKMT_HANDLE hResource;
    const D3DKMT_HANDLE *phAllocationList;
    UINT AllocationCount;
} D3DKMT_DESTROYALLOCATION;

typedef struct _D3DDDICB_DESTROYALLOCATION2FLAGS {
    union {
        UINT Value; /* timing hints; ignored */
    };
} D3DDDICB_DESTROYALLOCATION2FLAGS;

typedef struct _D3DKMT_DESTROYALLOCATION2 {
    D3DKMT_HANDLE hDevice;
    D3DKMT_HANDLE hResource;
    const D3DKMT_HANDLE *phAllocationList;
    UINT AllocationCount;
    D3DDDICB_DESTROYALLOCATION2FLAGS Flags;
} D3DKMT_DESTROYALLOCATION2;

/* Sizes only; the runtime-data buffer is never written. */
typedef struct _D3DKMT_QUERYRESOURCEINFO {
    D3DKMT_HANDLE hDevice;
    D3DKMT_HANDLE hGlobalShare;
    void *pPrivateRuntimeData;
    UINT PrivateRuntimeDataSize;        /* out: the stored size */
    UINT TotalPrivateDriverDataSize;    /* out */
    UINT ResourcePrivateDriverDataSize; /* out */
    UINT NumAllocations;                /* out */
} D3DKMT_QUERYRESOURCEINFO;

typedef struct _D3DDDI_OPENALLOCATIONINFO {
    D3DKMT_HANDLE hAllocation;      /* out */
    const void *pPrivateDriverData; /* out: points into pTotalPrivateDriverDataBuffer */
    UINT PrivateDriverDataSize;     /* out */
} D3DDDI_OPENALLOCATIONINFO;

typedef struct _D3DDDI_OPENALLOCATIONINFO2 {
    D3DKMT_HANDLE hAllocation;
    const void *pPrivateDriverData;
    UINT PrivateDriverDataSize;
    UINT64 GpuVirtualAddress;
    uintptr_t Reserved[6];
} D3DDDI_OPENALLOCATIONINFO2;

/* Runtime-data and resource-driver-data sizes must equal the stored ones;
 * the total buffer must hold every allocation's driver data (else
 * STATUS_NO_MEMORY). D3DKMTOpenResource takes pOpenAllocationInfo,
 * D3DKMTOpenResource2 pOpenAllocationInfo2. */
typedef struct _D3DKMT_OPENRESOURCE {
    D3DKMT_HANDLE hDevice;
    D3DKMT_HANDLE hGlobalShare;
    UINT NumAllocations;
    union {
        D3DDDI_OPENALLOCATIONINFO *pOpenAllocationInfo;
        D3DDDI_OPENALLOCATIONINFO2 *pOpenAllocationInfo2;
    };
    void *pPrivateRuntimeData;
    UINT PrivateRuntimeDataSize;
    void *pResourcePrivateDriverData;
    UINT ResourcePrivateDriverDataSize;
    void *pTotalPrivateDriverDataBuffer;
    UINT TotalPrivateDriverDataBufferSize; /* in: room; out: bytes written */
    D3DKMT_HANDLE hResource;               /* out */
} D3DKMT_OPENRESOURCE;

typedef struct _D3DKMT_QUERYRESOURCEINFOFROMNTHANDLE {
    D3DKMT_HANDLE hDevice;
    HANDLE hNtHandle;
    void *pPrivateRuntimeData;
    UINT PrivateRuntimeDataSize;
    UINT TotalPrivateDriverDataSize;
    UINT ResourcePrivateDriverDataSize;
    UINT NumAllocations;
} D3DKMT_QUERYRESOURCEINFOFROMNTHANDLE;

typedef struct _D3DKMT_OPENRESOURCEFROMNTHANDLE {
    D3DKMT_HANDLE hDevice;
    HANDLE hNtHandle;
    UINT NumAllocations;
    D3DDDI_OPENALLOCATIONINFO2 *pOpenAllocationInfo2;
    UINT PrivateRuntimeDataSize;
    void *pPrivateRuntimeData;
    UINT ResourcePrivateDriverDataSize;
    void *pResourcePrivateDriverData;
    UINT TotalPrivateDriverDataBufferSize;
    void *pTotalPrivateDriverDataBuffer;
    D3DKMT_HANDLE hResource;               /* out */
    D3DKMT_HANDLE hKeyedMutex;             /* out: 0 unless shared with one */
    void *pKeyedMutexPrivateRuntimeData;   /* not written */
    UINT KeyedMutexPrivateRuntimeDataSize; /* out: the mutex's stored size, or 0 */
    D3DKMT_HANDLE hSyncObject;             /* out: 0 unless shared with one */
} D3DKMT_OPENRESOURCEFROMNTHANDLE;

typedef struct _D3DKMT_GETSHAREDRESOURCEADAPTERLUID {
    D3DKMT_HANDLE hGlobalShare; /* used when nonzero */
    HANDLE hNtHandle;           /* else this */
    LUID AdapterLuid;           /* out */
} D3DKMT_GETSHAREDRESOURCEADAPTERLUID;

typedef struct _D3DKMT_OPENNTHANDLEFROMNAME {
    UINT dwDesiredAccess;          /* 0: STATUS_ACCESS_DENIED */
    OBJECT_ATTRIBUTES *pObjAttrib; /* the name, matched case-insensitively */
    HANDLE hNtHandle;              /* out */
} D3DKMT_OPENNTHANDLEFROMNAME;

/* ---- GPU work: contexts, queues, submission, GPU-queued sync ---- */

/* The client API a context serves (a hint only). */
typedef enum _D3DKMT_CLIENTHINT {
    D3DKMT_CLIENTHINT_UNKNOWN = 0,
    D3DKMT_CLIENTHINT_OPENGL = 1,
    D3DKMT_CLIENTHINT_CDD = 2,
    D3DKMT_CLIENTHINT_OPENCL = 3,
    D3DKMT_CLIENTHINT_VULKAN = 4,
    D3DKMT_CLIENTHINT_CUDA = 5,
    D3DKMT_CLIENTHINT_DX9 = 9,
    D3DKMT_CLIENTHINT_DX10 = 10,
    D3DKMT_CLIENTHINT_DX11 = 11,
    D3DKMT_CLIENTHINT_DX12 = 12
} D3DKMT_CLIENTHINT;

/* Context creation flag bits; passed to the KMD as they are. */
typedef struct _D3DDDI_CREATECONTEXTFLAGS {
    union {
        UINT Value;
    };
} D3DDDI_CREATECONTEXTFLAGS;

/* The legacy create: a context with a command buffer and lists in the
 * library's memory, for D3DKMTRender. */
typedef struct _D3DKMT_CREATECONTEXT {
    D3DKMT_HANDLE hDevice;
    UINT NodeOrdinal;                 /* below the adapter's node count (default 2) */
    UINT EngineAffinity;              /* 0 or 1: one physical adapter */
    D3DDDI_CREATECONTEXTFLAGS Flags;
    void *pPrivateDriverData;         /* in/out: the KMD may rewrite it */
    UINT PrivateDriverDataSize;       /* at most 64 KiB */
    D3DKMT_CLIENTHINT ClientHint;
    D3DKMT_HANDLE hContext;           /* out */
    void *pCommandBuffer;             /* out: CommandBufferSize bytes */
    UINT CommandBufferSize;           /* out */
    void *pAllocationList;            /* out: a D3DDDI_ALLOCATIONLIST array on Windows */
    UINT AllocationListSize;          /* out: entries */
    void *pPatchLocationList;         /* out: a D3DDDI_PATCHLOCATIONLIST array on Windows */
    UINT PatchLocationListSize;       /* out: entries */
    UINT64 CommandBuffer;             /* out: the command buffer's GPU address */
} D3DKMT_CREATECONTEXT;

typedef struct _D3DKMT_CREATECONTEXTVIRTUAL {
    D3DKMT_HANDLE hDevice;
    UINT NodeOrdinal;
    UINT EngineAffinity;
    D3DDDI_CREATECONTEXTFLAGS Flags;
    void *pPrivateDriverData;         /* given to the KMD */
    UINT PrivateDriverDataSize;
    D3DKMT_CLIENTHINT ClientHint;
    D3DKMT_HANDLE hContext;           /* out */
} D3DKMT_CREATECONTEXTVIRTUAL;

typedef struct _D3DKMT_DESTROYCONTEXT {
    D3DKMT_HANDLE hContext;
} D3DKMT_DESTROYCONTEXT;

typedef struct _D3DDDI_CREATEHWCONTEXTFLAGS {
    union {
        UINT Value;
    };
} D3DDDI_CREATEHWCONTEXTFLAGS;

typedef struct _D3DKMT_CREATEHWCONTEXT {
    D3DKMT_HANDLE hDevice;
    UINT NodeOrdinal;
    UINT EngineAffinity;
    D3DDDI_CREATEHWCONTEXTFLAGS Flags;
    UINT PrivateDriverDataSize;
    void *pPrivateDriverData;
    D3DKMT_HANDLE hHwContext;         /* out */
} D3DKMT_CREATEHWCONTEXT;

typedef struct _D3DKMT_DESTROYHWCONTEXT {
    D3DKMT_HANDLE hHwContext;
} D3DKMT_DESTROYHWCONTEXT;

typedef struct _D3DDDI_CREATEHWQUEUEFLAGS {
    union {
        UINT Value;
    };
} D3DDDI_CREATEHWQUEUEFLAGS;

typedef struct _D3DKMT_CREATEHWQUEUE {
    D3DKMT_HANDLE hHwContext;                     /* a virtual (or hardware) context */
    D3DDDI_CREATEHWQUEUEFLAGS Flags;
    UINT PrivateDriverDataSize;
    void *pPrivateDriverData;
    D3DKMT_HANDLE hHwQueue;                       /* out */
    D3DKMT_HANDLE hHwQueueProgressFence;          /* out: a monitored fence */
    void *HwQueueProgressFenceCPUVirtualAddress;  /* out: its 64-bit value */
    UINT64 HwQueueProgressFenceGPUVirtualAddress; /* out */
} D3DKMT_CREATEHWQUEUE;

typedef struct _D3DKMT_DESTROYHWQUEUE {
    D3DKMT_HANDLE hHwQueue;
} D3DKMT_DESTROYHWQUEUE;

typedef enum _D3DDDI_PAGINGQUEUE_PRIORITY {
    D3DDDI_PAGINGQUEUE_PRIORITY_BELOW_NORMAL = -1,
    D3DDDI_PAGINGQUEUE_PRIORITY_NORMAL = 0,
    D3DDDI_PAGINGQUEUE_PRIORITY_ABOVE_NORMAL = 1
} D3DDDI_PAGINGQUEUE_PRIORITY;

typedef struct _D3DKMT_CREATEPAGINGQUEUE {
    D3DKMT_HANDLE hDevice;
    D3DDDI_PAGINGQUEUE_PRIORITY Priority;
    D3DKMT_HANDLE hPagingQueue;       /* out */
    D3DKMT_HANDLE hSyncObject;        /* out: the paging fence */
    void *FenceValueCPUVirtualAddress;/* out */
    UINT PhysicalAdapterIndex;        /* 0 */
} D3DKMT_CREATEPAGINGQUEUE;

typedef struct _D3DDDI_DESTROYPAGINGQUEUE {
    D3DKMT_HANDLE hPagingQueue;
} D3DDDI_DESTROYPAGINGQUEUE;

/* The four priority structs have the same shape: a context and a priority
 * (-7 to 7 by default, the priority_range policy). */
typedef struct _D3DKMT_SETCONTEXTSCHEDULINGPRIORITY {
    D3DKMT_HANDLE hContext;
    int32_t Priority;
} D3DKMT_SETCONTEXTSCHEDULINGPRIORITY;

typedef struct _D3DKMT_GETCONTEXTSCHEDULINGPRIORITY {
    D3DKMT_HANDLE hContext;
    int32_t Priority;                 /* out */
} D3DKMT_GETCONTEXTSCHEDULINGPRIORITY;

typedef struct _D3DKMT_SETCONTEXTINPROCESSSCHEDULINGPRIORITY {
    D3DKMT_HANDLE hContext;
    int32_t Priority;
} D3DKMT_SETCONTEXTINPROCESSSCHEDULINGPRIORITY;

typedef struct _D3DKMT_GETCONTEXTINPROCESSSCHEDULINGPRIORITY {
    D3DKMT_HANDLE hContext;
    int32_t Priority;                 /* out */
} D3DKMT_GETCONTEXTINPROCESSSCHEDULINGPRIORITY;

typedef struct _D3DKMT_SUBMITCOMMANDFLAGS {
    union {
        UINT Value;
    };
} D3DKMT_SUBMITCOMMANDFLAGS;

typedef struct _D3DKMT_SUBMITCOMMAND {
    UINT64 Commands;                  /* the command buffer's GPU address */
    UINT CommandLength;
    D3DKMT_SUBMITCOMMANDFLAGS Flags;
    UINT64 PresentHistoryToken;
    UINT BroadcastContextCount;       /* 1 to 64 */
    D3DKMT_HANDLE BroadcastContext[64];
    void *pPrivateDriverData;         /* shown to the KMD */
    UINT PrivateDriverDataSize;
    UINT NumPrimaries;                /* at most 16; not used */
    D3DKMT_HANDLE WrittenPrimaries[16];
    UINT NumHistoryBuffers;           /* not used */
    D3DKMT_HANDLE *HistoryBufferArray;
} D3DKMT_SUBMITCOMMAND;

typedef struct _D3DKMT_RENDERFLAGS {
    union {
        UINT Value;
    };
} D3DKMT_RENDERFLAGS;

typedef struct _D3DKMT_RENDER {
    union {
        D3DKMT_HANDLE hDevice;
        D3DKMT_HANDLE hContext;       /* a legacy context */
    };
    UINT CommandOffset;               /* the batch within the command buffer */
    UINT CommandLength;
    UINT AllocationCount;             /* at most 1024 */
    UINT PatchLocationCount;          /* at most 1024 */
    void *pNewCommandBuffer;          /* out */
    UINT NewCommandBufferSize;        /* out */
    void *pNewAllocationList;         /* out */
    UINT NewAllocationListSize;       /* out */
    void *pNewPatchLocationList;      /* out */
    UINT NewPatchLocationListSize;    /* out */
    D3DKMT_RENDERFLAGS Flags;
    UINT64 PresentHistoryToken;
    UINT BroadcastContextCount;
    D3DKMT_HANDLE BroadcastContext[64];
    UINT QueuedBufferCount;
    UINT64 NewCommandBuffer;          /* out */
    void *pPrivateDriverData;
    UINT PrivateDriverDataSize;
} D3DKMT_RENDER;

typedef struct _D3DKMT_SUBMITCOMMANDTOHWQUEUE {
    D3DKMT_HANDLE hHwQueue;
    UINT64 HwQueueProgressFenceId;    /* the progress fence's value once the work ran */
    UINT64 CommandBuffer;
    UINT CommandLength;
    UINT PrivateDriverDataSize;
    void *pPrivateDriverData;
    UINT NumPrimaries;
    const D3DKMT_HANDLE *WrittenPrimaries;
} D3DKMT_SUBMITCOMMANDTOHWQUEUE;

typedef struct _D3DKMT_SUBMITSIGNALSYNCOBJECTSTOHWQUEUE {
    D3DDDICB_SIGNALFLAGS Flags;
    UINT BroadcastHwQueueCount;       /* 1 to 64 */
    const D3DKMT_HANDLE *BroadcastHwQueueArray;
    UINT ObjectCount;                 /* 1 to 32 */
    const D3DKMT_HANDLE *ObjectHandleArray;
    const UINT64 *FenceValueArray;
} D3DKMT_SUBMITSIGNALSYNCOBJECTSTOHWQUEUE;

typedef struct _D3DKMT_SUBMITWAITFORSYNCOBJECTSTOHWQUEUE {
    D3DKMT_HANDLE hHwQueue;
    UINT ObjectCount;                 /* 1 to 32 */
    const D3DKMT_HANDLE *ObjectHandleArray;
    const UINT64 *FenceValueArray;
} D3DKMT_SUBMITWAITFORSYNCOBJECTSTOHWQUEUE;

typedef struct _D3DKMT_SIGNALSYNCHRONIZATIONOBJECT {
    D3DKMT_HANDLE hContext;
    UINT ObjectCount;
    D3DKMT_HANDLE ObjectHandleArray[32];
    D3DDDICB_SIGNALFLAGS Flags;
} D3DKMT_SIGNALSYNCHRONIZATIONOBJECT;

typedef struct _D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2 {
    D3DKMT_HANDLE hContext;
    UINT ObjectCount;
    D3DKMT_HANDLE ObjectHandleArray[32];
    D3DDDICB_SIGNALFLAGS Flags;
    UINT BroadcastContextCount;       /* 0: hContext alone */
    D3DKMT_HANDLE BroadcastContext[64];
    union {
        struct {
            UINT64 FenceValue;        /* one value for every object */
        } Fence;
        HANDLE CpuEventHandle;        /* EnqueueCpuEvent: not emulated */
        UINT64 Reserved[8];
    };
} D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2;

typedef struct _D3DKMT_WAITFORSYNCHRONIZATIONOBJECT {
    D3DKMT_HANDLE hContext;
    UINT ObjectCount;
    D3DKMT_HANDLE ObjectHandleArray[32];
} D3DKMT_WAITFORSYNCHRONIZATIONOBJECT;

typedef struct _D3DKMT_WAITFORSYNCHRONIZATIONOBJECT2 {
    D3DKMT_HANDLE hContext;
    UINT ObjectCount;
    D3DKMT_HANDLE ObjectHandleArray[32];
    union {
        struct {
            UINT64 FenceValue;
        } Fence;
        UINT64 Reserved[8];
    };
} D3DKMT_WAITFORSYNCHRONIZATIONOBJECT2;

typedef struct _D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU {
    D3DKMT_HANDLE hContext;
    UINT ObjectCount;                 /* 1 to 32 */
    const D3DKMT_HANDLE *ObjectHandleArray;
    union {
        const UINT64 *MonitoredFenceValueArray;
        UINT64 Reserved[8];
    };
} D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU;

typedef struct _D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU2 {
    UINT ObjectCount;
    const D3DKMT_HANDLE *ObjectHandleArray;
    D3DDDICB_SIGNALFLAGS Flags;
    UINT BroadcastContextCount;       /* 1 to 64 */
    const D3DKMT_HANDLE *BroadcastContextArray;
    union {
        UINT64 FenceValue;
        HANDLE CpuEventHandle;
        const UINT64 *MonitoredFenceValueArray;
        UINT64 Reserved[8];
    };
} D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU2;

typedef struct _D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMGPU {
    D3DKMT_HANDLE hContext;
    UINT ObjectCount;
    const D3DKMT_HANDLE *ObjectHandleArray;
    union {
        const UINT64 *MonitoredFenceValueArray;
        UINT64 FenceValue;
        UINT64 Reserved[8];
    };
} D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMGPU;

/* ---- Escapes, statistics, clock calibration, device errors, sync files ---- */

typedef enum _D3DKMT_ESCAPETYPE {
    D3DKMT_ESCAPE_DRIVERPRIVATE = 0,  /* routed to the KMD; every other type: not emulated */
    D3DKMT_ESCAPE_VIDMM = 1,
    D3DKMT_ESCAPE_DEVICE = 4
} D3DKMT_ESCAPETYPE;

typedef struct _D3DDDI_ESCAPEFLAGS {
    union {
        UINT Value;
    };
} D3DDDI_ESCAPEFLAGS;

typedef struct _D3DKMT_ESCAPE {
    D3DKMT_HANDLE hAdapter;
    D3DKMT_HANDLE hDevice;            /* 0 or a device on hAdapter */
    D3DKMT_ESCAPETYPE Type;
    D3DDDI_ESCAPEFLAGS Flags;
    void *pPrivateDriverData;         /* in/out: what the KMD leaves is copied back */
    UINT PrivateDriverDataSize;       /* 1 byte to 64 KiB */
    D3DKMT_HANDLE hContext;           /* 0 or a context of hDevice */
} D3DKMT_ESCAPE;

typedef enum _D3DKMT_QUERYSTATISTICS_TYPE {
    D3DKMT_QUERYSTATISTICS_ADAPTER = 0,
    D3DKMT_QUERYSTATISTICS_PROCESS = 1,
    D3DKMT_QUERYSTATISTICS_PROCESS_ADAPTER = 2,
    D3DKMT_QUERYSTATISTICS_SEGMENT = 3,
    D3DKMT_QUERYSTATISTICS_PROCESS_SEGMENT = 4,
    D3DKMT_QUERYSTATISTICS_NODE = 5,
    D3DKMT_QUERYSTATISTICS_PROCESS_NODE = 6,
    D3DKMT_QUERYSTATISTICS_VIDPNSOURCE = 7,
    D3DKMT_QUERYSTATISTICS_PROCESS_VIDPNSOURCE = 8,
    D3DKMT_QUERYSTATISTICS_PROCESS_SEGMENT_GROUP = 9,
    D3DKMT_QUERYSTATISTICS_PHYSICAL_ADAPTER = 10
} D3DKMT_QUERYSTATISTICS_TYPE;

/* The answers we give are declared; the rest of each answer is padding
 * here (the library writes zeros there). */
typedef struct _D3DKMT_QUERYSTATISTICS_ADAPTER_INFORMATION {
    UINT NbSegments;
    UINT NodeCount;
    UINT VidPnSourceCount;
    UINT VSyncEnabled;
    UINT TdrDetectedCount;
    uint8_t Padding[756];
} D3DKMT_QUERYSTATISTICS_ADAPTER_INFORMATION;

typedef struct _D3DKMT_QUERYSTATISTICS_PROCESS_ADAPTER_INFORMATION {
    UINT NbSegments;
    UINT NodeCount;
    UINT VidPnSourceCount;
    UINT VirtualMemoryUsage;
    uint8_t Padding[256];
} D3DKMT_QUERYSTATISTICS_PROCESS_ADAPTER_INFORMATION;

typedef struct _D3DKMT_QUERYSTATISTICS_QUEUE_PACKET_TYPE_INFORMATION {
    UINT PacketSubmited;
    UINT PacketCompleted;
} D3DKMT_QUERYSTATISTICS_QUEUE_PACKET_TYPE_INFORMATION;

typedef struct _D3DKMT_QUERYSTATISTICS_DMA_PACKET_TYPE_INFORMATION {
    UINT PacketSubmited;
    UINT PacketCompleted;
    UINT PacketPreempted;
    UINT PacketFaulted;
} D3DKMT_QUERYSTATISTICS_DMA_PACKET_TYPE_INFORMATION;

typedef struct _D3DKMT_QUERYSTATISTICS_PACKET_INFORMATION {
    /* [0]: client render buffers, the command buffers submitted */
    D3DKMT_QUERYSTATISTICS_QUEUE_PACKET_TYPE_INFORMATION QueuePacket[8];
    D3DKMT_QUERYSTATISTICS_DMA_PACKET_TYPE_INFORMATION DmaPacket[4];
} D3DKMT_QUERYSTATISTICS_PACKET_INFORMATION;

typedef struct _D3DKMT_QUERYSTATISTICS_PROCESS_NODE_INFORMATION {
    int64_t RunningTime;
    UINT ContextSwitch;
    uint8_t Padding[64];              /* PreemptionStatistics */
    D3DKMT_QUERYSTATISTICS_PACKET_INFORMATION PacketStatistics;
    UINT64 Reserved[8];
} D3DKMT_QUERYSTATISTICS_PROCESS_NODE_INFORMATION;

typedef struct _D3DKMT_QUERYSTATISTICS_NODE_INFORMATION {
    D3DKMT_QUERYSTATISTICS_PROCESS_NODE_INFORMATION GlobalInformation;
    D3DKMT_QUERYSTATISTICS_PROCESS_NODE_INFORMATION SystemInformation;
    uint8_t Padding[72];              /* NodePerfData, Reserved */
} D3DKMT_QUERYSTATISTICS_NODE_INFORMATION;

typedef union _D3DKMT_QUERYSTATISTICS_RESULT {
    D3DKMT_QUERYSTATISTICS_ADAPTER_INFORMATION AdapterInformation;
    D3DKMT_QUERYSTATISTICS_NODE_INFORMATION NodeInformation;
    D3DKMT_QUERYSTATISTICS_PROCESS_ADAPTER_INFORMATION ProcessAdapterInformation;
    D3DKMT_QUERYSTATISTICS_PROCESS_NODE_INFORMATION ProcessNodeInformation;
} D3DKMT_QUERYSTATISTICS_RESULT;

typedef struct _D3DKMT_QUERYSTATISTICS_QUERY_NODE {
    UINT NodeId;
} D3DKMT_QUERYSTATISTICS_QUERY_NODE;

typedef struct _D3DKMT_QUERYSTATISTICS {
    D3DKMT_QUERYSTATISTICS_TYPE Type;
    LUID AdapterLuid;
    HANDLE hProcess;                  /* NULL or (HANDLE)-1 for the process types */
    D3DKMT_QUERYSTATISTICS_RESULT QueryResult; /* out */
    union {
        D3DKMT_QUERYSTATISTICS_QUERY_NODE QueryNode;
        D3DKMT_QUERYSTATISTICS_QUERY_NODE QueryProcessNode;
    };
} D3DKMT_QUERYSTATISTICS;

/* Windows packs these two to 1 byte. */
#pragma pack(push, 1)
typedef struct _DXGK_GPUCLOCKDATA_FLAGS {
    union {
        UINT Value;
    };
} DXGK_GPUCLOCKDATA_FLAGS;

typedef struct _DXGK_GPUCLOCKDATA {
    UINT64 GpuFrequency;              /* 1 GHz: the counter is kernel time in ns */
    UINT64 GpuClockCounter;
    UINT64 CpuClockCounter;           /* kernel time in 100 ns units (10 MHz) */
    DXGK_GPUCLOCKDATA_FLAGS Flags;
} DXGK_GPUCLOCKDATA;

typedef struct _D3DKMT_QUERYCLOCKCALIBRATION {
    D3DKMT_HANDLE hAdapter;
    UINT NodeOrdinal;
    UINT PhysicalAdapterIndex;        /* 0 */
    DXGK_GPUCLOCKDATA ClockData;      /* out */
} D3DKMT_QUERYCLOCKCALIBRATION;
#pragma pack(pop)

typedef enum _D3DKMT_DEVICE_ERROR_REASON {
    D3DKMT_DEVICE_ERROR_REASON_GENERIC = (int32_t)0x80000000,
    D3DKMT_DEVICE_ERROR_REASON_DRIVER_ERROR = (int32_t)0x80000006
} D3DKMT_DEVICE_ERROR_REASON;

typedef struct _D3DKMT_MARKDEVICEASERROR {
    D3DKMT_HANDLE hDevice;
    D3DKMT_DEVICE_ERROR_REASON Reason;
} D3DKMT_MARKDEVICEASERROR;

typedef struct _D3DKMT_FLUSHHEAPTRANSITIONS {
    D3DKMT_HANDLE hAdapter;
} D3DKMT_FLUSHHEAPTRANSITIONS;

typedef struct _D3DKMT_CREATESYNCFILE {
    D3DKMT_HANDLE hDevice;
    D3DKMT_HANDLE hMonitoredFence;
    UINT64 FenceValue;
    UINT64 hSyncFile;                 /* out: a file descriptor the caller owns and closes */
} D3DKMT_CREATESYNCFILE;

/* ---- GPU memory: virtual addresses, residency, offers, priorities, Lock2 ----
 * No struct here carries WCHAR text: the libdxg layout is the same. */

typedef enum _D3DDDIGPUVIRTUALADDRESS_RESERVATION_TYPE {
    D3DDDIGPUVIRTUALADDRESS_RESERVE_NO_ACCESS = 0,
    D3DDDIGPUVIRTUALADDRESS_RESERVE_ZERO = 1,
    D3DDDIGPUVIRTUALADDRESS_RESERVE_NO_COMMIT = 2
} D3DDDIGPUVIRTUALADDRESS_RESERVATION_TYPE;

/* Bits: Write 1, Execute 2, Zero 4, NoAccess 8 (others refused). */
typedef struct _D3DDDIGPUVIRTUALADDRESS_PROTECTION_TYPE {
    union {
        UINT64 Value;
    };
} D3DDDIGPUVIRTUALADDRESS_PROTECTION_TYPE;

/* Size a nonzero multiple of 64 KiB; BaseAddress 64 KiB-aligned, or 0 for
 * the lowest free range in [MinimumAddress, MaximumAddress) (0: no bound). */
typedef struct _D3DDDI_RESERVEGPUVIRTUALADDRESS {
    union {
        D3DKMT_HANDLE hPagingQueue;
        D3DKMT_HANDLE hAdapter;       /* the D3DKMT form: an adapter handle */
    };
    UINT64 BaseAddress;
    UINT64 MinimumAddress;
    UINT64 MaximumAddress;
    UINT64 Size;
    union {
        D3DDDIGPUVIRTUALADDRESS_RESERVATION_TYPE ReservationType;
        UINT Reserved0;
    };
    union {
        UINT64 DriverProtection;
        UINT64 Reserved1;
    };
    UINT64 VirtualAddress;            /* out */
    union {
        UINT64 PagingFenceValue;      /* not written */
        UINT64 Reserved2;
    };
} D3DDDI_RESERVEGPUVIRTUALADDRESS;

/* SizeInPages 4 KiB pages of hAllocation from OffsetInPages, at BaseAddress
 * (inside one reservation) or, with 0, in a new reservation. */
typedef struct _D3DDDI_MAPGPUVIRTUALADDRESS {
    D3DKMT_HANDLE hPagingQueue;
    UINT64 BaseAddress;
    UINT64 MinimumAddress;
    UINT64 MaximumAddress;
    D3DKMT_HANDLE hAllocation;
    UINT64 OffsetInPages;
    UINT64 SizeInPages;
    D3DDDIGPUVIRTUALADDRESS_PROTECTION_TYPE Protection;
    UINT64 DriverProtection;
    UINT Reserved0;
    UINT64 Reserved1;
    UINT64 VirtualAddress;            /* out */
    UINT64 PagingFenceValue;          /* out: reached when the call returns */
} D3DDDI_MAPGPUVIRTUALADDRESS;

/* Exactly one reservation (its base and size). */
typedef struct _D3DKMT_FREEGPUVIRTUALADDRESS {
    D3DKMT_HANDLE hAdapter;
    UINT64 BaseAddress;
    UINT64 Size;
} D3DKMT_FREEGPUVIRTUALADDRESS;

typedef enum _D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION_TYPE {
    D3DDDI_UPDATEGPUVIRTUALADDRESS_MAP = 0,
    D3DDDI_UPDATEGPUVIRTUALADDRESS_UNMAP = 1,
    D3DDDI_UPDATEGPUVIRTUALADDRESS_COPY = 2,
    D3DDDI_UPDATEGPUVIRTUALADDRESS_MAP_PROTECT = 3
} D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION_TYPE;

typedef struct _D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION {
    D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION_TYPE OperationType;
    union {
        struct {
            UINT64 BaseAddress;
            UINT64 SizeInBytes;
            D3DKMT_HANDLE hAllocation;
            UINT64 AllocationOffsetInBytes;
            UINT64 AllocationSizeInBytes; /* 0 or SizeInBytes */
        } Map;
        struct {
            UINT64 BaseAddress;
            UINT64 SizeInBytes;
            D3DKMT_HANDLE hAllocation;
            UINT64 AllocationOffsetInBytes;
            UINT64 AllocationSizeInBytes;
            D3DDDIGPUVIRTUALADDRESS_PROTECTION_TYPE Protection;
            UINT64 DriverProtection;
        } MapProtect;
        struct {
            UINT64 BaseAddress;
            UINT64 SizeInBytes;
            D3DDDIGPUVIRTUALADDRESS_PROTECTION_TYPE Protection;
        } Unmap;
        struct {
            UINT64 SourceAddress;
            UINT64 SizeInBytes;
            UINT64 DestAddress;
        } Copy;
    };
} D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION;

typedef struct _D3DKMT_UPDATEGPUVIRTUALADDRESS {
    D3DKMT_HANDLE hDevice;
    D3DKMT_HANDLE hContext;           /* a context of hDevice */
    D3DKMT_HANDLE hFenceObject;       /* signalled to FenceValue on the context */
    UINT NumOperations;               /* 1 to 65536 */
    D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION *Operations;
    size_t Reserved0;
    UINT64 Reserved1;
    UINT64 FenceValue;
    union {
        UINT Value;
    } Flags;
} D3DKMT_UPDATEGPUVIRTUALADDRESS;

typedef struct _D3DDDI_MAKERESIDENT_FLAGS {
    union {
        UINT Value;                   /* CantTrimFurther, MustSucceed: ignored */
    };
} D3DDDI_MAKERESIDENT_FLAGS;

typedef struct _D3DDDI_MAKERESIDENT {
    D3DKMT_HANDLE hPagingQueue;
    UINT NumAllocations;              /* 1 to 65536 */
    const D3DKMT_HANDLE *AllocationList;
    const UINT *PriorityList;         /* not read */
    D3DDDI_MAKERESIDENT_FLAGS Flags;
    UINT64 PagingFenceValue;          /* out: reached when the call returns */
    UINT64 NumBytesToTrim;            /* out: 0 */
} D3DDDI_MAKERESIDENT;

typedef struct _D3DDDI_EVICT_FLAGS {
    union {
        UINT Value;                   /* EvictOnlyIfNecessary: ignored */
    };
} D3DDDI_EVICT_FLAGS;

typedef struct _D3DKMT_EVICT {
    D3DKMT_HANDLE hDevice;
    UINT NumAllocations;
    const D3DKMT_HANDLE *AllocationList;
    D3DDDI_EVICT_FLAGS Flags;
    UINT64 NumBytesToTrim;            /* out: 0 */
} D3DKMT_EVICT;

typedef enum _D3DKMT_ALLOCATIONRESIDENCYSTATUS {
    D3DKMT_ALLOCATIONRESIDENCYSTATUS_RESIDENTINGPUMEMORY = 1,
    D3DKMT_ALLOCATIONRESIDENCYSTATUS_RESIDENTINSHAREDMEMORY = 2, /* ours, when resident */
    D3DKMT_ALLOCATIONRESIDENCYSTATUS_NOTRESIDENT = 3
} D3DKMT_ALLOCATIONRESIDENCYSTATUS;

/* hResource with count 0 (one answer), or a list of allocations. */
typedef struct _D3DKMT_QUERYALLOCATIONRESIDENCY {
    D3DKMT_HANDLE hDevice;
    D3DKMT_HANDLE hResource;
    const D3DKMT_HANDLE *phAllocationList;
    UINT AllocationCount;
    D3DKMT_ALLOCATIONRESIDENCYSTATUS *pResidencyStatus; /* out */
} D3DKMT_QUERYALLOCATIONRESIDENCY;

/* Priorities: D3DDDI_ALLOCATIONPRIORITY_* (NORMAL 0x78000000 by default); 0 refused. */
typedef struct _D3DKMT_SETALLOCATIONPRIORITY {
    D3DKMT_HANDLE hDevice;
    D3DKMT_HANDLE hResource;
    const D3DKMT_HANDLE *phAllocationList;
    UINT AllocationCount;
    const UINT *pPriorities;
} D3DKMT_SETALLOCATIONPRIORITY;

typedef struct _D3DKMT_GETALLOCATIONPRIORITY {
    D3DKMT_HANDLE hDevice;
    D3DKMT_HANDLE hResource;
    const D3DKMT_HANDLE *phAllocationList;
    UINT AllocationCount;
    UINT *pPriorities;                /* out */
} D3DKMT_GETALLOCATIONPRIORITY;

typedef enum _D3DKMT_OFFER_PRIORITY {
    D3DKMT_OFFER_PRIORITY_LOW = 1,
    D3DKMT_OFFER_PRIORITY_NORMAL = 2,
    D3DKMT_OFFER_PRIORITY_HIGH = 3,
    D3DKMT_OFFER_PRIORITY_AUTO = 4
} D3DKMT_OFFER_PRIORITY;

typedef struct _D3DKMT_OFFER_FLAGS {
    union {
        UINT Value;                   /* timing hints: ignored */
    };
} D3DKMT_OFFER_FLAGS;

/* Exactly one of pResources and HandleList, NumAllocations entries. */
typedef struct _D3DKMT_OFFERALLOCATIONS {
    D3DKMT_HANDLE hDevice;
    D3DKMT_HANDLE *pResources;
    const D3DKMT_HANDLE *HandleList;
    UINT NumAllocations;
    D3DKMT_OFFER_PRIORITY Priority;
    D3DKMT_OFFER_FLAGS Flags;
} D3DKMT_OFFERALLOCATIONS;

typedef enum _D3DDDI_RECLAIM_RESULT {
    D3DDDI_RECLAIM_RESULT_OK = 0,
    D3DDDI_RECLAIM_RESULT_DISCARDED = 1,
    D3DDDI_RECLAIM_RESULT_NOT_COMMITTED = 2
} D3DDDI_RECLAIM_RESULT;

typedef struct _D3DKMT_RECLAIMALLOCATIONS2 {
    D3DKMT_HANDLE hPagingQueue;
    UINT NumAllocations;
    D3DKMT_HANDLE *pResources;
    const D3DKMT_HANDLE *HandleList;
    union {
        BOOL *pDiscarded;             /* the same array: OK is FALSE, DISCARDED TRUE */
        D3DDDI_RECLAIM_RESULT *pResults; /* out, when not NULL */
    };
    UINT64 PagingFenceValue;          /* out */
} D3DKMT_RECLAIMALLOCATIONS2;

typedef struct _D3DDDI_SEGMENTPREFERENCE {
    union {
        UINT Value;                   /* not kept */
    };
} D3DDDI_SEGMENTPREFERENCE;

typedef struct _D3DDDI_UPDATEALLOCPROPERTY_FLAGS {
    union {
        UINT Value;                   /* not kept */
    };
} D3DDDI_UPDATEALLOCPROPERTY_FLAGS;

typedef struct _D3DDDI_UPDATEALLOCPROPERTY {
    D3DKMT_HANDLE hPagingQueue;
    D3DKMT_HANDLE hAllocation;
    UINT SupportedSegmentSet;         /* nonzero; kept */
    D3DDDI_SEGMENTPREFERENCE PreferredSegment;
    D3DDDI_UPDATEALLOCPROPERTY_FLAGS Flags;
    UINT64 PagingFenceValue;          /* out */
    union {
        UINT PropertyMaskValue;
    };
} D3DDDI_UPDATEALLOCPROPERTY;

typedef struct _D3DDDICB_LOCK2FLAGS {
    union {
        UINT Value;                   /* ignored */
    };
} D3DDDICB_LOCK2FLAGS;

/* pData: the allocation's memory (the pSystemMem it was created over). */
typedef struct _D3DKMT_LOCK2 {
    D3DKMT_HANDLE hDevice;
    D3DKMT_HANDLE hAllocation;
    D3DDDICB_LOCK2FLAGS Flags;
    void *pData;                      /* out */
} D3DKMT_LOCK2;

typedef struct _D3DKMT_UNLOCK2 {
    D3DKMT_HANDLE hDevice;
    D3DKMT_HANDLE hAllocation;
} D3DKMT_UNLOCK2;

/* Reservation at most AvailableForReservation; shows as CurrentReservation. */
typedef struct _D3DKMT_CHANGEVIDEOMEMORYRESERVATION {
    HANDLE hProcess;                  /* NULL or (HANDLE)-1: the caller */
    D3DKMT_HANDLE hAdapter;
    D3DKMT_MEMORY_SEGMENT_GROUP MemorySegmentGroup;
    UINT64 Reservation;
    UINT PhysicalAdapterIndex;        /* 0 */
} D3DKMT_CHANGEVIDEOMEMORYRESERVATION;

/* Offset + Length must lie within the allocation; memory is coherent here,
 * so the call only counts (AllocationMemoryInfo::invalidations). */
typedef struct _D3DKMT_INVALIDATECACHE {
    D3DKMT_HANDLE hDevice;
    D3DKMT_HANDLE hAllocation;
    size_t Offset;
    size_t Length;
} D3DKMT_INVALIDATECACHE;

/* ---- Host sharing, power, the dxg connection (libdxg's extras) ----
 * No struct here carries WCHAR text: the libdxg layout is the same. */

/* hObject: a sync object created with NtSecuritySharing, on hDevice's adapter. */
typedef struct _D3DKMT_SHAREOBJECTWITHHOST {
    D3DKMT_HANDLE hDevice;
    D3DKMT_HANDLE hObject;
    UINT64 Reserved;                  /* not read */
    UINT64 hVailProcessNtHandle;      /* out: the (emulated) host's handle value */
} D3DKMT_SHAREOBJECTWITHHOST;

/* Any nonzero Enabled is TRUE; recorded per process and adapter. */
typedef struct _D3DKMT_SETSTABLEPOWERSTATE {
    D3DKMT_HANDLE hAdapter;
    BOOL Enabled;
} D3DKMT_SETSTABLEPOWERSTATE;

/* ---- Argument types of some entry points that are exported, not emulated ---- */

typedef struct _D3DKMT_SETHWPROTECTIONTEARDOWNRECOVERY {
    D3DKMT_HANDLE hAdapter;
    BOOL Recovered;
} D3DKMT_SETHWPROTECTIONTEARDOWNRECOVERY;

typedef struct _D3DKMT_SETVIDPNSOURCEHWPROTECTION {
    D3DKMT_HANDLE hAdapter;
    UINT VidPnSourceId;
    BOOL HwProtected;
} D3DKMT_SETVIDPNSOURCEHWPROTECTION;

/* BEGIN GENERATED STUB TYPES (from src/abi/stubs.rs) */
/* Argument types of the entry points that are exported but not
 * emulated. Declared incomplete: those calls look at nothing and answer
 * STATUS_NOT_IMPLEMENTED. A program that needs their contents uses the
 * Windows definitions (D3DKMT_EMU_USE_SYSTEM_TYPES). */
typedef enum _D3DKMT_SCHEDULINGPRIORITYCLASS {
    D3DKMT_SCHEDULINGPRIORITYCLASS_IDLE = 0,
    D3DKMT_SCHEDULINGPRIORITYCLASS_BELOW_NORMAL = 1,
    D3DKMT_SCHEDULINGPRIORITYCLASS_NORMAL = 2,
    D3DKMT_SCHEDULINGPRIORITYCLASS_ABOVE_NORMAL = 3,
    D3DKMT_SCHEDULINGPRIORITYCLASS_HIGH = 4,
    D3DKMT_SCHEDULINGPRIORITYCLASS_REALTIME = 5
} D3DKMT_SCHEDULINGPRIORITYCLASS;
typedef struct _D3DDDI_GETRESOURCEPRESENTPRIVATEDRIVERDATA D3DDDI_GETRESOURCEPRESENTPRIVATEDRIVERDATA;
typedef struct _D3DKMT_ADJUSTFULLSCREENGAMMA D3DKMT_ADJUSTFULLSCREENGAMMA;
typedef struct _D3DKMT_CANCEL_PRESENTS D3DKMT_CANCEL_PRESENTS;
typedef struct _D3DKMT_CHANGESURFACEPOINTER D3DKMT_CHANGESURFACEPOINTER;
typedef struct _D3DKMT_CHECKMONITORPOWERSTATE D3DKMT_CHECKMONITORPOWERSTATE;
typedef struct _D3DKMT_CHECKMULTIPLANEOVERLAYSUPPORT D3DKMT_CHECKMULTIPLANEOVERLAYSUPPORT;
typedef struct _D3DKMT_CHECKMULTIPLANEOVERLAYSUPPORT2 D3DKMT_CHECKMULTIPLANEOVERLAYSUPPORT2;
typedef struct _D3DKMT_CHECKMULTIPLANEOVERLAYSUPPORT3 D3DKMT_CHECKMULTIPLANEOVERLAYSUPPORT3;
typedef struct _D3DKMT_CHECKSHAREDRESOURCEACCESS D3DKMT_CHECKSHAREDRESOURCEACCESS;
typedef struct _D3DKMT_CONFIGURESHAREDRESOURCE D3DKMT_CONFIGURESHAREDRESOURCE;
typedef struct _D3DKMT_CREATEDCFROMMEMORY D3DKMT_CREATEDCFROMMEMORY;
typedef struct _D3DKMT_CREATEOVERLAY D3DKMT_CREATEOVERLAY;
typedef struct _D3DKMT_CREATE_OUTPUTDUPL D3DKMT_CREATE_OUTPUTDUPL;
typedef struct _D3DKMT_DESTROYDCFROMMEMORY D3DKMT_DESTROYDCFROMMEMORY;
typedef struct _D3DKMT_DESTROYOVERLAY D3DKMT_DESTROYOVERLAY;
typedef struct _D3DKMT_DESTROY_OUTPUTDUPL D3DKMT_DESTROY_OUTPUTDUPL;
typedef struct _D3DKMT_ENUMADAPTERS D3DKMT_ENUMADAPTERS;
typedef struct _D3DKMT_FLIPOVERLAY D3DKMT_FLIPOVERLAY;
typedef struct _D3DKMT_GETDISPLAYMODELIST D3DKMT_GETDISPLAYMODELIST;
typedef struct _D3DKMT_GETMULTISAMPLEMETHODLIST D3DKMT_GETMULTISAMPLEMETHODLIST;
typedef struct _D3DKMT_GETOVERLAYSTATE D3DKMT_GETOVERLAYSTATE;
typedef struct _D3DKMT_GETPRESENTHISTORY D3DKMT_GETPRESENTHISTORY;
typedef struct _D3DKMT_GETPROCESSDEVICEREMOVALSUPPORT D3DKMT_GETPROCESSDEVICEREMOVALSUPPORT;
typedef struct _D3DKMT_GETRUNTIMEDATA D3DKMT_GETRUNTIMEDATA;
typedef struct _D3DKMT_GETSCANLINE D3DKMT_GETSCANLINE;
typedef struct _D3DKMT_GETSHAREDPRIMARYHANDLE D3DKMT_GETSHAREDPRIMARYHANDLE;
typedef struct _D3DKMT_GETVERTICALBLANKEVENT D3DKMT_GETVERTICALBLANKEVENT;
typedef struct _D3DKMT_GET_MULTIPLANE_OVERLAY_CAPS D3DKMT_GET_MULTIPLANE_OVERLAY_CAPS;
typedef struct _D3DKMT_GET_POST_COMPOSITION_CAPS D3DKMT_GET_POST_COMPOSITION_CAPS;
typedef struct _D3DKMT_INVALIDATEACTIVEVIDPN D3DKMT_INVALIDATEACTIVEVIDPN;
typedef struct _D3DKMT_LOCK D3DKMT_LOCK;
typedef struct _D3DKMT_OUTPUTDUPLPRESENT D3DKMT_OUTPUTDUPLPRESENT;
typedef struct _D3DKMT_OUTPUTDUPLPRESENTTOHWQUEUE D3DKMT_OUTPUTDUPLPRESENTTOHWQUEUE;
typedef struct _D3DKMT_OUTPUTDUPL_GET_FRAMEINFO D3DKMT_OUTPUTDUPL_GET_FRAMEINFO;
typedef struct _D3DKMT_OUTPUTDUPL_GET_POINTER_SHAPE_DATA D3DKMT_OUTPUTDUPL_GET_POINTER_SHAPE_DATA;
typedef struct _D3DKMT_OUTPUTDUPL_METADATA D3DKMT_OUTPUTDUPL_METADATA;
typedef struct _D3DKMT_OUTPUTDUPL_RELEASE_FRAME D3DKMT_OUTPUTDUPL_RELEASE_FRAME;
typedef struct _D3DKMT_POLLDISPLAYCHILDREN D3DKMT_POLLDISPLAYCHILDREN;
typedef struct _D3DKMT_PRESENT D3DKMT_PRESENT;
typedef struct _D3DKMT_PRESENT_MULTIPLANE_OVERLAY D3DKMT_PRESENT_MULTIPLANE_OVERLAY;
typedef struct _D3DKMT_PRESENT_MULTIPLANE_OVERLAY2 D3DKMT_PRESENT_MULTIPLANE_OVERLAY2;
typedef struct _D3DKMT_PRESENT_MULTIPLANE_OVERLAY3 D3DKMT_PRESENT_MULTIPLANE_OVERLAY3;
typedef struct _D3DKMT_PRESENT_REDIRECTED D3DKMT_PRESENT_REDIRECTED;
typedef struct _D3DKMT_QUERYFSEBLOCK D3DKMT_QUERYFSEBLOCK;
typedef struct _D3DKMT_QUERYPROCESSOFFERINFO D3DKMT_QUERYPROCESSOFFERINFO;
typedef struct _D3DKMT_QUERYREMOTEVIDPNSOURCEFROMGDIDISPLAYNAME D3DKMT_QUERYREMOTEVIDPNSOURCEFROMGDIDISPLAYNAME;
typedef struct _D3DKMT_QUERYVIDPNEXCLUSIVEOWNERSHIP D3DKMT_QUERYVIDPNEXCLUSIVEOWNERSHIP;
typedef struct _D3DKMT_RECLAIMALLOCATIONS D3DKMT_RECLAIMALLOCATIONS;
typedef struct _D3DKMT_REGISTERTRIMNOTIFICATION D3DKMT_REGISTERTRIMNOTIFICATION;
typedef struct _D3DKMT_SETDISPLAYMODE D3DKMT_SETDISPLAYMODE;
typedef struct _D3DKMT_SETDISPLAYPRIVATEDRIVERFORMAT D3DKMT_SETDISPLAYPRIVATEDRIVERFORMAT;
typedef struct _D3DKMT_SETFSEBLOCK D3DKMT_SETFSEBLOCK;
typedef struct _D3DKMT_SETGAMMARAMP D3DKMT_SETGAMMARAMP;
typedef struct _D3DKMT_SETQUEUEDLIMIT D3DKMT_SETQUEUEDLIMIT;
typedef struct _D3DKMT_SETSYNCREFRESHCOUNTWAITTARGET D3DKMT_SETSYNCREFRESHCOUNTWAITTARGET;
typedef struct _D3DKMT_SETVIDPNSOURCEOWNER2 D3DKMT_SETVIDPNSOURCEOWNER2;
typedef struct _D3DKMT_SET_COLORSPACE_TRANSFORM D3DKMT_SET_COLORSPACE_TRANSFORM;
typedef struct _D3DKMT_SHAREDPRIMARYLOCKNOTIFICATION D3DKMT_SHAREDPRIMARYLOCKNOTIFICATION;
typedef struct _D3DKMT_SHAREDPRIMARYUNLOCKNOTIFICATION D3DKMT_SHAREDPRIMARYUNLOCKNOTIFICATION;
typedef struct _D3DKMT_SUBMITPRESENTBLTTOHWQUEUE D3DKMT_SUBMITPRESENTBLTTOHWQUEUE;
typedef struct _D3DKMT_SUBMITPRESENTTOHWQUEUE D3DKMT_SUBMITPRESENTTOHWQUEUE;
typedef struct _D3DKMT_TRIMPROCESSCOMMITMENT D3DKMT_TRIMPROCESSCOMMITMENT;
typedef struct _D3DKMT_UNLOCK D3DKMT_UNLOCK;
typedef struct _D3DKMT_UNREGISTERTRIMNOTIFICATION D3DKMT_UNREGISTERTRIMNOTIFICATION;
typedef struct _D3DKMT_UPDATEOVERLAY D3DKMT_UPDATEOVERLAY;
typedef struct _D3DKMT_WAITFORIDLE D3DKMT_WAITFORIDLE;
typedef struct _D3DKMT_WAITFORVERTICALBLANKEVENT D3DKMT_WAITFORVERTICALBLANKEVENT;
typedef struct _D3DKMT_WAITFORVERTICALBLANKEVENT2 D3DKMT_WAITFORVERTICALBLANKEVENT2;
typedef struct _GUID GUID;
/* END GENERATED STUB TYPES */

/* ---- Layout checks (x86_64, against windows-sys 0.61) ---- */

#if defined(__x86_64__) || defined(_M_X64)
D3DKMT_EMU_STATIC_ASSERT(sizeof(LUID) == 8, "LUID layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(UNICODE_STRING) == 16, "UNICODE_STRING layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(OBJECT_ATTRIBUTES) == 48, "OBJECT_ATTRIBUTES layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(OBJECT_ATTRIBUTES, Attributes) == 24, "OBJECT_ATTRIBUTES layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_ADAPTERINFO) == 20, "D3DKMT_ADAPTERINFO layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_ENUMADAPTERS2) == 16, "D3DKMT_ENUMADAPTERS2 layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_ENUMADAPTERS_FILTER) == 8, "D3DKMT_ENUMADAPTERS_FILTER layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_ENUMADAPTERS3) == 24, "D3DKMT_ENUMADAPTERS3 layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(D3DKMT_ENUMADAPTERS3, pAdapters) == 16, "D3DKMT_ENUMADAPTERS3 layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_OPENADAPTERFROMLUID) == 12, "D3DKMT_OPENADAPTERFROMLUID layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_CLOSEADAPTER) == 4, "D3DKMT_CLOSEADAPTER layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_CREATEDEVICEFLAGS) == 4, "D3DKMT_CREATEDEVICEFLAGS layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_CREATEDEVICE) == 64, "D3DKMT_CREATEDEVICE layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(D3DKMT_CREATEDEVICE, hDevice) == 12, "D3DKMT_CREATEDEVICE layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(D3DKMT_CREATEDEVICE, PatchLocationListSize) == 56, "D3DKMT_CREATEDEVICE layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_DESTROYDEVICE) == 4, "D3DKMT_DESTROYDEVICE layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(KMTQUERYADAPTERINFOTYPE) == 4, "KMTQUERYADAPTERINFOTYPE size");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_MEMORY_SEGMENT_GROUP) == 4, "D3DKMT_MEMORY_SEGMENT_GROUP size");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_VIDPNSOURCEOWNER_TYPE) == 4, "D3DKMT_VIDPNSOURCEOWNER_TYPE size");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME) == 16 + 32 * D3DKMT_EMU_WCHAR_SIZE, "D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME, VidPnSourceId) == 12 + 32 * D3DKMT_EMU_WCHAR_SIZE, "D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_OPENADAPTERFROMDEVICENAME) == 24, "D3DKMT_OPENADAPTERFROMDEVICENAME layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_OPENADAPTERFROMHDC) == 24, "D3DKMT_OPENADAPTERFROMHDC layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_QUERYADAPTERINFO) == 24, "D3DKMT_QUERYADAPTERINFO layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_SEGMENTSIZEINFO) == 24, "D3DKMT_SEGMENTSIZEINFO layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_ADAPTERADDRESS) == 12, "D3DKMT_ADAPTERADDRESS layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_ADAPTERREGISTRYINFO) == 1040 * D3DKMT_EMU_WCHAR_SIZE, "D3DKMT_ADAPTERREGISTRYINFO layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DDDI_QUERYREGISTRY_INFO) == (D3DKMT_EMU_WCHAR_SIZE == 2 ? 552 : 1072), "D3DDDI_QUERYREGISTRY_INFO layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(D3DDDI_QUERYREGISTRY_INFO, OutputDword) == (D3DKMT_EMU_WCHAR_SIZE == 2 ? 544 : 1064), "D3DDDI_QUERYREGISTRY_INFO layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_ADAPTERTYPE) == 4, "D3DKMT_ADAPTERTYPE layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_QUERY_DEVICE_IDS) == 28, "D3DKMT_QUERY_DEVICE_IDS layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_HWDRM_SUPPORT) == 1, "D3DKMT_HWDRM_SUPPORT layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_DRIVER_DESCRIPTION) == 4096 * D3DKMT_EMU_WCHAR_SIZE, "D3DKMT_DRIVER_DESCRIPTION layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(WCHAR) == D3DKMT_EMU_WCHAR_SIZE, "WCHAR width");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_WDDM_2_7_CAPS) == 4, "D3DKMT_WDDM_2_7_CAPS layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_QUERYVIDEOMEMORYINFO) == 56, "D3DKMT_QUERYVIDEOMEMORYINFO layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(D3DKMT_QUERYVIDEOMEMORYINFO, PhysicalAdapterIndex) == 48, "D3DKMT_QUERYVIDEOMEMORYINFO layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_SETVIDPNSOURCEOWNER) == 32, "D3DKMT_SETVIDPNSOURCEOWNER layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_SETVIDPNSOURCEOWNER1) == 40, "D3DKMT_SETVIDPNSOURCEOWNER1 layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_CHECKVIDPNEXCLUSIVEOWNERSHIP) == 8, "D3DKMT_CHECKVIDPNEXCLUSIVEOWNERSHIP layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_CHECKOCCLUSION) == 8, "D3DKMT_CHECKOCCLUSION layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_DEVICESTATE_TYPE) == 4, "D3DKMT_DEVICESTATE_TYPE size");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_DEVICEEXECUTION_STATE) == 4, "D3DKMT_DEVICEEXECUTION_STATE size");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_DEVICERESET_STATE) == 4, "D3DKMT_DEVICERESET_STATE layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_GETDEVICESTATE) == 56, "D3DKMT_GETDEVICESTATE layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(D3DKMT_GETDEVICESTATE, ExecutionState) == 8, "D3DKMT_GETDEVICESTATE layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DDDI_SYNCHRONIZATIONOBJECT_TYPE) == 4, "D3DDDI_SYNCHRONIZATIONOBJECT_TYPE size");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS) == 4, "D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DDDI_SYNCHRONIZATIONOBJECTINFO2) == 80, "D3DDDI_SYNCHRONIZATIONOBJECTINFO2 layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(D3DDDI_SYNCHRONIZATIONOBJECTINFO2, MonitoredFence) == 8, "D3DDDI_SYNCHRONIZATIONOBJECTINFO2 layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(D3DDDI_SYNCHRONIZATIONOBJECTINFO2, SharedHandle) == 72, "D3DDDI_SYNCHRONIZATIONOBJECTINFO2 layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_CREATESYNCHRONIZATIONOBJECT2) == 96, "D3DKMT_CREATESYNCHRONIZATIONOBJECT2 layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(D3DKMT_CREATESYNCHRONIZATIONOBJECT2, hSyncObject) == 88, "D3DKMT_CREATESYNCHRONIZATIONOBJECT2 layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_DESTROYSYNCHRONIZATIONOBJECT) == 4, "D3DKMT_DESTROYSYNCHRONIZATIONOBJECT layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DDDI_SYNCHRONIZATIONOBJECTINFO) == 68, "D3DDDI_SYNCHRONIZATIONOBJECTINFO layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_CREATESYNCHRONIZATIONOBJECT) == 76, "D3DKMT_CREATESYNCHRONIZATIONOBJECT layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(D3DKMT_CREATESYNCHRONIZATIONOBJECT, hSyncObject) == 72, "D3DKMT_CREATESYNCHRONIZATIONOBJECT layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_OPENSYNCHRONIZATIONOBJECT) == 72, "D3DKMT_OPENSYNCHRONIZATIONOBJECT layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_OPENSYNCOBJECTFROMNTHANDLE) == 16, "D3DKMT_OPENSYNCOBJECTFROMNTHANDLE layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(D3DKMT_OPENSYNCOBJECTFROMNTHANDLE, hSyncObject) == 8, "D3DKMT_OPENSYNCOBJECTFROMNTHANDLE layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_OPENSYNCOBJECTNTHANDLEFROMNAME) == 24, "D3DKMT_OPENSYNCOBJECTNTHANDLEFROMNAME layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(D3DKMT_OPENSYNCOBJECTNTHANDLEFROMNAME, hNtHandle) == 16, "D3DKMT_OPENSYNCOBJECTNTHANDLEFROMNAME layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DDDICB_SIGNALFLAGS) == 4, "D3DDDICB_SIGNALFLAGS layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU) == 32, "D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DDDI_WAITFORSYNCHRONIZATIONOBJECTFROMCPU_FLAGS) == 4, "D3DDDI_WAITFORSYNCHRONIZATIONOBJECTFROMCPU_FLAGS layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU) == 40, "D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU, Flags) == 32, "D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2) == 88, "D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2 layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2, MonitoredFence) == 24, "D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2 layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_PROTECTED_SESSION_STATUS) == 4, "D3DKMT_PROTECTED_SESSION_STATUS size");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_CREATEPROTECTEDSESSION) == 40, "D3DKMT_CREATEPROTECTEDSESSION layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(D3DKMT_CREATEPROTECTEDSESSION, hHandle) == 36, "D3DKMT_CREATEPROTECTEDSESSION layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_DESTROYPROTECTEDSESSION) == 4, "D3DKMT_DESTROYPROTECTEDSESSION layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_QUERYPROTECTEDSESSIONSTATUS) == 8, "D3DKMT_QUERYPROTECTEDSESSIONSTATUS layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE) == 40, "D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE, PrivateRuntimeDataSize) == 32, "D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE) == 16, "D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_SETHWPROTECTIONTEARDOWNRECOVERY) == 8, "D3DKMT_SETHWPROTECTIONTEARDOWNRECOVERY layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_SETVIDPNSOURCEHWPROTECTION) == 12, "D3DKMT_SETVIDPNSOURCEHWPROTECTION layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_CREATEKEYEDMUTEX) == 16, "D3DKMT_CREATEKEYEDMUTEX layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_CREATEKEYEDMUTEX2) == 32, "D3DKMT_CREATEKEYEDMUTEX2 layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_OPENKEYEDMUTEX) == 8, "D3DKMT_OPENKEYEDMUTEX layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_OPENKEYEDMUTEX2) == 24, "D3DKMT_OPENKEYEDMUTEX2 layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_OPENKEYEDMUTEXFROMNTHANDLE) == 32, "D3DKMT_OPENKEYEDMUTEXFROMNTHANDLE layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_DESTROYKEYEDMUTEX) == 4, "D3DKMT_DESTROYKEYEDMUTEX layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_ACQUIREKEYEDMUTEX) == 32, "D3DKMT_ACQUIREKEYEDMUTEX layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_ACQUIREKEYEDMUTEX2) == 48, "D3DKMT_ACQUIREKEYEDMUTEX2 layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_RELEASEKEYEDMUTEX) == 24, "D3DKMT_RELEASEKEYEDMUTEX layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_RELEASEKEYEDMUTEX2) == 40, "D3DKMT_RELEASEKEYEDMUTEX2 layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_CREATESTANDARDALLOCATION) == 24, "D3DKMT_CREATESTANDARDALLOCATION layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_CREATEALLOCATIONFLAGS) == 4, "D3DKMT_CREATEALLOCATIONFLAGS layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DDDI_ALLOCATIONINFO) == 40, "D3DDDI_ALLOCATIONINFO layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DDDI_ALLOCATIONINFO2) == 96, "D3DDDI_ALLOCATIONINFO2 layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_CREATEALLOCATION) == 72, "D3DKMT_CREATEALLOCATION layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_DESTROYALLOCATION) == 24, "D3DKMT_DESTROYALLOCATION layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_DESTROYALLOCATION2) == 24, "D3DKMT_DESTROYALLOCATION2 layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_QUERYRESOURCEINFO) == 32, "D3DKMT_QUERYRESOURCEINFO layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DDDI_OPENALLOCATIONINFO) == 24, "D3DDDI_OPENALLOCATIONINFO layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DDDI_OPENALLOCATIONINFO2) == 80, "D3DDDI_OPENALLOCATIONINFO2 layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_OPENRESOURCE) == 72, "D3DKMT_OPENRESOURCE layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_QUERYRESOURCEINFOFROMNTHANDLE) == 40, "D3DKMT_QUERYRESOURCEINFOFROMNTHANDLE layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_OPENRESOURCEFROMNTHANDLE) == 104, "D3DKMT_OPENRESOURCEFROMNTHANDLE layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(D3DKMT_OPENRESOURCEFROMNTHANDLE, hResource) == 80, "hResource offset");
D3DKMT_EMU_STATIC_ASSERT(offsetof(D3DKMT_OPENRESOURCEFROMNTHANDLE, hSyncObject) == 100, "hSyncObject offset");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_GETSHAREDRESOURCEADAPTERLUID) == 24, "D3DKMT_GETSHAREDRESOURCEADAPTERLUID layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_OPENNTHANDLEFROMNAME) == 24, "D3DKMT_OPENNTHANDLEFROMNAME layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_CREATECONTEXT) == 96, "D3DKMT_CREATECONTEXT layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(D3DKMT_CREATECONTEXT, CommandBuffer) == 88, "D3DKMT_CREATECONTEXT layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_CREATECONTEXTVIRTUAL) == 40, "D3DKMT_CREATECONTEXTVIRTUAL layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_CREATEHWCONTEXT) == 40, "D3DKMT_CREATEHWCONTEXT layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_CREATEHWQUEUE) == 48, "D3DKMT_CREATEHWQUEUE layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_CREATEPAGINGQUEUE) == 32, "D3DKMT_CREATEPAGINGQUEUE layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DDDI_RESERVEGPUVIRTUALADDRESS) == 72, "D3DDDI_RESERVEGPUVIRTUALADDRESS layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DDDI_MAPGPUVIRTUALADDRESS) == 104, "D3DDDI_MAPGPUVIRTUALADDRESS layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(D3DDDI_MAPGPUVIRTUALADDRESS, PagingFenceValue) == 96, "D3DDDI_MAPGPUVIRTUALADDRESS layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_FREEGPUVIRTUALADDRESS) == 24, "D3DKMT_FREEGPUVIRTUALADDRESS layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION) == 64, "D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_UPDATEGPUVIRTUALADDRESS) == 56, "D3DKMT_UPDATEGPUVIRTUALADDRESS layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DDDI_MAKERESIDENT) == 48, "D3DDDI_MAKERESIDENT layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_EVICT) == 32, "D3DKMT_EVICT layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_QUERYALLOCATIONRESIDENCY) == 32, "D3DKMT_QUERYALLOCATIONRESIDENCY layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_SETALLOCATIONPRIORITY) == 32, "D3DKMT_SETALLOCATIONPRIORITY layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_GETALLOCATIONPRIORITY) == 32, "D3DKMT_GETALLOCATIONPRIORITY layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_OFFERALLOCATIONS) == 40, "D3DKMT_OFFERALLOCATIONS layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_RECLAIMALLOCATIONS2) == 40, "D3DKMT_RECLAIMALLOCATIONS2 layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DDDI_UPDATEALLOCPROPERTY) == 40, "D3DDDI_UPDATEALLOCPROPERTY layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_LOCK2) == 24, "D3DKMT_LOCK2 layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_UNLOCK2) == 8, "D3DKMT_UNLOCK2 layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_CHANGEVIDEOMEMORYRESERVATION) == 32, "D3DKMT_CHANGEVIDEOMEMORYRESERVATION layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_INVALIDATECACHE) == 24, "D3DKMT_INVALIDATECACHE layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_SHAREOBJECTWITHHOST) == 24, "D3DKMT_SHAREOBJECTWITHHOST layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_SETSTABLEPOWERSTATE) == 8, "D3DKMT_SETSTABLEPOWERSTATE layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_SUBMITCOMMAND) == 384, "D3DKMT_SUBMITCOMMAND layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(D3DKMT_SUBMITCOMMAND, pPrivateDriverData) == 288, "D3DKMT_SUBMITCOMMAND layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_RENDER) == 368, "D3DKMT_RENDER layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(D3DKMT_RENDER, NewCommandBuffer) == 344, "D3DKMT_RENDER layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_SUBMITCOMMANDTOHWQUEUE) == 56, "D3DKMT_SUBMITCOMMANDTOHWQUEUE layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_SUBMITSIGNALSYNCOBJECTSTOHWQUEUE) == 40, "D3DKMT_SUBMITSIGNALSYNCOBJECTSTOHWQUEUE layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_SUBMITWAITFORSYNCOBJECTSTOHWQUEUE) == 24, "D3DKMT_SUBMITWAITFORSYNCOBJECTSTOHWQUEUE layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_SIGNALSYNCHRONIZATIONOBJECT) == 140, "D3DKMT_SIGNALSYNCHRONIZATIONOBJECT layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2) == 464, "D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2 layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2, Fence) == 400, "D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2 layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_WAITFORSYNCHRONIZATIONOBJECT) == 136, "D3DKMT_WAITFORSYNCHRONIZATIONOBJECT layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_WAITFORSYNCHRONIZATIONOBJECT2) == 200, "D3DKMT_WAITFORSYNCHRONIZATIONOBJECT2 layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU) == 80, "D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU2) == 96, "D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU2 layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU2, MonitoredFenceValueArray) == 32, "D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU2 layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMGPU) == 80, "D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMGPU layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_ESCAPE) == 32, "D3DKMT_ESCAPE layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_QUERYSTATISTICS_RESULT) == 776, "D3DKMT_QUERYSTATISTICS_RESULT layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(D3DKMT_QUERYSTATISTICS_PROCESS_NODE_INFORMATION, PacketStatistics) == 76, "D3DKMT_QUERYSTATISTICS_PROCESS_NODE_INFORMATION layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_QUERYSTATISTICS) == 808, "D3DKMT_QUERYSTATISTICS layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(D3DKMT_QUERYSTATISTICS, QueryNode) == 800, "D3DKMT_QUERYSTATISTICS layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_QUERYCLOCKCALIBRATION) == 40, "D3DKMT_QUERYCLOCKCALIBRATION layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_MARKDEVICEASERROR) == 8, "D3DKMT_MARKDEVICEASERROR layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_FLUSHHEAPTRANSITIONS) == 4, "D3DKMT_FLUSHHEAPTRANSITIONS layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(D3DKMT_CREATESYNCFILE) == 24, "D3DKMT_CREATESYNCFILE layout");
#endif /* x86_64 */

#endif /* !D3DKMT_EMU_USE_SYSTEM_TYPES */

/* ======================================================================== */
/* Part 2: the exported D3DKMT* entry points                                */
/* ======================================================================== */

#ifndef D3DKMT_EMU_NO_THUNK_PROTOTYPES

/* -- Adapters -- */

/* Lists the calling process's adapters, opening a new adapter handle for
 * each row; the caller closes every one with D3DKMTCloseAdapter. With
 * pAdapters NULL, only sets NumAdapters to the number of rows to allow
 * (the enum_adapters_capacity policy, default 34) and opens nothing. With
 * fewer rows of room than adapters: STATUS_BUFFER_TOO_SMALL, nothing opened. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTEnumAdapters2(D3DKMT_ENUMADAPTERS2 *pData);
/* As D3DKMTEnumAdapters2; compute-only and display-only adapters are listed
 * only when the filter asks for them. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTEnumAdapters3(D3DKMT_ENUMADAPTERS3 *pData);
/* Opens a new handle to the adapter with that LUID (unknown LUID:
 * STATUS_INVALID_PARAMETER). */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTOpenAdapterFromLuid(D3DKMT_OPENADAPTERFROMLUID *pData);
/* Closes one adapter handle. Closing the process's last handle to an
 * adapter also destroys its devices there (adapter_close policy). */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTCloseAdapter(const D3DKMT_CLOSEADAPTER *pData);
/* Opens a new handle to the adapter of the display output with that GDI
 * name (case-insensitive by default). NULL, an empty or unknown name, or an
 * output not attached to the desktop: STATUS_UNSUCCESSFUL. The default
 * kernel's adapter has one attached output, \\.\DISPLAY1. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTOpenAdapterFromGdiDisplayName(D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME *pData);
/* Opens a new handle to the adapter a device-interface path of class
 * GUID_DISPLAY_DEVICE_ARRIVAL names; other paths: STATUS_INVALID_PARAMETER. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTOpenAdapterFromDeviceName(D3DKMT_OPENADAPTERFROMDEVICENAME *pData);
/* There are no device contexts: a NULL hDc is STATUS_INVALID_PARAMETER,
 * any other STATUS_NOT_IMPLEMENTED. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTOpenAdapterFromHdc(D3DKMT_OPENADAPTERFROMHDC *pData);
/* Answers the KMTQAITYPE_* values defined above from the adapter's
 * configuration; the buffer size must be the type's exact size. Other
 * known types: STATUS_NOT_IMPLEMENTED (unemulated_adapter_info policy). */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTQueryAdapterInfo(D3DKMT_QUERYADAPTERINFO *pData);
/* The calling process's video memory budget on an adapter (usage 0). */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTQueryVideoMemoryInfo(D3DKMT_QUERYVIDEOMEMORYINFO *pData);

/* -- VidPn source ownership and occlusion -- */

/* Takes or gives back VidPn sources for a device. SHARED is always
 * STATUS_GRAPHICS_VIDPN_SOURCE_IN_USE (the compositor holds it); a source
 * another device holds: the same. Destroying the device gives its sources
 * back. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSetVidPnSourceOwner(const D3DKMT_SETVIDPNSOURCEOWNER *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSetVidPnSourceOwner1(const D3DKMT_SETVIDPNSOURCEOWNER1 *pData);
/* STATUS_GRAPHICS_PRESENT_OCCLUDED while a device holds the source
 * EXCLUSIVE, STATUS_SUCCESS otherwise. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTCheckVidPnExclusiveOwnership(const D3DKMT_CHECKVIDPNEXCLUSIVEOWNERSHIP *pData);
/* STATUS_GRAPHICS_PRESENT_OCCLUDED while a device holds a source EXCLUSIVE
 * and only one monitor is attached; STATUS_SUCCESS otherwise. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTCheckOcclusion(const D3DKMT_CHECKOCCLUSION *pData);

/* -- Devices -- */

/* Creates a device on an adapter handle of the calling process. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTCreateDevice(D3DKMT_CREATEDEVICE *pData);
/* Destroys a device and closes the handles created on it in this process,
 * in this order: hardware queues, contexts, paging queues, then sync
 * objects, sessions, keyed mutexes, resources and allocations; then the
 * device, with its sync files not yet fired (they never fire). */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTDestroyDevice(const D3DKMT_DESTROYDEVICE *pData);
/* Reports a device's state. EXECUTION: ExecutionState is ACTIVE, or why
 * the device was lost (d3dkmt_emu_kmd_remove_device, _reset_device,
 * _remove_adapter); it succeeds on a lost device too. RESET: ResetState.Value
 * is 0; STATUS_DEVICE_REMOVED on a lost device. The present, DWM-present,
 * present-queue and page-fault states: STATUS_NOT_IMPLEMENTED. A NULL
 * struct, a bad hDevice or an unknown StateType: STATUS_INVALID_PARAMETER.
 * Nothing is written on failure. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTGetDeviceState(D3DKMT_GETDEVICESTATE *pData);

/* -- Synchronization objects -- */

/* Creates a sync object of any type but D3DDDI_PERIODIC_MONITORED_FENCE
 * (STATUS_NOT_IMPLEMENTED). NtSecuritySharing needs Shared. Shared alone
 * gives a global handle in Info.SharedHandle (not for monitored fences:
 * STATUS_INVALID_PARAMETER); otherwise SharedHandle comes back 0. A
 * CPU-notification object needs a non-NULL event (else STATUS_INVALID_HANDLE);
 * any other value is accepted and never signalled. For a monitored fence the
 * CPU virtual address returned points at the fence's 64-bit value and stays
 * valid while the fence object lives (in any process). Mutexes, semaphores,
 * fences and CPU notifications can be shared, opened and destroyed, but
 * nothing signals or waits on them. Unknown types: STATUS_INVALID_PARAMETER. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTCreateSynchronizationObject2(D3DKMT_CREATESYNCHRONIZATIONOBJECT2 *pData);
/* The v1 create: a mutex or a semaphore, never shared. Any other type:
 * STATUS_INVALID_PARAMETER. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTCreateSynchronizationObject(D3DKMT_CREATESYNCHRONIZATIONOBJECT *pData);
/* Opens a new handle, on no device, to the sync object a global handle
 * names. The global names the object while any handle or NT object holds
 * it, in any process; afterwards (or for 0, junk or a local handle):
 * STATUS_INVALID_PARAMETER. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTOpenSynchronizationObject(D3DKMT_OPENSYNCHRONIZATIONOBJECT *pData);
/* As D3DKMTOpenSyncObjectFromNtHandle2 with no device and no flags. A NULL or
 * unknown NT handle: STATUS_INVALID_HANDLE. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTOpenSyncObjectFromNtHandle(D3DKMT_OPENSYNCOBJECTFROMNTHANDLE *pData);
/* Opens a new NT handle to the DxgkSharedSyncObject of that name (matched
 * case-insensitively; a name lives while an NT handle to its object does).
 * NULL pObjAttrib: STATUS_INVALID_PARAMETER; no such name:
 * STATUS_OBJECT_NAME_NOT_FOUND; access 0: STATUS_ACCESS_DENIED; a name of
 * another object type: the wrong_nt_object_type policy's status. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTOpenSyncObjectNtHandleFromName(D3DKMT_OPENSYNCOBJECTNTHANDLEFROMNAME *pData);
/* Closes a sync-object handle; the object lives on while other handles,
 * NT handles or protected sessions hold it. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTDestroySynchronizationObject(const D3DKMT_DESTROYSYNCHRONIZATIONOBJECT *pData);
/* Sets each fence to its value (a lower value is ignored by default) and
 * wakes waiters. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSignalSynchronizationObjectFromCpu(const D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU *pData);
/* Blocks until every listed fence (or, with WaitAny, one) has reached its
 * value. hAsyncEvent must be NULL (otherwise STATUS_NOT_IMPLEMENTED). Both
 * CPU calls take monitored fences only: any other sync object in the list is
 * STATUS_INVALID_PARAMETER, and nothing is signalled or waited. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTWaitForSynchronizationObjectFromCpu(const D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU *pData);
/* Opens a new handle, on hDevice, to the sync object an NT handle names.
 * The NT handle needs READ_CONTROL; the new handle may wait only if it has
 * D3DDDI_SYNC_OBJECT_WAIT and signal only if it has ..._SIGNAL. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTOpenSyncObjectFromNtHandle2(D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2 *pData);

/* -- Protected sessions -- */

/* Creates a protected session on a device, with a monitored fence of the same
 * adapter as its status fence. The KMD's create callback sees (and may
 * rewrite) the driver blob. An adapter without protected-session support:
 * STATUS_NOT_SUPPORTED; a KMD failure status is returned unchanged. A NULL,
 * zeroed or garbage struct: STATUS_INVALID_PARAMETER (the blob pointers are
 * read only once both handles have been found good). */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTCreateProtectedSession(D3DKMT_CREATEPROTECTEDSESSION *pData);
/* Closes a session handle (created or opened). The KMD's destroy callback
 * runs when the last handle or NT handle to the session goes. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTDestroyProtectedSession(D3DKMT_DESTROYPROTECTEDSESSION *pData);
/* Reports the status the KMD last set (sessions start OK). */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTQueryProtectedSessionStatus(D3DKMT_QUERYPROTECTEDSESSIONSTATUS *pData);
/* Copies out the stored blobs of the session an NT handle names. Per blob:
 * a NULL buffer gets only its size; a buffer with enough room gets the bytes
 * and the size; a buffer with too little room fails the whole call with the
 * short_blob_buffer policy's status (default STATUS_BUFFER_TOO_SMALL) and
 * writes nothing. The NT handle is checked first (NULL or garbage:
 * STATUS_INVALID_HANDLE); it needs READ_CONTROL (else STATUS_ACCESS_DENIED). */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTQueryProtectedSessionInfoFromNtHandle(D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE *pData);
/* Opens a new session handle in the calling process, bound to no device.
 * Errors as for the info query. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTOpenProtectedSessionFromNtHandle(D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE *pData);

/* -- Keyed mutexes -- */

/* Creates a keyed mutex (no device), released with key InitialValue, with
 * a global handle other processes open with D3DKMTOpenKeyedMutex(2). */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTCreateKeyedMutex(D3DKMT_CREATEKEYEDMUTEX *pData);
/* As D3DKMTCreateKeyedMutex, with runtime data; NtSecuritySharing gives no
 * global handle (the mutex is then shared with its resource by NT handle). */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTCreateKeyedMutex2(D3DKMT_CREATEKEYEDMUTEX2 *pData);
/* Opens a new handle from a global handle (not a local one, not a dead
 * mutex's: STATUS_INVALID_PARAMETER). */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTOpenKeyedMutex(D3DKMT_OPENKEYEDMUTEX *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTOpenKeyedMutex2(D3DKMT_OPENKEYEDMUTEX2 *pData);
/* Opens the keyed mutex of a (resource, keyed mutex, sync) share. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTOpenKeyedMutexFromNtHandle(D3DKMT_OPENKEYEDMUTEXFROMNTHANDLE *pData);
/* Closes a keyed-mutex handle; if it owns the mutex, the mutex is abandoned. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTDestroyKeyedMutex(const D3DKMT_DESTROYKEYEDMUTEX *pData);
/* Waits until the mutex is free with Key, then owns it through this handle.
 * STATUS_TIMEOUT when the timeout passes (kernel clock: virtual by default
 * for d3dkmt_emu kernels, real for the default kernel); STATUS_ABANDONED if
 * its owner went away holding it. Both are success-class statuses with no
 * outputs written. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTAcquireKeyedMutex(D3DKMT_ACQUIREKEYEDMUTEX *pData);
/* As D3DKMTAcquireKeyedMutex, and copies the releaser's runtime data
 * (too little room: STATUS_BUFFER_TOO_SMALL, not acquired). */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTAcquireKeyedMutex2(D3DKMT_ACQUIREKEYEDMUTEX2 *pData);
/* Releases the mutex this handle owns (otherwise STATUS_INVALID_PARAMETER)
 * with the key and fence value the next acquire gets. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTReleaseKeyedMutex(D3DKMT_RELEASEKEYEDMUTEX *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTReleaseKeyedMutex2(D3DKMT_RELEASEKEYEDMUTEX2 *pData);

/* -- Allocations and resources -- */

/* One standard allocation (StandardAllocation | ExistingSysMem, type
 * EXISTINGHEAP), alone or with CreateResource in a new resource; a
 * resource with CreateShared gets a global handle unless NtSecuritySharing. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTCreateAllocation(D3DKMT_CREATEALLOCATION *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTCreateAllocation2(D3DKMT_CREATEALLOCATION *pData);
/* Destroys hResource's handle with its allocation handles, and the listed
 * allocation handles; all or nothing. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTDestroyAllocation(const D3DKMT_DESTROYALLOCATION *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTDestroyAllocation2(const D3DKMT_DESTROYALLOCATION2 *pData);
/* Sizes of the resource a global handle names. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTQueryResourceInfo(D3DKMT_QUERYRESOURCEINFO *pData);
/* New handles, on hDevice, to the resource a global handle names and its
 * allocations; copies the runtime data and the allocations' driver data. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTOpenResource(D3DKMT_OPENRESOURCE *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTOpenResource2(D3DKMT_OPENRESOURCE *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTQueryResourceInfoFromNtHandle(D3DKMT_QUERYRESOURCEINFOFROMNTHANDLE *pData);
/* As D3DKMTOpenResource2 through an NT handle; a combined share also gives
 * new keyed-mutex and sync-object handles. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTOpenResourceFromNtHandle(D3DKMT_OPENRESOURCEFROMNTHANDLE *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTGetSharedResourceAdapterLuid(D3DKMT_GETSHAREDRESOURCEADAPTERLUID *pData);
/* A new NT handle to a named DxgkSharedResource. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTOpenNtHandleFromName(D3DKMT_OPENNTHANDLEFROMNAME *pData);

/* -- GPU work (contexts, queues, submission, GPU-queued sync) --
 * Work runs on a fake GPU: each context and hardware queue is an in-order
 * queue; work runs at submit unless a GPU wait queued before it is not yet
 * met, and then when the fence it waits on moves (a CPU or GPU signal).
 * Fences advance as if the work ran. A lost device: STATUS_DEVICE_REMOVED
 * for creates and submissions; destroys always work. */

/* A legacy context: NodeOrdinal below the adapter's node count, EngineAffinity
 * 0 or 1, the private data to the KMD (and back, as it left it). Returns a
 * 64 KiB command buffer and 1024-entry lists in the library's memory. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTCreateContext(D3DKMT_CREATECONTEXT *pData);
/* A context for GPU virtual addressing; checks as D3DKMTCreateContext. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTCreateContextVirtual(D3DKMT_CREATECONTEXTVIRTUAL *pData);
/* Destroys a context and the hardware queues on it; queued work is dropped. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTDestroyContext(const D3DKMT_DESTROYCONTEXT *pData);
/* STATUS_NOT_IMPLEMENTED whatever the argument, as Windows 11 (the
 * hw_contexts policy); with HwContexts::Emulated, a context on a node. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTCreateHwContext(D3DKMT_CREATEHWCONTEXT *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTDestroyHwContext(const D3DKMT_DESTROYHWCONTEXT *pData);
/* A hardware queue on a virtual (or hardware) context, with a progress fence. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTCreateHwQueue(D3DKMT_CREATEHWQUEUE *pData);
/* Destroys the queue and its progress fence's handle. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTDestroyHwQueue(const D3DKMT_DESTROYHWQUEUE *pData);
/* A paging queue with its paging fence (Priority -1, 0 or 1). */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTCreatePagingQueue(D3DKMT_CREATEPAGINGQUEUE *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTDestroyPagingQueue(D3DDDI_DESTROYPAGINGQUEUE *pData);
/* Priorities are kept and reported; they change no order on the fake GPU. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSetContextSchedulingPriority(const D3DKMT_SETCONTEXTSCHEDULINGPRIORITY *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTGetContextSchedulingPriority(D3DKMT_GETCONTEXTSCHEDULINGPRIORITY *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSetContextInProcessSchedulingPriority(const D3DKMT_SETCONTEXTINPROCESSSCHEDULINGPRIORITY *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTGetContextInProcessSchedulingPriority(D3DKMT_GETCONTEXTINPROCESSSCHEDULINGPRIORITY *pData);
/* Submits a command buffer (GPU address, length, private data: the KMD sees
 * them first and may refuse) to each broadcast context. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSubmitCommand(const D3DKMT_SUBMITCOMMAND *pData);
/* Submits a batch of a legacy context's command buffer (the KMD sees the bytes). */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTRender(D3DKMT_RENDER *pData);
/* Submits to a hardware queue; its progress fence reaches
 * HwQueueProgressFenceId when the work runs. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSubmitCommandToHwQueue(const D3DKMT_SUBMITCOMMANDTOHWQUEUE *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSubmitSignalSyncObjectsToHwQueue(const D3DKMT_SUBMITSIGNALSYNCOBJECTSTOHWQUEUE *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSubmitWaitForSyncObjectsToHwQueue(const D3DKMT_SUBMITWAITFORSYNCOBJECTSTOHWQUEUE *pData);
/* v1 (no value): mutexes and semaphores, not emulated (STATUS_NOT_IMPLEMENTED). */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSignalSynchronizationObject(const D3DKMT_SIGNALSYNCHRONIZATIONOBJECT *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTWaitForSynchronizationObject(const D3DKMT_WAITFORSYNCHRONIZATIONOBJECT *pData);
/* v2: fences and monitored fences, one value for all. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSignalSynchronizationObject2(const D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2 *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTWaitForSynchronizationObject2(const D3DKMT_WAITFORSYNCHRONIZATIONOBJECT2 *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSignalSynchronizationObjectFromGpu(const D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSignalSynchronizationObjectFromGpu2(const D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU2 *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTWaitForSynchronizationObjectFromGpu(const D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMGPU *pData);
/* D3DKMT_ESCAPE_DRIVERPRIVATE to the KMD, data in and out (1 byte to 64 KiB). */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTEscape(const D3DKMT_ESCAPE *pData);
/* ADAPTER, PROCESS_ADAPTER, NODE, PROCESS_NODE; other types STATUS_NOT_IMPLEMENTED. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTQueryStatistics(const D3DKMT_QUERYSTATISTICS *pData);
/* GPU and CPU counters read at one instant of the kernel clock. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTQueryClockCalibration(D3DKMT_QUERYCLOCKCALIBRATION *pData);
/* Loses the device (reported as HUNG by default, the mark_device_as_error policy). */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTMarkDeviceAsError(const D3DKMT_MARKDEVICEASERROR *pData);
/* Checks the adapter handle; there are no heaps. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTFlushHeapTransitions(const D3DKMT_FLUSHHEAPTRANSITIONS *pData);
/* A file descriptor (an eventfd) that becomes readable when the monitored
 * fence reaches FenceValue; the caller closes it. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTCreateSyncFile(D3DKMT_CREATESYNCFILE *pData);

/* -- GPU memory (see src/gpu_va.rs and src/residency.rs) --
 * One GPU VA space per process and adapter. Maps, MakeResident, reclaims and
 * property updates are paging operations: the paging queue's fence advances
 * by one and PagingFenceValue is that value, already reached. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTReserveGpuVirtualAddress(D3DDDI_RESERVEGPUVIRTUALADDRESS *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTMapGpuVirtualAddress(D3DDDI_MAPGPUVIRTUALADDRESS *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTFreeGpuVirtualAddress(const D3DKMT_FREEGPUVIRTUALADDRESS *pData);
/* All operations or none; then hFenceObject is signalled on hContext's queue. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTUpdateGpuVirtualAddress(const D3DKMT_UPDATEGPUVIRTUALADDRESS *pData);
/* Residency is counted per allocation; Evict below 0 is STATUS_INVALID_PARAMETER. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTMakeResident(D3DDDI_MAKERESIDENT *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTEvict(D3DKMT_EVICT *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTQueryAllocationResidency(const D3DKMT_QUERYALLOCATIONRESIDENCY *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSetAllocationPriority(const D3DKMT_SETALLOCATIONPRIORITY *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTGetAllocationPriority(const D3DKMT_GETALLOCATIONPRIORITY *pData);
/* Offered content is discarded only on d3dkmt_emu's memory-pressure hook. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTOfferAllocations(const D3DKMT_OFFERALLOCATIONS *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTReclaimAllocations2(D3DKMT_RECLAIMALLOCATIONS2 *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTUpdateAllocationProperty(D3DDDI_UPDATEALLOCPROPERTY *pData);
/* Lock counts; Unlock2 of an unlocked allocation is STATUS_INVALID_PARAMETER. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTLock2(D3DKMT_LOCK2 *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTUnlock2(const D3DKMT_UNLOCK2 *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTChangeVideoMemoryReservation(const D3DKMT_CHANGEVIDEOMEMORYRESERVATION *pData);
/* Checks the device (lost: STATUS_DEVICE_REMOVED), the allocation and the
 * range; memory is coherent, so nothing else happens. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTInvalidateCache(const D3DKMT_INVALIDATECACHE *pData);

/* -- libdxg's extras (see src/host.rs, src/power.rs, src/dxcore.rs) -- */

/* A new value in the kernel's host table per call, never a guest NT handle;
 * the entry lives per the host_share policy (default: while the caller
 * keeps hDevice and hObject). Bad handles: STATUS_INVALID_PARAMETER. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTShareObjectWithHost(D3DKMT_SHAREOBJECTWITHHOST *pData);
/* Validates hAdapter and records the request; libdxg itself does nothing. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSetStablePowerState(const D3DKMT_SETSTABLEPOWERSTATE *pData);
/* As libdxg (the dxcore_close policy): closes the calling process; every
 * later D3DKMT* call answers STATUS_UNSUCCESSFUL. */
void D3DKMT_EMU_APIENTRY D3DKMTCloseDxCoreDevice(void);

/* -- Sharing -- */

/* Wraps a sync object created with NtSecuritySharing, a protected session,
 * a resource created with NtSecuritySharing, or (resource, keyed mutex, sync
 * object) all created so, in that order, in an NT object and returns a new NT handle to it in
 * the calling process, with dwDesiredAccess (generic rights are mapped). The
 * NT object keeps the wrapped object alive until every NT handle to it is
 * closed (d3dkmt_emu_nt_close). pObjectAttributes may be NULL; a name in it
 * already in use: STATUS_OBJECT_NAME_COLLISION. Any other combination:
 * STATUS_INVALID_PARAMETER. */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTShareObjects(UINT cObjects, const D3DKMT_HANDLE *hObjects,
                                                OBJECT_ATTRIBUTES *pObjectAttributes, UINT dwDesiredAccess,
                                                HANDLE *phSharedNtHandle);

/* -- Exported but not emulated --
 * Every other D3DKMT* function gdi32 exports is exported too, so code that
 * links against them links against this library. Each answers
 * STATUS_NOT_IMPLEMENTED without looking at its arguments
 * (D3DKMTCheckExclusiveOwnership answers FALSE), and d3dkmt_emu_last_error
 * says so. The list below mirrors src/abi/stubs.rs; regenerate it with it. */

/* BEGIN GENERATED STUB PROTOTYPES (from src/abi/stubs.rs) */
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTAdjustFullscreenGamma(const D3DKMT_ADJUSTFULLSCREENGAMMA *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTCancelPresents(const D3DKMT_CANCEL_PRESENTS *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTChangeSurfacePointer(const D3DKMT_CHANGESURFACEPOINTER *pData);
BOOLEAN D3DKMT_EMU_APIENTRY D3DKMTCheckExclusiveOwnership(void);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTCheckMonitorPowerState(const D3DKMT_CHECKMONITORPOWERSTATE *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTCheckMultiPlaneOverlaySupport(D3DKMT_CHECKMULTIPLANEOVERLAYSUPPORT *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTCheckMultiPlaneOverlaySupport2(D3DKMT_CHECKMULTIPLANEOVERLAYSUPPORT2 *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTCheckMultiPlaneOverlaySupport3(D3DKMT_CHECKMULTIPLANEOVERLAYSUPPORT3 *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTCheckSharedResourceAccess(const D3DKMT_CHECKSHAREDRESOURCEACCESS *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTConfigureSharedResource(const D3DKMT_CONFIGURESHAREDRESOURCE *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTCreateDCFromMemory(D3DKMT_CREATEDCFROMMEMORY *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTCreateOutputDupl(const D3DKMT_CREATE_OUTPUTDUPL *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTCreateOverlay(D3DKMT_CREATEOVERLAY *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTDestroyDCFromMemory(const D3DKMT_DESTROYDCFROMMEMORY *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTDestroyOutputDupl(const D3DKMT_DESTROY_OUTPUTDUPL *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTDestroyOverlay(const D3DKMT_DESTROYOVERLAY *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTEnumAdapters(D3DKMT_ENUMADAPTERS *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTFlipOverlay(const D3DKMT_FLIPOVERLAY *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTGetDWMVerticalBlankEvent(const D3DKMT_GETVERTICALBLANKEVENT *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTGetDisplayModeList(D3DKMT_GETDISPLAYMODELIST *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTGetMultiPlaneOverlayCaps(D3DKMT_GET_MULTIPLANE_OVERLAY_CAPS *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTGetMultisampleMethodList(D3DKMT_GETMULTISAMPLEMETHODLIST *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTGetOverlayState(D3DKMT_GETOVERLAYSTATE *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTGetPostCompositionCaps(D3DKMT_GET_POST_COMPOSITION_CAPS *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTGetPresentHistory(D3DKMT_GETPRESENTHISTORY *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTGetPresentQueueEvent(D3DKMT_HANDLE hAdapter, HANDLE *phQueueEvent);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTGetProcessDeviceRemovalSupport(D3DKMT_GETPROCESSDEVICEREMOVALSUPPORT *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTGetProcessSchedulingPriorityClass(HANDLE hProcess, D3DKMT_SCHEDULINGPRIORITYCLASS *pPriority);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTGetResourcePresentPrivateDriverData(D3DDDI_GETRESOURCEPRESENTPRIVATEDRIVERDATA *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTGetRuntimeData(D3DKMT_GETRUNTIMEDATA *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTGetScanLine(D3DKMT_GETSCANLINE *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTGetSharedPrimaryHandle(D3DKMT_GETSHAREDPRIMARYHANDLE *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTInvalidateActiveVidPn(const D3DKMT_INVALIDATEACTIVEVIDPN *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTLock(D3DKMT_LOCK *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTOutputDuplGetFrameInfo(D3DKMT_OUTPUTDUPL_GET_FRAMEINFO *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTOutputDuplGetMetaData(D3DKMT_OUTPUTDUPL_METADATA *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTOutputDuplGetPointerShapeData(D3DKMT_OUTPUTDUPL_GET_POINTER_SHAPE_DATA *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTOutputDuplPresent(const D3DKMT_OUTPUTDUPLPRESENT *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTOutputDuplPresentToHwQueue(const D3DKMT_OUTPUTDUPLPRESENTTOHWQUEUE *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTOutputDuplReleaseFrame(const D3DKMT_OUTPUTDUPL_RELEASE_FRAME *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTPollDisplayChildren(const D3DKMT_POLLDISPLAYCHILDREN *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTPresent(D3DKMT_PRESENT *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTPresentMultiPlaneOverlay(const D3DKMT_PRESENT_MULTIPLANE_OVERLAY *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTPresentMultiPlaneOverlay2(const D3DKMT_PRESENT_MULTIPLANE_OVERLAY2 *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTPresentMultiPlaneOverlay3(const D3DKMT_PRESENT_MULTIPLANE_OVERLAY3 *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTPresentRedirected(const D3DKMT_PRESENT_REDIRECTED *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTQueryFSEBlock(D3DKMT_QUERYFSEBLOCK *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTQueryProcessOfferInfo(D3DKMT_QUERYPROCESSOFFERINFO *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTQueryRemoteVidPnSourceFromGdiDisplayName(D3DKMT_QUERYREMOTEVIDPNSOURCEFROMGDIDISPLAYNAME *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTQueryVidPnExclusiveOwnership(D3DKMT_QUERYVIDPNEXCLUSIVEOWNERSHIP *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTReclaimAllocations(D3DKMT_RECLAIMALLOCATIONS *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTRegisterTrimNotification(D3DKMT_REGISTERTRIMNOTIFICATION *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTRegisterVailProcess(const GUID *pVmGuid);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTReleaseProcessVidPnSourceOwners(HANDLE hProcess);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSetDisplayMode(D3DKMT_SETDISPLAYMODE *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSetDisplayPrivateDriverFormat(const D3DKMT_SETDISPLAYPRIVATEDRIVERFORMAT *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSetFSEBlock(const D3DKMT_SETFSEBLOCK *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSetGammaRamp(const D3DKMT_SETGAMMARAMP *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSetHwProtectionTeardownRecovery(const D3DKMT_SETHWPROTECTIONTEARDOWNRECOVERY *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSetMonitorColorSpaceTransform(const D3DKMT_SET_COLORSPACE_TRANSFORM *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSetProcessSchedulingPriorityClass(HANDLE hProcess, D3DKMT_SCHEDULINGPRIORITYCLASS Priority);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSetQueuedLimit(const D3DKMT_SETQUEUEDLIMIT *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSetSyncRefreshCountWaitTarget(const D3DKMT_SETSYNCREFRESHCOUNTWAITTARGET *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSetVidPnSourceHwProtection(const D3DKMT_SETVIDPNSOURCEHWPROTECTION *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSetVidPnSourceOwner2(const D3DKMT_SETVIDPNSOURCEOWNER2 *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSharedPrimaryLockNotification(const D3DKMT_SHAREDPRIMARYLOCKNOTIFICATION *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSharedPrimaryUnLockNotification(const D3DKMT_SHAREDPRIMARYUNLOCKNOTIFICATION *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSubmitPresentBltToHwQueue(const D3DKMT_SUBMITPRESENTBLTTOHWQUEUE *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTSubmitPresentToHwQueue(D3DKMT_SUBMITPRESENTTOHWQUEUE *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTTrimProcessCommitment(D3DKMT_TRIMPROCESSCOMMITMENT *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTUnlock(const D3DKMT_UNLOCK *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTUnregisterTrimNotification(D3DKMT_UNREGISTERTRIMNOTIFICATION *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTUpdateOverlay(const D3DKMT_UPDATEOVERLAY *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTWaitForIdle(const D3DKMT_WAITFORIDLE *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTWaitForVerticalBlankEvent(const D3DKMT_WAITFORVERTICALBLANKEVENT *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTWaitForVerticalBlankEvent2(const D3DKMT_WAITFORVERTICALBLANKEVENT2 *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTCreateTrackedWorkload(void *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTDestroyTrackedWorkload(void *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTGetAvailableTrackedWorkloadIndex(void *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTGetTrackedWorkloadStatistics(void *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTPinResources(void *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTResetTrackedWorkloadStatistics(void *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTShareObjectsInternal(void *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTUnpinResources(void *pData);
NTSTATUS D3DKMT_EMU_APIENTRY D3DKMTUpdateTrackedWorkload(void *pData);
/* END GENERATED STUB PROTOTYPES */

#endif /* !D3DKMT_EMU_NO_THUNK_PROTOTYPES */

/* ======================================================================== */
/* Part 3: the d3dkmt_emu_* control API                                     */
/* ======================================================================== */
/*
 * Ownership: every d3dkmt_emu_kernel *, d3dkmt_emu_process * and
 * d3dkmt_emu_binding * a function returns is a NEW reference owned by the
 * caller, who gives it back exactly once with the matching
 * d3dkmt_emu_kernel_release, d3dkmt_emu_process_release or
 * d3dkmt_emu_thread_unbind. Functions that take one of these pointers only
 * borrow it for the call. Releasing a reference never destroys anything
 * another reference still uses.
 *
 * Threads: every function may be called from any thread, concurrently. The
 * exceptions are the binding rules at d3dkmt_emu_thread_bind.
 *
 * The control functions do not change what d3dkmt_emu_last_error reports.
 */

/* A kernel: adapters, policies, processes, the KMD. Kernels are isolated from
 * each other; a test may create as many as it likes. */
typedef struct d3dkmt_emu_kernel d3dkmt_emu_kernel;
/* A virtual process of one kernel, with its own D3DKMT and NT handle tables. */
typedef struct d3dkmt_emu_process d3dkmt_emu_process;
/* One binding of one thread to one process (see d3dkmt_emu_thread_bind). */
typedef struct d3dkmt_emu_binding d3dkmt_emu_binding;

/* Values of d3dkmt_emu_adapter_config.kind. */
#define D3DKMT_EMU_ADAPTER_FULL 0u         /* render + display: always listed */
#define D3DKMT_EMU_ADAPTER_COMPUTE_ONLY 1u /* listed by EnumAdapters3 with IncludeComputeOnly */
#define D3DKMT_EMU_ADAPTER_DISPLAY_ONLY 2u /* listed by EnumAdapters3 with IncludeDisplayOnly */

/* Values of d3dkmt_emu_kernel_live_objects' kind. */
#define D3DKMT_EMU_OBJECT_DEVICE 0u
#define D3DKMT_EMU_OBJECT_SYNC_OBJECT 1u
#define D3DKMT_EMU_OBJECT_PROTECTED_SESSION 2u
#define D3DKMT_EMU_OBJECT_NT_OBJECT 3u
#define D3DKMT_EMU_OBJECT_KEYED_MUTEX 4u
#define D3DKMT_EMU_OBJECT_RESOURCE 5u
#define D3DKMT_EMU_OBJECT_ALLOCATION 6u
#define D3DKMT_EMU_OBJECT_CONTEXT 7u
#define D3DKMT_EMU_OBJECT_HW_QUEUE 8u
#define D3DKMT_EMU_OBJECT_PAGING_QUEUE 9u
#define D3DKMT_EMU_OBJECT_ALL UINT32_MAX

/* Values for d3dkmt_emu_kmd_set_protected_session_status' status (the same
 * numbers as D3DKMT_PROTECTED_SESSION_STATUS). */
#define D3DKMT_EMU_SESSION_STATUS_OK 0
#define D3DKMT_EMU_SESSION_STATUS_INVALID 1

/* The access "all" maps to for a shared protected session: it has no
 * rights of its own beyond the standard ones. */
#define D3DKMT_EMU_SESSION_ALL_ACCESS (0x000F0000u | 0x00100000u)

/* One adapter of a kernel configuration. */
typedef struct d3dkmt_emu_adapter_config {
    LUID luid;                   /* nonzero, unique within the kernel */
    uint32_t protected_sessions; /* nonzero: supports protected sessions */
    uint32_t kind;               /* D3DKMT_EMU_ADAPTER_* */
    uint32_t num_sources;        /* reported as NumOfSources */
} d3dkmt_emu_adapter_config;

/* A kernel configuration. Always start from d3dkmt_emu_kernel_config_init,
 * then change what you need. For the flag fields, nonzero means "yes". */
typedef struct d3dkmt_emu_kernel_config {
    /* sizeof(d3dkmt_emu_kernel_config); set by _init, checked by _create. */
    uint32_t struct_size;
    /* Number of entries at `adapters` (may be 0). */
    uint32_t adapter_count;
    /* The adapters, in enumeration order. Copied by d3dkmt_emu_kernel_create;
     * the caller keeps ownership. */
    const d3dkmt_emu_adapter_config *adapters;
    /* Status for an NT handle naming an object of the wrong type.
     * Default STATUS_OBJECT_TYPE_MISMATCH. */
    NTSTATUS wrong_nt_object_type;
    /* Status for a session-info buffer with too little room.
     * Default STATUS_BUFFER_TOO_SMALL. */
    NTSTATUS short_blob_buffer;
    /* A session's status change OK -> INVALID adds 1 to its status fence.
     * Default 1. */
    uint32_t bump_on_invalidate;
    /* A session's status change INVALID -> OK adds 1 to its status fence.
     * Default 1. */
    uint32_t bump_on_revalidate;
    /* Destroying a device leaves the session handles created on it open
     * (default 0: they are closed with the device). */
    uint32_t device_destroy_keeps_sessions;
    /* A freed handle value is never handed out again (default 0: reused only
     * after the allocator has cycled through the table). */
    uint32_t never_reuse_handles;
    /* All processes number their handles from the same start, as Windows
     * does (default 0: each process has its own range, so a handle used in
     * the wrong process fails). */
    uint32_t shared_handle_numbering;
    /* Closing a process's last handle to an adapter leaves its devices there
     * alive (default 0: they are destroyed). */
    uint32_t adapter_close_keeps_devices;
    /* NumAdapters that EnumAdapters2/3 report for a NULL array. Default 34. */
    uint32_t enum_adapters_capacity;
    /* A CPU signal to a lower value lowers the fence (default 0: ignored). */
    uint32_t fence_regression_stores;
    /* A duplicate made without DUPLICATE_SAME_ACCESS may not ask for more
     * access than its source has: STATUS_ACCESS_DENIED (default 0: it gets
     * what it asks for). */
    uint32_t duplicate_access_subset;
    /* Most live D3DKMT handles per process (STATUS_NO_MEMORY beyond).
     * Default 2^24 - 1; 0 is refused. */
    uint32_t max_local_handles;
    /* Most live NT handles per process (STATUS_NO_MEMORY beyond).
     * Default 2^24; 0 is refused. */
    uint32_t max_nt_handles;
    /* Nonzero: the kernel clock is real (monotonic time since the kernel was
     * created; timeouts take wall time). 0 (the default): it is virtual: it
     * starts at 0 and moves only with d3dkmt_emu_kernel_advance_ns, or when
     * every thread bound to one of the kernel's processes is blocked in a
     * kernel wait, to the earliest deadline, so timeouts take no wall time.
     * (The default kernel, used without the control API, has a real clock.) */
    uint32_t real_clock;
} d3dkmt_emu_kernel_config;

/* The fake kernel-mode driver, as a table of C callbacks. Either callback may
 * be NULL. */
typedef struct d3dkmt_emu_kmd_callbacks {
    /* Passed back as the first argument of every callback. Callbacks may run
     * on any thread (whichever thread's call triggers them), so whatever it
     * points at must be safe to use from any thread. It must stay valid
     * until every session created while this table was installed has been
     * destroyed, even after the table is replaced. */
    void *context;

    /* Called by D3DKMTCreateProtectedSession, on the calling thread, with no
     * kernel lock held (the callback may call back into the library).
     *   adapter           the LUID of the device's adapter
     *   session_key       the kernel's key for the new session, nonzero and
     *                     unique within the kernel; pass it later to
     *                     d3dkmt_emu_kmd_set_protected_session_status. The
     *                     key becomes usable only once this callback has
     *                     returned success.
     *   driver_data       the kernel's own copy of the driver blob, which the
     *                     callback may rewrite in place: what it leaves there
     *                     is what D3DKMTQueryProtectedSessionInfoFromNtHandle
     *                     hands out later. Valid only during the call; NULL
     *                     when driver_data_size is 0.
     *   kmd_session       in: session_key; out: the driver's own handle for
     *                     the session, given back to destroy.
     * Return a success status to accept the session. A failure status is
     * returned unchanged by D3DKMTCreateProtectedSession; no session exists
     * then and destroy is not called for it.
     * NULL: every session is accepted with kmd_session = session_key. */
    NTSTATUS (*create_protected_session)(void *context, LUID adapter, uint64_t session_key,
                                         void *driver_data, uint32_t driver_data_size,
                                         uint64_t *kmd_session);

    /* Called exactly once for each session create accepted, when the last
     * reference to the session goes: every process's session handles and
     * every NT handle to it. It runs on the thread whose call released that
     * reference (a D3DKMT* call, d3dkmt_emu_nt_close, d3dkmt_emu_process_exit,
     * or a release of a process's last reference), with no kernel lock held.
     * The session key is already dead: setting a status with it fails. */
    void (*destroy_protected_session)(void *context, LUID adapter, uint64_t kmd_session);
} d3dkmt_emu_kmd_callbacks;

/* One submission, as the GPU-work KMD's submit callback sees it. The
 * pointers are valid during the callback only. */
typedef struct d3dkmt_emu_submission {
    LUID adapter;
    uint64_t context_key;             /* the kernel's handle for the context */
    uint64_t hw_queue_key;            /* the hardware queue's; 0 for a context */
    uint32_t node_ordinal;
    uint32_t command_length;
    uint64_t command_buffer;          /* GPU address (Render: offset in the context's buffer) */
    const void *command_bytes;        /* Render's bytes; NULL otherwise (no memory behind GPU addresses) */
    const void *private_data;         /* NULL when empty */
    uint32_t private_data_size;
    uint32_t has_progress_fence_value; /* nonzero for a hardware-queue submission */
    uint64_t progress_fence_value;
} d3dkmt_emu_submission;

/* The GPU-work half of the fake KMD (d3dkmt_emu_kernel_set_kmd2). Every
 * callback may be NULL (accept, do nothing); they run on the calling thread
 * with no kernel lock held. A failure status refuses the create, the
 * submission (nothing is queued) or the escape (the caller's buffer is left
 * as it was). */
typedef struct d3dkmt_emu_kmd_gpu_callbacks {
    uint32_t struct_size;             /* sizeof(d3dkmt_emu_kmd_gpu_callbacks) */
    void *context;                    /* passed back; must be usable from any thread */
    /* kind: 0 D3DKMTCreateContext, 1 ...Virtual, 2 ...HwContext. The driver
     * data may be rewritten in place. */
    NTSTATUS (*create_context)(void *context, LUID adapter, uint64_t context_key, uint32_t kind,
                               uint32_t node_ordinal, void *driver_data, uint32_t driver_data_size);
    /* When the context's last reference goes (its handle and its hw queues). */
    void (*destroy_context)(void *context, LUID adapter, uint64_t context_key);
    NTSTATUS (*submit)(void *context, const d3dkmt_emu_submission *submission);
    /* D3DKMT_ESCAPE_DRIVERPRIVATE; device and context_key 0 when not given. */
    NTSTATUS (*escape)(void *context, LUID adapter, uint32_t device, uint64_t context_key, void *data,
                       uint32_t size);
} d3dkmt_emu_kmd_gpu_callbacks;


#if defined(__x86_64__) || defined(_M_X64)
D3DKMT_EMU_STATIC_ASSERT(sizeof(d3dkmt_emu_adapter_config) == 20, "d3dkmt_emu_adapter_config layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(d3dkmt_emu_kernel_config) == 72, "d3dkmt_emu_kernel_config layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(d3dkmt_emu_kernel_config, real_clock) == 68, "d3dkmt_emu_kernel_config layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(d3dkmt_emu_kernel_config, wrong_nt_object_type) == 16, "d3dkmt_emu_kernel_config layout");
D3DKMT_EMU_STATIC_ASSERT(offsetof(d3dkmt_emu_kernel_config, max_nt_handles) == 64, "d3dkmt_emu_kernel_config layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(d3dkmt_emu_kmd_callbacks) == 24, "d3dkmt_emu_kmd_callbacks layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(d3dkmt_emu_submission) == 72, "d3dkmt_emu_submission layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(d3dkmt_emu_kmd_gpu_callbacks) == 48, "d3dkmt_emu_kmd_gpu_callbacks layout");
#endif

/* ---- Kernels ---- */

/* Fills *config with the defaults: one full adapter, LUID {0x1234, 0}, one
 * source, protected sessions supported, and every policy at the default
 * stated at its field. config->adapters then points at a static table owned
 * by the library (valid for the whole program).
 * Returns STATUS_SUCCESS, or STATUS_INVALID_PARAMETER if config is NULL. */
NTSTATUS d3dkmt_emu_kernel_config_init(d3dkmt_emu_kernel_config *config);

/* Creates a new kernel. config NULL means the defaults; otherwise it is
 * copied and not used after the call. Returns a new kernel reference
 * (release with d3dkmt_emu_kernel_release), or NULL for a bad configuration:
 * wrong struct_size, NULL adapters with a nonzero adapter_count, a zero or
 * repeated LUID, an unknown kind, or a zero handle quota. */
d3dkmt_emu_kernel *d3dkmt_emu_kernel_create(const d3dkmt_emu_kernel_config *config);

/* Returns a new reference to the default kernel (the one unbound threads
 * use; created on first use, never destroyed). Release it with
 * d3dkmt_emu_kernel_release. */
d3dkmt_emu_kernel *d3dkmt_emu_kernel_default(void);

/* The kernel clock's time in nanoseconds since the kernel was created
 * (UINT64_MAX for a NULL kernel). See d3dkmt_emu_kernel_config.real_clock. */
uint64_t d3dkmt_emu_kernel_now_ns(const d3dkmt_emu_kernel *kernel);

/* The kernel clock's system time in FILETIME units (100 ns since 1601-01-01
 * UTC), against which absolute (positive) NT timeouts such as a keyed-mutex
 * acquire's *pTimeout are measured. A virtual clock starts at
 * 2024-01-01 00:00:00 UTC (133485408000000000); a real one at the system time
 * the kernel was created. UINT64_MAX for a NULL kernel. */
uint64_t d3dkmt_emu_kernel_system_time(const d3dkmt_emu_kernel *kernel);

/* Advances a virtual clock by ns nanoseconds; waits whose deadline it passes
 * time out. Returns STATUS_SUCCESS, STATUS_INVALID_PARAMETER for a NULL
 * kernel, or STATUS_NOT_SUPPORTED for a real clock. */
NTSTATUS d3dkmt_emu_kernel_advance_ns(const d3dkmt_emu_kernel *kernel, uint64_t ns);

/* Gives back one kernel reference. The kernel itself lives on while other
 * references to it or to any of its processes exist. NULL is ignored. */
void d3dkmt_emu_kernel_release(d3dkmt_emu_kernel *kernel);

/* Number of live kernel objects of one kind (D3DKMT_EMU_OBJECT_*) in the
 * kernel, or of every kind with D3DKMT_EMU_OBJECT_ALL (UINT32_MAX). Adapters
 * are not counted. Returns -1 for a NULL kernel or an unknown kind. A test
 * that has closed everything expects 0 for D3DKMT_EMU_OBJECT_ALL. */
int64_t d3dkmt_emu_kernel_live_objects(const d3dkmt_emu_kernel *kernel, uint32_t kind);

/* ---- Processes ---- */

/* Creates a new virtual process of `kernel`, with empty handle tables.
 * Returns a new process reference (release with d3dkmt_emu_process_release),
 * or NULL if kernel is NULL. */
d3dkmt_emu_process *d3dkmt_emu_process_create(const d3dkmt_emu_kernel *kernel);

/* Returns a new reference to the process the calling thread acts as: its
 * current binding, or the default kernel's default process. Release it
 * with d3dkmt_emu_process_release. */
d3dkmt_emu_process *d3dkmt_emu_process_current(void);

/* The process's id, unique within its kernel (the default kernel's default
 * process is 1). 0 for NULL. */
uint32_t d3dkmt_emu_process_id(const d3dkmt_emu_process *process);

/* Simulates process exit: closes every D3DKMT and NT handle the process
 * holds, so it keeps nothing alive (KMD destroy callbacks may run on this
 * thread). Afterwards every D3DKMT* call made as this process, and
 * d3dkmt_emu_nt_close, d3dkmt_emu_nt_duplicate and
 * d3dkmt_emu_protected_session_key naming it, fail with
 * STATUS_PROCESS_IS_TERMINATING. Exiting twice does nothing. The reference stays valid and must still be released.
 * NULL is ignored. */
void d3dkmt_emu_process_exit(const d3dkmt_emu_process *process);

/* Gives back one process reference; it does not exit the process. When the
 * last reference goes (bindings hold references too), whatever handles the
 * process still holds are closed as if it had exited. NULL is ignored. */
void d3dkmt_emu_process_release(d3dkmt_emu_process *process);

/* Number of live handles in the process: D3DKMT handles for nt == 0, NT
 * handles for nt != 0. process NULL means the calling thread's process.
 * 0 after exit. */
uint32_t d3dkmt_emu_process_handle_count(const d3dkmt_emu_process *process, uint32_t nt);

/* ---- Thread binding ---- */

/* Makes the calling thread act as `process` for its D3DKMT* calls until the
 * binding is undone. Returns a new binding (which holds a reference to the
 * process), or NULL if process is NULL.
 *
 * Rules: a binding belongs to the thread that made it. Undo it with
 * d3dkmt_emu_thread_unbind on that same thread, before the thread ends.
 * Bindings nest: binding again while bound switches to the new process,
 * and undoing that binding restores the previous one. (Undoing an older
 * binding first is allowed: the thread keeps acting as its newest binding
 * still in force.) A thread starts unbound, whatever the
 * binding of the thread that created it. */
d3dkmt_emu_binding *d3dkmt_emu_thread_bind(const d3dkmt_emu_process *process);

/* Undoes a binding made by d3dkmt_emu_thread_bind on this thread, restoring
 * the binding before it (or none), and frees it. Bindings must be undone on
 * the thread that made them; they may be undone in any order, and the thread
 * acts as its newest binding still in force. A binding not in force on this
 * thread (another thread's, a dead thread's, or one already undone) is
 * refused with STATUS_INVALID_PARAMETER and left as it is. NULL is ignored
 * (success). */
NTSTATUS d3dkmt_emu_thread_unbind(d3dkmt_emu_binding *binding);

/* ---- The fake kernel-mode driver ---- */

/* Installs a KMD on the kernel: the callback table is copied (callbacks NULL
 * reinstalls the default KMD, which accepts every session and does nothing on
 * destroy). Only sessions created afterwards use it; earlier sessions keep
 * calling the KMD they were created with.
 * Returns STATUS_SUCCESS, or STATUS_INVALID_PARAMETER if kernel is NULL. */
NTSTATUS d3dkmt_emu_kernel_set_kmd(const d3dkmt_emu_kernel *kernel, const d3dkmt_emu_kmd_callbacks *callbacks);

/* Installs a KMD with both tables, copied: sessions (NULL: the default
 * session behaviour) and gpu (NULL: accept all GPU work). A gpu table whose
 * struct_size is not sizeof(d3dkmt_emu_kmd_gpu_callbacks), or a NULL kernel:
 * STATUS_INVALID_PARAMETER, nothing changed. */
NTSTATUS d3dkmt_emu_kernel_set_kmd2(const d3dkmt_emu_kernel *kernel, const d3dkmt_emu_kmd_callbacks *sessions,
                                    const d3dkmt_emu_kmd_gpu_callbacks *gpu);


/* What the driver does to report a protected session's status: status 0 is
 * OK, 1 INVALID. A change bumps the session's status fence by 1 (on the
 * edges the bump_on_* policies select) and wakes CPU waiters on it; setting
 * the status the session already has changes nothing. Callable from any
 * thread, including from inside KMD callbacks.
 * The create callback may already set the status of the session it is
 * creating (the session then starts with that status).
 * Returns STATUS_SUCCESS; STATUS_INVALID_HANDLE if session_key names no live
 * session of the kernel (never created, refused by the create callback, or
 * destroyed, which includes during the destroy callback);
 * STATUS_INVALID_PARAMETER for a NULL kernel or another status value. */
NTSTATUS d3dkmt_emu_kmd_set_protected_session_status(const d3dkmt_emu_kernel *kernel, uint64_t session_key,
                                                     int32_t status);

/* Looks up the kernel's key (as the create callback saw it) for a session
 * handle of `process` (NULL: the calling thread's process) and stores it in
 * *key. Returns STATUS_SUCCESS; STATUS_INVALID_PARAMETER if key is NULL or
 * the handle is not a session handle of that process;
 * STATUS_PROCESS_IS_TERMINATING after exit. */
NTSTATUS d3dkmt_emu_protected_session_key(const d3dkmt_emu_process *process, D3DKMT_HANDLE session, uint64_t *key);

/* ---- Device removal and TDR, as the driver reports them ---- */

/* Loses device `device` of `process` (NULL: the calling thread's process)
 * for good; `reason` is the D3DKMT_DEVICEEXECUTION_STATE it reports from now
 * on, 2 (RESET) to 7 (ERROR_DMAPAGEFAULT). Then, before this returns:
 *  - creates and opens that take the device (D3DKMTCreateSynchronizationObject2,
 *    D3DKMTCreateProtectedSession, D3DKMTOpenSyncObjectFromNtHandle2) fail
 *    with STATUS_DEVICE_REMOVED; so do CPU signals and waits naming it, and
 *    blocked waits on it whose fences are not satisfied end with that status;
 *  - every monitored fence the device could signal (its sync-object handles
 *    without NoSignal, in this process) is set to UINT64_MAX, unless created
 *    with NoSignalMaxValueOnTdr, and CPU waiters wake;
 *  - protected sessions created on it become INVALID, with a status-fence
 *    bump (bump_on_invalidate), in every process that holds them; a status
 *    fence also set to UINT64_MAX stays there;
 *  - destroy calls still succeed.
 * Callable from any thread, including KMD callbacks (no kernel lock is held
 * while fences and sessions change). These are the defaults of the Rust
 * RemovalPolicies, which a C kernel configuration cannot change yet.
 * Returns STATUS_SUCCESS; STATUS_INVALID_PARAMETER for another reason value
 * or a handle that is not a device of that process; STATUS_DEVICE_REMOVED if
 * the device is already lost (it keeps its first reason);
 * STATUS_PROCESS_IS_TERMINATING after exit. */
NTSTATUS d3dkmt_emu_kmd_remove_device(const d3dkmt_emu_process *process, D3DKMT_HANDLE device, int32_t reason);

/* A TDR (GPU reset) on device `device` of `process` (NULL: the calling
 * thread's process): the same consequences for fences and sessions as
 * d3dkmt_emu_kmd_remove_device. The device is then lost with reason RESET
 * (the Rust TdrOutcome::DeviceSurvives policy keeps it ACTIVE instead).
 * Returns as d3dkmt_emu_kmd_remove_device. */
NTSTATUS d3dkmt_emu_kmd_reset_device(const d3dkmt_emu_process *process, D3DKMT_HANDLE device);

/* Stops the adapter with that LUID for good: every device on it, in every
 * process, is lost with reason STOPPED (a device already lost keeps its
 * reason); every monitored fence on the adapter, however it is held, goes to
 * UINT64_MAX (unless NoSignalMaxValueOnTdr); every protected session on it
 * becomes INVALID; D3DKMTCreateDevice on it fails with STATUS_DEVICE_REMOVED.
 * The adapter is still enumerated and can still be opened.
 * Returns STATUS_SUCCESS; STATUS_INVALID_PARAMETER for a NULL kernel or an
 * unknown LUID; STATUS_DEVICE_REMOVED if it is already stopped. */
NTSTATUS d3dkmt_emu_kmd_remove_adapter(const d3dkmt_emu_kernel *kernel, LUID luid);

/* ---- NT handles ---- */

/* Closes an NT handle of `process` (NULL: the calling thread's process), as
 * CloseHandle does. The object it names goes when its last handle does (KMD
 * destroy callbacks may run on this thread).
 * Returns STATUS_SUCCESS; STATUS_INVALID_HANDLE if the handle is not open
 * in that process; STATUS_PROCESS_IS_TERMINATING after exit. */
NTSTATUS d3dkmt_emu_nt_close(const d3dkmt_emu_process *process, HANDLE handle);

/* Duplicates an NT handle of source_process into target_process (either NULL
 * means the calling thread's process; they may be the same), as
 * DuplicateHandle does, and stores the new handle in *target. The new handle
 * gets the source's access with DUPLICATE_SAME_ACCESS, otherwise `access`
 * (generic rights mapped; see the duplicate_access_subset policy). With
 * DUPLICATE_CLOSE_SOURCE the source handle is closed even if the duplicate
 * then fails. The new handle belongs to the target process; close it there
 * with d3dkmt_emu_nt_close.
 * Returns STATUS_SUCCESS; STATUS_INVALID_PARAMETER for a NULL target, an
 * option bit other than 1, 2 and 4 (4, DUPLICATE_SAME_ATTRIBUTES, is
 * accepted and ignored), or processes of different kernels;
 * STATUS_INVALID_HANDLE if source is not open in source_process;
 * STATUS_ACCESS_DENIED (duplicate_access_subset policy);
 * STATUS_PROCESS_IS_TERMINATING if either process has exited;
 * STATUS_NO_MEMORY if the target's table is full. *target is written only
 * on success. */
NTSTATUS d3dkmt_emu_nt_duplicate(const d3dkmt_emu_process *source_process, HANDLE source,
                                 const d3dkmt_emu_process *target_process, HANDLE *target, uint32_t access,
                                 uint32_t options);

/* What NtQueryObject reports for an NT handle of `process` (NULL: the
 * calling thread's process): the object type name (e.g.
 * "DxgkSharedSyncObject") or the object name exactly as given to
 * D3DKMTShareObjects (UTF-8; "" for an unnamed object). The text is copied
 * NUL-terminated into buffer, cut to `size` bytes (buffer may be NULL with
 * size 0), and its full length (without the NUL) stored in *length (may be
 * NULL). Returns STATUS_SUCCESS; STATUS_INVALID_HANDLE if the handle is not
 * open in that process (nothing is written); STATUS_PROCESS_IS_TERMINATING
 * after exit. */
NTSTATUS d3dkmt_emu_nt_object_type_name(const d3dkmt_emu_process *process, HANDLE handle, char *buffer,
                                        size_t size, size_t *length);
NTSTATUS d3dkmt_emu_nt_object_name(const d3dkmt_emu_process *process, HANDLE handle, char *buffer, size_t size,
                                   size_t *length);

/* ---- Win32 handle functions (Cargo feature "win32-handles") ---- */

/* Built only with the library's `win32-handles` feature; define
 * D3DKMT_EMU_WIN32_HANDLES to declare them. CloseHandle and DuplicateHandle
 * work on the NT handles D3DKMTShareObjects gives, acting as the calling
 * thread's process; they return nonzero on success and 0 on failure, with
 * the reason in d3dkmt_emu_last_error (there is no GetLastError). Other
 * handles are not understood. */
#ifdef D3DKMT_EMU_WIN32_HANDLES
/* A process handle for DuplicateHandle naming `process` (of the calling
 * thread's kernel): a plain value, nothing to close. NULL for NULL. The
 * pseudo-handle (HANDLE)-1 names the calling thread's process. */
HANDLE d3dkmt_emu_process_win32_handle(const d3dkmt_emu_process *process);
#ifndef D3DKMT_EMU_NO_THUNK_PROTOTYPES
/* As d3dkmt_emu_nt_close for the calling thread's process. */
BOOL D3DKMT_EMU_APIENTRY CloseHandle(HANDLE hObject);
/* As d3dkmt_emu_nt_duplicate, with process handles; bInheritHandle is
 * ignored, and lpTargetHandle may be NULL with DUPLICATE_CLOSE_SOURCE. */
BOOL D3DKMT_EMU_APIENTRY DuplicateHandle(HANDLE hSourceProcessHandle, HANDLE hSourceHandle,
                                         HANDLE hTargetProcessHandle, HANDLE *lpTargetHandle,
                                         UINT dwDesiredAccess, BOOL bInheritHandle, UINT dwOptions);
#endif
#endif /* D3DKMT_EMU_WIN32_HANDLES */

/* ---- Diagnostics ---- */

/* Explains why the calling thread's most recent D3DKMT* call failed, as
 * "EntryPoint: reason". Copies as much as fits into buffer (size bytes,
 * always NUL-terminated when size > 0; buffer may be NULL with size 0) and
 * returns the full length without the NUL; returns 0 (and writes "") if
 * that call succeeded or no call was made yet. Each D3DKMT* call replaces
 * the previous message; d3dkmt_emu_* calls leave it alone. */
size_t d3dkmt_emu_last_error(char *buffer, size_t size);

/* ---- Fault injection and the leak report ----
 *
 * A fault makes chosen D3DKMT* calls of one kernel fail with a chosen
 * status, answered at the library's single dispatch point before the call
 * runs: the argument struct is untouched and no kernel state changes, as if
 * the kernel had failed at its first step. Faults are per kernel (tests on
 * other kernels never see them) and stay armed until disarmed or the kernel
 * goes. Armed faults are matched in arming order; the first one that fires
 * decides the call, and record-only ("what-if") faults only log. With
 * nothing armed, the cost is one atomic load per call.
 *
 * Threads: these functions may be called from any thread, concurrently with
 * D3DKMT* calls on the kernel; a fault armed on one thread applies to calls
 * that start after d3dkmt_emu_fault_arm returns. N counts the calls that
 * match the fault, kernel-wide, in the order they reach the dispatch point.
 * Ownership: the spec and its entry string are read during the call only. */

/* Values of d3dkmt_emu_fault_spec.when. */
#define D3DKMT_EMU_FAULT_NTH 0u         /* only the nth matching call (from 1) */
#define D3DKMT_EMU_FAULT_EVERY 1u       /* every matching call */
#define D3DKMT_EMU_FAULT_PROBABILITY 2u /* each with `probability`, from `seed` */

typedef struct d3dkmt_emu_fault_spec {
    /* sizeof(d3dkmt_emu_fault_spec). */
    UINT struct_size;
    /* What the failing calls return: any NTSTATUS (a success status makes
     * the call "succeed" without running and without writing outputs). */
    NTSTATUS status;
    /* The exported name, e.g. "D3DKMTCreateDevice", or NULL for any. */
    const char *entry;
    /* Only calls made as this process (d3dkmt_emu_process_id); 0 for any. */
    UINT process_id;
    /* D3DKMT_EMU_FAULT_*. */
    UINT when;
    /* For D3DKMT_EMU_FAULT_NTH: n >= 1. */
    uint64_t nth;
    /* For D3DKMT_EMU_FAULT_PROBABILITY: 0.0 to 1.0. */
    double probability;
    /* For D3DKMT_EMU_FAULT_PROBABILITY: the same seed gives the same
     * failures for the same calls. */
    uint64_t seed;
    /* Nonzero: log where the fault fires but let the call run. */
    UINT record_only;
    /* 0. */
    UINT reserved;
} d3dkmt_emu_fault_spec;

typedef struct d3dkmt_emu_fault_record {
    /* The id d3dkmt_emu_fault_arm gave. */
    uint64_t fault_id;
    /* The calling process's call sequence number (its first call is 1). */
    uint64_t sequence;
    UINT process_id;
    /* The fault's status. */
    NTSTATUS status;
    /* 1 if the call was failed, 0 for a record-only firing. */
    UINT injected;
    UINT reserved;
    /* The entry point's exported name, NUL-terminated. */
    char entry[64];
} d3dkmt_emu_fault_record;

D3DKMT_EMU_STATIC_ASSERT(sizeof(d3dkmt_emu_fault_spec) == 56, "d3dkmt_emu_fault_spec layout");
D3DKMT_EMU_STATIC_ASSERT(sizeof(d3dkmt_emu_fault_record) == 96, "d3dkmt_emu_fault_record layout");

/* Arms a fault on kernel and writes its id to *out_id. A NULL argument or a
 * bad spec (struct_size, an unknown entry name, nth 0, a probability outside
 * 0..1, an unknown `when`, reserved not 0): STATUS_INVALID_PARAMETER. */
NTSTATUS d3dkmt_emu_fault_arm(const d3dkmt_emu_kernel *kernel, const d3dkmt_emu_fault_spec *spec,
                              uint64_t *out_id);
/* Disarms a fault; an id not armed on kernel: STATUS_INVALID_PARAMETER. */
NTSTATUS d3dkmt_emu_fault_disarm(const d3dkmt_emu_kernel *kernel, uint64_t id);
/* Copies up to `capacity` records of the kernel's fault log, oldest first,
 * into `records` (NULL allowed with capacity 0) and writes the log's length
 * to *count. Every firing is logged, record-only ones included. */
NTSTATUS d3dkmt_emu_fault_log(const d3dkmt_emu_kernel *kernel, d3dkmt_emu_fault_record *records,
                              size_t capacity, size_t *count);
/* Empties the kernel's fault log. */
NTSTATUS d3dkmt_emu_fault_log_clear(const d3dkmt_emu_kernel *kernel);

/* The kernel's live objects, one per line with the process and call that
 * created it and the handles (process, value, D3DKMT or NT) and objects
 * holding it, written into buffer as for d3dkmt_emu_last_error; the full
 * length goes to *needed (needed may be NULL). Returns the number of live
 * objects: 0 when the kernel is clean (call it after every process exited
 * to check for leaks); -1 for a NULL kernel. */
int64_t d3dkmt_emu_kernel_leak_report(const d3dkmt_emu_kernel *kernel, char *buffer, size_t size,
                                      size_t *needed);

/* ---- Call trace (docs/trace-format.md) ---- */

/* Tracing is off by default. Once started for a kernel, every D3DKMT* call
 * made as one of its processes, and the events a replay needs (process
 * create and exit, d3dkmt_emu_nt_close, d3dkmt_emu_nt_duplicate, the KMD
 * setting a session status), leave one record in a ring buffer: sequence
 * number, kernel, process, thread, entry point, decoded inputs and outputs,
 * status, injected or real. Records are read as text lines in the stable
 * trace format; `d3dkmt-emu replay FILE` replays a saved trace. */

/* Starts tracing: a buffer of `capacity` records (older ones are dropped);
 * with a non-NULL path, each record is also appended to that file (created
 * or truncated, header first). Restarting clears the buffer.
 * STATUS_INVALID_PARAMETER for NULL kernel or capacity 0;
 * STATUS_UNSUCCESSFUL if the file cannot be created. */
NTSTATUS d3dkmt_emu_trace_start(const d3dkmt_emu_kernel *kernel, size_t capacity, const char *path);
/* Stops tracing; the buffer is kept. STATUS_UNSUCCESSFUL if writing the
 * file failed at some point. */
NTSTATUS d3dkmt_emu_trace_stop(const d3dkmt_emu_kernel *kernel);
/* Records in the buffer; 0 for NULL. */
size_t d3dkmt_emu_trace_count(const d3dkmt_emu_kernel *kernel);
/* Copies the line of the index-th record (0 the oldest) into buffer as
 * d3dkmt_emu_last_error does, and returns its full length; 0 if there is no
 * such record. */
size_t d3dkmt_emu_trace_record(const d3dkmt_emu_kernel *kernel, size_t index, char *buffer, size_t size);
/* Copies the last n records, one line each, into buffer (for a failing
 * test's message) and returns the full length. */
size_t d3dkmt_emu_trace_tail(const d3dkmt_emu_kernel *kernel, size_t n, char *buffer, size_t size);
/* Writes the buffer to a trace file. STATUS_INVALID_PARAMETER for NULL
 * arguments; STATUS_UNSUCCESSFUL if the file cannot be written. */
NTSTATUS d3dkmt_emu_trace_save(const d3dkmt_emu_kernel *kernel, const char *path);
/* Empties the buffer; numbering goes on. NULL is ignored. */
void d3dkmt_emu_trace_clear(const d3dkmt_emu_kernel *kernel);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* D3DKMT_EMU_H */
