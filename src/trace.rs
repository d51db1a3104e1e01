//! The call trace: one record per call, taken at the dispatch point.
//!
//! (Filled in by the testing-powers work; today nothing is recorded.)

use core::ffi::c_void;

use crate::error::KResult;
use crate::process::Process;
use crate::support::Entry;

/// A call in progress, as the trace saw it begin.
pub(crate) struct Pending(());

/// Starts the record of a call; `arg` is the export's argument pointer (NULL
/// when the export passes none), read but never written.
#[inline]
pub(crate) fn begin(process: &Process, entry: Entry, arg: *const c_void) -> Option<Pending> {
    let _ = (process, entry, arg);
    None
}

/// Completes the record with the call's result.
#[inline]
pub(crate) fn finish(pending: Option<Pending>, result: &KResult<()>) {
    let _ = (pending, result);
}
