//! The `d3dkmt_emu_*` control API: kernels, processes, thread binding, the
//! fake KMD, NT-handle close and duplicate. Declared in `include/d3dkmt_emu.h`,
//! which states ownership and thread rules for each function.
//!
//! Ownership: every `d3dkmt_emu_kernel*` and `d3dkmt_emu_process*` a function
//! returns is a new reference the caller releases exactly once with the
//! matching `_release`. Functions that take one borrow it.
#![allow(non_camel_case_types, reason = "the C names")]

use core::ffi::{c_char, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use windows_sys::Win32::Foundation::{HANDLE, LUID, NTSTATUS};

use super::ptr::{self, ForeignContext};
use crate::adapter::{AdapterConfig, AdapterKind};
use crate::error::{KResult, KernelError};
use crate::handle::{LocalHandle, NtHandle};
use crate::kmd::{CreateSessionArgs, Kmd, SessionKey, SessionStatus};
use crate::live::ObjectKind;
use crate::policy::{
    AdapterClose, DeviceDestroySessions, DuplicateAccess, FenceRegression, HandleNumbering, HandleReuse,
};
use crate::process::Binding;
use crate::shared::DuplicateOptions;
use crate::{ClockMode, Kernel, KernelConfig, NtStatus, Policies, Process};

/// Opaque C handle to a kernel reference.
pub struct d3dkmt_emu_kernel(pub(crate) Kernel);
/// Opaque C handle to a process reference.
pub struct d3dkmt_emu_process(pub(crate) Process);
/// Opaque C handle to a thread binding.
pub struct d3dkmt_emu_binding(#[allow(dead_code, reason = "held for its Drop")] Binding);

/// One adapter of a C kernel configuration.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct d3dkmt_emu_adapter_config {
    /// Nonzero and unique.
    pub luid: LUID,
    /// Nonzero: protected sessions are supported.
    pub protected_sessions: u32,
    /// 0 full, 1 compute-only, 2 display-only.
    pub kind: u32,
    /// `NumOfSources`.
    pub num_sources: u32,
}

/// A C kernel configuration; `d3dkmt_emu_kernel_config_init` fills defaults.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct d3dkmt_emu_kernel_config {
    /// `sizeof(d3dkmt_emu_kernel_config)`.
    pub struct_size: u32,
    /// Number of entries at `adapters`.
    pub adapter_count: u32,
    /// The adapters, in enumeration order.
    pub adapters: *const d3dkmt_emu_adapter_config,
    /// [`Policies::wrong_nt_object_type`].
    pub wrong_nt_object_type: NTSTATUS,
    /// [`Policies::short_blob_buffer`].
    pub short_blob_buffer: NTSTATUS,
    /// Nonzero: OK → INVALID bumps the status fence.
    pub bump_on_invalidate: u32,
    /// Nonzero: INVALID → OK bumps the status fence.
    pub bump_on_revalidate: u32,
    /// Nonzero: [`DeviceDestroySessions::KeepHandles`].
    pub device_destroy_keeps_sessions: u32,
    /// Nonzero: [`HandleReuse::Never`].
    pub never_reuse_handles: u32,
    /// Nonzero: [`HandleNumbering::Shared`].
    pub shared_handle_numbering: u32,
    /// Nonzero: [`AdapterClose::KeepDevices`].
    pub adapter_close_keeps_devices: u32,
    /// [`Policies::enum_adapters_capacity`].
    pub enum_adapters_capacity: u32,
    /// Nonzero: [`FenceRegression::Store`].
    pub fence_regression_stores: u32,
    /// Nonzero: [`DuplicateAccess::SubsetOfSource`].
    pub duplicate_access_subset: u32,
    /// [`Policies::max_local_handles`].
    pub max_local_handles: u32,
    /// [`Policies::max_nt_handles`].
    pub max_nt_handles: u32,
    /// Nonzero: [`ClockMode::Real`]; 0: a virtual clock (see `crate::clock`).
    pub real_clock: u32,
}

/// Runs `f`, turning a panic into `fallback`.
fn guarded<R>(fallback: R, f: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

fn status_of(result: Result<(), KernelError>) -> NTSTATUS {
    match result {
        Ok(()) => NtStatus::SUCCESS.0,
        Err(e) => e.status().0,
    }
}

fn process_or_current(p: *const d3dkmt_emu_process) -> Process {
    ptr::in_ref(p).map(|p| p.0.clone()).unwrap_or_else(crate::process::current)
}

/// Fills `config` with the defaults: one adapter, LUID {0x1234, 0}, with
/// protected sessions, and every policy at its documented default.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_kernel_config_init(config: *mut d3dkmt_emu_kernel_config) -> NTSTATUS {
    guarded(NtStatus::INTERNAL_ERROR.0, || config_init(config))
}

fn config_init(config: *mut d3dkmt_emu_kernel_config) -> NTSTATUS {
    static DEFAULT_ADAPTER: d3dkmt_emu_adapter_config = d3dkmt_emu_adapter_config {
        luid: LUID { LowPart: 0x1234, HighPart: 0 },
        protected_sessions: 1,
        kind: 0,
        num_sources: 1,
    };
    let p = Policies::default();
    let ok = ptr::write_out(
        config,
        d3dkmt_emu_kernel_config {
            struct_size: size_of::<d3dkmt_emu_kernel_config>() as u32,
            adapter_count: 1,
            adapters: &DEFAULT_ADAPTER,
            wrong_nt_object_type: p.wrong_nt_object_type.0,
            short_blob_buffer: p.short_blob_buffer.0,
            bump_on_invalidate: p.status_fence_bump.on_invalidate as u32,
            bump_on_revalidate: p.status_fence_bump.on_revalidate as u32,
            device_destroy_keeps_sessions: 0,
            never_reuse_handles: 0,
            shared_handle_numbering: 0,
            adapter_close_keeps_devices: 0,
            enum_adapters_capacity: p.enum_adapters_capacity,
            fence_regression_stores: 0,
            duplicate_access_subset: 0,
            max_local_handles: p.max_local_handles,
            max_nt_handles: p.max_nt_handles,
            real_clock: 0,
        },
    );
    if ok { NtStatus::SUCCESS.0 } else { NtStatus::INVALID_PARAMETER.0 }
}

fn config_from_c(c: &d3dkmt_emu_kernel_config) -> Option<KernelConfig> {
    if c.struct_size as usize != size_of::<d3dkmt_emu_kernel_config>() {
        return None;
    }
    let adapters = ptr::read_array(c.adapters, c.adapter_count as usize)?;
    let mut seen = Vec::new();
    let mut configs = Vec::new();
    for a in adapters {
        let luid = super::adapter::luid_in(&a.luid);
        if luid == Default::default() || seen.contains(&luid) {
            return None;
        }
        seen.push(luid);
        configs.push(AdapterConfig {
            luid,
            protected_sessions: a.protected_sessions != 0,
            kind: match a.kind {
                0 => AdapterKind::Full,
                1 => AdapterKind::ComputeOnly,
                2 => AdapterKind::DisplayOnly,
                _ => return None,
            },
            num_sources: a.num_sources,
            // One attached output on source 0, if there is a source.
            outputs: (0..a.num_sources.min(1)).map(crate::adapter::OutputConfig::attached).collect(),
            ..AdapterConfig::new(luid)
        });
    }
    let policies = Policies {
        wrong_nt_object_type: NtStatus(c.wrong_nt_object_type),
        short_blob_buffer: NtStatus(c.short_blob_buffer),
        status_fence_bump: crate::policy::StatusFenceBump {
            on_invalidate: c.bump_on_invalidate != 0,
            on_revalidate: c.bump_on_revalidate != 0,
        },
        device_destroy_sessions: if c.device_destroy_keeps_sessions != 0 {
            DeviceDestroySessions::KeepHandles
        } else {
            DeviceDestroySessions::CloseHandles
        },
        handle_reuse: if c.never_reuse_handles != 0 { HandleReuse::Never } else { HandleReuse::Delayed },
        handle_numbering: if c.shared_handle_numbering != 0 {
            HandleNumbering::Shared
        } else {
            HandleNumbering::PerProcessRanges
        },
        max_local_handles: c.max_local_handles,
        max_nt_handles: c.max_nt_handles,
        adapter_close: if c.adapter_close_keeps_devices != 0 {
            AdapterClose::KeepDevices
        } else {
            AdapterClose::DestroyDevices
        },
        enum_adapters_capacity: c.enum_adapters_capacity,
        removal: crate::policy::RemovalPolicies::default(),
        fence_regression: if c.fence_regression_stores != 0 { FenceRegression::Store } else { FenceRegression::Ignore },
        duplicate_access: if c.duplicate_access_subset != 0 {
            DuplicateAccess::SubsetOfSource
        } else {
            DuplicateAccess::AsRequested
        },
        // Not configurable from C (yet): the defaults.
        ..Policies::default()
    };
    policies.check().ok()?;
    let clock = if c.real_clock != 0 { ClockMode::Real } else { ClockMode::Virtual };
    Some(KernelConfig { adapters: configs, policies, clock })
}

/// A new kernel; NULL `config` means the defaults. Returns NULL for a bad
/// configuration (wrong `struct_size`, zero or repeated LUID, unknown kind).
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_kernel_create(config: *const d3dkmt_emu_kernel_config) -> *mut d3dkmt_emu_kernel {
    guarded(core::ptr::null_mut(), || {
        let config = match ptr::in_ref(config) {
            None => KernelConfig::default(),
            Some(c) => match config_from_c(c) {
                Some(c) => c,
                None => return core::ptr::null_mut(),
            },
        };
        Box::into_raw(Box::new(d3dkmt_emu_kernel(Kernel::new(config))))
    })
}

/// A new reference to the default kernel (the one unbound threads use).
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_kernel_default() -> *mut d3dkmt_emu_kernel {
    guarded(core::ptr::null_mut(), || {
        Box::into_raw(Box::new(d3dkmt_emu_kernel(crate::kernel::default_kernel().clone())))
    })
}

/// Releases a kernel reference. The kernel itself lives on while its
/// processes or other references do. NULL is ignored.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_kernel_release(kernel: *mut d3dkmt_emu_kernel) {
    guarded((), || drop(ptr::take_box(kernel)));
}

/// A new virtual process of `kernel`; NULL if `kernel` is NULL.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_process_create(kernel: *const d3dkmt_emu_kernel) -> *mut d3dkmt_emu_process {
    guarded(core::ptr::null_mut(), || match ptr::in_ref(kernel) {
        Some(k) => Box::into_raw(Box::new(d3dkmt_emu_process(k.0.create_process()))),
        None => core::ptr::null_mut(),
    })
}

/// A new reference to the process the calling thread acts as.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_process_current() -> *mut d3dkmt_emu_process {
    guarded(core::ptr::null_mut(), || Box::into_raw(Box::new(d3dkmt_emu_process(crate::process::current()))))
}

/// The process's id (the default process is 1); 0 for NULL.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_process_id(process: *const d3dkmt_emu_process) -> u32 {
    ptr::in_ref(process).map_or(0, |p| p.0.id().0)
}

/// Process exit: closes every handle the process holds. Later calls made as
/// it fail with `STATUS_PROCESS_IS_TERMINATING`. The reference stays valid.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_process_exit(process: *const d3dkmt_emu_process) {
    guarded((), || {
        if let Some(p) = ptr::in_ref(process) {
            p.0.exit();
        }
    });
}

/// Releases a process reference. Does not exit the process. NULL is ignored.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_process_release(process: *mut d3dkmt_emu_process) {
    guarded((), || drop(ptr::take_box(process)));
}

/// Binds the calling thread to `process` until `d3dkmt_emu_thread_unbind`;
/// bindings nest, and are undone on the thread that made them.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_thread_bind(process: *const d3dkmt_emu_process) -> *mut d3dkmt_emu_binding {
    guarded(core::ptr::null_mut(), || match ptr::in_ref(process) {
        Some(p) => Box::into_raw(Box::new(d3dkmt_emu_binding(p.0.enter()))),
        None => core::ptr::null_mut(),
    })
}

/// Ends a binding; the thread then acts as its newest binding still in
/// force. A binding not in force on this thread (another thread's, or a dead
/// thread's) is refused (`STATUS_INVALID_PARAMETER`) and left as it is. NULL
/// is ignored.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_thread_unbind(binding: *mut d3dkmt_emu_binding) -> NTSTATUS {
    guarded(NtStatus::INTERNAL_ERROR.0, || {
        match ptr::in_ref(binding) {
            None => return NtStatus::SUCCESS.0,
            Some(b) if !b.0.is_in_force_here() => return NtStatus::INVALID_PARAMETER.0,
            Some(_) => {}
        }
        drop(ptr::take_box(binding));
        NtStatus::SUCCESS.0
    })
}

/// Live D3DKMT handles (`nt` = 0) or NT handles (`nt` != 0) in the process.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_process_handle_count(process: *const d3dkmt_emu_process, nt: u32) -> u32 {
    guarded(0, || {
        let p = process_or_current(process);
        (if nt != 0 { p.nt_handle_count() } else { p.local_handle_count() }) as u32
    })
}

/// Live kernel objects of one kind (0 device, 1 sync object, 2 protected
/// session, 3 NT object) or, with `kind` = `UINT32_MAX`, of every kind.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_kernel_live_objects(kernel: *const d3dkmt_emu_kernel, kind: u32) -> i64 {
    guarded(-1, || {
        let Some(k) = ptr::in_ref(kernel) else { return -1 };
        match ObjectKind::ALL.get(kind as usize) {
            Some(&kind) => k.0.live_objects(kind),
            None if kind == u32::MAX => k.0.total_live_objects(),
            None => -1,
        }
    })
}

/// The kernel clock's time, in nanoseconds since the kernel was created
/// (`UINT64_MAX` for a NULL kernel).
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_kernel_now_ns(kernel: *const d3dkmt_emu_kernel) -> u64 {
    guarded(u64::MAX, || ptr::in_ref(kernel).map_or(u64::MAX, |k| k.0.0.clock.now_ns()))
}

/// The kernel clock's system time in `FILETIME` units (100 ns since
/// 1601-01-01 UTC), against which absolute NT timeouts are measured
/// (`UINT64_MAX` for a NULL kernel).
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_kernel_system_time(kernel: *const d3dkmt_emu_kernel) -> u64 {
    guarded(u64::MAX, || ptr::in_ref(kernel).map_or(u64::MAX, |k| k.0.system_time()))
}

/// Advances a virtual clock by `ns` nanoseconds, ending the waits whose
/// deadline passes. `STATUS_INVALID_PARAMETER` for a NULL kernel,
/// `STATUS_NOT_SUPPORTED` for a real clock.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_kernel_advance_ns(kernel: *const d3dkmt_emu_kernel, ns: u64) -> NTSTATUS {
    guarded(NtStatus::INTERNAL_ERROR.0, || match ptr::in_ref(kernel) {
        None => NtStatus::INVALID_PARAMETER.0,
        Some(k) => match k.0.advance(std::time::Duration::from_nanos(ns)) {
            Ok(()) => NtStatus::SUCCESS.0,
            Err(status) => status.0,
        },
    })
}

/// The C KMD callback table.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct d3dkmt_emu_kmd_callbacks {
    /// Passed back to every callback; must be usable from any thread.
    pub context: *mut c_void,
    /// `DxgkDdiCreateProtectedSession`; NULL accepts every session with the
    /// session key as the KMD handle.
    pub create_protected_session: Option<
        extern "C" fn(
            context: *mut c_void,
            adapter: LUID,
            session_key: u64,
            driver_data: *mut c_void,
            driver_data_size: u32,
            kmd_session: *mut u64,
        ) -> NTSTATUS,
    >,
    /// `DxgkDdiDestroyProtectedSession`; may be NULL.
    pub destroy_protected_session: Option<extern "C" fn(context: *mut c_void, adapter: LUID, kmd_session: u64)>,
}

struct CKmd {
    context: ForeignContext,
    create: Option<extern "C" fn(*mut c_void, LUID, u64, *mut c_void, u32, *mut u64) -> NTSTATUS>,
    destroy: Option<extern "C" fn(*mut c_void, LUID, u64)>,
    /// The GPU-work table, if installed with `d3dkmt_emu_kernel_set_kmd2`.
    gpu: Option<GpuTable>,
}

/// A copy of a `d3dkmt_emu_kmd_gpu_callbacks`, its context made thread-safe
/// by the header's rule.
struct GpuTable {
    context: ForeignContext,
    create_context: Option<extern "C" fn(*mut c_void, LUID, u64, u32, u32, *mut c_void, u32) -> NTSTATUS>,
    destroy_context: Option<extern "C" fn(*mut c_void, LUID, u64)>,
    submit: Option<extern "C" fn(*mut c_void, *const d3dkmt_emu_submission) -> NTSTATUS>,
    escape: Option<extern "C" fn(*mut c_void, LUID, u32, u64, *mut c_void, u32) -> NTSTATUS>,
}

impl Kmd for CKmd {
    fn create_protected_session(&self, args: &mut CreateSessionArgs<'_>) -> Result<u64, NtStatus> {
        let Some(create) = self.create else { return Ok(args.session.0) };
        let mut kmd_session = args.session.0;
        let data =
            if args.driver_data.is_empty() { core::ptr::null_mut() } else { args.driver_data.as_mut_ptr().cast() };
        let status = create(
            self.context.0,
            super::adapter::luid_out(args.adapter),
            args.session.0,
            data,
            args.driver_data.len() as u32,
            &mut kmd_session,
        );
        NtStatus(status).ok().map(|()| kmd_session)
    }

    fn destroy_protected_session(&self, adapter: crate::Luid, kmd_session: u64) {
        if let Some(destroy) = self.destroy {
            destroy(self.context.0, super::adapter::luid_out(adapter), kmd_session);
        }
    }

    fn create_context(&self, args: &mut crate::CreateContextArgs<'_>) -> Result<(), NtStatus> {
        let Some(gpu) = &self.gpu else { return Ok(()) };
        let Some(create) = gpu.create_context else { return Ok(()) };
        let kind = match args.kind {
            crate::ContextKind::Legacy => 0,
            crate::ContextKind::Virtual => 1,
            crate::ContextKind::Hardware => 2,
        };
        let data =
            if args.driver_data.is_empty() { core::ptr::null_mut() } else { args.driver_data.as_mut_ptr().cast() };
        let status = create(
            gpu.context.0,
            super::adapter::luid_out(args.adapter),
            args.context.0,
            kind,
            args.node_ordinal,
            data,
            args.driver_data.len() as u32,
        );
        NtStatus(status).ok()
    }

    fn destroy_context(&self, adapter: crate::Luid, context: crate::ContextKey) {
        if let Some(gpu) = &self.gpu {
            if let Some(destroy) = gpu.destroy_context {
                destroy(gpu.context.0, super::adapter::luid_out(adapter), context.0);
            }
        }
    }

    fn submit(&self, s: &crate::Submission<'_>) -> Result<(), NtStatus> {
        let Some(gpu) = &self.gpu else { return Ok(()) };
        let Some(submit) = gpu.submit else { return Ok(()) };
        let submission = d3dkmt_emu_submission {
            adapter: super::adapter::luid_out(s.adapter),
            context_key: s.context.0,
            hw_queue_key: s.hw_queue.map_or(0, |q| q.0),
            node_ordinal: s.node_ordinal,
            command_length: s.command_length,
            command_buffer: s.command_buffer,
            command_bytes: s.command_bytes.map_or(core::ptr::null(), |b| b.as_ptr().cast()),
            private_data: if s.private_data.is_empty() { core::ptr::null() } else { s.private_data.as_ptr().cast() },
            private_data_size: s.private_data.len() as u32,
            has_progress_fence_value: u32::from(s.progress_fence_value.is_some()),
            progress_fence_value: s.progress_fence_value.unwrap_or(0),
        };
        NtStatus(submit(gpu.context.0, &submission)).ok()
    }

    fn escape(&self, args: &mut crate::EscapeArgs<'_>) -> Result<(), NtStatus> {
        let Some(gpu) = &self.gpu else { return Ok(()) };
        let Some(escape) = gpu.escape else { return Ok(()) };
        let status = escape(
            gpu.context.0,
            super::adapter::luid_out(args.adapter),
            args.device.unwrap_or(0),
            args.context.map_or(0, |c| c.0),
            args.data.as_mut_ptr().cast(),
            args.data.len() as u32,
        );
        NtStatus(status).ok()
    }
}

/// One submission, as the C KMD's `submit` callback sees it (see
/// [`crate::Submission`]).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct d3dkmt_emu_submission {
    /// The adapter.
    pub adapter: LUID,
    /// The context's kernel handle.
    pub context_key: u64,
    /// The hardware queue's kernel handle; 0 for a context submission.
    pub hw_queue_key: u64,
    /// The context's node.
    pub node_ordinal: u32,
    /// The command buffer's length.
    pub command_length: u32,
    /// Its GPU address (`Render`: its offset in the context's buffer).
    pub command_buffer: u64,
    /// Its bytes for `Render`; NULL otherwise. Valid during the callback.
    pub command_bytes: *const c_void,
    /// The private driver data; NULL when empty. Valid during the callback.
    pub private_data: *const c_void,
    /// Its size.
    pub private_data_size: u32,
    /// Nonzero for a hardware-queue submission.
    pub has_progress_fence_value: u32,
    /// The progress-fence value it will signal.
    pub progress_fence_value: u64,
}

#[cfg(target_pointer_width = "64")]
const _: () = assert!(
    size_of::<d3dkmt_emu_submission>() == 72 && size_of::<d3dkmt_emu_kmd_gpu_callbacks>() == 48,
    "the header's static asserts"
);

/// The GPU-work half of the C KMD, installed with `d3dkmt_emu_kernel_set_kmd2`.
/// Every callback may be NULL (accept, do nothing).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct d3dkmt_emu_kmd_gpu_callbacks {
    /// `sizeof(d3dkmt_emu_kmd_gpu_callbacks)`: later versions add fields at the end.
    pub struct_size: u32,
    /// Passed back to every callback; must be usable from any thread.
    pub context: *mut c_void,
    /// `DxgkDdiCreateContext`: kind 0 legacy, 1 virtual, 2 hardware. The
    /// driver data may be rewritten in place. A failure status refuses.
    pub create_context: Option<
        extern "C" fn(
            context: *mut c_void,
            adapter: LUID,
            context_key: u64,
            kind: u32,
            node_ordinal: u32,
            driver_data: *mut c_void,
            driver_data_size: u32,
        ) -> NTSTATUS,
    >,
    /// `DxgkDdiDestroyContext`, when the context's last reference goes.
    pub destroy_context: Option<extern "C" fn(context: *mut c_void, adapter: LUID, context_key: u64)>,
    /// Every submission before it is queued; a failure status refuses it.
    pub submit: Option<extern "C" fn(context: *mut c_void, submission: *const d3dkmt_emu_submission) -> NTSTATUS>,
    /// `D3DKMT_ESCAPE_DRIVERPRIVATE`: the data may be rewritten in place; a
    /// failure status is what `D3DKMTEscape` returns.
    pub escape: Option<
        extern "C" fn(
            context: *mut c_void,
            adapter: LUID,
            device: u32,
            context_key: u64,
            data: *mut c_void,
            size: u32,
        ) -> NTSTATUS,
    >,
}

/// Installs a C KMD on the kernel (NULL `callbacks`: the default KMD). The
/// table is copied. Sessions already created keep the KMD they were created
/// with. Callbacks run on the thread that made the call, with no kernel lock
/// held; they may call back into the kernel.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_kernel_set_kmd(
    kernel: *const d3dkmt_emu_kernel,
    callbacks: *const d3dkmt_emu_kmd_callbacks,
) -> NTSTATUS {
    guarded(NtStatus::INTERNAL_ERROR.0, || {
        let Some(k) = ptr::in_ref(kernel) else { return NtStatus::INVALID_PARAMETER.0 };
        match ptr::in_ref(callbacks) {
            None => k.0.set_kmd(Arc::new(crate::kmd::DefaultKmd)),
            Some(c) => k.0.set_kmd(Arc::new(CKmd {
                context: ForeignContext(c.context),
                create: c.create_protected_session,
                destroy: c.destroy_protected_session,
                gpu: None,
            })),
        }
        NtStatus::SUCCESS.0
    })
}

/// Installs a C KMD with both tables: `sessions` (may be NULL: the default
/// session behaviour) and `gpu` (may be NULL: accept all GPU work). Both are
/// copied. A `gpu` table whose `struct_size` is not
/// `sizeof(d3dkmt_emu_kmd_gpu_callbacks)`, or a NULL kernel, is
/// `STATUS_INVALID_PARAMETER` and changes nothing.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_kernel_set_kmd2(
    kernel: *const d3dkmt_emu_kernel,
    sessions: *const d3dkmt_emu_kmd_callbacks,
    gpu: *const d3dkmt_emu_kmd_gpu_callbacks,
) -> NTSTATUS {
    guarded(NtStatus::INTERNAL_ERROR.0, || {
        let Some(k) = ptr::in_ref(kernel) else { return NtStatus::INVALID_PARAMETER.0 };
        let gpu = match ptr::in_ref(gpu) {
            None => None,
            Some(g) if g.struct_size as usize == size_of::<d3dkmt_emu_kmd_gpu_callbacks>() => Some(GpuTable {
                context: ForeignContext(g.context),
                create_context: g.create_context,
                destroy_context: g.destroy_context,
                submit: g.submit,
                escape: g.escape,
            }),
            Some(_) => return NtStatus::INVALID_PARAMETER.0,
        };
        let sessions = ptr::in_ref(sessions).copied();
        k.0.set_kmd(Arc::new(CKmd {
            context: ForeignContext(sessions.map_or(core::ptr::null_mut(), |s| s.context)),
            create: sessions.and_then(|s| s.create_protected_session),
            destroy: sessions.and_then(|s| s.destroy_protected_session),
            gpu,
        }));
        NtStatus::SUCCESS.0
    })
}

/// `DxgkCbSetProtectedSessionStatus`: status 0 OK, 1 INVALID. A key of no
/// live session is `STATUS_INVALID_HANDLE`; another status value is
/// `STATUS_INVALID_PARAMETER`.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_kmd_set_protected_session_status(
    kernel: *const d3dkmt_emu_kernel,
    session_key: u64,
    status: i32,
) -> NTSTATUS {
    guarded(NtStatus::INTERNAL_ERROR.0, || {
        let Some(k) = ptr::in_ref(kernel) else { return NtStatus::INVALID_PARAMETER.0 };
        let Some(status) = SessionStatus::from_raw(status) else { return NtStatus::INVALID_PARAMETER.0 };
        status_of(k.0.set_protected_session_status(SessionKey(session_key), status))
    })
}

/// The kernel's key for a session handle of `process` (NULL: the current
/// process), as the KMD's create callback saw it.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_protected_session_key(
    process: *const d3dkmt_emu_process,
    session: u32,
    key: *mut u64,
) -> NTSTATUS {
    guarded(NtStatus::INTERNAL_ERROR.0, || {
        if key.is_null() {
            return NtStatus::INVALID_PARAMETER.0;
        }
        match process_or_current(process).protected_session_key(LocalHandle(session)) {
            Ok(k) => {
                ptr::write_out(key, k.0);
                NtStatus::SUCCESS.0
            }
            Err(e) => e.status().0,
        }
    })
}

/// `CloseHandle` for an NT handle of `process` (NULL: the current process).
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_nt_close(process: *const d3dkmt_emu_process, handle: HANDLE) -> NTSTATUS {
    guarded(NtStatus::INTERNAL_ERROR.0, || {
        let process = process_or_current(process);
        let result = process.close_nt_handle(NtHandle::from_ptr(handle));
        trace_nt_close(&process, handle, &result);
        status_of(result)
    })
}

/// `DuplicateHandle` for NT handles: from `source_process` to
/// `target_process` (NULL: the current process), with `DUPLICATE_*`
/// `options` (1 close source, 2 same access).
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_nt_duplicate(
    source_process: *const d3dkmt_emu_process,
    source: HANDLE,
    target_process: *const d3dkmt_emu_process,
    target: *mut HANDLE,
    access: u32,
    options: u32,
) -> NTSTATUS {
    guarded(NtStatus::INTERNAL_ERROR.0, || {
        if target.is_null() {
            return NtStatus::INVALID_PARAMETER.0;
        }
        let (from, to) = (process_or_current(source_process), process_or_current(target_process));
        let result = DuplicateOptions::from_bits(options)
            .and_then(|options| from.duplicate_nt_handle(NtHandle::from_ptr(source), &to, access, options));
        trace_nt_duplicate(&from, &to, source, access, options, &result);
        match result {
            Ok(h) => {
                ptr::write_out(target, h.as_ptr());
                NtStatus::SUCCESS.0
            }
            Err(e) => e.status().0,
        }
    })
}

/// Copies `text` as a NUL-terminated string cut to `size` into `buffer` (may
/// be NULL with size 0) and its full length into `*length` (may be NULL).
fn write_text(text: KResult<String>, buffer: *mut c_char, size: usize, length: *mut usize) -> NTSTATUS {
    match text {
        Ok(text) => {
            let full = ptr::write_c_string(buffer, size, &text);
            ptr::write_out(length, full);
            NtStatus::SUCCESS.0
        }
        Err(e) => e.status().0,
    }
}

/// The NT object type name of an NT handle of `process` (NULL: the current
/// process), as `NtQueryObject(ObjectTypeInformation)` reports it, e.g.
/// `DxgkSharedSyncObject` (WINE #93). A handle not open there:
/// `STATUS_INVALID_HANDLE`, and nothing is written.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_nt_object_type_name(
    process: *const d3dkmt_emu_process,
    handle: HANDLE,
    buffer: *mut c_char,
    size: usize,
    length: *mut usize,
) -> NTSTATUS {
    guarded(NtStatus::INTERNAL_ERROR.0, || {
        let name = process_or_current(process).nt_handle_type_name(NtHandle::from_ptr(handle));
        write_text(name.map(str::to_string), buffer, size, length)
    })
}

/// The object name of an NT handle of `process` (NULL: the current process),
/// exactly as given to `D3DKMTShareObjects` (WINE #93), in UTF-8; an unnamed
/// object has the empty name. Errors as for the type name.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_nt_object_name(
    process: *const d3dkmt_emu_process,
    handle: HANDLE,
    buffer: *mut c_char,
    size: usize,
    length: *mut usize,
) -> NTSTATUS {
    guarded(NtStatus::INTERNAL_ERROR.0, || {
        let name = process_or_current(process).nt_object_name(NtHandle::from_ptr(handle));
        write_text(name.map(Option::unwrap_or_default), buffer, size, length)
    })
}

/// Writes why the calling thread's last failed `D3DKMT*` call failed into
/// `buffer` (NUL-terminated, cut to `size`), and returns the full length; 0
/// if the last call succeeded.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_last_error(buffer: *mut c_char, size: usize) -> usize {
    guarded(0, || match super::last_error() {
        Some((entry, message)) => ptr::write_c_string(buffer, size, &format!("{}: {message}", entry.name())),
        None => ptr::write_c_string(buffer, size, ""),
    })
}

// ---------------------------------------------------------------------------
// Fault injection and the leak report (see `crate::fault`, `crate::live`).
// ---------------------------------------------------------------------------

/// `d3dkmt_emu_fault_spec.when`: only the Nth matching call.
pub const D3DKMT_EMU_FAULT_NTH: u32 = 0;
/// `d3dkmt_emu_fault_spec.when`: every matching call.
pub const D3DKMT_EMU_FAULT_EVERY: u32 = 1;
/// `d3dkmt_emu_fault_spec.when`: each matching call with a probability.
pub const D3DKMT_EMU_FAULT_PROBABILITY: u32 = 2;

/// A fault to arm, as C describes it.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct d3dkmt_emu_fault_spec {
    /// `sizeof(d3dkmt_emu_fault_spec)`.
    pub struct_size: u32,
    /// The status the failing calls return (any NTSTATUS).
    pub status: NTSTATUS,
    /// The entry point's exported name (NUL-terminated), or NULL for any.
    pub entry: *const c_char,
    /// Only calls made as this process id; 0 for any.
    pub process_id: u32,
    /// `D3DKMT_EMU_FAULT_NTH`, `_EVERY` or `_PROBABILITY`.
    pub when: u32,
    /// For `_NTH`: N, from 1.
    pub nth: u64,
    /// For `_PROBABILITY`: in 0..=1.
    pub probability: f64,
    /// For `_PROBABILITY`: the generator's seed.
    pub seed: u64,
    /// Nonzero: record-only ("what-if"): log the firing, run the call.
    pub record_only: u32,
    /// Must be 0.
    pub reserved: u32,
}

/// One fault-log record, as C reads it.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct d3dkmt_emu_fault_record {
    /// The id `d3dkmt_emu_fault_arm` returned.
    pub fault_id: u64,
    /// The process's call sequence number (its first call is 1).
    pub sequence: u64,
    /// The process the call was made as.
    pub process_id: u32,
    /// The fault's status.
    pub status: NTSTATUS,
    /// 1 if the call was failed, 0 for a record-only firing.
    pub injected: u32,
    /// 0.
    pub reserved: u32,
    /// The entry point's exported name, NUL-terminated.
    pub entry: [c_char; 64],
}

fn fault_from_c(spec: &d3dkmt_emu_fault_spec) -> Option<crate::Fault> {
    if spec.struct_size as usize != size_of::<d3dkmt_emu_fault_spec>() || spec.reserved != 0 {
        return None;
    }
    let mut fault = crate::Fault::status(NtStatus(spec.status));
    if !spec.entry.is_null() {
        fault = fault.on(crate::Entry::from_name(&ptr::read_c_str(spec.entry)?)?);
    }
    if spec.process_id != 0 {
        fault = fault.in_process(crate::ProcessId(spec.process_id));
    }
    fault = match spec.when {
        D3DKMT_EMU_FAULT_NTH if spec.nth >= 1 => fault.nth(spec.nth),
        D3DKMT_EMU_FAULT_EVERY => fault.every(),
        D3DKMT_EMU_FAULT_PROBABILITY if (0.0..=1.0).contains(&spec.probability) => {
            fault.with_probability(spec.probability, spec.seed)
        }
        _ => return None,
    };
    Some(if spec.record_only != 0 { fault.record_only() } else { fault })
}

/// Arms a fault on `kernel` until `d3dkmt_emu_fault_disarm`; writes its id.
/// A bad spec (size, unknown entry name, N of 0, probability outside 0..=1,
/// unknown `when`) or a NULL argument is `STATUS_INVALID_PARAMETER`.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_fault_arm(
    kernel: *const d3dkmt_emu_kernel,
    spec: *const d3dkmt_emu_fault_spec,
    out_id: *mut u64,
) -> NTSTATUS {
    guarded(NtStatus::INTERNAL_ERROR.0, || {
        let (Some(k), Some(spec)) = (ptr::in_ref(kernel), ptr::in_ref(spec)) else {
            return NtStatus::INVALID_PARAMETER.0;
        };
        if out_id.is_null() {
            return NtStatus::INVALID_PARAMETER.0;
        }
        let Some(fault) = fault_from_c(spec) else { return NtStatus::INVALID_PARAMETER.0 };
        let id = k.0.arm(fault).keep();
        ptr::write_out(out_id, id.0);
        NtStatus::SUCCESS.0
    })
}

/// Disarms a fault. An id not armed on `kernel` is `STATUS_INVALID_PARAMETER`.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_fault_disarm(kernel: *const d3dkmt_emu_kernel, id: u64) -> NTSTATUS {
    guarded(NtStatus::INTERNAL_ERROR.0, || {
        let Some(k) = ptr::in_ref(kernel) else { return NtStatus::INVALID_PARAMETER.0 };
        if k.0.disarm(crate::FaultId(id)) { NtStatus::SUCCESS.0 } else { NtStatus::INVALID_PARAMETER.0 }
    })
}

/// Copies up to `capacity` fault-log records, oldest first, into `records`
/// (may be NULL with `capacity` 0); writes the log's length to `count`. The
/// log is left as it is.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_fault_log(
    kernel: *const d3dkmt_emu_kernel,
    records: *mut d3dkmt_emu_fault_record,
    capacity: usize,
    count: *mut usize,
) -> NTSTATUS {
    guarded(NtStatus::INTERNAL_ERROR.0, || {
        let Some(k) = ptr::in_ref(kernel) else { return NtStatus::INVALID_PARAMETER.0 };
        if count.is_null() || (records.is_null() && capacity != 0) {
            return NtStatus::INVALID_PARAMETER.0;
        }
        let log = k.0.fault_log();
        let out: Vec<d3dkmt_emu_fault_record> = log
            .iter()
            .take(capacity)
            .map(|r| {
                let mut entry = [0 as c_char; 64];
                for (slot, b) in entry.iter_mut().zip(r.entry.name().bytes().take(63)) {
                    *slot = b as c_char;
                }
                d3dkmt_emu_fault_record {
                    fault_id: r.fault.0,
                    sequence: r.sequence,
                    process_id: r.process.0,
                    status: r.status.0,
                    injected: r.injected as u32,
                    reserved: 0,
                    entry,
                }
            })
            .collect();
        if !out.is_empty() {
            ptr::write_array(records, &out);
        }
        ptr::write_out(count, log.len());
        NtStatus::SUCCESS.0
    })
}

/// Empties the fault log.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_fault_log_clear(kernel: *const d3dkmt_emu_kernel) -> NTSTATUS {
    guarded(NtStatus::INTERNAL_ERROR.0, || {
        let Some(k) = ptr::in_ref(kernel) else { return NtStatus::INVALID_PARAMETER.0 };
        k.0.take_fault_log();
        NtStatus::SUCCESS.0
    })
}

/// Writes the kernel's leak report (as `Kernel::leak_report` displays it)
/// into `buffer` (NUL-terminated, cut to `size`; may be NULL with `size` 0),
/// the full length to `needed` (may be NULL), and returns the number of live
/// objects: 0 means clean. -1 for a NULL kernel.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_kernel_leak_report(
    kernel: *const d3dkmt_emu_kernel,
    buffer: *mut c_char,
    size: usize,
    needed: *mut usize,
) -> i64 {
    guarded(-1, || {
        let Some(k) = ptr::in_ref(kernel) else { return -1 };
        let report = k.0.leak_report();
        let text = report.to_string();
        let length = ptr::write_c_string(buffer, size, &text);
        if !needed.is_null() {
            ptr::write_out(needed, length);
        }
        if report.is_clean() { 0 } else { report.live_count().max(1) }
    })
}

/// Device removal and TDR, as the KMD drives them (see `crate::removal`):
/// loses device `device` of `process` (NULL: the current process) for
/// `reason`, a `D3DKMT_DEVICEEXECUTION_STATE` from 2 (RESET) to 7
/// (ERROR_DMAPAGEFAULT).
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_kmd_remove_device(
    process: *const d3dkmt_emu_process,
    device: u32,
    reason: i32,
) -> NTSTATUS {
    guarded(NtStatus::INTERNAL_ERROR.0, || {
        let Some(why) = crate::removal::DeviceLoss::from_raw(reason) else { return NtStatus::INVALID_PARAMETER.0 };
        status_of(process_or_current(process).remove_device_by_kmd(LocalHandle(device), why))
    })
}

/// A TDR on device `device` of `process` (NULL: the current process); the
/// kernel's `TdrOutcome` policy says whether the device survives.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_kmd_reset_device(process: *const d3dkmt_emu_process, device: u32) -> NTSTATUS {
    guarded(NtStatus::INTERNAL_ERROR.0, || {
        status_of(process_or_current(process).reset_device_by_kmd(LocalHandle(device)))
    })
}

/// Stops the adapter with LUID `luid` for good: see `Kernel::remove_adapter`.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_kmd_remove_adapter(kernel: *const d3dkmt_emu_kernel, luid: LUID) -> NTSTATUS {
    guarded(NtStatus::INTERNAL_ERROR.0, || match ptr::in_ref(kernel) {
        None => NtStatus::INVALID_PARAMETER.0,
        Some(k) => status_of(k.0.remove_adapter(super::adapter::luid_in(&luid))),
    })
}

// ---------------------------------------------------------------------------
// The call trace (see `crate::trace` and the header's "Call trace" section).

fn trace_nt_close(process: &Process, handle: HANDLE, result: &crate::KResult<()>) {
    let kernel = process.kernel_inner();
    if crate::trace::enabled(kernel) {
        let input = vec![("handle".into(), crate::trace::Value::Nt(NtHandle::from_ptr(handle).0))];
        let status = crate::trace::status_of(result);
        crate::trace::event(kernel, process.id().0, crate::trace::Op::NtClose, input, Vec::new(), status);
    }
}

fn trace_nt_duplicate(
    from: &Process,
    to: &Process,
    source: HANDLE,
    access: u32,
    options: u32,
    result: &crate::KResult<NtHandle>,
) {
    use crate::trace::Value;
    let kernel = from.kernel_inner();
    if crate::trace::enabled(kernel) {
        let input = vec![
            ("handle".into(), Value::Nt(NtHandle::from_ptr(source).0)),
            ("target".into(), Value::Process(to.id().0)),
            ("access".into(), Value::Int(access as u64)),
            ("options".into(), Value::Int(options as u64)),
        ];
        let output = match result {
            Ok(h) => vec![("target_handle".into(), Value::Nt(h.0))],
            Err(_) => Vec::new(),
        };
        let status = crate::trace::status_of(result);
        crate::trace::event(kernel, from.id().0, crate::trace::Op::NtDuplicate, input, output, status);
    }
}

/// Starts tracing `kernel`'s calls into a ring buffer of `capacity` records;
/// with a non-NULL `path`, every record is also appended to that file (which
/// is created or truncated). Restarting clears the buffer. NULL `kernel` or
/// capacity 0 is `STATUS_INVALID_PARAMETER`; a file that cannot be created
/// or a path that is not UTF-8 is `STATUS_UNSUCCESSFUL`.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_trace_start(
    kernel: *const d3dkmt_emu_kernel,
    capacity: usize,
    path: *const c_char,
) -> NTSTATUS {
    guarded(NtStatus::INTERNAL_ERROR.0, || {
        let Some(k) = ptr::in_ref(kernel) else { return NtStatus::INVALID_PARAMETER.0 };
        if capacity == 0 {
            return NtStatus::INVALID_PARAMETER.0;
        }
        let file = match path.is_null() {
            true => None,
            false => match ptr::read_c_str(path) {
                Some(p) => Some(std::path::PathBuf::from(p)),
                None => return NtStatus::UNSUCCESSFUL.0,
            },
        };
        match k.0.trace_start(crate::trace::TraceConfig { capacity, file }) {
            Ok(()) => NtStatus::SUCCESS.0,
            Err(_) => NtStatus::UNSUCCESSFUL.0,
        }
    })
}

/// Stops tracing `kernel`; the buffer is kept. `STATUS_UNSUCCESSFUL` if
/// writing the trace file failed at some point.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_trace_stop(kernel: *const d3dkmt_emu_kernel) -> NTSTATUS {
    guarded(NtStatus::INTERNAL_ERROR.0, || match ptr::in_ref(kernel) {
        None => NtStatus::INVALID_PARAMETER.0,
        Some(k) => match k.0.trace_stop() {
            Ok(()) => NtStatus::SUCCESS.0,
            Err(_) => NtStatus::UNSUCCESSFUL.0,
        },
    })
}

/// How many records `kernel`'s trace buffer holds; 0 for NULL.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_trace_count(kernel: *const d3dkmt_emu_kernel) -> usize {
    guarded(0, || ptr::in_ref(kernel).map_or(0, |k| k.0.trace_len()))
}

/// Writes the line of the `index`-th record in the buffer (0 the oldest) into
/// `buffer` (NUL-terminated, cut to `size`) and returns its full length; 0
/// if there is no such record.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_trace_record(
    kernel: *const d3dkmt_emu_kernel,
    index: usize,
    buffer: *mut c_char,
    size: usize,
) -> usize {
    guarded(0, || {
        let line = ptr::in_ref(kernel).and_then(|k| k.0.trace_line(index)).unwrap_or_default();
        ptr::write_c_string(buffer, size, &line)
    })
}

/// Writes the last `n` records, one line each, into `buffer` (NUL-terminated,
/// cut to `size`) and returns the full length: for a failing test's message.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_trace_tail(
    kernel: *const d3dkmt_emu_kernel,
    n: usize,
    buffer: *mut c_char,
    size: usize,
) -> usize {
    guarded(0, || {
        let text = ptr::in_ref(kernel).map(|k| k.0.trace_tail(n)).unwrap_or_default();
        ptr::write_c_string(buffer, size, &text)
    })
}

/// Writes the buffer to a trace file at `path` (header and records).
/// `STATUS_INVALID_PARAMETER` for NULL arguments; `STATUS_UNSUCCESSFUL` if
/// the file cannot be written.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_trace_save(kernel: *const d3dkmt_emu_kernel, path: *const c_char) -> NTSTATUS {
    guarded(NtStatus::INTERNAL_ERROR.0, || {
        let Some(k) = ptr::in_ref(kernel) else { return NtStatus::INVALID_PARAMETER.0 };
        let Some(path) = ptr::read_c_str(path) else { return NtStatus::INVALID_PARAMETER.0 };
        match k.0.trace_save(path) {
            Ok(()) => NtStatus::SUCCESS.0,
            Err(_) => NtStatus::UNSUCCESSFUL.0,
        }
    })
}

/// Empties `kernel`'s trace buffer (numbering goes on). NULL is ignored.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_trace_clear(kernel: *const d3dkmt_emu_kernel) {
    guarded((), || {
        if let Some(k) = ptr::in_ref(kernel) {
            k.0.trace_clear();
        }
    });
}
