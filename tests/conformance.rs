//! Runs the conformance tables (`fixtures/conformance*.tsv`) as a test, and
//! checks that every fact the core issue cites has a row naming it.

use d3dkmt_emu::conformance;

#[test]
fn every_row_of_the_conformance_table_passes() {
    let rows = conformance::rows().expect("tables parse");
    assert!(rows.len() >= 80, "the table lost rows: {}", rows.len());
    let outcomes = conformance::run_all(&rows);
    let mut report = Vec::new();
    let all_passed = conformance::report(&outcomes, &mut report).unwrap();
    assert!(all_passed, "{}", String::from_utf8_lossy(&report));
}

#[test]
fn the_table_names_every_cited_fact() {
    let rows = conformance::rows().unwrap();
    let facts: String = rows.iter().map(|r| format!("{} ", r.facts)).collect();
    for n in [1, 2, 4, 5, 16, 17, 18, 19, 20, 21, 29, 30, 31, 44, 45, 46, 52, 53, 92, 94, 95, 96, 97, 99] {
        let named = facts.contains(&format!("#{n},"))
            || facts.contains(&format!("#{n} "))
            || facts.contains(&format!(", #{n}"));
        assert!(named, "no conformance row names WINE #{n}");
    }
    for entry in [
        "D3DKMTCreateProtectedSession",
        "D3DKMTDestroyProtectedSession",
        "D3DKMTQueryProtectedSessionStatus",
        "D3DKMTQueryProtectedSessionInfoFromNtHandle",
        "D3DKMTOpenProtectedSessionFromNtHandle",
    ] {
        for input in ["null", "zeroed", "a5"] {
            assert!(
                rows.iter().any(|r| r.entry == entry && r.input == input && r.facts.contains("ROS")),
                "no ROS parity row for {entry} {input}"
            );
        }
    }
}

#[test]
fn a_wrong_expectation_fails_its_row() {
    let text = "D3DKMTCreateDevice\tnull\tSTATUS_SUCCESS\tyes\tnone\tdeliberately wrong\n";
    let rows = conformance::parse(text).unwrap();
    let outcomes = conformance::run_all(&rows);
    assert!(!outcomes[0].passed());
    assert!(outcomes[0].problems[0].contains("STATUS_INVALID_PARAMETER"));
}

#[test]
fn malformed_tables_are_rejected() {
    assert!(conformance::parse("D3DKMTCreateDevice\tnull\tSTATUS_NOPE\tyes\tx\ty\n").is_err());
    assert!(conformance::parse("D3DKMTCreateDevice\tnull\n").is_err());
    assert!(conformance::parse("D3DKMTCreateDevice\tnull\tSTATUS_SUCCESS\tmaybe\tx\ty\n").is_err());
}
