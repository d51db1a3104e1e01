//! The count the object-model issue asks for: every WINE fact of sections
//! A1–A7 (#1–#108 of `wine-conformance-facts.md`) is pinned by a conformance
//! row, or by an integration test that names it, or is listed as not
//! applicable with a reason; never two of those at once for "not applicable".

use std::collections::{BTreeMap, BTreeSet};

use d3dkmt_emu::conformance::{self, LAST_SECTION_A7_FACT};

/// Facts named as `WINE #n` (or `#n` in a list after it) in the integration
/// tests' sources, with the file naming each.
fn facts_named_in_tests() -> BTreeMap<u32, String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.extension().is_none_or(|e| e != "rs") || name == "facts.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (at, _) in text.match_indices("WINE #") {
            // `WINE #95`, `WINE #95, #7`, `WINE #54-#59` are all read.
            let tail: String = text[at + 5..].chars().take(40).collect();
            for n in conformance::wine_facts(&format!("WINE {tail}")) {
                out.entry(n).or_insert_with(|| name.clone());
            }
        }
    }
    out
}

#[test]
fn every_fact_of_a1_to_a7_is_pinned_or_listed_as_not_applicable() {
    let rows = conformance::rows().unwrap();
    let outcomes = conformance::run_all(&rows);
    let in_rows: BTreeSet<u32> =
        outcomes.iter().filter(|o| o.passed()).flat_map(|o| conformance::wine_facts(&o.row.facts)).collect();
    let in_tests = facts_named_in_tests();
    let na: BTreeMap<u32, String> = conformance::not_applicable().unwrap().into_iter().collect();
    let mut missing = Vec::new();
    let mut both = Vec::new();
    for n in 1..=LAST_SECTION_A7_FACT {
        let pinned = in_rows.contains(&n) || in_tests.contains_key(&n);
        match (pinned, na.contains_key(&n)) {
            (false, false) => missing.push(n),
            (true, true) => both.push(n),
            _ => {}
        }
    }
    assert!(missing.is_empty(), "facts neither pinned nor listed as not applicable: {missing:?}");
    assert!(both.is_empty(), "facts listed as not applicable but pinned anyway: {both:?}");
    for (n, reason) in &na {
        assert!((1..=LAST_SECTION_A7_FACT).contains(n), "not-applicable fact #{n} is outside A1-A7");
        assert!(reason.len() > 20, "fact #{n}: give a real reason");
    }
    let pinned = (1..=LAST_SECTION_A7_FACT).filter(|n| in_rows.contains(n) || in_tests.contains_key(n)).count();
    assert_eq!(pinned + na.len(), LAST_SECTION_A7_FACT as usize, "the two numbers add up");
    eprintln!(
        "A1-A7: {} pinned by rows, {} more by tests, {} not applicable",
        in_rows.iter().filter(|&&n| n <= LAST_SECTION_A7_FACT).count(),
        pinned - in_rows.iter().filter(|&&n| n <= LAST_SECTION_A7_FACT).count(),
        na.len()
    );
}

#[test]
fn by_analogy_citations_do_not_count() {
    assert_eq!(conformance::wine_facts("WINE #99 (by analogy)"), Vec::<u32>::new());
    assert_eq!(conformance::wine_facts("WINE #4, #53"), vec![4, 53]);
    assert_eq!(conformance::wine_facts("WINE #46, DOC"), vec![46]);
    assert_eq!(conformance::wine_facts("DOC, #5"), Vec::<u32>::new());
}
