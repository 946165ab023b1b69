//! The RavenStack export through data/mappings/ravenstack.toml: loads without
//! errors, and its known faults come out as counted warnings whose numbers
//! match a recount by tests/ravenstack_recount.py (Python standard library).

use std::path::{Path, PathBuf};

use headroom_data::{Check, Mapping, Severity, TableKind, load};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
}

/// The public data folder: `HEADROOM_PUBLIC_DATA`, else `../shared/data` beside
/// the workspace, else `/work/shared/data`.
fn public_data() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("HEADROOM_PUBLIC_DATA").map(PathBuf::from),
        Some(workspace_root().join("../shared/data")),
        Some(PathBuf::from("/work/shared/data")),
    ];
    candidates.into_iter().flatten().find(|p| p.is_dir())
}

fn ravenstack() -> Option<headroom_data::Loaded> {
    let Some(data) = public_data() else {
        eprintln!("note: public data not found; set HEADROOM_PUBLIC_DATA to run this test");
        return None;
    };
    let mapping = Mapping::load(&workspace_root().join("data/mappings/ravenstack.toml")).unwrap();
    Some(load(&data.join("ravenstack"), &mapping).unwrap())
}

fn count(loaded: &headroom_data::Loaded, check: Check) -> usize {
    let issues = loaded.report.of(check);
    assert_eq!(issues.len(), 1, "expected one {check:?} finding");
    issues[0].count
}

#[test]
fn ravenstack_loads_without_errors() {
    let Some(loaded) = ravenstack() else { return };
    assert_eq!(loaded.report.error_count(), 0, "{}", loaded.report.render());
    let tables = &loaded.tables;
    assert_eq!(tables.accounts.height(), 500);
    // 5,000 subscriptions less 778 trials.
    assert_eq!(tables.contracts.height(), 4222);
    assert_eq!(tables.entitlements.height(), 4222);
    // 600 churn events + 431 upgrades + 168 downgrades + 504 yearly renewals,
    // less one churn event exported twice (A-cc102e on 2024-11-19).
    assert_eq!(tables.outcomes.height(), 1702);
    assert_eq!(tables.meta.currency.as_deref(), Some("USD"));
    let summary = &loaded.report.tables[&TableKind::Usage];
    assert_eq!(summary.date_ranges[0].1.to_string(), "2023-01-31");
    assert_eq!(summary.date_ranges[0].2.to_string(), "2024-12-31");
}

#[test]
fn ravenstack_findings_match_recount() {
    let Some(loaded) = ravenstack() else { return };
    assert_eq!(count(&loaded, Check::BeforeStart), 19142);
    assert_eq!(count(&loaded, Check::AfterEnd), 290);
    // 35 flagged without a churn event + 277 churn events on unflagged accounts.
    assert_eq!(count(&loaded, Check::ChurnFlagMismatch), 312);
    assert_eq!(count(&loaded, Check::OverlappingContracts), 3713);
    let overlap = &loaded.report.of(Check::OverlappingContracts)[0];
    assert!(overlap.message.contains("in 497 account(s)"));
    assert_eq!(count(&loaded, Check::DuplicateSourceId), 21);
    let warnings: Vec<_> = loaded
        .report
        .issues()
        .iter()
        .filter(|i| i.severity == Severity::Warning)
        .collect();
    // One repeated churn event, read once.
    assert_eq!(count(&loaded, Check::DuplicateKey), 1);
    // Six upgrades, downgrades or renewals dated on the day of an
    // account-level churn event.
    let same_day = loaded
        .report
        .of(Check::BadValue)
        .into_iter()
        .filter(|i| i.message.contains("shares its day with a churned outcome"))
        .count();
    assert_eq!(same_day, 6);
    assert_eq!(warnings.len(), 12);
}

#[test]
fn ravenstack_rules_are_counted() {
    let Some(loaded) = ravenstack() else { return };
    let derived = loaded.report.of(Check::Derived);
    assert_eq!(derived[0].count, 504);
    let filled = loaded.report.of(Check::Filled);
    // Every open-ended paid subscription got a renewal date.
    assert_eq!(filled[0].count, 3814);
    let combined = loaded.report.of(Check::Combined);
    // 3 metrics x 25,000 feature-usage rows + 2,000 tickets + 95 escalations.
    assert_eq!(combined[0].count, 77095);
    assert_eq!(loaded.tables.usage.height(), 32490);
}
