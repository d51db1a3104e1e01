//! The table of entry points: what each `D3DKMT*` export does here.
//!
//! Every export goes through [`crate::abi`]'s dispatch with its [`Entry`], and
//! this table says whether we emulate it. A `Stub` row's export returns
//! `STATUS_NOT_IMPLEMENTED` without looking at its arguments, and
//! [`crate::last_error`] says so; nothing pretends to succeed.

/// How much of an entry point is emulated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// Emulated as Windows behaves, as far as the facts we have go.
    Supported,
    /// Emulated in part; the text says what is missing, and the missing part
    /// answers `STATUS_NOT_IMPLEMENTED`.
    Partial(&'static str),
    /// Exported, but returns `STATUS_NOT_IMPLEMENTED`.
    Stub,
}

macro_rules! entry_points {
    ($($name:ident => $support:expr,)*) => {
        /// One exported entry point (the Windows spelling).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(non_camel_case_types, reason = "the exact Windows spellings")]
        pub enum Entry {
            $(#[doc = stringify!($name)] $name,)*
        }

        /// Every entry point with its name and support level, in export order.
        pub const ENTRY_POINTS: &[(Entry, &str, Support)] = &[
            $((Entry::$name, stringify!($name), $support),)*
        ];
    };
}

use Support::{Partial, Stub, Supported};

entry_points! {
    D3DKMTEnumAdapters2 => Supported,
    D3DKMTEnumAdapters3 => Supported,
    D3DKMTOpenAdapterFromLuid => Supported,
    D3DKMTCloseAdapter => Supported,
    D3DKMTCreateDevice => Supported,
    D3DKMTDestroyDevice => Supported,
    D3DKMTCreateSynchronizationObject2 => Partial("monitored fences only; mutex, semaphore, fence and CPU-notification types return STATUS_NOT_IMPLEMENTED"),
    D3DKMTDestroySynchronizationObject => Supported,
    D3DKMTSignalSynchronizationObjectFromCpu => Supported,
    D3DKMTWaitForSynchronizationObjectFromCpu => Partial("blocking waits (NULL hAsyncEvent) only; an event handle returns STATUS_NOT_IMPLEMENTED"),
    D3DKMTOpenSyncObjectFromNtHandle2 => Supported,
    D3DKMTCreateProtectedSession => Supported,
    D3DKMTDestroyProtectedSession => Supported,
    D3DKMTQueryProtectedSessionStatus => Supported,
    D3DKMTQueryProtectedSessionInfoFromNtHandle => Supported,
    D3DKMTOpenProtectedSessionFromNtHandle => Supported,
    D3DKMTShareObjects => Partial("one monitored fence or one protected session; resources and keyed mutexes are not emulated yet"),
    CloseHandle => Partial("with the `win32-handles` feature only; closes our NT handles, nothing else"),
    DuplicateHandle => Partial("with the `win32-handles` feature only; duplicates our NT handles between virtual processes"),
    D3DKMTSetHwProtectionTeardownRecovery => Stub,
    D3DKMTSetVidPnSourceHwProtection => Stub,
}

impl Entry {
    /// The exported name, e.g. `"D3DKMTCreateDevice"`.
    pub fn name(self) -> &'static str {
        ENTRY_POINTS[self as usize].1
    }

    /// How much of it is emulated.
    pub fn support(self) -> Support {
        ENTRY_POINTS[self as usize].2
    }

    /// The entry point with that exported name.
    pub fn from_name(name: &str) -> Option<Entry> {
        ENTRY_POINTS.iter().find(|(_, n, _)| *n == name).map(|(e, _, _)| *e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_indexed_by_entry() {
        for (i, (entry, name, _)) in ENTRY_POINTS.iter().enumerate() {
            assert_eq!(*entry as usize, i);
            assert_eq!(entry.name(), *name);
            assert_eq!(Entry::from_name(name), Some(*entry));
        }
    }
}
