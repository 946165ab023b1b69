//! Inline SVG charts for the HTML report: horizontal bars, histograms,
//! sparklines, a calibration plot and lift bars. Every chart is a plain
//! `<svg>` element with a `data-chart` name, no scripts and no external
//! resources.

use std::fmt::Write;

use headroom_model::CalibrationTable;

/// Colors of the charts (one per series or segment).
pub(super) const ACCENT: &str = "#2f6db5";
const MUTED: &str = "#9aa5b1";
const GRID: &str = "#e3e7eb";
const TEXT: &str = "#1f2933";

/// Escapes text for HTML and SVG.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// One bar of a horizontal bar chart.
pub(super) struct Bar {
    /// The label left of the bar.
    pub label: String,
    /// The bar's length in data units.
    pub value: f64,
    /// The text right of the bar.
    pub value_label: String,
    /// The bar's color.
    pub color: String,
}

/// A horizontal bar chart, one row per bar.
pub(super) fn bar_chart(name: &str, title: &str, bars: &[Bar]) -> String {
    let width = 460.0;
    let label_width = 150.0;
    let value_width = 110.0;
    let row = 24.0;
    let top = 28.0;
    let height = top + row * bars.len() as f64 + 8.0;
    let max = bars.iter().map(|b| b.value).fold(0.0, f64::max);
    let plot = width - label_width - value_width;

    let mut svg = open(name, title, width, height);
    for (i, bar) in bars.iter().enumerate() {
        let y = top + row * i as f64;
        let length = if max > 0.0 {
            plot * bar.value / max
        } else {
            0.0
        };
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="12" fill="{TEXT}">{}</text>"#,
            label_width - 8.0,
            y + 15.0,
            escape(&bar.label)
        );
        let _ = write!(
            svg,
            r#"<rect class="mark" x="{label_width:.1}" y="{:.1}" width="{:.1}" height="16" fill="{}"><title>{}: {}</title></rect>"#,
            y + 3.0,
            length.max(0.5),
            escape(&bar.color),
            escape(&bar.label),
            escape(&bar.value_label)
        );
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" font-size="12" fill="{TEXT}">{}</text>"#,
            label_width + length + 6.0,
            y + 15.0,
            escape(&bar.value_label)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A vertical line drawn over a histogram at a data value, with a label.
pub(super) struct Marker {
    /// The position in data units.
    pub at: f64,
    /// The label above the line.
    pub label: String,
}

/// A histogram of counts in equal-width bins from `low` to `high`; the last
/// bin collects everything at or above its lower edge.
pub(super) fn histogram(
    name: &str,
    title: &str,
    counts: &[usize],
    low: f64,
    high: f64,
    tick_label: &dyn Fn(f64) -> String,
    markers: &[Marker],
) -> String {
    let width = 460.0;
    let height = 220.0;
    let (left, right, top, bottom) = (40.0, 12.0, 40.0, 30.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let bin_w = plot_w / counts.len().max(1) as f64;
    let x_of = |v: f64| left + plot_w * (v - low) / (high - low);

    let mut svg = open(name, title, width, height);
    axis_lines(&mut svg, left, top, plot_w, plot_h);
    let _ = write!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11" fill="{MUTED}">{}</text>"#,
        left - 4.0,
        top + 4.0,
        max as usize
    );
    for (i, &count) in counts.iter().enumerate() {
        let h = plot_h * count as f64 / max;
        let x = left + bin_w * i as f64;
        let edge = low + (high - low) * i as f64 / counts.len() as f64;
        let _ = write!(
            svg,
            r#"<rect class="mark" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{ACCENT}"><title>{} and up: {count}</title></rect>"#,
            x + 1.0,
            top + plot_h - h,
            (bin_w - 2.0).max(0.5),
            h,
            escape(&tick_label(edge))
        );
    }
    let ticks = 5;
    for t in 0..=ticks {
        let v = low + (high - low) * t as f64 / ticks as f64;
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="11" fill="{MUTED}">{}</text>"#,
            x_of(v),
            top + plot_h + 16.0,
            escape(&tick_label(v))
        );
    }
    for (i, marker) in markers.iter().enumerate() {
        let x = x_of(marker.at.clamp(low, high));
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="{top:.1}" x2="{x:.1}" y2="{:.1}" stroke="#c0392b" stroke-dasharray="4 3"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" font-size="10" fill="#c0392b">{}</text>"##,
            top + plot_h,
            top - 4.0 - 11.0 * (i % 2) as f64,
            escape(&marker.label)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A small line of monthly utilization with a dashed line at 100%: a dot for
/// one reading, and the text "no reading" in place of a chart for none.
pub(super) fn sparkline(name: &str, values: &[Option<f64>]) -> String {
    let width = 120.0;
    let height = 28.0;
    let top_value = values.iter().flatten().copied().fold(1.0, f64::max);
    let y_of = |v: f64| height - 2.0 - (height - 4.0) * (v / top_value).clamp(0.0, 1.0);
    let step = if values.len() > 1 {
        width / (values.len() - 1) as f64
    } else {
        0.0
    };

    let points: Vec<(f64, f64)> = values
        .iter()
        .enumerate()
        .filter_map(|(i, value)| value.map(|v| (step * i as f64, y_of(v))))
        .collect();
    let mark = match points.as_slice() {
        [] => return "<span class=\"empty\">no reading</span>".to_string(),
        [(x, y)] => {
            format!(r#"<circle class="mark" cx="{x:.1}" cy="{y:.1}" r="2.5" fill="{ACCENT}"/>"#)
        }
        _ => {
            let path: Vec<String> = points
                .iter()
                .map(|(x, y)| format!("{x:.1},{y:.1}"))
                .collect();
            format!(
                r#"<polyline class="mark" points="{}" fill="none" stroke="{ACCENT}" stroke-width="1.5"/>"#,
                path.join(" ")
            )
        }
    };
    let limit_y = y_of(1.0);
    let latest = values.iter().rev().flatten().next().copied();
    let label = latest.map_or("no reading".to_string(), crate::words::percent);
    format!(
        r##"<svg class="spark" data-chart="{}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="utilization over {} months, latest {}"><line x1="0" y1="{limit_y:.1}" x2="{width}" y2="{limit_y:.1}" stroke="{MUTED}" stroke-dasharray="3 2"/>{mark}</svg>"##,
        escape(name),
        values.len(),
        escape(&label)
    )
}

/// The calibration plot: mean predicted against observed rate per bin,
/// dot area by row count, with the diagonal of perfect calibration.
pub(super) fn calibration(name: &str, title: &str, table: &CalibrationTable) -> String {
    let size = 220.0;
    let (left, top) = (40.0, 30.0);
    let width = left + size + 20.0;
    let height = top + size + 30.0;
    let total: usize = table.bins.iter().map(|b| b.count).sum::<usize>().max(1);
    let xy = |p: f64, o: f64| (left + size * p, top + size * (1.0 - o));

    let mut svg = open(name, title, width, height);
    axis_lines(&mut svg, left, top, size, size);
    let (x0, y0) = xy(0.0, 0.0);
    let (x1, y1) = xy(1.0, 1.0);
    let _ = write!(
        svg,
        r#"<line x1="{x0:.1}" y1="{y0:.1}" x2="{x1:.1}" y2="{y1:.1}" stroke="{MUTED}" stroke-dasharray="4 3"/>"#
    );
    for bin in &table.bins {
        let (Some(p), Some(o)) = (bin.mean_predicted, bin.observed_rate) else {
            continue;
        };
        let (x, y) = xy(p, o);
        let r = 3.0 + 9.0 * (bin.count as f64 / total as f64).sqrt();
        let _ = write!(
            svg,
            r#"<circle class="mark" cx="{x:.1}" cy="{y:.1}" r="{r:.1}" fill="{ACCENT}" fill-opacity="0.7"><title>predicted {:.3}, observed {:.3}, {} rows</title></circle>"#,
            p, o, bin.count
        );
    }
    for t in [0.0, 0.5, 1.0] {
        let (x, _) = xy(t, 0.0);
        let (_, y) = xy(0.0, t);
        let _ = write!(
            svg,
            r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle" font-size="11" fill="{MUTED}">{t}</text><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11" fill="{MUTED}">{t}</text>"#,
            top + size + 16.0,
            left - 4.0,
            y + 4.0
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="11" fill="{TEXT}">predicted</text>"#,
        left + size / 2.0,
        height - 2.0
    );
    svg.push_str("</svg>");
    svg
}

/// Opens an `<svg>` chart with its title.
fn open(name: &str, title: &str, width: f64, height: f64) -> String {
    format!(
        r#"<svg class="chart" data-chart="{}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{}"><text x="0" y="16" font-size="13" font-weight="600" fill="{TEXT}">{}</text>"#,
        escape(name),
        escape(title),
        escape(title)
    )
}

fn axis_lines(svg: &mut String, left: f64, top: f64, width: f64, height: f64) {
    let _ = write!(
        svg,
        r#"<line x1="{left:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{GRID}"/><line x1="{left:.1}" y1="{top:.1}" x2="{left:.1}" y2="{:.1}" stroke="{GRID}"/>"#,
        top + height,
        left + width,
        top + height,
        top + height
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_characters() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn bar_chart_draws_one_mark_per_bar() {
        let bars = vec![
            Bar {
                label: "at-risk".into(),
                value: 2.0,
                value_label: "2".into(),
                color: ACCENT.into(),
            },
            Bar {
                label: "healthy".into(),
                value: 8.0,
                value_label: "8".into(),
                color: ACCENT.into(),
            },
        ];
        let svg = bar_chart("segments", "Accounts", &bars);
        assert_eq!(svg.matches("class=\"mark\"").count(), 2);
        // The longest bar spans the plot: 460 - 150 - 110 = 200.
        assert!(svg.contains("width=\"200.0\""), "{svg}");
    }

    #[test]
    fn sparkline_of_one_reading_is_a_dot() {
        let svg = sparkline("A1", &[None, Some(0.5)]);
        assert!(
            svg.contains("<circle class=\"mark\" cx=\"120.0\" cy=\"14.0\""),
            "{svg}"
        );
    }

    #[test]
    fn sparkline_without_readings_is_text() {
        assert_eq!(
            sparkline("A1", &[None, None]),
            "<span class=\"empty\">no reading</span>"
        );
    }

    #[test]
    fn sparkline_skips_missing_months() {
        let svg = sparkline("A1", &[Some(0.5), None, Some(1.0)]);
        // Points at x = 0 and x = 120; the missing month draws nothing.
        assert!(svg.contains("points=\"0.0,14.0 120.0,2.0\""), "{svg}");
    }
}
