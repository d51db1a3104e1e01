//! `CloseHandle` and `DuplicateHandle` under their Win32 names (feature
//! `win32-handles`), called through windows-sys's own declarations, as code
//! written against Windows calls them.
#![cfg(feature = "win32-handles")]
#![allow(unsafe_code, reason = "calls the C ABI as a windows-sys client does")]

use d3dkmt_emu::{Kernel, KernelConfig, NtHandle, SyncFlags, access};
use windows_sys::Win32::Foundation::{
    CloseHandle, DUPLICATE_CLOSE_SOURCE, DUPLICATE_SAME_ACCESS, DuplicateHandle, HANDLE,
};

unsafe extern "C" {
    /// From the control API (`include/d3dkmt_emu.h`, under `D3DKMT_EMU_WIN32_HANDLES`).
    fn d3dkmt_emu_process_win32_handle(process: *const core::ffi::c_void) -> HANDLE;
    fn d3dkmt_emu_process_create(kernel: *const core::ffi::c_void) -> *mut core::ffi::c_void;
    fn d3dkmt_emu_kernel_create(config: *const core::ffi::c_void) -> *mut core::ffi::c_void;
    fn d3dkmt_emu_process_release(process: *mut core::ffi::c_void);
    fn d3dkmt_emu_kernel_release(kernel: *mut core::ffi::c_void);
    fn d3dkmt_emu_thread_bind(process: *const core::ffi::c_void) -> *mut core::ffi::c_void;
    fn d3dkmt_emu_thread_unbind(binding: *mut core::ffi::c_void) -> i32;
}

const CURRENT_PROCESS: HANDLE = -1isize as HANDLE;

#[test]
fn close_handle_closes_our_nt_handles_once() {
    let kernel = Kernel::new(KernelConfig::default());
    let p = kernel.create_process();
    let _bound = p.enter();
    let device = p.create_device(p.open_adapter_from_luid(kernel.adapter_luids()[0]).unwrap()).unwrap();
    let shared = SyncFlags { shared: true, nt_security_sharing: true, ..SyncFlags::default() };
    let fence = p.create_monitored_fence(device, shared, 0).unwrap().handle;
    let nt = p.share_objects(&[fence], None, access::SYNC_ALL_ACCESS).unwrap();
    // SAFETY: plain values; CloseHandle takes no pointer.
    assert_eq!(unsafe { CloseHandle(nt.as_ptr()) }, 1);
    // SAFETY: as above.
    assert_eq!(unsafe { CloseHandle(nt.as_ptr()) }, 0, "a closed handle closes no more");
    assert_eq!(d3dkmt_emu::last_error().map(|(e, _)| e.name()), Some("CloseHandle"));
}

#[test]
fn duplicate_handle_crosses_virtual_processes() {
    // SAFETY: NULL asks for the default configuration; the results are
    // released below, once each.
    let (k, a, b) = unsafe {
        let k = d3dkmt_emu_kernel_create(core::ptr::null());
        (k, d3dkmt_emu_process_create(k), d3dkmt_emu_process_create(k))
    };
    // SAFETY: `a` and `b` are live process references.
    let (ha, hb) = unsafe { (d3dkmt_emu_process_win32_handle(a), d3dkmt_emu_process_win32_handle(b)) };
    // SAFETY: `a` is a live process reference; the binding is undone below.
    let binding = unsafe { d3dkmt_emu_thread_bind(a) };
    let pa = d3dkmt_emu::current_process();
    let kernel = pa.kernel();
    let device = pa.create_device(pa.open_adapter_from_luid(kernel.adapter_luids()[0]).unwrap()).unwrap();
    let fence = pa.create_monitored_fence(device, SyncFlags::default(), 0).unwrap().handle;
    let session = pa.create_protected_session(device, fence, b"d", b"r").unwrap();
    let nt = pa.share_objects(&[session], None, access::GENERIC_ALL).unwrap();
    let mut in_b: HANDLE = core::ptr::null_mut();
    // SAFETY: `in_b` is a live out-pointer; the rest are values.
    let ok = unsafe {
        DuplicateHandle(
            CURRENT_PROCESS,
            nt.as_ptr(),
            hb,
            &mut in_b,
            0,
            0,
            DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE,
        )
    };
    assert_eq!(ok, 1, "{:?}", d3dkmt_emu::last_error());
    assert_eq!(pa.nt_handle_count(), 0, "DUPLICATE_CLOSE_SOURCE closed A's handle");
    let pb = kernel.processes().into_iter().find(|p| p.id() != pa.id() && p.nt_handle_count() == 1).unwrap();
    assert!(pb.open_protected_session_from_nt_handle(NtHandle::from_ptr(in_b)).is_ok());
    // A process handle names its own kernel's process only.
    let other = Kernel::new(KernelConfig::default()).create_process();
    let other_binding = other.enter();
    let mut out: HANDLE = core::ptr::null_mut();
    // SAFETY: as above.
    let ok = unsafe { DuplicateHandle(ha, in_b, CURRENT_PROCESS, &mut out, 0, 0, DUPLICATE_SAME_ACCESS) };
    assert_eq!(ok, 0, "a process handle of another kernel is refused");
    drop(other_binding);
    // SAFETY: each reference made above is released once; the binding is
    // undone on the thread that made it.
    unsafe {
        assert_eq!(d3dkmt_emu_thread_unbind(binding), 0);
        d3dkmt_emu_process_release(a);
        d3dkmt_emu_process_release(b);
        d3dkmt_emu_kernel_release(k);
    }
}
