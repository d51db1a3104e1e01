//! Wide characters: the one place where strings cross the C ABI.
//!
//! Windows' `WCHAR` is a 2-byte UTF-16 unit, and windows-sys lays out every
//! struct that way. Code compiled on Linux against libdxg's headers gets
//! `WCHAR` = `wchar_t`, a 4-byte UTF-32 unit, so each struct that carries
//! `WCHAR` text has a second layout there (ours: [`crate::abi::linux`]), and
//! each `PCWSTR` points at 4-byte units.
//!
//! Which of the two a library serves is fixed when it is compiled, never
//! guessed at run time: `libd3dkmt_emu` (this package) serves the Windows
//! layout; `libdxg.so` and `libdxcore.so` (the `dxg` and `dxcore` packages,
//! which compile this source with `--cfg d3dkmt_wchar32`) serve libdxg's.
//! [`Wchar::NATIVE`] is that choice. Every conversion between Rust strings
//! and caller units goes through this module; the code that answers a call
//! takes a [`Wchar`] (or a [`WideUnit`] type), so the unit tests of this
//! package exercise both layouts.

/// A width of `WCHAR`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wchar {
    /// 2-byte UTF-16 units: Windows, windows-sys, `libd3dkmt_emu`.
    Utf16,
    /// 4-byte UTF-32 units (`wchar_t` on Linux): libdxg's headers,
    /// `libdxg.so`, `libdxcore.so`.
    Utf32,
}

impl Wchar {
    /// The width the library being compiled serves.
    pub const NATIVE: Wchar = if cfg!(d3dkmt_wchar32) { Wchar::Utf32 } else { Wchar::Utf16 };

    /// Bytes per unit.
    pub const fn size(self) -> usize {
        match self {
            Wchar::Utf16 => 2,
            Wchar::Utf32 => 4,
        }
    }

    /// `text` and a NUL, as little-endian units of this width.
    pub fn encode_z(self, text: &str) -> Vec<u8> {
        let mut bytes = self.encode(text);
        bytes.extend(std::iter::repeat_n(0, self.size()));
        bytes
    }

    /// `text` without a NUL, as little-endian units of this width (a
    /// counted string: `UNICODE_STRING`'s `Buffer`, `Length` bytes).
    pub fn encode(self, text: &str) -> Vec<u8> {
        match self {
            Wchar::Utf16 => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
            Wchar::Utf32 => text.chars().map(u32::from).flat_map(u32::to_le_bytes).collect(),
        }
    }

    /// Decodes a counted string: every whole unit of `bytes`, NULs
    /// included. `None` if they are not valid text.
    pub fn decode_counted(self, bytes: &[u8]) -> Option<String> {
        match self {
            Wchar::Utf16 => {
                let units: Vec<u16> = bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
                String::from_utf16(&units).ok()
            }
            Wchar::Utf32 => bytes
                .chunks_exact(4)
                .map(|c| char::from_u32(u32::from_le_bytes(c.try_into().expect("4 bytes"))))
                .collect(),
        }
    }

    /// Decodes `bytes` (little-endian units of this width; a trailing
    /// partial unit is ignored) up to the first NUL or the end. `None` if
    /// the units are not valid UTF-16 / Unicode scalar values.
    pub fn decode(self, bytes: &[u8]) -> Option<String> {
        match self {
            Wchar::Utf16 => {
                let units: Vec<u16> = bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
                u16::decode_z(&units)
            }
            Wchar::Utf32 => {
                let units: Vec<u32> =
                    bytes.chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes"))).collect();
                u32::decode_z(&units)
            }
        }
    }
}

/// A `WCHAR` unit type: `u16` (Windows) or `u32` (libdxg on Linux).
pub trait WideUnit: Copy + Default + Eq + 'static {
    /// The width this type is.
    const WCHAR: Wchar;
    /// The NUL unit.
    const NUL: Self;
    /// Encodes `text` without a NUL.
    fn encode(text: &str) -> Vec<Self>;
    /// Decodes the units before the first NUL (all of them if there is
    /// none). `None` if they are not valid text.
    fn decode_z(units: &[Self]) -> Option<String>;
}

impl WideUnit for u16 {
    const WCHAR: Wchar = Wchar::Utf16;
    const NUL: u16 = 0;
    fn encode(text: &str) -> Vec<u16> {
        text.encode_utf16().collect()
    }
    fn decode_z(units: &[u16]) -> Option<String> {
        let len = units.iter().position(|&u| u == 0).unwrap_or(units.len());
        String::from_utf16(&units[..len]).ok()
    }
}

impl WideUnit for u32 {
    const WCHAR: Wchar = Wchar::Utf32;
    const NUL: u32 = 0;
    fn encode(text: &str) -> Vec<u32> {
        text.chars().map(u32::from).collect()
    }
    fn decode_z(units: &[u32]) -> Option<String> {
        units.iter().take_while(|&&u| u != 0).map(|&u| char::from_u32(u)).collect()
    }
}

/// `text` in a fixed `WCHAR` array of `N` units, NUL-padded. Text that does
/// not fit with its NUL is cut at a character boundary (a UTF-16 surrogate
/// pair is never split).
pub fn fixed<W: WideUnit, const N: usize>(text: &str) -> [W; N] {
    let mut out = [W::NUL; N];
    let mut at = 0;
    let mut buf = [0u8; 4];
    for c in text.chars() {
        let units = W::encode(c.encode_utf8(&mut buf));
        if at + units.len() >= N {
            break;
        }
        out[at..at + units.len()].copy_from_slice(&units);
        at += units.len();
    }
    out
}

/// The driver-store path a client of the given width sees, from the
/// Windows path the kernel holds.
///
/// For Windows-layout clients, the path as configured. For libdxg-layout
/// clients, the path as libdxg rewrites it on WSL: a path with a
/// `\FileRepository\` component (any case) becomes the rest of the path
/// under `/usr/lib/wsl/drivers/`, with `/` separators, which is where WSL
/// mounts the host's driver store. Other paths are passed unchanged.
pub fn driver_store_path(windows_path: &str, wide: Wchar) -> String {
    const MARK: &str = "\\filerepository\\";
    if wide == Wchar::Utf16 {
        return windows_path.to_string();
    }
    match windows_path.to_ascii_lowercase().find(MARK) {
        Some(at) => format!("/usr/lib/wsl/drivers/{}", windows_path[at + MARK.len()..].replace('\\', "/")),
        None => windows_path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_native_width_is_windows_in_this_package() {
        // `cargo test` at the root builds the d3dkmt-emu package, which never
        // sets d3dkmt_wchar32; the dxg package does (dxg/build.rs).
        assert_eq!(Wchar::NATIVE, Wchar::Utf16);
    }

    #[test]
    fn both_widths_round_trip() {
        for wide in [Wchar::Utf16, Wchar::Utf32] {
            let text = "Gerät \u{1F600} DISPLAY1";
            let bytes = wide.encode_z(text);
            let units = text.encode_utf16().count();
            let expected = match wide {
                Wchar::Utf16 => (units + 1) * 2,
                Wchar::Utf32 => (text.chars().count() + 1) * 4,
            };
            assert_eq!(bytes.len(), expected);
            assert_eq!(wide.decode(&bytes).as_deref(), Some(text));
        }
        assert_eq!(Wchar::Utf32.decode(&0xD800u32.to_le_bytes()), None, "a lone surrogate is not a scalar value");
        assert_eq!(Wchar::Utf32.decode_counted(&Wchar::Utf32.encode_z("a")).as_deref(), Some("a\0"));
        assert_eq!(Wchar::Utf16.decode_counted(&Wchar::Utf16.encode("ab")).as_deref(), Some("ab"));
        assert_eq!(Wchar::Utf16.decode(&0xD800u16.to_le_bytes()), None);
    }

    #[test]
    fn fixed_arrays_cut_at_characters() {
        let a: [u16; 4] = fixed("ab\u{1F600}");
        assert_eq!(a, [b'a' as u16, b'b' as u16, 0, 0], "the pair does not fit with the NUL, so it is dropped whole");
        let b: [u32; 4] = fixed("ab\u{1F600}x");
        assert_eq!(b, [b'a' as u32, b'b' as u32, 0x1F600, 0]);
        assert_eq!(u32::decode_z(&b).as_deref(), Some("ab\u{1F600}"));
    }

    #[test]
    fn libdxg_rewrites_driver_store_paths() {
        let windows = "C:\\Windows\\System32\\DriverStore\\FileRepository\\emu.inf_amd64_0\\sub";
        assert_eq!(driver_store_path(windows, Wchar::Utf16), windows);
        assert_eq!(driver_store_path(windows, Wchar::Utf32), "/usr/lib/wsl/drivers/emu.inf_amd64_0/sub");
        assert_eq!(driver_store_path("D:\\drivers\\x", Wchar::Utf32), "D:\\drivers\\x");
    }
}
