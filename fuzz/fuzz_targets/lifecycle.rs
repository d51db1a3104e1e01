//! Structured op sequences (decoded with `arbitrary`) through the C ABI,
//! checked against the reference model after every step; see
//! `d3dkmt_emu::fuzz::run_lifecycle`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(failure) = d3dkmt_emu::fuzz::run_lifecycle(data) {
        panic!("{failure}");
    }
});
