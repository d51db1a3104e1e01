//! Raw bytes poured into the argument structs of the exported entry points;
//! see `d3dkmt_emu::fuzz::run_abi_input`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(why) = d3dkmt_emu::fuzz::run_abi_input(data) {
        panic!("{why}");
    }
});
