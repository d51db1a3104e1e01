//! # d3dkmt-emu
//!
//! An in-process fake of the Windows graphics kernel as user mode sees it:
//! the `D3DKMT*` thunks (gdi32 on Windows, libdxg on WSL) and the dxgkrnl
//! objects behind them. Link your driver, runtime or translation layer
//! against this crate instead of gdi32 or libdxg, and its tests run on any
//! Linux machine, with no Windows, no GPU and no `/dev/dxg`.
//!
//! ## What is emulated
//!
//! - Many isolated [`Kernel`]s in one binary, each with configured adapters,
//!   [`Policies`] for every undocumented choice, and virtual [`Process`]es with
//!   their own D3DKMT and NT handle tables. A thread acts as the process it is
//!   [bound](Process::enter) to; an unbound thread as the default process of
//!   the [default kernel](kernel::default_kernel), so existing code runs with
//!   no set-up.
//! - Adapters, devices, monitored fences (with a real CPU-readable value, CPU
//!   signal and blocking CPU wait), protected sessions with their status fence
//!   and the fake kernel-mode driver ([`Kmd`]), NT-handle sharing, close and
//!   duplicate across processes.
//! - Windows-shaped handles and Windows' statuses for bad input; see
//!   [`support::ENTRY_POINTS`] for what each export does.
//!
//! ## What is not (yet)
//!
//! Other sync-object types, keyed mutexes, resources and allocations, GPU
//! work submission, fault injection, traces and virtual time arrive in later
//! issues; their entry points answer `STATUS_NOT_IMPLEMENTED`.
//!
//! ## References
//!
//! Ownership: every object is reference counted. A D3DKMT handle, an NT
//! handle, a protected session (for its status fence) and an NT object (for
//! what it wraps) each own one reference; an object lives exactly while one
//! exists. Nothing is dropped while a table lock is held (see `sync`).

pub mod abi;
mod adapter;
mod device;
mod error;
mod handle;
pub mod kernel;
mod kmd;
mod live;
mod policy;
mod process;
mod session;
mod shared;
mod status;
pub mod support;
mod sync;
mod sync_object;

pub mod conformance;

pub use abi::last_error;
pub use adapter::{AdapterConfig, AdapterInfo, AdapterKind, EnumFilter, Luid};
pub use error::{KResult, KernelError};
pub use handle::{LocalHandle, NtHandle};
pub use kernel::{Kernel, KernelConfig};
pub use kmd::{CreateSessionArgs, DefaultKmd, Kmd, SessionKey, SessionStatus};
pub use live::ObjectKind;
pub use policy::{
    AdapterClose, DeviceDestroySessions, DuplicateAccess, FenceRegression, HandleNumbering, HandleReuse, Policies,
    StatusFenceBump,
};
pub use process::{Binding, HandleKind, Process, ProcessId, current as current_process};
pub use session::SessionInfo;
pub use shared::{DuplicateOptions, access};
pub use status::NtStatus;
pub use support::{Entry, Support};
pub use sync_object::{MonitoredFence, SyncFlags};
