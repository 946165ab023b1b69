//! The review as plain text for a terminal: aligned tables, wrapped at no
//! fixed width.

use std::fmt::Write;

use super::doc::{Align, Block, Document, Table};

/// Prints a document as plain text.
pub fn render(document: &Document) -> String {
    let mut out = String::new();
    for block in &document.blocks {
        match block {
            Block::Heading(1, text) => {
                let _ = writeln!(out, "{text}\n{}\n", "=".repeat(text.chars().count()));
            }
            Block::Heading(_, text) => {
                let _ = writeln!(out, "{text}\n{}", "-".repeat(text.chars().count()));
            }
            Block::Paragraph(text) => {
                let _ = writeln!(out, "{text}\n");
            }
            Block::List(items) => {
                for item in items {
                    let _ = writeln!(out, "  - {item}");
                }
                out.push('\n');
            }
            Block::Table(table) => {
                render_table(&mut out, table);
                out.push('\n');
            }
            Block::Calibration(_) => {}
        }
    }
    out.trim_end().to_string() + "\n"
}

fn render_table(out: &mut String, table: &Table) {
    let mut widths: Vec<usize> = table
        .columns
        .iter()
        .map(|(name, _)| name.chars().count())
        .collect();
    for row in &table.rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }

    let line = |cells: Vec<&str>| -> String {
        let mut text = String::from(" ");
        for ((cell, width), (_, align)) in cells.iter().zip(&widths).zip(&table.columns) {
            let pad = width - cell.chars().count();
            match align {
                Align::Left => text.push_str(&format!(" {cell}{}", " ".repeat(pad))),
                Align::Right => text.push_str(&format!(" {}{cell}", " ".repeat(pad))),
            }
            text.push(' ');
        }
        text.trim_end().to_string()
    };

    let header: Vec<&str> = table
        .columns
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    let _ = writeln!(out, "{}", line(header));
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    let _ = writeln!(out, "{}", line(rule.iter().map(String::as_str).collect()));
    for row in &table.rows {
        let _ = writeln!(out, "{}", line(row.iter().map(String::as_str).collect()));
    }
}
