//! `libdxcore.so`: the libdxg-ABI build of d3dkmt-emu under the name that
//! WSL clients `dlopen` (`libdxcore.so`, `/usr/lib/wsl/lib/libdxcore.so`).
//!
//! Everything is in the `dxg` crate (the d3dkmt-emu source built with the
//! 4-byte WCHAR layouts); linking it here is enough for its `#[no_mangle]`
//! `D3DKMT*` and `d3dkmt_emu_*` exports to become this library's exports.
//! The DXCore COM factory (`DXCoreCreateAdapterFactory`) is not provided.

pub use dxg;
