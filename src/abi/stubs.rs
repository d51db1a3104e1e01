//! Exports we do not emulate: each returns `STATUS_NOT_IMPLEMENTED` through
//! the dispatch point, so traces and `last_error` say so.

use windows_sys::Wdk::Graphics::Direct3D::{D3DKMT_SETHWPROTECTIONTEARDOWNRECOVERY, D3DKMT_SETVIDPNSOURCEHWPROTECTION};

use super::export;
use crate::error::KernelError;

macro_rules! stubs {
    ($($name:ident($ty:ty) as $pfn:ident;)*) => {$(
        export! {
            #[doc = concat!("`", stringify!($name), "`: not emulated; returns `STATUS_NOT_IMPLEMENTED`.")]
            $name(_args: $ty) as $pfn, |_process| {
                Err(KernelError::NotImplemented(stringify!($name)))
            }
        }
    )*};
}

stubs! {
    D3DKMTSetHwProtectionTeardownRecovery(*const D3DKMT_SETHWPROTECTIONTEARDOWNRECOVERY)
        as PFND3DKMT_SETHWPROTECTIONTEARDOWNRECOVERY;
    D3DKMTSetVidPnSourceHwProtection(*const D3DKMT_SETVIDPNSOURCEHWPROTECTION)
        as PFND3DKMT_SETVIDPNSOURCEHWPROTECTION;
}
