//! The `values` line suggested for words a category column does not accept.
//!
//! Each unknown word is paired with the closest allowed word, when one is
//! close, and the pairs are printed as one TOML line that can be pasted into
//! the source's block of the mapping file.

use std::collections::BTreeMap;
use std::path::Path;

use crate::contract::TableKind;

/// Jaro-Winkler similarity from which an allowed word counts as close. At
/// 0.8, `Monthly` is close to `month`, `Renewal` to `renewed` and `Churn` to
/// `churned`, but `lost` is close to no outcome word and `annual` to no period.
const CLOSE_SIMILARITY: f64 = 0.8;

/// The mapping block a suggested value map belongs in.
pub(crate) struct MapTarget<'a> {
    /// The contract table.
    pub table: TableKind,
    /// The contract column.
    pub column: &'a str,
    /// The source's `file` key, which identifies its block in the mapping.
    pub source_file: &'a str,
    /// The mapping file; `None` for a folder in the contract format.
    pub mapping: Option<&'a Path>,
    /// The source's current value map of the column.
    pub existing: Option<&'a BTreeMap<String, String>>,
}

/// Returns the allowed word closest to `word`, or `None` when none is close
/// or two are equally close.
///
/// Words are compared in lower case with spaces and underscores read as
/// hyphens, so `Mid Market` matches `mid-market` exactly.
pub(crate) fn closest_word<'k>(word: &str, allowed: &[&'k str]) -> Option<&'k str> {
    let word = normalize(word);
    if word.is_empty() {
        return None;
    }
    let mut best: Option<(&'k str, f64)> = None;
    let mut tied = false;
    for candidate in allowed {
        let similarity = strsim::jaro_winkler(&word, &normalize(candidate));
        match best {
            Some((_, top)) if similarity < top => {}
            Some((_, top)) if similarity == top => tied = true,
            _ => {
                best = Some((candidate, similarity));
                tied = false;
            }
        }
    }
    let (candidate, similarity) = best?;
    (similarity >= CLOSE_SIMILARITY && !tied).then_some(candidate)
}

fn normalize(word: &str) -> String {
    word.trim().to_lowercase().replace([' ', '_'], "-")
}

/// Writes the hint for unknown words of a category column: a `values` line
/// mapping each word to its closest allowed word, where to put it, and the
/// words no allowed word is close to.
pub(crate) fn value_map_hint<'w>(
    target: &MapTarget<'_>,
    allowed: &[&str],
    unknown: impl IntoIterator<Item = &'w String>,
) -> String {
    let mut entries: BTreeMap<String, String> = target.existing.cloned().unwrap_or_default();
    let mut unmatched = Vec::new();
    for word in unknown {
        // A word the map already sends to a misspelled target is matched by
        // that target first, then by itself.
        let mapped = target
            .existing
            .and_then(|map| map.get(word).or_else(|| map.get(word.trim())))
            .map_or(word.as_str(), String::as_str);
        match closest_word(mapped, allowed).or_else(|| closest_word(word, allowed)) {
            Some(closest) => {
                entries.insert(word.clone(), closest.to_string());
            }
            None => {
                entries.remove(word);
                unmatched.push(toml_string(word));
            }
        }
    }

    let allowed_list = allowed.join(", ");
    let place = placement(target);
    let mut hint = match entries.is_empty() {
        true => format!(
            "use one of {allowed_list}, or add a line such as `values.{} = {{ \"word\" = \"{}\" }}` {place}",
            target.column, allowed[0]
        ),
        false => format!(
            "use one of {allowed_list}, or add this line {place}:\n    values.{} = {{ {} }}",
            target.column,
            entries
                .iter()
                .map(|(word, to)| format!("{} = {}", toml_string(word), toml_string(to)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    match unmatched.len() {
        0 => {}
        1 => hint.push_str(&format!(
            "\n  no allowed value is close to {}: add it to the line with the allowed value it means",
            unmatched[0]
        )),
        _ => hint.push_str(&format!(
            "\n  no allowed value is close to {}: add each to the line with the allowed value it means",
            unmatched.join(", ")
        )),
    }
    hint
}

/// Names the block and the mapping file the line belongs in.
fn placement(target: &MapTarget<'_>) -> String {
    let block = format!(
        "to the [[{}]] block with file = {}",
        target.table.name(),
        toml_string(target.source_file)
    );
    let replaces = match target.existing {
        Some(_) => format!(", in place of its values.{} line", target.column),
        None => String::new(),
    };
    match target.mapping {
        Some(path) => format!("{block} in {}{replaces}", path.display()),
        None => format!("{block} of a mapping file (docs/mapping.md) passed with --mapping"),
    }
}

/// Quotes a text as a TOML string, escaping what TOML requires.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEGMENTS: [&str; 3] = ["enterprise", "mid-market", "smb"];
    const OUTCOMES: [&str; 4] = ["renewed", "churned", "expanded", "contracted"];
    const PERIODS: [&str; 4] = ["day", "month", "year", "term"];

    #[test]
    fn closest_word_ignores_case_and_separators() {
        assert_eq!(closest_word("Enterprise", &SEGMENTS), Some("enterprise"));
        assert_eq!(closest_word("Mid Market", &SEGMENTS), Some("mid-market"));
        assert_eq!(closest_word("mid_market", &SEGMENTS), Some("mid-market"));
        assert_eq!(closest_word(" SMB ", &SEGMENTS), Some("smb"));
    }

    #[test]
    fn closest_word_finds_near_spellings() {
        assert_eq!(closest_word("Churn", &OUTCOMES), Some("churned"));
        assert_eq!(closest_word("Renewal", &OUTCOMES), Some("renewed"));
        assert_eq!(closest_word("expansion", &OUTCOMES), Some("expanded"));
        assert_eq!(closest_word("Contraction", &OUTCOMES), Some("contracted"));
        assert_eq!(closest_word("Monthly", &PERIODS), Some("month"));
        assert_eq!(closest_word("yearly", &PERIODS), Some("year"));
    }

    #[test]
    fn closest_word_is_none_when_nothing_is_close() {
        assert_eq!(closest_word("lost", &OUTCOMES), None);
        assert_eq!(closest_word("Upsell", &OUTCOMES), None);
        assert_eq!(closest_word("annual", &PERIODS), None);
        assert_eq!(closest_word("Gold", &SEGMENTS), None);
        assert_eq!(closest_word("", &SEGMENTS), None);
    }

    fn target<'a>(existing: Option<&'a BTreeMap<String, String>>) -> MapTarget<'a> {
        MapTarget {
            table: TableKind::Accounts,
            column: "segment",
            source_file: "crm/accounts.csv",
            mapping: Some(Path::new("crm.toml")),
            existing,
        }
    }

    /// Parses the suggested line as a TOML document and returns its map.
    fn suggested_map(hint: &str) -> BTreeMap<String, String> {
        let line = hint
            .lines()
            .find(|l| l.trim_start().starts_with("values."))
            .expect("the hint has a values line");
        let document: toml::Table = toml::from_str(line.trim()).expect("the line is valid TOML");
        document["values"]["segment"]
            .as_table()
            .expect("values.segment is a table")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect()
    }

    #[test]
    fn hint_line_is_valid_toml_with_closest_words() {
        let unknown = ["Ent".to_string(), "Mid \"Market\"".to_string()];
        let hint = value_map_hint(&target(None), &SEGMENTS, &unknown);
        let map = suggested_map(&hint);
        assert_eq!(map.len(), 2);
        assert_eq!(map["Ent"], "enterprise");
        assert_eq!(map["Mid \"Market\""], "mid-market");
        assert!(
            hint.contains("to the [[accounts]] block with file = \"crm/accounts.csv\" in crm.toml"),
            "{hint}"
        );
    }

    #[test]
    fn hint_keeps_existing_entries_and_names_unmatched_words() {
        let existing = BTreeMap::from([
            ("Big".to_string(), "enterprise".to_string()),
            ("Small".to_string(), "smbb".to_string()),
        ]);
        let unknown = ["Gold".to_string(), "Small".to_string()];
        let hint = value_map_hint(&target(Some(&existing)), &SEGMENTS, &unknown);
        let map = suggested_map(&hint);
        // "Small" was sent to the misspelled "smbb", whose closest word is smb.
        assert_eq!(map.len(), 2);
        assert_eq!(map["Big"], "enterprise");
        assert_eq!(map["Small"], "smb");
        assert!(
            hint.contains("in place of its values.segment line"),
            "{hint}"
        );
        assert!(
            hint.contains("no allowed value is close to \"Gold\""),
            "{hint}"
        );
    }

    #[test]
    fn hint_without_close_words_shows_the_line_shape() {
        let unknown = ["Gold".to_string()];
        let hint = value_map_hint(&target(None), &SEGMENTS, &unknown);
        assert!(!hint.contains("\n    values."), "{hint}");
        assert!(
            hint.contains("a line such as `values.segment = { \"word\" = \"enterprise\" }`"),
            "{hint}"
        );
    }
}
