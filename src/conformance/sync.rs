//! Conformance scenarios and raw calls: Synchronization objects of every type, global handles, NT handles and names for syncs (WINE #3, #6, #7, #42-#53, #92-#100).
//! The rows are in `fixtures/conformance/sync.tsv`.

use core::ffi::c_void;

use super::Scenario;

/// The scenario called `name`, if this area has it.
pub(super) fn scenario(name: &str) -> Option<Scenario> {
    let _ = name;
    None
}

/// Calls `entry` with the raw argument pointer `p` (NULL or a 1024-byte
/// buffer), if it is an entry point of this area.
pub(super) fn raw_call(entry: &str, p: *mut c_void) -> Option<i32> {
    let _ = (entry, p);
    None
}
