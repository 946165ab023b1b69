//! The review as Markdown (GitHub tables).

use std::fmt::Write;

use super::doc::{Align, Block, Document, Table};

/// Prints a document as Markdown.
pub fn render(document: &Document) -> String {
    let mut out = String::new();
    for block in &document.blocks {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(out, "{} {}\n", "#".repeat(usize::from(*level)), text);
            }
            Block::Paragraph(text) => {
                let _ = writeln!(out, "{}\n", escape(text));
            }
            Block::List(items) => {
                for item in items {
                    let _ = writeln!(out, "- {}", escape(item));
                }
                out.push('\n');
            }
            Block::Table(table) => render_table(&mut out, table),
            Block::Calibration(_) => {}
        }
    }
    out.trim_end().to_string() + "\n"
}

fn render_table(out: &mut String, table: &Table) {
    let header: Vec<String> = table.columns.iter().map(|(name, _)| cell(name)).collect();
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let rule: Vec<&str> = table
        .columns
        .iter()
        .map(|(_, align)| match align {
            Align::Left => "---",
            Align::Right => "---:",
        })
        .collect();
    let _ = writeln!(out, "|{}|", rule.join("|"));
    for row in &table.rows {
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

/// Escapes the asterisks Markdown would read as emphasis. Underscores inside
/// words, as in feature names, are left alone because GitHub Markdown reads
/// them literally.
fn escape(text: &str) -> String {
    text.replace('*', "\\*")
}

/// Escapes a table cell: pipes split cells and line breaks end rows.
fn cell(text: &str) -> String {
    escape(text).replace('|', "\\|").replace('\n', " ")
}
