//! A process's connection to the graphics kernel: `D3DKMTCloseDxCoreDevice`.
//!
//! What libdxg does (libdxg-exports.tsv): the call takes and returns
//! nothing; it closes the process's `/dev/dxg` descriptor and forgets it
//! (it also runs as the library's destructor). Every later `D3DKMT*` call
//! then answers `STATUS_UNSUCCESSFUL`, and nothing reopens the device.
//! Closing the descriptor makes dxgkrnl tear down what the process held.
//! Windows (gdi32) has no such call.
//!
//! What we do, per the named policy [`crate::DxCoreClose`]: by default, as
//! libdxg, the calling virtual process is closed: its objects go as at
//! [`Process::exit`], and every later `D3DKMT*` call made as it answers
//! `STATUS_UNSUCCESSFUL` (checked first thing by the dispatch point, before
//! the exited check). The Rust API of a closed process answers as an exited
//! one's (`STATUS_PROCESS_IS_TERMINATING`). Closing twice does nothing more.
//! With [`crate::DxCoreClose::Ignore`] the call changes nothing.
//!
//! Why the default closes even the default process: a C program written for
//! libdxg calls it last (or gets it from libdxg's destructor), and expects
//! the library to be unusable afterwards; a test harness that shares the
//! default process between tests can choose `Ignore`, or bind each test to
//! a process of its own.

use std::sync::atomic::Ordering;

use crate::policy::DxCoreClose;
use crate::process::Process;

impl Process {
    /// `D3DKMTCloseDxCoreDevice` for this process, per the kernel's
    /// [`DxCoreClose`] policy (see `crate::dxcore`). Returns whether the
    /// process is now closed.
    pub fn close_dxcore_device(&self) -> bool {
        match self.kernel_inner().policies.dxcore_close {
            DxCoreClose::Ignore => false,
            DxCoreClose::CloseProcess => {
                self.0.dxcore_closed.store(true, Ordering::SeqCst);
                self.exit();
                true
            }
        }
    }

    /// True once `D3DKMTCloseDxCoreDevice` closed this process.
    pub fn dxcore_device_closed(&self) -> bool {
        self.0.dxcore_closed.load(Ordering::SeqCst)
    }
}
