//! The fuzz corpus, replayed on stable as ordinary tests: every file in
//! `fixtures/fuzz/lifecycle/` and `fixtures/fuzz/abi_input/` (minimised
//! campaign corpora, and every input that ever found a bug) goes through the
//! same harness functions the cargo-fuzz targets call.

use std::path::Path;

use d3dkmt_emu::fuzz::{ABI_ENTRIES, run_abi_input, run_lifecycle};

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fuzz").join(target);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("directory entry").path();
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path.file_name().expect("a file").to_string_lossy().into_owned(), bytes)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn lifecycle_corpus_replays_clean() {
    let files = corpus("lifecycle");
    assert!(files.len() >= 10, "the lifecycle corpus has {} files", files.len());
    let mut ops = 0;
    for (name, bytes) in files {
        let stats = run_lifecycle(&bytes).unwrap_or_else(|failure| panic!("lifecycle/{name}: {failure}"));
        ops += stats.ops;
    }
    assert!(ops > 0);
}

#[test]
fn abi_input_corpus_replays_clean() {
    let files = corpus("abi_input");
    assert!(files.len() >= 10, "the abi_input corpus has {} files", files.len());
    for (name, bytes) in files {
        run_abi_input(&bytes).unwrap_or_else(|why| panic!("abi_input/{name}: {why}"));
    }
}

/// Each entry's struct fits the harness's buffer, and each entry answers an
/// empty input (a zeroed struct) without breaking an invariant.
#[test]
fn every_abi_entry_takes_a_zeroed_struct() {
    for (i, entry) in ABI_ENTRIES.iter().enumerate() {
        for world in 0..8u8 {
            let mut input = vec![world, i as u8];
            input.extend(std::iter::repeat_n(0u8, 300));
            run_abi_input(&input).unwrap_or_else(|why| panic!("{} in world {world}: {why}", entry.name));
        }
    }
}
