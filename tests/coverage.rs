//! The README's coverage table is the one `d3dkmt-emu coverage --markdown`
//! prints, and every name in it is exported by this library.

use d3dkmt_emu::coverage;
use d3dkmt_emu::support::Support;

#[test]
fn the_readme_table_is_fresh() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let updated = coverage::update_readme(&readme).expect("README.md has the coverage markers");
    assert!(
        updated == readme,
        "the coverage table in README.md is stale: run `cargo run --bin d3dkmt-emu -- coverage --update-readme`"
    );
}

#[test]
fn every_name_is_in_the_support_table() {
    let rows = coverage::rows();
    assert!(rows.iter().all(|r| r.support.is_some()));
    // Both sources, and nothing else but our own additions.
    assert!(rows.iter().all(|r| r.windows_sys.is_some() || r.libdxg.is_some()));
    let supported = |name: &str| rows.iter().find(|r| r.name == name).and_then(|r| r.support);
    assert_eq!(supported("D3DKMTEnumAdapters2"), Some(Support::Supported));
    assert_eq!(supported("D3DKMTShareObjectsInternal"), Some(Support::Stub));
}
