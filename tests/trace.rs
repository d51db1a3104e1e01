//! The call trace: off by default, one decoded record per call when on, a
//! bounded buffer, text lines that parse back, a file, the C API, and reads
//! of caller memory limited to what the export itself reads.
#![allow(unsafe_code, reason = "calls the C ABI as a C or windows-sys client does")]

use d3dkmt_emu::abi::control::*;
use d3dkmt_emu::trace::{Op, Record, TraceConfig, TraceError, Value};
use d3dkmt_emu::{Entry, Kernel, KernelConfig, NtStatus, SyncFlags};
use windows_sys::Wdk::Graphics::Direct3D::*;

macro_rules! call {
    ($f:ident($($arg:expr),*)) => {
        // SAFETY: every pointer argument is a reference to a live, aligned,
        // initialised struct, NULL, or a garbage address the export is known
        // not to read for that input; the export keeps none of them.
        NtStatus(unsafe { windows_sys::Wdk::Graphics::Direct3D::$f($($arg),*) })
    };
}

unsafe extern "system" {
    /// Ours: windows-sys declares the struct but not the function.
    fn D3DKMTCreateSyncFile(args: *mut D3DKMT_CREATESYNCFILE) -> i32;
}

fn traced() -> Kernel {
    let kernel = Kernel::new(KernelConfig::default());
    kernel.trace_start(TraceConfig::default()).unwrap();
    kernel
}

fn calls(kernel: &Kernel) -> Vec<Record> {
    kernel.trace().into_iter().filter(|r| matches!(r.op, Op::Call(_))).collect()
}

fn open_adapter() -> (NtStatus, u32) {
    let mut open = D3DKMT_OPENADAPTERFROMLUID::default();
    open.AdapterLuid.LowPart = 0x1234;
    (call!(D3DKMTOpenAdapterFromLuid(&mut open)), open.hAdapter)
}

fn open() {
    assert_eq!(open_adapter().0, NtStatus::SUCCESS);
}

#[test]
fn tracing_is_off_by_default() {
    let kernel = Kernel::new(KernelConfig::default());
    let process = kernel.create_process();
    process.run(open);
    assert!(!kernel.trace_enabled());
    assert!(kernel.trace().is_empty());
}

#[test]
fn a_call_is_recorded_with_decoded_inputs_and_outputs() {
    let kernel = traced();
    let process = kernel.create_process();
    let (status, adapter) = process.run(open_adapter);
    assert_eq!(status, NtStatus::SUCCESS);
    let records = calls(&kernel);
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r.op, Op::Call(Entry::D3DKMTOpenAdapterFromLuid));
    assert_eq!((r.kernel, r.process, r.thread), (kernel.id(), process.id().0, 1));
    assert_eq!(r.input("AdapterLuid.LowPart"), Some(&Value::Int(0x1234)));
    assert_eq!(r.output("hAdapter"), Some(&Value::Handle(adapter)));
    assert_eq!(r.status, NtStatus::SUCCESS);
    assert!(!r.injected && !r.nested && !r.opaque);
    assert_eq!(
        r.to_string(),
        format!(
            "{} k{} p{} t1 D3DKMTOpenAdapterFromLuid STATUS_SUCCESS real in AdapterLuid.LowPart=0x1234 \
             AdapterLuid.HighPart=0x0 out hAdapter=h:{adapter:#x}",
            r.seq,
            kernel.id(),
            process.id().0
        )
    );
}

#[test]
fn a_failed_call_has_its_status_and_no_outputs() {
    let kernel = traced();
    let process = kernel.create_process();
    let mut query = D3DKMT_QUERYPROTECTEDSESSIONSTATUS { hHandle: 0x4242, Status: 7 };
    let status = process.run(|| call!(D3DKMTQueryProtectedSessionStatus(&mut query)));
    assert_eq!(status, NtStatus::INVALID_PARAMETER);
    let r = calls(&kernel).pop().unwrap();
    assert_eq!(r.status, NtStatus::INVALID_PARAMETER);
    assert_eq!(r.input("hHandle"), Some(&Value::Handle(0x4242)));
    assert!(r.output.is_empty());
}

#[test]
fn a_null_argument_is_recorded_as_such() {
    let kernel = traced();
    let process = kernel.create_process();
    let status = process.run(|| call!(D3DKMTCreateDevice(core::ptr::null_mut())));
    assert_eq!(status, NtStatus::INVALID_PARAMETER);
    let r = calls(&kernel).pop().unwrap();
    assert_eq!(r.input, vec![("args".to_string(), Value::Ptr(false))]);
}

#[test]
fn stubs_are_recorded_opaque() {
    let kernel = traced();
    let process = kernel.create_process();
    let status = process.run(|| call!(D3DKMTCreateOverlay(core::ptr::null_mut())));
    assert_eq!(status, NtStatus::NOT_IMPLEMENTED);
    let r = calls(&kernel).pop().unwrap();
    assert!(r.opaque);
    assert!(r.input.is_empty() && r.output.is_empty());
    assert!(r.to_string().contains("D3DKMTCreateOverlay STATUS_NOT_IMPLEMENTED real+opaque in out"), "{r}");
}

#[test]
fn process_create_and_exit_are_events() {
    let kernel = traced();
    let process = kernel.create_process();
    process.exit();
    process.exit(); // a second exit does nothing, and records nothing
    let ops: Vec<(Op, u32)> = kernel.trace().iter().map(|r| (r.op, r.process)).collect();
    assert_eq!(ops, [(Op::ProcessCreate, process.id().0), (Op::ProcessExit, process.id().0)]);
}

#[test]
fn the_ring_buffer_keeps_the_newest_and_counts_the_dropped() {
    let kernel = Kernel::new(KernelConfig::default());
    kernel.trace_start(TraceConfig { capacity: 3, file: None }).unwrap();
    let process = kernel.create_process(); // record 1
    process.run(|| {
        for _ in 0..4 {
            open(); // records 2..=5
        }
    });
    let seqs: Vec<u64> = kernel.trace().iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [3, 4, 5]);
    assert_eq!(kernel.trace_dropped(), 2);
    assert_eq!(kernel.trace_snapshot().dropped, 2);
    assert!(matches!(kernel.trace_start(TraceConfig { capacity: 0, file: None }), Err(TraceError::ZeroCapacity)));
}

#[test]
fn stop_keeps_the_buffer_and_records_nothing_more() {
    let kernel = traced();
    let process = kernel.create_process();
    process.run(open);
    kernel.trace_stop().unwrap();
    process.run(open);
    assert_eq!(calls(&kernel).len(), 1);
    kernel.trace_clear();
    assert!(kernel.trace().is_empty());
}

#[test]
fn trace_tail_gives_the_last_lines_for_a_failure_message() {
    let kernel = traced();
    let process = kernel.create_process();
    process.run(|| {
        open();
        let mut bad = D3DKMT_QUERYPROTECTEDSESSIONSTATUS { hHandle: 0x99, Status: 0 };
        let _ = call!(D3DKMTQueryProtectedSessionStatus(&mut bad));
    });
    let tail = kernel.trace_tail(2);
    let lines: Vec<&str> = tail.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].contains("D3DKMTOpenAdapterFromLuid STATUS_SUCCESS"));
    assert!(lines[1].contains("D3DKMTQueryProtectedSessionStatus STATUS_INVALID_PARAMETER"));
    assert_eq!(kernel.trace_tail(100).lines().count(), 3); // with process.create
}

#[test]
fn threads_get_small_stable_numbers() {
    let kernel = traced();
    let process = kernel.create_process();
    process.run(open);
    let other = process.clone();
    std::thread::spawn(move || other.run(open)).join().unwrap();
    process.run(open);
    let threads: Vec<u32> = calls(&kernel).iter().map(|r| r.thread).collect();
    assert_eq!(threads, [1, 2, 1]);
}

/// A whole session's calls, written as text, parse back to the same records;
/// a file trace holds the same lines as the buffer.
#[test]
fn lines_parse_back_and_the_file_matches_the_buffer() {
    let kernel = Kernel::new(KernelConfig::default());
    let path = std::env::temp_dir().join(format!("d3dkmt-emu-trace-file-{}.trace", std::process::id()));
    kernel.trace_start(TraceConfig { capacity: 100, file: Some(path.clone()) }).unwrap();
    let a = kernel.create_process();
    let adapter = a.open_adapter_from_luid(kernel.adapter_luids()[0]).unwrap();
    let device = a.create_device(adapter).unwrap();
    let fence = a
        .create_monitored_fence(
            device,
            SyncFlags { shared: true, nt_security_sharing: true, ..SyncFlags::default() },
            0,
        )
        .unwrap();
    a.run(|| {
        let (driver, runtime) = (b"drv", b"run time, with spaces");
        let mut session = D3DKMT_CREATEPROTECTEDSESSION {
            hDevice: device.0,
            hSyncObject: fence.handle.0,
            pPrivateDriverData: driver.as_ptr().cast(),
            PrivateDriverDataSize: 3,
            pPrivateRuntimeData: runtime.as_ptr().cast(),
            PrivateRuntimeDataSize: runtime.len() as u32,
            hHandle: 0,
        };
        assert_eq!(call!(D3DKMTCreateProtectedSession(&mut session)), NtStatus::SUCCESS);
        let values = [5u64];
        let signal = D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU {
            hDevice: device.0,
            ObjectCount: 1,
            ObjectHandleArray: &fence.handle.0,
            FenceValueArray: values.as_ptr(),
            ..Default::default()
        };
        assert_eq!(call!(D3DKMTSignalSynchronizationObjectFromCpu(&signal)), NtStatus::SUCCESS);
    });
    kernel.trace_stop().unwrap();
    let records = kernel.trace();
    for r in &records {
        assert_eq!(r.to_string().parse::<Record>().unwrap(), *r, "{r}");
    }
    let create = records.iter().find(|r| r.op == Op::Call(Entry::D3DKMTCreateProtectedSession)).unwrap();
    assert_eq!(create.input("*pPrivateDriverData"), Some(&Value::Bytes(b"drv".to_vec())));
    assert!(matches!(create.output("session_key"), Some(Value::Key(_))));
    let signal = records.iter().find(|r| r.op == Op::Call(Entry::D3DKMTSignalSynchronizationObjectFromCpu)).unwrap();
    assert_eq!(signal.input("*ObjectHandleArray"), Some(&Value::List(vec![Value::Handle(fence.handle.0)])));
    assert_eq!(signal.input("*FenceValueArray"), Some(&Value::List(vec![Value::Int(5)])));

    let file = d3dkmt_emu::Trace::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(file.records, records);
}

/// The trace reads memory behind pointers only when the export does: these
/// garbage addresses would crash the test if it read them.
#[test]
fn memory_the_export_does_not_read_is_not_read() {
    let kernel = traced();
    let process = kernel.create_process();
    let garbage = 0x10 as *const u32;
    process.run(|| {
        // ObjectCount 0: the arrays are not read.
        let signal = D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU {
            hDevice: 0x40,
            ObjectCount: 0,
            ObjectHandleArray: garbage,
            FenceValueArray: garbage.cast(),
            ..Default::default()
        };
        assert_eq!(call!(D3DKMTSignalSynchronizationObjectFromCpu(&signal)), NtStatus::INVALID_PARAMETER);
        // Bad handles: the blobs are not read.
        let mut session = D3DKMT_CREATEPROTECTEDSESSION {
            hDevice: 0x40,
            hSyncObject: 0x80,
            pPrivateDriverData: garbage.cast(),
            PrivateDriverDataSize: 64,
            pPrivateRuntimeData: garbage.cast(),
            PrivateRuntimeDataSize: 64,
            hHandle: 0,
        };
        assert_eq!(call!(D3DKMTCreateProtectedSession(&mut session)), NtStatus::INVALID_PARAMETER);
        // NULL out-pointer: the objects array is not read.
        let status = NtStatus(unsafe {
            // SAFETY: the export reads no pointer when phSharedNtHandle is NULL.
            windows_sys::Wdk::Graphics::Direct3D::D3DKMTShareObjects(
                1,
                garbage,
                core::ptr::null(),
                0,
                core::ptr::null_mut(),
            )
        });
        assert_eq!(status, NtStatus::INVALID_PARAMETER);
    });
    let records = calls(&kernel);
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].input("*ObjectHandleArray"), None);
    assert_eq!(records[1].input("*pPrivateDriverData"), None);
    assert_eq!(records[1].input("pPrivateDriverData"), Some(&Value::Ptr(true)));
    assert_eq!(records[2].input("*hObjects"), None);
}

/// A KMD that calls back into the kernel from inside a call: its event is
/// marked nested.
#[test]
fn a_kmd_callback_inside_a_call_is_nested() {
    struct Invalidating(std::sync::Mutex<Option<d3dkmt_emu::WeakKernel>>);
    impl d3dkmt_emu::Kmd for Invalidating {
        fn create_protected_session(&self, args: &mut d3dkmt_emu::CreateSessionArgs<'_>) -> Result<u64, NtStatus> {
            Ok(args.session.0)
        }
        fn destroy_protected_session(&self, _: d3dkmt_emu::Luid, kmd_session: u64) {
            let kernel = self.0.lock().unwrap().as_ref().and_then(d3dkmt_emu::WeakKernel::upgrade).unwrap();
            let _ = kernel
                .set_protected_session_status(d3dkmt_emu::SessionKey(kmd_session), d3dkmt_emu::SessionStatus::Invalid);
        }
    }
    let kernel = traced();
    let kmd = std::sync::Arc::new(Invalidating(std::sync::Mutex::new(Some(kernel.downgrade()))));
    kernel.set_kmd(kmd);
    let process = kernel.create_process();
    let adapter = process.open_adapter_from_luid(kernel.adapter_luids()[0]).unwrap();
    let device = process.create_device(adapter).unwrap();
    let fence = process.create_monitored_fence(device, SyncFlags::default(), 0).unwrap();
    let session = process.create_protected_session(device, fence.handle, b"", b"").unwrap();
    let mut destroy = D3DKMT_DESTROYPROTECTEDSESSION { hHandle: session.0 };
    assert_eq!(process.run(|| call!(D3DKMTDestroyProtectedSession(&mut destroy))), NtStatus::SUCCESS);
    let records = kernel.trace();
    let event = records.iter().find(|r| r.op == Op::SessionStatus).expect("the KMD's call");
    assert!(event.nested, "{}", kernel.trace_tail(5));
    let destroy = records.iter().find(|r| r.op == Op::Call(Entry::D3DKMTDestroyProtectedSession)).unwrap();
    assert!(!destroy.nested);
}

#[test]
fn the_c_api_starts_reads_and_saves() {
    let kernel = d3dkmt_emu_kernel_create(core::ptr::null());
    assert_eq!(d3dkmt_emu_trace_start(core::ptr::null(), 8, core::ptr::null()), NtStatus::INVALID_PARAMETER.0);
    assert_eq!(d3dkmt_emu_trace_start(kernel, 0, core::ptr::null()), NtStatus::INVALID_PARAMETER.0);
    assert_eq!(d3dkmt_emu_trace_start(kernel, 8, core::ptr::null()), NtStatus::SUCCESS.0);
    let process = d3dkmt_emu_process_create(kernel);
    let bound = d3dkmt_emu_thread_bind(process);
    open();
    d3dkmt_emu_thread_unbind(bound);
    assert_eq!(d3dkmt_emu_trace_count(kernel), 2);
    let mut buffer = [0u8; 256];
    let n = d3dkmt_emu_trace_record(kernel, 1, buffer.as_mut_ptr().cast(), buffer.len());
    let line = std::str::from_utf8(&buffer[..n]).unwrap().to_owned();
    assert!(line.contains("D3DKMTOpenAdapterFromLuid STATUS_SUCCESS real"), "{line}");
    assert_eq!(buffer[n], 0);
    assert_eq!(d3dkmt_emu_trace_record(kernel, 2, buffer.as_mut_ptr().cast(), buffer.len()), 0);
    let full = d3dkmt_emu_trace_tail(kernel, 2, core::ptr::null_mut(), 0);
    assert!(full > n);
    let n = d3dkmt_emu_trace_tail(kernel, 1, buffer.as_mut_ptr().cast(), buffer.len());
    assert_eq!(std::str::from_utf8(&buffer[..n]).unwrap(), format!("{line}\n"));
    let path = std::env::temp_dir().join(format!("d3dkmt-emu-trace-c-{}.trace", std::process::id()));
    let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    assert_eq!(d3dkmt_emu_trace_save(kernel, c_path.as_ptr()), NtStatus::SUCCESS.0);
    assert_eq!(d3dkmt_emu_trace_save(kernel, core::ptr::null()), NtStatus::INVALID_PARAMETER.0);
    let saved = d3dkmt_emu::Trace::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(saved.records.len(), 2);
    assert_eq!(d3dkmt_emu_trace_stop(kernel), NtStatus::SUCCESS.0);
    d3dkmt_emu_trace_clear(kernel);
    assert_eq!(d3dkmt_emu_trace_count(kernel), 0);
    assert_eq!(d3dkmt_emu_trace_count(core::ptr::null()), 0);
    d3dkmt_emu_process_release(process);
    d3dkmt_emu_kernel_release(kernel);
}

/// With the `tracing` feature, every record is also a `tracing` event.
#[cfg(feature = "tracing")]
#[test]
fn each_record_is_a_tracing_event() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    struct Count(Arc<AtomicUsize>);
    impl tracing::Subscriber for Count {
        fn enabled(&self, m: &tracing::Metadata<'_>) -> bool {
            m.target() == "d3dkmt_emu::trace"
        }
        fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, _: &tracing::Event<'_>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }
    let count = Arc::new(AtomicUsize::new(0));
    let dispatch = tracing::Dispatch::new(Count(Arc::clone(&count)));
    // With a single dispatcher registered, tracing-core takes a callsite's
    // interest from the default dispatcher of whichever thread first hits
    // it: another test's thread, with none, caches "never" and this test
    // sees no event (it failed about one run in five under load). A second
    // dispatcher kept alive makes it ask every registered one; the rebuild
    // fixes an interest cached before.
    let _second = tracing::Dispatch::new(Count(Arc::new(AtomicUsize::new(0))));
    tracing::callsite::rebuild_interest_cache();
    tracing::dispatcher::with_default(&dispatch, || {
        let kernel = traced();
        let process = kernel.create_process();
        process.run(open);
        assert_eq!(count.load(Ordering::SeqCst), kernel.trace().len());
    });
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

/// The decoders of the adapter, VidPn, keyed-mutex, resource and by-name
/// entry points read nothing the export does not: these garbage addresses
/// would crash the test if the trace read them.
#[test]
fn the_newer_decoders_read_no_memory_the_export_does_not_read() {
    let kernel = traced();
    let process = kernel.create_process();
    let garbage = 0x10 as *mut u32;
    process.run(|| {
        // A bad adapter: the device-ids input is not read.
        let mut info = D3DKMT_QUERYADAPTERINFO {
            hAdapter: 0x40,
            Type: KMTQAITYPE_PHYSICALADAPTERDEVICEIDS,
            pPrivateDriverData: garbage.cast(),
            PrivateDriverDataSize: size_of::<D3DKMT_QUERY_DEVICE_IDS>() as u32,
        };
        assert_eq!(call!(D3DKMTQueryAdapterInfo(&mut info)), NtStatus::INVALID_PARAMETER);
        // A bad device: the owner arrays are not read.
        let owner = D3DKMT_SETVIDPNSOURCEOWNER {
            hDevice: 0x40,
            pType: garbage.cast(),
            pVidPnSourceId: garbage,
            VidPnSourceCount: 1,
        };
        assert_eq!(call!(D3DKMTSetVidPnSourceOwner(&owner)), NtStatus::INVALID_PARAMETER);
        // NULL runtime data with a size: the timeout is not read.
        let mut acquire = D3DKMT_ACQUIREKEYEDMUTEX2 {
            hKeyedMutex: 0x40,
            pTimeout: garbage.cast(),
            PrivateRuntimeDataSize: 4,
            ..Default::default()
        };
        assert_eq!(call!(D3DKMTAcquireKeyedMutex2(&mut acquire)), NtStatus::INVALID_PARAMETER);
        // No StandardAllocation: the description and the infos are not read.
        let mut create = D3DKMT_CREATEALLOCATION { hDevice: 0x40, NumAllocations: 1, ..Default::default() };
        create.Anonymous1.pStandardAllocation = garbage.cast();
        create.Anonymous2.pAllocationInfo2 = garbage.cast();
        assert_eq!(call!(D3DKMTCreateAllocation2(&mut create)), NtStatus::INVALID_PARAMETER);
        // Count 0: the list is not read (and no resource: a no-op).
        let destroy = D3DKMT_DESTROYALLOCATION { hDevice: 0x40, phAllocationList: garbage, ..Default::default() };
        let _ = call!(D3DKMTDestroyAllocation(&destroy));
        // A bad OBJECT_ATTRIBUTES.Length: the name is not read.
        let mut attributes = windows_sys::Wdk::Foundation::OBJECT_ATTRIBUTES {
            Length: 1,
            ObjectName: garbage.cast(),
            ..Default::default()
        };
        let mut by_name = D3DKMT_OPENNTHANDLEFROMNAME {
            dwDesiredAccess: 0,
            pObjAttrib: &mut attributes,
            hNtHandle: core::ptr::null_mut(),
        };
        assert_eq!(call!(D3DKMTOpenNtHandleFromName(&mut by_name)), NtStatus::INVALID_PARAMETER);
    });
    let records = calls(&kernel);
    assert_eq!(records.len(), 6);
    assert_eq!(records[0].input("*pPrivateDriverData"), None);
    assert_eq!(records[1].input("*pType"), None);
    assert_eq!(records[1].input("*pVidPnSourceId"), None);
    assert_eq!(records[2].input("*pTimeout"), None);
    assert!(records[3].input.iter().all(|(n, _)| !n.contains("->")), "{}", records[3]);
    assert_eq!(records[4].input("*phAllocationList"), None);
    assert_eq!(records[5].input("pObjAttrib->ObjectName"), None);
}

fn utf16z(s: &str) -> Vec<u16> {
    s.encode_utf16().chain([0]).collect()
}

/// Inputs the export reads first (names, timeouts, arrays, the device-ids
/// input) are recorded before the call, so failed calls keep them and
/// replay with the same status; the trace of these calls replays clean.
#[test]
fn inputs_read_first_are_recorded_for_failed_calls_and_replay() {
    let kernel = traced();
    let process = kernel.create_process();
    process.run(|| {
        let (status, adapter) = open_adapter();
        assert_eq!(status, NtStatus::SUCCESS);
        // The GDI name is inline text.
        let mut gdi = D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME::default();
        for (slot, unit) in gdi.DeviceName.iter_mut().zip("\\\\.\\DISPLAY1".encode_utf16()) {
            *slot = unit;
        }
        assert_eq!(call!(D3DKMTOpenAdapterFromGdiDisplayName(&mut gdi)), NtStatus::SUCCESS);
        let mut unknown = D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME::default();
        unknown.DeviceName[..4].copy_from_slice(&[0x5C, 0x5C, 0x2E, 0x5C]);
        assert_eq!(call!(D3DKMTOpenAdapterFromGdiDisplayName(&mut unknown)), NtStatus::UNSUCCESSFUL);
        // A device path nobody has.
        let path = utf16z("\\\\?\\nowhere#{1ca05180-a699-450a-9a0c-de4fbe3ddd89}");
        let mut by_path = D3DKMT_OPENADAPTERFROMDEVICENAME { pDeviceName: path.as_ptr(), ..Default::default() };
        assert_eq!(call!(D3DKMTOpenAdapterFromDeviceName(&mut by_path)), NtStatus::INVALID_PARAMETER);
        // Device ids of physical adapter 1: refused, with its input recorded.
        let mut ids = D3DKMT_QUERY_DEVICE_IDS { PhysicalAdapterIndex: 1, ..Default::default() };
        let mut info = D3DKMT_QUERYADAPTERINFO {
            hAdapter: adapter,
            Type: KMTQAITYPE_PHYSICALADAPTERDEVICEIDS,
            pPrivateDriverData: (&mut ids as *mut D3DKMT_QUERY_DEVICE_IDS).cast(),
            PrivateDriverDataSize: size_of::<D3DKMT_QUERY_DEVICE_IDS>() as u32,
        };
        assert_eq!(call!(D3DKMTQueryAdapterInfo(&mut info)), NtStatus::INVALID_PARAMETER);
        let mut ids = D3DKMT_QUERY_DEVICE_IDS::default();
        info.pPrivateDriverData = (&mut ids as *mut D3DKMT_QUERY_DEVICE_IDS).cast();
        assert_eq!(call!(D3DKMTQueryAdapterInfo(&mut info)), NtStatus::SUCCESS);
        let mut memory = D3DKMT_QUERYVIDEOMEMORYINFO { hAdapter: adapter, ..Default::default() };
        assert_eq!(call!(D3DKMTQueryVideoMemoryInfo(&mut memory)), NtStatus::SUCCESS);
        // VidPn ownership: a bad type is refused after the arrays are read.
        let mut device = D3DKMT_CREATEDEVICE::default();
        device.Anonymous.hAdapter = adapter;
        assert_eq!(call!(D3DKMTCreateDevice(&mut device)), NtStatus::SUCCESS);
        let (bad, exclusive, source) = (99i32, D3DKMT_VIDPNSOURCEOWNER_EXCLUSIVE, 0u32);
        let mut owner = D3DKMT_SETVIDPNSOURCEOWNER {
            hDevice: device.hDevice,
            pType: &bad,
            pVidPnSourceId: &source,
            VidPnSourceCount: 1,
        };
        assert_eq!(call!(D3DKMTSetVidPnSourceOwner(&owner)), NtStatus::INVALID_PARAMETER);
        owner.pType = &exclusive;
        assert_eq!(call!(D3DKMTSetVidPnSourceOwner(&owner)), NtStatus::SUCCESS);
        let check = D3DKMT_CHECKVIDPNEXCLUSIVEOWNERSHIP { hAdapter: adapter, VidPnSourceId: 0 };
        let _ = call!(D3DKMTCheckVidPnExclusiveOwnership(&check));
        // A name nobody shared.
        let name = utf16z("\\BaseNamedObjects\\Nothing");
        let mut string = windows_sys::Win32::Foundation::UNICODE_STRING {
            Length: ((name.len() - 1) * 2) as u16,
            MaximumLength: (name.len() * 2) as u16,
            Buffer: name.as_ptr().cast_mut(),
        };
        let mut attributes = windows_sys::Wdk::Foundation::OBJECT_ATTRIBUTES {
            Length: size_of::<windows_sys::Wdk::Foundation::OBJECT_ATTRIBUTES>() as u32,
            ObjectName: &mut string,
            ..Default::default()
        };
        let mut by_name = D3DKMT_OPENNTHANDLEFROMNAME {
            dwDesiredAccess: 0x1000_0000,
            pObjAttrib: &mut attributes,
            hNtHandle: core::ptr::null_mut(),
        };
        let not_found = call!(D3DKMTOpenNtHandleFromName(&mut by_name));
        assert!(!not_found.is_ok());
        // A v1 semaphore and a keyed mutex shared by global handle.
        let mut semaphore = D3DKMT_CREATESYNCHRONIZATIONOBJECT { hDevice: device.hDevice, ..Default::default() };
        semaphore.Info.Type = D3DDDI_SEMAPHORE;
        semaphore.Info.Anonymous.Semaphore = D3DDDI_SYNCHRONIZATIONOBJECTINFO_0_1 { MaxCount: 4, InitialCount: 1 };
        assert_eq!(call!(D3DKMTCreateSynchronizationObject(&mut semaphore)), NtStatus::SUCCESS);
        let mut mutex = D3DKMT_CREATEKEYEDMUTEX::default();
        assert_eq!(call!(D3DKMTCreateKeyedMutex(&mut mutex)), NtStatus::SUCCESS);
        let mut open = D3DKMT_OPENKEYEDMUTEX2 { hSharedHandle: mutex.hSharedHandle, ..Default::default() };
        assert_eq!(call!(D3DKMTOpenKeyedMutex2(&mut open)), NtStatus::SUCCESS);
        let mut timeout = 0i64;
        let mut acquire =
            D3DKMT_ACQUIREKEYEDMUTEX { hKeyedMutex: open.hKeyedMutex, Key: 3, pTimeout: &mut timeout, FenceValue: 0 };
        assert_eq!(call!(D3DKMTAcquireKeyedMutex(&mut acquire)), NtStatus::TIMEOUT);
        // An allocation on a garbage hResource (WINE #74): refused after its
        // description and allocation info were read.
        let mut memory = vec![0u64; 0x1000 / 8];
        let mut standard =
            D3DKMT_CREATESTANDARDALLOCATION { Type: D3DKMT_STANDARDALLOCATIONTYPE_EXISTINGHEAP, ..Default::default() };
        standard.Anonymous.ExistingHeapData.Size = 0x1000;
        let mut allocation = D3DDDI_ALLOCATIONINFO { pSystemMem: memory.as_mut_ptr().cast(), ..Default::default() };
        let mut create = D3DKMT_CREATEALLOCATION {
            hDevice: device.hDevice,
            hResource: 0x1234_5678,
            NumAllocations: 1,
            ..Default::default()
        };
        create.Flags._bitfield = 0x20 | 0x1_0000; // ExistingSysMem | StandardAllocation
        create.Anonymous1.pStandardAllocation = &mut standard;
        create.Anonymous2.pAllocationInfo = &mut allocation;
        assert_eq!(call!(D3DKMTCreateAllocation(&mut create)), NtStatus::INVALID_HANDLE);
        create.hResource = 0;
        assert_eq!(call!(D3DKMTCreateAllocation(&mut create)), NtStatus::SUCCESS);
        let list = [allocation.hAllocation];
        let destroy = D3DKMT_DESTROYALLOCATION {
            hDevice: device.hDevice,
            phAllocationList: list.as_ptr(),
            AllocationCount: 1,
            ..Default::default()
        };
        assert_eq!(call!(D3DKMTDestroyAllocation(&destroy)), NtStatus::SUCCESS);
    });
    let records = calls(&kernel);
    let find = |entry: Entry, status: NtStatus| {
        records.iter().find(|r| r.op == Op::Call(entry) && r.status == status).unwrap_or_else(|| panic!("{entry:?}"))
    };
    let gdi = find(Entry::D3DKMTOpenAdapterFromGdiDisplayName, NtStatus::SUCCESS);
    assert_eq!(gdi.input("DeviceName"), Some(&Value::Str("\\\\.\\DISPLAY1".into())));
    let unknown = find(Entry::D3DKMTOpenAdapterFromGdiDisplayName, NtStatus::UNSUCCESSFUL);
    assert_eq!(unknown.input("DeviceName"), Some(&Value::Str("\\\\.\\".into())));
    let by_path = find(Entry::D3DKMTOpenAdapterFromDeviceName, NtStatus::INVALID_PARAMETER);
    assert!(matches!(by_path.input("*pDeviceName"), Some(Value::Str(s)) if s.starts_with("\\\\?\\nowhere#")));
    let ids = find(Entry::D3DKMTQueryAdapterInfo, NtStatus::INVALID_PARAMETER);
    assert!(matches!(ids.input("*pPrivateDriverData"), Some(Value::Bytes(b)) if b[..4] == [1, 0, 0, 0]));
    let owner = find(Entry::D3DKMTSetVidPnSourceOwner, NtStatus::INVALID_PARAMETER);
    assert_eq!(owner.input("*pType"), Some(&Value::List(vec![Value::Int(99)])));
    let by_name = records.iter().find(|r| r.op == Op::Call(Entry::D3DKMTOpenNtHandleFromName)).unwrap();
    assert_eq!(by_name.input("pObjAttrib->ObjectName"), Some(&Value::Str("\\BaseNamedObjects\\Nothing".into())));
    let created = find(Entry::D3DKMTCreateKeyedMutex, NtStatus::SUCCESS);
    assert!(matches!(created.output("hSharedHandle"), Some(Value::Global(g)) if *g != 0));
    let timed_out = find(Entry::D3DKMTAcquireKeyedMutex, NtStatus::TIMEOUT);
    assert_eq!(timed_out.input("*pTimeout"), Some(&Value::Int(0)));
    let refused = find(Entry::D3DKMTCreateAllocation, NtStatus::INVALID_HANDLE);
    assert_eq!(refused.input("pStandardAllocation->Type"), Some(&Value::Int(1)));
    assert_eq!(refused.input("pAllocationInfo->pSystemMem"), Some(&Value::Ptr(true)));
    let created = find(Entry::D3DKMTCreateAllocation, NtStatus::SUCCESS);
    assert!(matches!(created.output("pAllocationInfo->hAllocation"), Some(Value::Handle(h)) if *h != 0));
    let summary = d3dkmt_emu::replay::replay(&kernel.trace_snapshot()).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(summary.replayed, summary.records);
}

/// The GPU-work decoders read nothing the export does not: each call below
/// is refused before the export reads the memory behind these garbage
/// addresses, which would crash the test if the trace read them.
#[test]
fn the_gpu_decoders_read_no_memory_the_export_does_not_read() {
    let kernel = traced();
    let process = kernel.create_process();
    let garbage = 0x10 as *mut u32;
    let context = 0x40u32;
    process.run(|| {
        // No queues: the object arrays are not read.
        let signal_hw = D3DKMT_SUBMITSIGNALSYNCOBJECTSTOHWQUEUE {
            BroadcastHwQueueCount: 0,
            BroadcastHwQueueArray: garbage,
            ObjectCount: 1,
            ObjectHandleArray: garbage,
            FenceValueArray: garbage.cast(),
            ..Default::default()
        };
        assert_eq!(call!(D3DKMTSubmitSignalSyncObjectsToHwQueue(&signal_hw)), NtStatus::INVALID_PARAMETER);
        // EnqueueCpuEvent: refused before the object arrays are read.
        let mut signal2 = D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU2 {
            ObjectCount: 1,
            ObjectHandleArray: garbage,
            BroadcastContextCount: 1,
            BroadcastContextArray: &context,
            ..Default::default()
        };
        signal2.Flags.Anonymous.Value = 0x4;
        signal2.Anonymous.MonitoredFenceValueArray = garbage.cast();
        assert_eq!(call!(D3DKMTSignalSynchronizationObjectFromGpu2(&signal2)), NtStatus::NOT_IMPLEMENTED);
        // No broadcast context, then 17 primaries: the driver data is not read.
        let mut submit = D3DKMT_SUBMITCOMMAND {
            BroadcastContextCount: 0,
            pPrivateDriverData: garbage.cast(),
            PrivateDriverDataSize: 4,
            ..Default::default()
        };
        assert_eq!(call!(D3DKMTSubmitCommand(&submit)), NtStatus::INVALID_PARAMETER);
        submit.BroadcastContextCount = 1;
        submit.NumPrimaries = 17;
        assert_eq!(call!(D3DKMTSubmitCommand(&submit)), NtStatus::INVALID_PARAMETER);
        // An escape of size 0: its buffer is not read.
        let escape = D3DKMT_ESCAPE { pPrivateDriverData: garbage.cast(), ..Default::default() };
        assert_eq!(call!(D3DKMTEscape(&escape)), NtStatus::INVALID_PARAMETER);
        // Hardware contexts refused by policy: nothing read.
        let mut hw = D3DKMT_CREATEHWCONTEXT {
            pPrivateDriverData: garbage.cast(),
            PrivateDriverDataSize: 4,
            ..Default::default()
        };
        assert_eq!(call!(D3DKMTCreateHwContext(&mut hw)), NtStatus::NOT_IMPLEMENTED);
        // Too much driver data (over 64 KiB): not read. (A replay passes
        // zeros of the size given, up to 1 MiB.)
        let mut legacy = D3DKMT_CREATECONTEXT {
            pPrivateDriverData: garbage.cast(),
            PrivateDriverDataSize: 0x1_0001,
            ..Default::default()
        };
        assert_eq!(call!(D3DKMTCreateContext(&mut legacy)), NtStatus::INVALID_PARAMETER);
        // Count 0, then NULL handles: the value array is not read.
        let mut wait = D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMGPU {
            hContext: context,
            ObjectHandleArray: garbage,
            ..Default::default()
        };
        wait.Anonymous.MonitoredFenceValueArray = garbage.cast();
        assert_eq!(call!(D3DKMTWaitForSynchronizationObjectFromGpu(&wait)), NtStatus::INVALID_PARAMETER);
        let mut signal =
            D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU { hContext: context, ObjectCount: 1, ..Default::default() };
        signal.Anonymous.MonitoredFenceValueArray = garbage.cast();
        assert_eq!(call!(D3DKMTSignalSynchronizationObjectFromGpu(&signal)), NtStatus::INVALID_PARAMETER);
    });
    let records = calls(&kernel);
    assert_eq!(records.len(), 9);
    assert_eq!(records[0].input("*BroadcastHwQueueArray"), None);
    assert_eq!(records[0].input("*ObjectHandleArray"), None);
    assert_eq!(records[0].input("*FenceValueArray"), None);
    // The context array was read (and recorded); the objects were not.
    assert_eq!(records[1].input("*BroadcastContextArray"), Some(&Value::List(vec![Value::Handle(context)])));
    assert_eq!(records[1].input("*ObjectHandleArray"), None);
    assert_eq!(records[1].input("*MonitoredFenceValueArray"), None);
    for r in &records[2..7] {
        assert_eq!(r.input("*pPrivateDriverData"), None, "{r}");
    }
    assert_eq!(records[2].input("BroadcastContext"), None, "count 0: no elements");
    assert_eq!(records[3].input("BroadcastContext"), Some(&Value::List(vec![Value::Handle(0)])));
    assert_eq!(records[7].input("*ObjectHandleArray"), None);
    assert_eq!(records[8].input("*MonitoredFenceValueArray"), None);
    // And the trace of these refusals replays with their statuses.
    let summary = d3dkmt_emu::replay::replay(&kernel.trace_snapshot()).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(summary.replayed, summary.records);
}

/// GPU-work inputs the export reads before it looks anything up (driver
/// data, object and context arrays, inline handle arrays) are recorded for
/// failed calls too; outputs (the escape's answer, the statistics) after a
/// successful one; and the trace replays clean.
#[test]
fn gpu_inputs_read_first_are_recorded_for_failed_calls_and_replay() {
    let kernel = traced();
    let process = kernel.create_process();
    process.run(|| {
        let (status, adapter) = open_adapter();
        assert_eq!(status, NtStatus::SUCCESS);
        let mut device = D3DKMT_CREATEDEVICE::default();
        device.Anonymous.hAdapter = adapter;
        assert_eq!(call!(D3DKMTCreateDevice(&mut device)), NtStatus::SUCCESS);
        // An escape on a bad adapter: its data was read first.
        let mut data = *b"knock";
        let mut escape = D3DKMT_ESCAPE {
            hAdapter: 0x1234,
            Type: D3DKMT_ESCAPE_DRIVERPRIVATE,
            pPrivateDriverData: data.as_mut_ptr().cast(),
            PrivateDriverDataSize: data.len() as u32,
            ..Default::default()
        };
        assert_eq!(call!(D3DKMTEscape(&escape)), NtStatus::INVALID_PARAMETER);
        escape.hAdapter = adapter;
        assert_eq!(call!(D3DKMTEscape(&escape)), NtStatus::SUCCESS);
        // A legacy context on node 7 (no such engine): refused after its
        // driver data was read.
        let mut legacy_data = *b"abc";
        let mut legacy = D3DKMT_CREATECONTEXT {
            hDevice: device.hDevice,
            NodeOrdinal: 7,
            pPrivateDriverData: legacy_data.as_mut_ptr().cast(),
            PrivateDriverDataSize: legacy_data.len() as u32,
            ..Default::default()
        };
        assert_eq!(call!(D3DKMTCreateContext(&mut legacy)), NtStatus::INVALID_PARAMETER);
        // v2 on a garbage context with two broadcast targets.
        let mut signal2 = D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2 { hContext: 0x99, ObjectCount: 1, ..Default::default() };
        signal2.ObjectHandleArray[0] = 0x77;
        signal2.BroadcastContextCount = 2;
        signal2.BroadcastContext[..2].copy_from_slice(&[0x99, 0x98]);
        signal2.Anonymous.Fence.FenceValue = 5;
        assert_eq!(call!(D3DKMTSignalSynchronizationObject2(&signal2)), NtStatus::INVALID_PARAMETER);
        // A sync file on a garbage fence.
        let mut sync_file =
            D3DKMT_CREATESYNCFILE { hDevice: device.hDevice, hMonitoredFence: 0x55, ..Default::default() };
        // SAFETY: a live, aligned struct; the export keeps nothing.
        assert_eq!(NtStatus(unsafe { D3DKMTCreateSyncFile(&mut sync_file) }), NtStatus::INVALID_PARAMETER);
        // Statistics of another process: refused; of the adapter: answered.
        let luid = windows_sys::Win32::Foundation::LUID { LowPart: 0x1234, HighPart: 0 };
        let mut statistics = D3DKMT_QUERYSTATISTICS {
            Type: D3DKMT_QUERYSTATISTICS_PROCESS_ADAPTER,
            AdapterLuid: luid,
            hProcess: 0x44 as _,
            ..Default::default()
        };
        assert_eq!(call!(D3DKMTQueryStatistics(&statistics)), NtStatus::NOT_IMPLEMENTED);
        statistics.hProcess = core::ptr::null_mut();
        assert_eq!(call!(D3DKMTQueryStatistics(&statistics)), NtStatus::SUCCESS);
    });
    let records = calls(&kernel);
    let find = |entry: Entry, status: NtStatus| {
        records.iter().find(|r| r.op == Op::Call(entry) && r.status == status).unwrap_or_else(|| panic!("{entry:?}"))
    };
    let refused = find(Entry::D3DKMTEscape, NtStatus::INVALID_PARAMETER);
    assert_eq!(refused.input("*pPrivateDriverData"), Some(&Value::Bytes(b"knock".to_vec())));
    assert!(refused.output.is_empty());
    let answered = find(Entry::D3DKMTEscape, NtStatus::SUCCESS);
    assert_eq!(answered.output("*pPrivateDriverData"), Some(&Value::Bytes(b"knock".to_vec())));
    let legacy = find(Entry::D3DKMTCreateContext, NtStatus::INVALID_PARAMETER);
    assert_eq!(legacy.input("*pPrivateDriverData"), Some(&Value::Bytes(b"abc".to_vec())));
    let signal2 = find(Entry::D3DKMTSignalSynchronizationObject2, NtStatus::INVALID_PARAMETER);
    assert_eq!(signal2.input("ObjectHandleArray"), Some(&Value::List(vec![Value::Handle(0x77)])));
    assert_eq!(signal2.input("BroadcastContext"), Some(&Value::List(vec![Value::Handle(0x99), Value::Handle(0x98)])));
    assert_eq!(signal2.input("Anonymous.Fence.FenceValue"), Some(&Value::Int(5)));
    let sync_file = find(Entry::D3DKMTCreateSyncFile, NtStatus::INVALID_PARAMETER);
    assert_eq!(sync_file.input("hMonitoredFence"), Some(&Value::Handle(0x55)));
    assert_eq!(sync_file.output("hSyncFile"), None);
    let statistics = find(Entry::D3DKMTQueryStatistics, NtStatus::SUCCESS);
    // NbSegments, NodeCount and VidPnSourceCount lead; the zeros after them
    // are left off.
    assert!(
        matches!(statistics.output("QueryResult"), Some(Value::Bytes(b)) if b.len() <= 12 && b.len() > 8),
        "{statistics}"
    );
    let summary = d3dkmt_emu::replay::replay(&kernel.trace_snapshot()).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(summary.replayed, summary.records);
}
