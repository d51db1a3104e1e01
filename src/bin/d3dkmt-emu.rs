//! `d3dkmt-emu`: the command line.
//!
//! - `d3dkmt-emu conformance [--table FILE]`: runs the table of
//!   Windows-observed results against fresh kernels, prints it and a summary,
//!   and exits 1 on any mismatch.
//! - `d3dkmt-emu support`: prints the entry-point support table.
//! - `d3dkmt-emu coverage [--markdown | --update-readme [FILE]]`: prints
//!   every `D3DKMT*` name windows-sys declares or libdxg defines, with our
//!   level, its windows-sys DLL and what libdxg does; `--markdown` as the
//!   README shows it; `--update-readme` rewrites that block of README.md (or
//!   FILE) in place.
//! - `d3dkmt-emu replay FILE`: replays a call trace against a fresh kernel;
//!   exits 0 if it replays clean, 1 at the first divergence (printed with
//!   its context), 2 if the file cannot be read or is not a trace.
//! - `d3dkmt-emu fuzz [--seed S] [--seconds T | --iterations N] [--length L]
//!   [--out DIR]`: the structure-aware fuzzer, in process: seeded random op
//!   sequences over three processes through the C ABI, each step checked
//!   against the reference model (`d3dkmt_emu::fuzz`). A progress line on
//!   stderr gives sequences, ops per second and invariants checked. On a
//!   failure it shrinks the sequence, writes it to DIR (default `.`) as a
//!   replayable trace and an op list, prints how to replay it, and exits 1.

use std::process::ExitCode;

use d3dkmt_emu::support::{ENTRY_POINTS, Support};
use d3dkmt_emu::{conformance, coverage};

fn usage() -> ExitCode {
    eprintln!(
        "usage: d3dkmt-emu conformance [--table FILE]\n       d3dkmt-emu support\n       \
         d3dkmt-emu coverage [--markdown | --update-readme [FILE]]\n       d3dkmt-emu replay FILE\n       \
         d3dkmt-emu fuzz [--seed S] [--seconds T | --iterations N] [--length L] [--out DIR]"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("conformance") => {
            let rows = match args.get(1).map(String::as_str) {
                None => conformance::rows(),
                Some("--table") => match args.get(2).map(|f| (f, std::fs::read_to_string(f))) {
                    Some((file, Ok(text))) => conformance::parse_named(file, &text),
                    Some((_, Err(e))) => {
                        eprintln!("d3dkmt-emu: cannot read the table: {e}");
                        return ExitCode::from(2);
                    }
                    None => return usage(),
                },
                Some(_) => return usage(),
            };
            let rows = match rows {
                Ok(rows) => rows,
                Err(e) => {
                    eprintln!("d3dkmt-emu: bad table: {e}");
                    return ExitCode::from(2);
                }
            };
            let outcomes = conformance::run_all(&rows);
            match conformance::report(&outcomes, &mut std::io::stdout().lock()) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::from(1),
                Err(_) => ExitCode::from(2),
            }
        }
        Some("replay") => match args.get(1..).unwrap_or_default() {
            [file] => match d3dkmt_emu::replay::replay_file(file) {
                Ok(Ok(summary)) => {
                    println!("{file}: {summary}");
                    ExitCode::SUCCESS
                }
                Ok(Err(divergence)) => {
                    println!("{file}: {divergence}");
                    ExitCode::from(1)
                }
                Err(e) => {
                    eprintln!("d3dkmt-emu: {file}: {e}");
                    ExitCode::from(2)
                }
            },
            _ => usage(),
        },
        Some("fuzz") => match FuzzArgs::parse(&args[1..]) {
            Some(fuzz) => fuzz.run(),
            None => usage(),
        },
        Some("coverage") => match args.get(1..).unwrap_or_default() {
            [] => {
                print!("{}", coverage::text());
                ExitCode::SUCCESS
            }
            [flag] if flag == "--markdown" => {
                print!("{}", coverage::markdown());
                ExitCode::SUCCESS
            }
            [flag, file @ ..] if flag == "--update-readme" && file.len() <= 1 => {
                let file = file.first().map_or("README.md", String::as_str);
                let updated = std::fs::read_to_string(file).map(|text| coverage::update_readme(&text));
                match updated {
                    Ok(Some(text)) => match std::fs::write(file, text) {
                        Ok(()) => ExitCode::SUCCESS,
                        Err(e) => {
                            eprintln!("d3dkmt-emu: cannot write {file}: {e}");
                            ExitCode::from(2)
                        }
                    },
                    Ok(None) => {
                        eprintln!("d3dkmt-emu: {file} has no coverage markers");
                        ExitCode::from(2)
                    }
                    Err(e) => {
                        eprintln!("d3dkmt-emu: cannot read {file}: {e}");
                        ExitCode::from(2)
                    }
                }
            }
            _ => usage(),
        },
        Some("support") => {
            for (_, name, support) in ENTRY_POINTS {
                match support {
                    Support::Supported => println!("{name:<48} supported"),
                    Support::Partial(gaps) => println!("{name:<48} partial: {gaps}"),
                    Support::Stub => println!("{name:<48} stub (STATUS_NOT_IMPLEMENTED)"),
                }
            }
            ExitCode::SUCCESS
        }
        _ => usage(),
    }
}

/// `d3dkmt-emu fuzz` options.
struct FuzzArgs {
    seed: u64,
    seconds: Option<f64>,
    iterations: Option<u64>,
    length: usize,
    out: std::path::PathBuf,
}

impl FuzzArgs {
    fn parse(args: &[String]) -> Option<FuzzArgs> {
        let mut fuzz = FuzzArgs { seed: 0, seconds: None, iterations: None, length: 100, out: ".".into() };
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let value = it.next()?;
            match flag.as_str() {
                "--seed" => fuzz.seed = value.parse().ok()?,
                "--seconds" => fuzz.seconds = Some(value.parse().ok()?),
                "--iterations" => fuzz.iterations = Some(value.parse().ok()?),
                "--length" => fuzz.length = value.parse().ok()?,
                "--out" => fuzz.out = value.into(),
                _ => return None,
            }
        }
        if fuzz.seconds.is_none() && fuzz.iterations.is_none() {
            fuzz.seconds = Some(10.0);
        }
        Some(fuzz)
    }

    fn run(&self) -> ExitCode {
        use d3dkmt_emu::fuzz::{Generator, run_sequence, shrink, write_reproducer};
        use std::io::Write;
        let start = std::time::Instant::now();
        let mut generator = Generator::new(self.seed);
        let (mut sequences, mut ops, mut checks) = (0u64, 0u64, 0u64);
        let mut last_report = start;
        let progress = |sequences: u64, ops: u64, checks: u64, end: &str| {
            let secs = start.elapsed().as_secs_f64();
            let rate = ops as f64 / secs.max(1e-9);
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r[{secs:7.1}s] seed {}: {sequences} sequences, {ops} ops ({rate:.0} ops/s), {checks} invariants checked{end}",
                self.seed
            );
            let _ = err.flush();
        };
        loop {
            let done = self.iterations.is_some_and(|n| sequences >= n)
                || self.seconds.is_some_and(|t| start.elapsed().as_secs_f64() >= t);
            if done {
                break;
            }
            let sequence = generator.sequence(self.length);
            match run_sequence(&sequence) {
                Ok(stats) => {
                    sequences += 1;
                    ops += stats.ops;
                    checks += stats.checks;
                }
                Err(failure) => {
                    progress(sequences, ops, checks, "\n");
                    eprintln!("sequence {sequences} failed: {failure}");
                    eprintln!("shrinking {} ops...", sequence.len());
                    let (short, why) = shrink(&sequence, |ops| run_sequence(ops).err());
                    eprintln!("shrunk to {} ops: {why}", short.len());
                    for op in &short {
                        eprintln!("  {op:?}");
                    }
                    let name = format!("fuzz-seed{}-seq{sequences}", self.seed);
                    match write_reproducer(&short, &self.out, &name) {
                        Ok((trace, listing)) => {
                            println!("reproducer: {} (ops: {})", trace.display(), listing.display());
                            println!("replay it with: d3dkmt-emu replay {}", trace.display());
                        }
                        Err(e) => eprintln!("d3dkmt-emu: cannot write the reproducer: {e}"),
                    }
                    return ExitCode::from(1);
                }
            }
            if last_report.elapsed().as_millis() >= 500 {
                last_report = std::time::Instant::now();
                progress(sequences, ops, checks, "");
            }
        }
        progress(sequences, ops, checks, "\n");
        let secs = start.elapsed().as_secs_f64();
        println!(
            "fuzz: seed {}, {sequences} sequences, {ops} ops in {secs:.1} s ({:.0} ops/s), {checks} invariants checked, no failure",
            self.seed,
            ops as f64 / secs.max(1e-9)
        );
        ExitCode::SUCCESS
    }
}
