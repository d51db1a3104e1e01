//! Keyed mutexes, resources and combined sharing end to end, through the C
//! ABI (windows-sys's declarations, which resolve to our exports): two
//! virtual processes hand a shared resource back and forth with its keyed
//! mutex, by NT handle and by name; one exits holding the mutex and the
//! other sees it abandoned. Plus what does not fit a conformance row: real
//! threads blocking on a key, timeouts on the kernel clock, and the fact
//! coverage of `fixtures/conformance/objects.tsv`.
#![allow(unsafe_code, reason = "calls the C ABI as a C or windows-sys client does")]

use std::sync::mpsc;
use std::time::{Duration, Instant};

use d3dkmt_emu::{Kernel, KernelConfig, NtHandle, NtStatus, ObjectKind, Process, access};
use windows_sys::Wdk::Foundation::OBJECT_ATTRIBUTES;
use windows_sys::Wdk::Graphics::Direct3D::*;
use windows_sys::Win32::Foundation::{HANDLE, LUID, UNICODE_STRING};

/// Calls a `D3DKMT*` export through windows-sys's declaration.
macro_rules! call {
    ($f:ident($($arg:expr),*)) => {
        // SAFETY: every pointer argument is a reference to a live, aligned,
        // initialised struct (or NULL where the test means NULL), valid for
        // the whole call; the export keeps none of them.
        NtStatus(unsafe { windows_sys::Wdk::Graphics::Direct3D::$f($($arg),*) })
    };
}

const BASE: u32 = 0x20 | 0x1_0000; // ExistingSysMem | StandardAllocation
const CREATE_RESOURCE: u32 = 0x1;
const CREATE_SHARED: u32 = 0x2;
const NT_SECURITY_SHARING: u32 = 0x40;
const NAME: &str = "\\BaseNamedObjects\\SharedSurface";

fn device(kernel: &Kernel) -> u32 {
    let l = kernel.adapter_luids()[0];
    let mut open = D3DKMT_OPENADAPTERFROMLUID { AdapterLuid: LUID { LowPart: l.low, HighPart: l.high }, hAdapter: 0 };
    call!(D3DKMTOpenAdapterFromLuid(&mut open)).unwrap();
    let mut dev = D3DKMT_CREATEDEVICE::default();
    dev.Anonymous.hAdapter = open.hAdapter;
    call!(D3DKMTCreateDevice(&mut dev)).unwrap();
    dev.hDevice
}

/// An NT-shareable resource with 4 bytes of runtime data: (hResource, hAllocation).
fn create_resource(device: u32, memory: &mut [u64]) -> (u32, u32) {
    let mut standard =
        D3DKMT_CREATESTANDARDALLOCATION { Type: D3DKMT_STANDARDALLOCATIONTYPE_EXISTINGHEAP, ..Default::default() };
    standard.Anonymous.ExistingHeapData.Size = memory.len() * 8;
    let mut info = D3DDDI_ALLOCATIONINFO2::default();
    info.Anonymous1.pSystemMem = memory.as_mut_ptr().cast();
    let runtime = *b"surf";
    let mut args = D3DKMT_CREATEALLOCATION {
        hDevice: device,
        NumAllocations: 1,
        pPrivateRuntimeData: runtime.as_ptr().cast(),
        PrivateRuntimeDataSize: 4,
        ..Default::default()
    };
    args.Flags._bitfield = BASE | CREATE_RESOURCE | CREATE_SHARED | NT_SECURITY_SHARING;
    args.Anonymous1.pStandardAllocation = &mut standard;
    args.Anonymous2.pAllocationInfo2 = &mut info;
    call!(D3DKMTCreateAllocation2(&mut args)).unwrap();
    assert_eq!(args.hGlobalShare, 0, "WINE #90: no global handle with NtSecuritySharing");
    (args.hResource, info.hAllocation)
}

fn create_keyed_mutex(nt: bool, data: &[u8]) -> (u32, u32) {
    let mut args = D3DKMT_CREATEKEYEDMUTEX2 {
        pPrivateRuntimeData: data.as_ptr().cast_mut().cast(),
        PrivateRuntimeDataSize: data.len() as u32,
        ..Default::default()
    };
    args.Flags.Anonymous.Value = u32::from(nt);
    call!(D3DKMTCreateKeyedMutex2(&mut args)).unwrap();
    (args.hKeyedMutex, args.hSharedHandle)
}

fn create_fence(device: u32) -> u32 {
    let mut args = D3DKMT_CREATESYNCHRONIZATIONOBJECT2 { hDevice: device, ..Default::default() };
    args.Info.Type = D3DDDI_MONITORED_FENCE;
    args.Info.Flags.Anonymous.Value = 0x3; // Shared | NtSecuritySharing
    call!(D3DKMTCreateSynchronizationObject2(&mut args)).unwrap();
    args.hSyncObject
}

fn utf16(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

fn share(objects: &[u32], name: Option<&str>) -> HANDLE {
    let name = name.map(utf16).unwrap_or_default();
    let s = UNICODE_STRING {
        Length: (name.len() * 2) as u16,
        MaximumLength: (name.len() * 2) as u16,
        Buffer: name.as_ptr().cast_mut(),
    };
    let attributes =
        OBJECT_ATTRIBUTES { Length: size_of::<OBJECT_ATTRIBUTES>() as u32, ObjectName: &s, ..Default::default() };
    let mut nt: HANDLE = core::ptr::null_mut();
    call!(D3DKMTShareObjects(objects.len() as u32, objects.as_ptr(), &attributes, access::GENERIC_ALL, &mut nt))
        .unwrap();
    nt
}

fn open_by_name(name: &str) -> HANDLE {
    let name = utf16(name);
    let mut s = UNICODE_STRING {
        Length: (name.len() * 2) as u16,
        MaximumLength: (name.len() * 2) as u16,
        Buffer: name.as_ptr().cast_mut(),
    };
    let mut attributes =
        OBJECT_ATTRIBUTES { Length: size_of::<OBJECT_ATTRIBUTES>() as u32, ObjectName: &mut s, ..Default::default() };
    let mut args = D3DKMT_OPENNTHANDLEFROMNAME {
        dwDesiredAccess: access::GENERIC_ALL,
        pObjAttrib: &mut attributes,
        hNtHandle: core::ptr::null_mut(),
    };
    call!(D3DKMTOpenNtHandleFromName(&mut args)).unwrap();
    args.hNtHandle
}

/// What an open from an NT handle gave.
struct Opened {
    resource: u32,
    allocation: u32,
    keyed_mutex: u32,
    sync: u32,
    runtime: [u8; 4],
    mutex_runtime_size: u32,
}

fn open_from_nt(device: u32, nt: HANDLE) -> Opened {
    let mut query = D3DKMT_QUERYRESOURCEINFOFROMNTHANDLE { hDevice: device, hNtHandle: nt, ..Default::default() };
    call!(D3DKMTQueryResourceInfoFromNtHandle(&mut query)).unwrap();
    let mut runtime = [0u8; 4];
    let mut total = vec![0u8; query.TotalPrivateDriverDataSize as usize];
    let mut info = D3DDDI_OPENALLOCATIONINFO2::default();
    let mut args = D3DKMT_OPENRESOURCEFROMNTHANDLE {
        hDevice: device,
        hNtHandle: nt,
        NumAllocations: query.NumAllocations,
        pOpenAllocationInfo2: &mut info,
        PrivateRuntimeDataSize: query.PrivateRuntimeDataSize,
        pPrivateRuntimeData: runtime.as_mut_ptr().cast(),
        TotalPrivateDriverDataBufferSize: query.TotalPrivateDriverDataSize,
        pTotalPrivateDriverDataBuffer: total.as_mut_ptr().cast(),
        ..Default::default()
    };
    call!(D3DKMTOpenResourceFromNtHandle(&mut args)).unwrap();
    Opened {
        resource: args.hResource,
        allocation: info.hAllocation,
        keyed_mutex: args.hKeyedMutex,
        sync: args.hSyncObject,
        runtime,
        mutex_runtime_size: args.KeyedMutexPrivateRuntimeDataSize,
    }
}

fn acquire(mutex: u32, key: u64, timeout: Option<i64>) -> (NtStatus, u64) {
    let mut t = timeout.unwrap_or(0);
    let mut args = D3DKMT_ACQUIREKEYEDMUTEX {
        hKeyedMutex: mutex,
        Key: key,
        pTimeout: if timeout.is_some() { &mut t } else { core::ptr::null_mut() },
        FenceValue: 0,
    };
    let status = call!(D3DKMTAcquireKeyedMutex(&mut args));
    (status, args.FenceValue)
}

fn release(mutex: u32, key: u64, fence: u64) -> NtStatus {
    let mut args = D3DKMT_RELEASEKEYEDMUTEX { hKeyedMutex: mutex, Key: key, FenceValue: fence };
    call!(D3DKMTReleaseKeyedMutex(&mut args))
}

/// Process A makes the surface, its keyed mutex and a fence, shares the three
/// together under a name, and hands the NT handle to B by duplication; B also
/// opens it by name. Returns A's device and mutex, and B's opened handles
/// (through the duplicate and through the name).
struct Pair {
    kernel: Kernel,
    a: Process,
    b: Process,
    a_mutex: u32,
    b_mutex_dup: u32,
    b_mutex_named: u32,
    _memory: Vec<u64>,
}

fn pair() -> Pair {
    let kernel = Kernel::new(KernelConfig::default());
    let (a, b) = (kernel.create_process(), kernel.create_process());
    let mut memory = vec![0u64; 0x2000 / 8];
    let (a_mutex, nt_in_b) = a.run(|| {
        let device = device(&kernel);
        let (resource, _) = create_resource(device, &mut memory);
        let (mutex, global) = create_keyed_mutex(true, &[0x5A; 20]);
        assert_eq!(global, 0, "WINE #64");
        let fence = create_fence(device);
        let nt = share(&[resource, mutex, fence], Some(NAME));
        assert_eq!(a.nt_handle_type_name(NtHandle::from_ptr(nt)), Ok("DxgkSharedResource"), "WINE #106");
        let same = d3dkmt_emu::DuplicateOptions { close_source: false, same_access: true };
        (mutex, a.duplicate_nt_handle(NtHandle::from_ptr(nt), &b, 0, same).unwrap())
    });
    let (b_mutex_dup, b_mutex_named) = b.run(|| {
        let device = device(&kernel);
        let by_dup = open_from_nt(device, nt_in_b.as_ptr());
        let by_name = open_from_nt(device, open_by_name("\\BASENAMEDOBJECTS\\sharedsurface"));
        for o in [&by_dup, &by_name] {
            assert_eq!(&o.runtime, b"surf", "WINE #104: runtime data copied");
            assert_eq!(o.mutex_runtime_size, 20, "WINE #107");
            for h in [o.resource, o.allocation, o.keyed_mutex, o.sync] {
                assert!(h != 0 && h & 0x3F == 0, "WINE #1: {h:#x}");
            }
        }
        (by_dup.keyed_mutex, by_name.keyed_mutex)
    });
    Pair { kernel, a, b, a_mutex, b_mutex_dup, b_mutex_named, _memory: memory }
}

/// The done criterion: A acquires 0 and releases 1; B acquires 1 and
/// releases 0; and so on, each on its own thread, blocking until its key
/// comes round; the fence value travels with each release. Then B exits
/// holding the mutex, and A's acquire is STATUS_ABANDONED.
#[test]
fn two_processes_hand_a_shared_surface_back_and_forth() {
    let p = pair();
    const ROUNDS: u64 = 50;
    std::thread::scope(|s| {
        let b = &p.b;
        let mutexes = [p.b_mutex_dup, p.b_mutex_named];
        let b_thread = s.spawn(move || {
            let _bound = b.enter();
            for round in 0..ROUNDS {
                // Alternate the handle opened by duplicate and by name: both
                // are the same mutex.
                let m = mutexes[(round % 2) as usize];
                let (status, fence) = acquire(m, 1, None);
                assert_eq!(status, NtStatus::SUCCESS);
                assert_eq!(fence, 2 * round + 1, "B sees A's fence");
                assert_eq!(release(m, 0, 2 * round + 2), NtStatus::SUCCESS);
            }
        });
        let _bound = p.a.enter();
        for round in 0..ROUNDS {
            let (status, fence) = acquire(p.a_mutex, 0, None);
            assert_eq!(status, NtStatus::SUCCESS);
            assert_eq!(fence, 2 * round, "A sees B's fence");
            assert_eq!(release(p.a_mutex, 1, 2 * round + 1), NtStatus::SUCCESS);
        }
        b_thread.join().unwrap();
    });

    // B takes it and exits holding it: abandoned for A (and A's waiter wakes).
    p.a.run(|| {
        assert_eq!(acquire(p.a_mutex, 0, None).0, NtStatus::SUCCESS);
        assert_eq!(release(p.a_mutex, 1, 1000), NtStatus::SUCCESS);
    });
    p.b.run(|| assert_eq!(acquire(p.b_mutex_named, 1, None), (NtStatus::SUCCESS, 1000)));
    std::thread::scope(|s| {
        let a = &p.a;
        let a_mutex = p.a_mutex;
        let (tx, rx) = mpsc::channel();
        let waiter = s.spawn(move || {
            let _bound = a.enter();
            tx.send(()).unwrap();
            acquire(a_mutex, 0, None).0
        });
        rx.recv().unwrap();
        p.b.exit();
        assert_eq!(waiter.join().unwrap(), NtStatus::ABANDONED, "a blocked waiter wakes abandoned");
    });
    p.a.run(|| {
        assert_eq!(acquire(p.a_mutex, 0, Some(0)).0, NtStatus::ABANDONED);
        assert_eq!(release(p.a_mutex, 0, 0), NtStatus::ABANDONED);
    });
    assert!(p.a.keyed_mutex_abandoned(d3dkmt_emu::LocalHandle(p.a_mutex)).unwrap());

    // Exits free everything: the mutex, resource and fence lived through
    // the NT handles only while A held them.
    p.a.exit();
    assert_eq!(p.kernel.total_live_objects(), 0, "everything freed");
    assert_eq!(p.kernel.live_global_handles(), 0);
}

/// A 10-second acquire timeout on the virtual kernel clock: STATUS_TIMEOUT
/// in well under a second of wall time; on a real clock a short timeout
/// takes its time.
#[test]
fn acquire_timeouts_use_the_kernel_clock() {
    let kernel = Kernel::new(KernelConfig::default());
    let a = kernel.create_process();
    a.run(|| {
        let (mutex, _) = create_keyed_mutex(false, &[]);
        let wall = Instant::now();
        let (status, _) = acquire(mutex, 7, Some(-100_000_000)); // 10 s, relative
        assert_eq!(status, NtStatus::TIMEOUT);
        assert!(wall.elapsed() < Duration::from_secs(1), "took {:?}", wall.elapsed());
        // An absolute deadline already past: an immediate timeout.
        assert_eq!(acquire(mutex, 7, Some(0)).0, NtStatus::TIMEOUT);
        // The right key still acquires.
        assert_eq!(acquire(mutex, 0, Some(-100_000_000)).0, NtStatus::SUCCESS);
    });

    let real = Kernel::new(KernelConfig { clock: d3dkmt_emu::ClockMode::Real, ..KernelConfig::default() });
    let r = real.create_process();
    r.run(|| {
        let (mutex, _) = create_keyed_mutex(false, &[]);
        let wall = Instant::now();
        assert_eq!(acquire(mutex, 7, Some(-200_000)).0, NtStatus::TIMEOUT); // 20 ms
        assert!(wall.elapsed() >= Duration::from_millis(20));
    });
}

/// A waiter for key 2 is not woken by a release with key 1, and is by one
/// with key 2, across processes opened through the global handle (WINE #3).
#[test]
fn a_waiter_gets_only_its_key() {
    let kernel = Kernel::new(KernelConfig::default());
    let (a, b) = (kernel.create_process(), kernel.create_process());
    let (mutex, global) = a.run(|| create_keyed_mutex(false, &[]));
    assert_eq!(global & 0x3F, 2, "WINE #3");
    let b_mutex = b.run(|| {
        let mut open = D3DKMT_OPENKEYEDMUTEX { hSharedHandle: global, hKeyedMutex: 0 };
        call!(D3DKMTOpenKeyedMutex(&mut open)).unwrap();
        open.hKeyedMutex
    });
    std::thread::scope(|s| {
        let b = &b;
        let waiter = s.spawn(move || {
            let _bound = b.enter();
            acquire(b_mutex, 2, None)
        });
        let _bound = a.enter();
        assert_eq!(acquire(mutex, 0, None).0, NtStatus::SUCCESS);
        assert_eq!(release(mutex, 1, 10), NtStatus::SUCCESS);
        // Key 1: the waiter for 2 keeps waiting; we take it again.
        assert_eq!(acquire(mutex, 1, None), (NtStatus::SUCCESS, 10));
        assert!(!waiter.is_finished());
        assert_eq!(release(mutex, 2, 20), NtStatus::SUCCESS);
        assert_eq!(waiter.join().unwrap(), (NtStatus::SUCCESS, 20));
    });
    // B owns it now; A's release is refused.
    a.run(|| assert_eq!(release(mutex, 0, 0), NtStatus::INVALID_PARAMETER));
}

/// Destroying a device destroys its resources and allocations; a resource
/// kept by an NT handle lives on (WINE #7, #107).
#[test]
fn device_destroy_and_nt_handles() {
    let kernel = Kernel::new(KernelConfig::default());
    let a = kernel.create_process();
    let mut memory = vec![0u64; 0x1000 / 8];
    a.run(|| {
        let device = device(&kernel);
        let (resource, _) = create_resource(device, &mut memory);
        let nt = share(&[resource], None);
        call!(D3DKMTDestroyDevice(&D3DKMT_DESTROYDEVICE { hDevice: device })).unwrap();
        assert_eq!(kernel.live_objects(ObjectKind::Resource), 1, "the NT handle keeps it");
        let device2 = self::device(&kernel);
        let opened = open_from_nt(device2, nt);
        assert_eq!(opened.keyed_mutex, 0);
        a.close_nt_handle(NtHandle::from_ptr(nt)).unwrap();
        call!(D3DKMTDestroyDevice(&D3DKMT_DESTROYDEVICE { hDevice: device2 })).unwrap();
        assert_eq!(kernel.live_objects(ObjectKind::Resource), 0);
        assert_eq!(kernel.live_objects(ObjectKind::Allocation), 0);
    });
}

/// Every fact of WINE #54-#90 and #101-#107 is named by a row of the
/// objects table (#91 is not applicable in process: see the table's header).
#[test]
fn the_objects_table_names_every_fact() {
    let rows = d3dkmt_emu::conformance::rows().unwrap();
    let facts: String =
        rows.iter().filter(|r| r.file.ends_with("objects.tsv")).map(|r| format!("{}, ", r.facts)).collect();
    for n in (54..=90).chain(101..=107) {
        assert!(facts.contains(&format!("#{n},")), "no objects row names WINE #{n}");
    }
}

/// Under `KeyedMutexOwner::Process` any handle of the acquiring process may
/// release, destroying the acquiring handle does not abandon, and the
/// process's exit does; under the default, ownership is the handle's.
#[test]
fn keyed_mutex_owner_policy() {
    use d3dkmt_emu::{KeyedMutexOwner, KeyedMutexPolicies, LocalHandle, Policies};
    let policies = Policies {
        keyed_mutex: KeyedMutexPolicies { owner: KeyedMutexOwner::Process, ..KeyedMutexPolicies::default() },
        ..Policies::default()
    };
    let kernel = Kernel::new(KernelConfig { policies, ..KernelConfig::default() });
    let (a, b) = (kernel.create_process(), kernel.create_process());
    let first = a.create_keyed_mutex(0, &[], false).unwrap();
    let second = a.open_keyed_mutex(first.global).unwrap().0;
    let in_b = b.open_keyed_mutex(first.global).unwrap().0;
    a.acquire_keyed_mutex(first.handle, 0, None, None).unwrap();
    a.release_keyed_mutex(second, 1, 5, &[]).expect("another handle of the owning process releases");
    a.acquire_keyed_mutex(second, 1, None, None).unwrap();
    a.destroy_keyed_mutex(second).unwrap();
    assert!(!b.keyed_mutex_abandoned(in_b).unwrap(), "a destroyed handle does not abandon");
    assert_eq!(b.release_keyed_mutex(in_b, 0, 0, &[]).map_err(|e| e.status()), Err(NtStatus::INVALID_PARAMETER));
    a.exit();
    assert!(b.keyed_mutex_abandoned(in_b).unwrap(), "the owning process's exit abandons");
    assert_eq!(b.acquire_keyed_mutex(in_b, 1, Some(0), None).map_err(|e| e.status()), Err(NtStatus::ABANDONED));

    // The default: the handle owns it.
    let kernel = Kernel::new(KernelConfig::default());
    let a = kernel.create_process();
    let m = a.create_keyed_mutex(0, &[], false).unwrap();
    let other = a.open_keyed_mutex(m.global).unwrap().0;
    a.acquire_keyed_mutex(m.handle, 0, None, None).unwrap();
    assert_eq!(a.release_keyed_mutex(other, 1, 0, &[]).map_err(|e| e.status()), Err(NtStatus::INVALID_PARAMETER));
    a.destroy_keyed_mutex(m.handle).unwrap();
    assert!(a.keyed_mutex_abandoned(LocalHandle(other.0)).unwrap());
}

/// A positive `*pTimeout` is an absolute system time (100 ns since 1601), as
/// on Windows, measured on the kernel clock: a virtual clock's system time
/// starts at a fixed epoch, so the deadline is exact and takes no wall time.
#[test]
fn an_absolute_acquire_timeout_is_a_system_time() {
    let kernel = Kernel::new(KernelConfig::default());
    assert_eq!(kernel.system_time(), d3dkmt_emu::clock::VIRTUAL_EPOCH_FILETIME);
    let a = kernel.create_process();
    a.run(|| {
        let (mutex, _) = create_keyed_mutex(false, &[]);
        let deadline = kernel.system_time() + 30 * 10_000_000; // 30 s from now
        let wall = Instant::now();
        assert_eq!(acquire(mutex, 7, Some(deadline as i64)).0, NtStatus::TIMEOUT);
        assert_eq!(kernel.now(), Duration::from_secs(30), "the virtual clock jumped to the deadline");
        assert!(wall.elapsed() < Duration::from_secs(1));
        // A time already past (here: just before the epoch) ends at once.
        let past = d3dkmt_emu::clock::VIRTUAL_EPOCH_FILETIME - 1;
        assert_eq!(acquire(mutex, 7, Some(past as i64)).0, NtStatus::TIMEOUT);
        assert_eq!(kernel.now(), Duration::from_secs(30));
    });
    let real = Kernel::new(KernelConfig { clock: d3dkmt_emu::ClockMode::Real, ..KernelConfig::default() });
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 / 100
        + 116_444_736_000_000_000;
    assert!(real.system_time().abs_diff(now) < 10_000_000 * 60, "a real clock's system time is the real one");
}
