//! Selects the libdxg ABI for this build of the d3dkmt-emu source.
//!
//! No `-soname` here: Cargo passes a dependency's cdylib link arguments on
//! to the cdylibs that link it, so `libdxcore.so` would be named `libdxg.so`.
//! Without one, `-ldxg` records `libdxg.so`, the file's own name.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(d3dkmt_wchar32)");
    println!("cargo::rustc-cfg=d3dkmt_wchar32");
}
