//! The review as one self-contained HTML page: inline style, inline SVG
//! charts, no scripts and no network access.

use std::fmt::Write;

use super::doc::{Align, Block, CalibrationPoint, Document, Table};

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#1d232a}\
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}\
table{border-collapse:collapse;margin:.8em 0;font-size:.92em}\
th,td{border:1px solid #d0d7de;padding:.25em .6em;vertical-align:top}\
th{background:#f3f5f7}td.num{text-align:right;font-variant-numeric:tabular-nums}\
svg{margin:.5em 0}";

/// Prints a document as an HTML page with `title` in the tab.
pub fn render(document: &Document, title: &str) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(title)
    );
    for block in &document.blocks {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(out, "<h{level}>{}</h{level}>", escape(text));
            }
            Block::Paragraph(text) => {
                let _ = writeln!(out, "<p>{}</p>", escape(text));
            }
            Block::List(items) => {
                out.push_str("<ul>\n");
                for item in items {
                    let _ = writeln!(out, "<li>{}</li>", escape(item));
                }
                out.push_str("</ul>\n");
            }
            Block::Table(table) => render_table(&mut out, table),
            Block::Calibration(points) => render_calibration(&mut out, points),
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn render_table(out: &mut String, table: &Table) {
    out.push_str("<table>\n<thead><tr>");
    for (name, _) in &table.columns {
        let _ = write!(out, "<th>{}</th>", escape(name));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &table.rows {
        out.push_str("<tr>");
        for (cell, (_, align)) in row.iter().zip(&table.columns) {
            match align {
                Align::Left => {
                    let _ = write!(out, "<td>{}</td>", escape(cell));
                }
                Align::Right => {
                    let _ = write!(out, "<td class=\"num\">{}</td>", escape(cell));
                }
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

/// Draws observed against predicted rates, one dot per populated bin with
/// its area by account count, and the diagonal of perfect calibration.
fn render_calibration(out: &mut String, points: &[CalibrationPoint]) {
    const SIZE: f64 = 240.0;
    const MARGIN: f64 = 32.0;
    let scale = |p: f64| MARGIN + p.clamp(0.0, 1.0) * SIZE;
    let flip = |p: f64| MARGIN + SIZE - p.clamp(0.0, 1.0) * SIZE;
    let largest = points.iter().map(|p| p.count).max().unwrap_or(1).max(1) as f64;

    let side = SIZE + 2.0 * MARGIN;
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{side}\" height=\"{side}\" role=\"img\" aria-label=\"calibration: observed rate against mean predicted probability\">"
    );
    let _ = writeln!(
        out,
        "<rect x=\"{MARGIN}\" y=\"{MARGIN}\" width=\"{SIZE}\" height=\"{SIZE}\" fill=\"none\" stroke=\"#8c959f\"/>"
    );
    let _ = writeln!(
        out,
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#8c959f\" stroke-dasharray=\"4 3\"/>",
        scale(0.0),
        flip(0.0),
        scale(1.0),
        flip(1.0)
    );
    for point in points {
        let radius = 3.0 + 7.0 * (point.count as f64 / largest).sqrt();
        let _ = writeln!(
            out,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{radius:.1}\" fill=\"#0969da\" fill-opacity=\"0.6\"><title>predicted {:.3}, observed {:.3}, {} accounts</title></circle>",
            scale(point.predicted),
            flip(point.observed),
            point.predicted,
            point.observed,
            point.count
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">mean predicted probability</text>",
        MARGIN + SIZE / 2.0,
        side - 8.0
    );
    let _ = writeln!(
        out,
        "<text x=\"12\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\" transform=\"rotate(-90 12 {})\">observed rate</text>",
        MARGIN + SIZE / 2.0,
        MARGIN + SIZE / 2.0
    );
    out.push_str("</svg>\n");
}

/// Escapes text for HTML element content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}
