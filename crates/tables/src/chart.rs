//! A chart of a table's numbers, drawn on the server as SVG: the first numeric column summed
//! by the first label column, as a line where the labels are times (2026-03, 2025, 2026Q1, a
//! date) and as bars otherwise. Pure; the page puts the same numbers in a table beside it.

use std::fmt::Write as _;

use crate::table::{ColumnType, Field};

/// The most points a chart shows.
pub const MAX_POINTS: usize = 24;

/// A chart ready for the page.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// `line` or `bar`.
    pub kind: &'static str,
    pub label_column: String,
    pub value_column: String,
    /// (label, value) in the order drawn.
    pub points: Vec<(String, f64)>,
    pub svg: String,
}

fn looks_like_time(label: &str) -> bool {
    let b = label.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range)
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    match b.len() {
        4 => digits(0..4),
        6 => digits(0..4) && (b[4] == b'Q' || b[4] == b'q') && digits(5..6),
        7 => digits(0..4) && b[4] == b'-' && digits(5..7),
        10 => digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10),
        _ => false,
    }
}

pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(crate) fn short(value: f64) -> String {
    if value.abs() >= 10_000.0 {
        format!("{:.1}万", value / 10_000.0)
    } else if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// The chart of a table, if it has a numeric column to draw.
pub fn chart(fields: &[Field], rows: &[Vec<String>]) -> Option<Chart> {
    let value_at = fields
        .iter()
        .position(|f| matches!(f.kind, ColumnType::Integer | ColumnType::Number))?;
    let label_at = fields
        .iter()
        .position(|f| matches!(f.kind, ColumnType::Date | ColumnType::Text));
    let mut points: Vec<(String, f64)> = Vec::new();
    for (n, row) in rows.iter().enumerate() {
        let Some(value) = row.get(value_at).and_then(|v| v.parse::<f64>().ok()) else {
            continue;
        };
        let label = match label_at {
            Some(at) => row.get(at).cloned().unwrap_or_default(),
            None => (n + 1).to_string(),
        };
        match points.iter().position(|(l, _)| *l == label) {
            Some(at) => points[at].1 += value,
            None if points.len() < MAX_POINTS => points.push((label, value)),
            None => {}
        }
    }
    if points.is_empty() {
        return None;
    }
    let kind = if points.len() > 1 && points.iter().all(|(l, _)| looks_like_time(l)) {
        "line"
    } else {
        "bar"
    };
    let drawn: Vec<(String, Option<f64>)> =
        points.iter().map(|(l, v)| (l.clone(), Some(*v))).collect();
    let svg = draw(kind, &drawn, &fields[value_at].id);
    Some(Chart {
        kind,
        label_column: label_at.map(|at| fields[at].id.clone()).unwrap_or_default(),
        value_column: fields[value_at].id.clone(),
        points,
        svg,
    })
}

/// Draws points as a `line` or as bars, each labelled in its `<title>`. A point without a value
/// (a number not shown) leaves a gap: no bar, and the line broken there.
pub fn draw(kind: &str, points: &[(String, Option<f64>)], title: &str) -> String {
    const WIDTH: f64 = 640.0;
    const HEIGHT: f64 = 260.0;
    const LEFT: f64 = 56.0;
    const BOTTOM: f64 = 40.0;
    const TOP: f64 = 16.0;
    if points.is_empty() {
        return String::new();
    }
    let max = points
        .iter()
        .filter_map(|(_, v)| *v)
        .fold(0.0_f64, f64::max);
    let min = points
        .iter()
        .filter_map(|(_, v)| *v)
        .fold(0.0_f64, f64::min);
    let span = if max - min > 0.0 { max - min } else { 1.0 };
    let plot_w = WIDTH - LEFT - 8.0;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let y = |v: f64| TOP + plot_h - (v - min) / span * plot_h;
    let step = plot_w / points.len() as f64;
    let x = |i: usize| LEFT + step * (i as f64 + 0.5);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" class=\"chart chart-{kind}\"><title>{}</title>",
        escape(title)
    );
    // Axes and three grid lines with their values.
    for i in 0..=2 {
        let v = min + span * f64::from(i) / 2.0;
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{:.1}\" y2=\"{:.1}\" class=\"grid\"/><text x=\"{}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"end\">{}</text>",
            WIDTH - 8.0,
            y(v),
            y(v),
            LEFT - 6.0,
            y(v) + 4.0,
            short(v)
        );
    }
    match kind {
        "line" => {
            // One polyline for each run of shown values.
            let mut runs: Vec<Vec<String>> = vec![Vec::new()];
            for (i, (_, v)) in points.iter().enumerate() {
                match (v, runs.last_mut()) {
                    (Some(v), Some(run)) => run.push(format!("{:.1},{:.1}", x(i), y(*v))),
                    _ => runs.push(Vec::new()),
                }
            }
            for run in runs.iter().filter(|run| !run.is_empty()) {
                let _ = write!(
                    svg,
                    "<polyline points=\"{}\" class=\"series\" fill=\"none\"/>",
                    run.join(" ")
                );
            }
            for (i, (label, v)) in points.iter().enumerate() {
                let Some(v) = v else { continue };
                let _ = write!(
                    svg,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" class=\"dot\"><title>{} {}</title></circle>",
                    x(i),
                    y(*v),
                    escape(label),
                    short(*v)
                );
            }
        }
        _ => {
            let zero = y(0.0_f64.max(min));
            for (i, (label, v)) in points.iter().enumerate() {
                let Some(v) = v else { continue };
                let top = y(*v).min(zero);
                let height = (y(*v) - zero).abs().max(1.0);
                let _ = write!(
                    svg,
                    "<rect x=\"{:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{height:.1}\" class=\"bar\"><title>{} {}</title></rect>",
                    x(i) - step * 0.35,
                    step * 0.7,
                    escape(label),
                    short(*v)
                );
            }
        }
    }
    // The first, middle and last labels under the axis.
    let mut shown = vec![0, points.len() / 2, points.len() - 1];
    shown.dedup();
    for i in shown {
        let label: String = points[i].0.chars().take(10).collect();
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" class=\"axis\" text-anchor=\"middle\">{}</text>",
            x(i),
            HEIGHT - 14.0,
            escape(&label)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(id: &str, kind: ColumnType) -> Field {
        Field {
            id: id.into(),
            kind,
        }
    }

    #[test]
    fn months_make_a_line_of_sums_and_names_make_bars() {
        let fields = [
            field("月份", ColumnType::Text),
            field("区县", ColumnType::Text),
            field("数量", ColumnType::Integer),
        ];
        let rows: Vec<Vec<String>> = [
            ("2026-01", "江北区", "3"),
            ("2026-01", "江南区", "4"),
            ("2026-02", "江北区", "5"),
        ]
        .iter()
        .map(|(a, b, c)| vec![(*a).into(), (*b).into(), (*c).into()])
        .collect();
        let drawn = chart(&fields, &rows).expect("a chart");
        assert_eq!(drawn.kind, "line");
        assert_eq!(
            drawn.points,
            vec![("2026-01".into(), 7.0), ("2026-02".into(), 5.0)]
        );
        assert!(drawn.svg.starts_with("<svg") && drawn.svg.contains("<polyline"));

        let fields = [
            field("名称", ColumnType::Text),
            field("床位", ColumnType::Number),
        ];
        let rows = vec![vec!["<医院>".to_owned(), "12.5".to_owned()]];
        let drawn = chart(&fields, &rows).expect("a chart");
        assert_eq!(drawn.kind, "bar");
        assert!(drawn.svg.contains("&lt;医院&gt;") && !drawn.svg.contains("<医院>"));
        assert!(chart(&[field("名称", ColumnType::Text)], &rows).is_none());
    }
}
