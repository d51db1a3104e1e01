//! `NtStatus`: the NTSTATUS values every entry point returns.

use std::fmt;

/// An NTSTATUS value, as the `D3DKMT*` thunks return it.
///
/// A transparent newtype over the raw `i32`, so any code stays representable,
/// including ones this crate has no name for. Success and informational codes
/// (severity bits `00` and `01`) count as success, as `NT_SUCCESS` does.
#[repr(transparent)]
#[must_use]
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NtStatus(pub i32);

macro_rules! statuses {
    ($($(#[$doc:meta])* $name:ident = $value:expr;)*) => {
        impl NtStatus {
            $($(#[$doc])* pub const $name: NtStatus = NtStatus($value as u32 as i32);)*

            /// The symbolic name of a known status, such as `"STATUS_INVALID_HANDLE"`.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $(NtStatus::$name => Some(concat!("STATUS_", stringify!($name))),)*
                    _ => None,
                }
            }

            /// Parses `"STATUS_INVALID_HANDLE"`, `"INVALID_HANDLE"` or `"0xC0000008"`.
            pub fn parse(text: &str) -> Option<NtStatus> {
                let text = text.trim();
                if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
                    return u32::from_str_radix(hex, 16).ok().map(|v| NtStatus(v as i32));
                }
                let bare = text.strip_prefix("STATUS_").unwrap_or(text);
                match bare {
                    $(stringify!($name) => Some(NtStatus::$name),)*
                    _ => None,
                }
            }
        }
    };
}

statuses! {
    /// The call succeeded.
    SUCCESS = 0x0000_0000;
    /// A keyed mutex's owner died while holding it.
    ABANDONED = 0x0000_0080;
    /// A wait or acquire timed out.
    TIMEOUT = 0x0000_0102;
    /// The request is pending.
    PENDING = 0x0000_0103;
    /// Generic failure; `OpenAdapterFromGdiDisplayName` uses it (WINE #9).
    UNSUCCESSFUL = 0xC000_0001;
    /// The entry point is not emulated (see the support table).
    NOT_IMPLEMENTED = 0xC000_0002;
    /// A bad NT handle.
    INVALID_HANDLE = 0xC000_0008;
    /// A bad argument or a bad D3DKMT handle.
    INVALID_PARAMETER = 0xC000_000D;
    /// Out of memory, or a handle table quota was reached.
    NO_MEMORY = 0xC000_0017;
    /// The handle lacks the access right the call needs.
    ACCESS_DENIED = 0xC000_0022;
    /// An output buffer is too small.
    BUFFER_TOO_SMALL = 0xC000_0023;
    /// An NT handle names an object of another type.
    OBJECT_TYPE_MISMATCH = 0xC000_0024;
    /// No object has that name.
    OBJECT_NAME_NOT_FOUND = 0xC000_0034;
    /// An object already has that name.
    OBJECT_NAME_COLLISION = 0xC000_0035;
    /// The calling virtual process has exited.
    PROCESS_IS_TERMINATING = 0xC000_010A;
    /// The adapter or driver does not support the request.
    NOT_SUPPORTED = 0xC000_00BB;
    /// A panic was caught at the ABI boundary: a bug in this crate.
    INTERNAL_ERROR = 0xC000_00E5;
    /// The device or its adapter was removed or reset.
    DEVICE_REMOVED = 0xC000_02B6;
    /// The GPU has no memory left for the request.
    GRAPHICS_NO_VIDEO_MEMORY = 0xC01E_0100;
    /// Presentation is occluded: a device holds a VidPn source exclusively
    /// (WINE #34, #41).
    GRAPHICS_PRESENT_OCCLUDED = 0xC01E_0006;
    /// Presentation just became unoccluded (a transient answer; WINE #38).
    GRAPHICS_PRESENT_UNOCCLUDED = 0xC01E_000C;
    /// Another owner holds the VidPn source (WINE #33, #36).
    GRAPHICS_VIDPN_SOURCE_IN_USE = 0xC01E_0342;
}

impl NtStatus {
    /// True for success and informational codes, as `NT_SUCCESS`.
    pub const fn is_ok(self) -> bool {
        self.0 >= 0
    }

    /// True for warning and error codes.
    pub const fn is_err(self) -> bool {
        !self.is_ok()
    }

    /// The raw value, as `NTSTATUS`.
    pub const fn raw(self) -> i32 {
        self.0
    }

    /// `Ok(())` for a success code, `Err(self)` otherwise.
    pub fn ok(self) -> Result<(), NtStatus> {
        if self.is_ok() { Ok(()) } else { Err(self) }
    }

    /// Panics with the status's name unless it is a success code.
    #[track_caller]
    pub fn unwrap(self) {
        if self.is_err() {
            panic!("called `NtStatus::unwrap()` on {self}");
        }
    }
}

impl fmt::Display for NtStatus {
    /// `0xC0000008 (STATUS_INVALID_HANDLE)`, or the bare hex for unknown codes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{:#010X} ({name})", self.0 as u32),
            None => write!(f, "{:#010X}", self.0 as u32),
        }
    }
}

impl fmt::Debug for NtStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl From<NtStatus> for i32 {
    fn from(status: NtStatus) -> i32 {
        status.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_hex_with_name() {
        assert_eq!(NtStatus::INVALID_HANDLE.to_string(), "0xC0000008 (STATUS_INVALID_HANDLE)");
        assert_eq!(NtStatus(0x1234).to_string(), "0x00001234");
    }

    #[test]
    fn success_and_informational_are_ok() {
        assert!(NtStatus::SUCCESS.is_ok());
        assert!(NtStatus::TIMEOUT.is_ok());
        assert!(NtStatus::INVALID_PARAMETER.is_err());
    }

    #[test]
    fn parse_round_trips() {
        for s in [NtStatus::INVALID_HANDLE, NtStatus::NOT_SUPPORTED, NtStatus::SUCCESS] {
            assert_eq!(NtStatus::parse(s.name().unwrap()), Some(s));
            assert_eq!(NtStatus::parse(&format!("{:#010X}", s.0 as u32)), Some(s));
        }
        assert_eq!(NtStatus::parse("NOPE"), None);
    }

    #[test]
    fn constants_match_windows_sys() {
        use windows_sys::Win32::Foundation as f;
        assert_eq!(NtStatus::INVALID_HANDLE.0, f::STATUS_INVALID_HANDLE);
        assert_eq!(NtStatus::INVALID_PARAMETER.0, f::STATUS_INVALID_PARAMETER);
        assert_eq!(NtStatus::OBJECT_TYPE_MISMATCH.0, f::STATUS_OBJECT_TYPE_MISMATCH);
        assert_eq!(NtStatus::DEVICE_REMOVED.0, f::STATUS_DEVICE_REMOVED);
        assert_eq!(NtStatus::NOT_SUPPORTED.0, f::STATUS_NOT_SUPPORTED);
        assert_eq!(NtStatus::BUFFER_TOO_SMALL.0, f::STATUS_BUFFER_TOO_SMALL);
        assert_eq!(NtStatus::PROCESS_IS_TERMINATING.0, f::STATUS_PROCESS_IS_TERMINATING);
        assert_eq!(NtStatus::INTERNAL_ERROR.0, f::STATUS_INTERNAL_ERROR);
        assert_eq!(NtStatus::GRAPHICS_PRESENT_OCCLUDED.0, f::STATUS_GRAPHICS_PRESENT_OCCLUDED);
        assert_eq!(NtStatus::GRAPHICS_PRESENT_UNOCCLUDED.0, f::STATUS_GRAPHICS_PRESENT_UNOCCLUDED);
        assert_eq!(NtStatus::GRAPHICS_VIDPN_SOURCE_IN_USE.0, f::STATUS_GRAPHICS_VIDPN_SOURCE_IN_USE);
    }
}
