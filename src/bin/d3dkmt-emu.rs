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

use std::process::ExitCode;

use d3dkmt_emu::support::{ENTRY_POINTS, Support};
use d3dkmt_emu::{conformance, coverage};

fn usage() -> ExitCode {
    eprintln!(
        "usage: d3dkmt-emu conformance [--table FILE]\n       d3dkmt-emu support\n       \
         d3dkmt-emu coverage [--markdown | --update-readme [FILE]]\n       d3dkmt-emu replay FILE"
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
