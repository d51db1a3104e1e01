//! Fuzzing your own code on top of the fake kernel: seeded op sequences from
//! the crate's vocabulary, model-checked, with a hook that runs your checks
//! after every step.
//!
//! Here the "driver" is a tally of what the kernel answered, and its own
//! invariant is that a protected session's status, as its process reads it,
//! is one the KMD could have set. Run with
//! `cargo run --release --example fuzz_driver [SEED] [SEQUENCES]`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use d3dkmt_emu::fuzz::{Generator, Runner, shrink};
use d3dkmt_emu::{Kernel, KernelConfig, NtStatus};

fn main() {
    let mut args = std::env::args().skip(1);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let sequences: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let tally: Rc<RefCell<BTreeMap<String, u64>>> = Rc::default();
    let mut generator = Generator::new(seed);
    let run = |ops: &[d3dkmt_emu::fuzz::Op], tally: Option<Rc<RefCell<BTreeMap<String, u64>>>>| {
        let kernel = Kernel::new(KernelConfig::default());
        let mut runner = Runner::new(kernel).after_each(move |kernel, op, outcome| {
            if let Some(t) = &tally {
                let name = format!("{op:?}").split([' ', '{']).next().unwrap_or("").to_string();
                *t.borrow_mut().entry(format!("{name:<18} {}", outcome.status)).or_default() += 1;
            }
            // Your driver's checks go here; they see the kernel after each step.
            for key in kernel.protected_sessions() {
                kernel.protected_session_status(key).map_err(|e| e.to_string())?;
            }
            Ok(())
        });
        runner.run(ops)
    };
    for n in 0..sequences {
        let ops = generator.sequence(100);
        if let Err(failure) = run(&ops, Some(Rc::clone(&tally))) {
            eprintln!("sequence {n} failed: {failure}");
            let (short, why) = shrink(&ops, |ops| run(ops, None).err());
            eprintln!("shrunk to {} ops: {why}", short.len());
            for op in short {
                eprintln!("  {op:?}");
            }
            std::process::exit(1);
        }
    }
    println!("{sequences} sequences of 100 ops from seed {seed}: kernel and model agree. What the kernel answered:");
    for (what, count) in tally.borrow().iter() {
        println!("  {what}  x{count}");
    }
    let _ = NtStatus::SUCCESS;
}
