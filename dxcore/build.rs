//! Names the shared library `libdxcore.so` in its ELF header.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo::rustc-cdylib-link-arg=-Wl,-soname,libdxcore.so");
    }
}
