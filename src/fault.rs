//! Fault injection: armed faults answer a call in its place, at the one
//! dispatch point every `D3DKMT*` export goes through.
//!
//! (Filled in by the testing-powers work; today nothing is ever armed.)

use crate::error::KernelError;
use crate::process::Process;
use crate::support::Entry;

/// The error an armed fault answers `entry` with, if one fires for this
/// call. Called after the exited-process check and before the call, so an
/// injected failure changes no state and leaves the caller's struct untouched.
#[inline]
pub(crate) fn intercept(process: &Process, entry: Entry) -> Option<KernelError> {
    let _ = (process, entry);
    None
}
