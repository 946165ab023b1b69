//! docs/features.md lists the same columns as the catalogue in the code.
//!
//! Run with `HEADROOM_UPDATE_DOCS=1` to rewrite the table in the document
//! after changing the catalogue.

use std::path::PathBuf;

const START: &str = "<!-- catalogue:start -->\n";
const END: &str = "<!-- catalogue:end -->";

fn document() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/features.md")
}

#[test]
fn docs_catalogue_matches_code() {
    let path = document();
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find(START).expect("catalogue start marker") + START.len();
    let end = text.find(END).expect("catalogue end marker");
    let generated = headroom_features::catalogue::render_markdown();

    if std::env::var_os("HEADROOM_UPDATE_DOCS").is_some() {
        let updated = format!("{}{}{}", &text[..start], generated, &text[end..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    assert_eq!(
        &text[start..end],
        generated,
        "docs/features.md is out of date; run the test with HEADROOM_UPDATE_DOCS=1"
    );
}
