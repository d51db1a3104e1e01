//! The coverage table: every `D3DKMT*` name from the two sources a client
//! may be written against, with what we do for it.
//!
//! The sources: the functions windows-sys declares (171 gdi32 imports and a
//! few API-set imports; `fixtures/coverage/windows-sys.tsv`, written by
//! `tools/gen_stubs.py`) and the functions Microsoft's libdxg defines
//! (`fixtures/coverage/libdxg.tsv`). Our level for each comes from
//! [`crate::support::ENTRY_POINTS`]; every name of both sources has a row
//! there, so every one is exported (stubs included). `d3dkmt-emu coverage`
//! prints the table, and the README carries [`markdown`]'s rendering of it,
//! which `tests/coverage.rs` keeps fresh.

use crate::support::{ENTRY_POINTS, Support};

const WINDOWS_SYS: &str = include_str!("../fixtures/coverage/windows-sys.tsv");
const LIBDXG: &str = include_str!("../fixtures/coverage/libdxg.tsv");

/// How libdxg defines a function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Libdxg {
    /// A thunk to a `/dev/dxg` ioctl.
    Implemented,
    /// Answers `STATUS_NOT_SUPPORTED`.
    NotSupported,
    /// No ioctl (`D3DKMTCloseDxCoreDevice` closes the device file;
    /// `D3DKMTSetStablePowerState` succeeds doing nothing).
    Other,
    /// Exported only under a C++-mangled name: no C client links it from
    /// libdxg (the inner status is what the function does).
    Mangled(&'static str),
}

impl Libdxg {
    fn parse(status: &'static str) -> Libdxg {
        match status {
            "implemented" => Libdxg::Implemented,
            "not_supported" => Libdxg::NotSupported,
            "other" => Libdxg::Other,
            s => Libdxg::Mangled(s.strip_prefix("mangled-").unwrap_or(s)),
        }
    }

    /// A short description for the table.
    pub fn describe(self) -> &'static str {
        match self {
            Libdxg::Implemented => "ioctl thunk",
            Libdxg::NotSupported => "STATUS_NOT_SUPPORTED",
            Libdxg::Other => "no ioctl",
            Libdxg::Mangled("implemented") => "C++ name only (thunk)",
            Libdxg::Mangled(_) => "C++ name only",
        }
    }
}

/// One name of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    /// The exported name.
    pub name: &'static str,
    /// Our level (`None` would be a name we do not export; the tests keep
    /// that from happening).
    pub support: Option<Support>,
    /// The DLL windows-sys links it to, if windows-sys declares it.
    pub windows_sys: Option<&'static str>,
    /// What libdxg does with it, if libdxg defines it.
    pub libdxg: Option<Libdxg>,
}

fn rows_of(table: &'static str) -> impl Iterator<Item = (&'static str, &'static str)> {
    table.lines().filter(|l| l.starts_with("D3DKMT")).filter_map(|l| l.split_once('\t'))
}

/// Every `D3DKMT*` name of windows-sys, libdxg and our table, by name.
pub fn rows() -> Vec<Row> {
    let mut names: Vec<&'static str> = ENTRY_POINTS
        .iter()
        .map(|(_, n, _)| *n)
        .chain(rows_of(WINDOWS_SYS).map(|(n, _)| n))
        .chain(rows_of(LIBDXG).map(|(n, _)| n))
        .filter(|n| n.starts_with("D3DKMT"))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .map(|name| Row {
            name,
            support: ENTRY_POINTS.iter().find(|(_, n, _)| *n == name).map(|(_, _, s)| *s),
            windows_sys: rows_of(WINDOWS_SYS).find(|(n, _)| *n == name).map(|(_, dll)| dll),
            libdxg: rows_of(LIBDXG).find(|(n, _)| *n == name).map(|(_, s)| Libdxg::parse(s)),
        })
        .collect()
}

fn level(support: Option<Support>) -> (&'static str, &'static str) {
    match support {
        Some(Support::Supported) => ("supported", ""),
        Some(Support::Partial(gaps)) => ("partial", gaps),
        Some(Support::Stub) => ("stub", "STATUS_NOT_IMPLEMENTED"),
        None => ("MISSING", "not exported"),
    }
}

fn dll(windows_sys: Option<&str>) -> &str {
    match windows_sys {
        Some(dll) => dll.strip_suffix(".dll").unwrap_or(dll),
        None => "-",
    }
}

/// The table as plain columns: name, level, windows-sys DLL, libdxg, note.
pub fn text() -> String {
    let mut out = String::new();
    for row in rows() {
        let (level, note) = level(row.support);
        let libdxg = row.libdxg.map_or("-", Libdxg::describe);
        out += &format!("{:<48} {:<10} {:<28} {:<22} {note}\n", row.name, level, dll(row.windows_sys), libdxg);
    }
    out += &summary();
    out.push('\n');
    out
}

/// One line of counts.
pub fn summary() -> String {
    let rows = rows();
    let count = |f: &dyn Fn(&Row) -> bool| rows.iter().filter(|r| f(r)).count();
    format!(
        "{} names: {} supported, {} partial, {} stubs; {} declared by windows-sys ({} gdi32), {} defined by libdxg",
        rows.len(),
        count(&|r| r.support == Some(Support::Supported)),
        count(&|r| matches!(r.support, Some(Support::Partial(_)))),
        count(&|r| r.support == Some(Support::Stub)),
        count(&|r| r.windows_sys.is_some()),
        count(&|r| r.windows_sys == Some("gdi32.dll")),
        count(&|r| r.libdxg.is_some()),
    )
}

/// The table in Markdown, as the README shows it.
pub fn markdown() -> String {
    let mut out = String::from("| Entry point | Level | windows-sys | libdxg | Note |\n|---|---|---|---|---|\n");
    for row in rows() {
        let (level, note) = level(row.support);
        let libdxg = row.libdxg.map_or("-", Libdxg::describe);
        out += &format!(
            "| `{}` | {level} | {} | {libdxg} | {} |\n",
            row.name,
            dll(row.windows_sys),
            note.replace('|', "\\|")
        );
    }
    out += &format!("\n{}.\n", summary());
    out
}

/// The README markers between which [`markdown`] goes.
pub const README_BEGIN: &str =
    "<!-- BEGIN COVERAGE (generated: cargo run --bin d3dkmt-emu -- coverage --update-readme) -->\n";
/// See [`README_BEGIN`].
pub const README_END: &str = "<!-- END COVERAGE -->\n";

/// `readme` with the text between the markers replaced by [`markdown`];
/// `None` if the markers are missing.
pub fn update_readme(readme: &str) -> Option<String> {
    let start = readme.find(README_BEGIN)? + README_BEGIN.len();
    let end = start + readme[start..].find(README_END)?;
    Some(format!("{}{}{}", &readme[..start], markdown(), &readme[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_of_both_sources_has_a_level() {
        let rows = rows();
        let missing: Vec<_> = rows.iter().filter(|r| r.support.is_none()).map(|r| r.name).collect();
        assert!(missing.is_empty(), "not in the support table: {missing:?}");
        assert_eq!(rows.iter().filter(|r| r.windows_sys == Some("gdi32.dll")).count(), 171);
        assert_eq!(rows.iter().filter(|r| r.libdxg.is_some()).count(), 103);
        let only_libdxg: Vec<_> = rows.iter().filter(|r| r.windows_sys.is_none()).map(|r| r.name).collect();
        assert!(only_libdxg.contains(&"D3DKMTCloseDxCoreDevice") && only_libdxg.contains(&"D3DKMTCreateSyncFile"));
        let wsl = rows.iter().find(|r| r.name == "D3DKMTQueryAdapterInfo").unwrap();
        assert_eq!((wsl.windows_sys, wsl.libdxg), (Some("gdi32.dll"), Some(Libdxg::Implemented)));
    }

    #[test]
    fn the_readme_update_replaces_only_the_block() {
        let readme = format!("before\n{README_BEGIN}stale\n{README_END}after\n");
        let updated = update_readme(&readme).unwrap();
        assert!(updated.starts_with(&format!("before\n{README_BEGIN}| Entry point |")));
        assert!(updated.ends_with(&format!(".\n{README_END}after\n")));
        assert!(!updated.contains("stale"));
        assert_eq!(update_readme("no markers"), None);
    }
}
