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

/// The size of a drawn chart and its margins.
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 40.0;
const TOP: f64 = 16.0;

/// The frame every chart shares: its `<svg>` opening with the title, three grid lines with
/// their values between `min` and `max`, and the scales of the plot.
struct Frame {
    svg: String,
    min: f64,
    span: f64,
    step: f64,
    top: f64,
}

impl Frame {
    fn new(kind: &str, title: &str, min: f64, max: f64, points: usize, top: f64) -> Frame {
        let span = if max - min > 0.0 { max - min } else { 1.0 };
        let mut frame = Frame {
            svg: String::new(),
            min,
            span,
            step: (WIDTH - LEFT - 8.0) / points.max(1) as f64,
            top,
        };
        let _ = write!(
            frame.svg,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" class=\"chart chart-{kind}\"><title>{}</title>",
            escape(title)
        );
        for i in 0..=2 {
            let v = min + span * f64::from(i) / 2.0;
            let y = frame.y(v);
            let _ = write!(
                frame.svg,
                "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" class=\"grid\"/><text x=\"{}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"end\">{}</text>",
                WIDTH - 8.0,
                LEFT - 6.0,
                y + 4.0,
                short(v)
            );
        }
        frame
    }

    fn y(&self, v: f64) -> f64 {
        let plot_h = HEIGHT - self.top - BOTTOM;
        self.top + plot_h - (v - self.min) / self.span * plot_h
    }

    fn x(&self, i: usize) -> f64 {
        LEFT + self.step * (i as f64 + 0.5)
    }

    /// The first, middle and last labels under the axis, and the closing tag.
    fn finish<'a>(mut self, labels: impl Fn(usize) -> &'a str, count: usize) -> String {
        if count > 0 {
            let mut shown = vec![0, count / 2, count - 1];
            shown.dedup();
            for i in shown {
                let label: String = labels(i).chars().take(10).collect();
                let _ = write!(
                    self.svg,
                    "<text x=\"{:.1}\" y=\"{}\" class=\"axis\" text-anchor=\"middle\">{}</text>",
                    self.x(i),
                    HEIGHT - 14.0,
                    escape(&label)
                );
            }
        }
        self.svg.push_str("</svg>");
        self.svg
    }
}

/// Draws points as a `line` or as bars, each labelled in its `<title>`. A point without a value
/// (a number not shown) leaves a gap: no bar, and the line broken there.
pub fn draw(kind: &str, points: &[(String, Option<f64>)], title: &str) -> String {
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
    let mut frame = Frame::new(kind, title, min, max, points.len(), TOP);
    let step = frame.step;
    match kind {
        "line" => {
            // One polyline for each run of shown values.
            let mut runs: Vec<Vec<String>> = vec![Vec::new()];
            for (i, (_, v)) in points.iter().enumerate() {
                match (v, runs.last_mut()) {
                    (Some(v), Some(run)) => {
                        run.push(format!("{:.1},{:.1}", frame.x(i), frame.y(*v)));
                    }
                    _ => runs.push(Vec::new()),
                }
            }
            for run in runs.iter().filter(|run| !run.is_empty()) {
                let _ = write!(
                    frame.svg,
                    "<polyline points=\"{}\" class=\"series\" fill=\"none\"/>",
                    run.join(" ")
                );
            }
            for (i, (label, v)) in points.iter().enumerate() {
                let Some(v) = v else { continue };
                let (cx, cy) = (frame.x(i), frame.y(*v));
                let _ = write!(
                    frame.svg,
                    "<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"3\" class=\"dot\"><title>{} {}</title></circle>",
                    escape(label),
                    short(*v)
                );
            }
        }
        _ => {
            let zero = frame.y(0.0_f64.max(min));
            for (i, (label, v)) in points.iter().enumerate() {
                let Some(v) = v else { continue };
                let top = frame.y(*v).min(zero);
                let height = (frame.y(*v) - zero).abs().max(1.0);
                let left = frame.x(i) - step * 0.35;
                let _ = write!(
                    frame.svg,
                    "<rect x=\"{left:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{height:.1}\" class=\"bar\"><title>{} {}</title></rect>",
                    step * 0.7,
                    escape(label),
                    short(*v)
                );
            }
        }
    }
    frame.finish(|i| points[i].0.as_str(), points.len())
}

/// Draws stacked bars: for each label one bar of its layers, bottom up in the order given —
/// each segment of class `layer-{n}` with its label, layer and value in its `<title>` — and
/// the layers' names as a legend above the plot. A value not shown adds nothing to its bar.
/// Nothing when no layer has a value above zero.
pub fn stacked(labels: &[String], layers: &[(String, Vec<Option<f64>>)], title: &str) -> String {
    let total = |i: usize| -> f64 {
        layers
            .iter()
            .filter_map(|(_, values)| values.get(i).copied().flatten())
            .filter(|v| *v > 0.0)
            .sum()
    };
    let max = (0..labels.len()).map(total).fold(0.0_f64, f64::max);
    if labels.is_empty() || max <= 0.0 {
        return String::new();
    }
    const LEGEND: f64 = 18.0;
    let mut frame = Frame::new("stacked", title, 0.0, max, labels.len(), TOP + LEGEND);
    let step = frame.step;
    let slot = (WIDTH - LEFT - 8.0) / layers.len().max(1) as f64;
    for (n, (name, _)) in layers.iter().enumerate() {
        let x = LEFT + slot * n as f64;
        let _ = write!(
            frame.svg,
            "<rect x=\"{x:.1}\" y=\"4\" width=\"10\" height=\"10\" class=\"layer-{n}\"/><text x=\"{:.1}\" y=\"13\" class=\"axis\">{}</text>",
            x + 14.0,
            escape(name)
        );
    }
    for (i, label) in labels.iter().enumerate() {
        let mut below = 0.0;
        for (n, (name, values)) in layers.iter().enumerate() {
            let Some(v) = values.get(i).copied().flatten().filter(|v| *v > 0.0) else {
                continue;
            };
            let (top, bottom) = (frame.y(below + v), frame.y(below));
            let left = frame.x(i) - step * 0.35;
            let _ = write!(
                frame.svg,
                "<rect x=\"{left:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\" class=\"layer-{n}\"><title>{} {} {}</title></rect>",
                step * 0.7,
                (bottom - top).max(0.5),
                escape(label),
                escape(name),
                short(v)
            );
            below += v;
        }
    }
    frame.finish(|i| labels[i].as_str(), labels.len())
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

    #[test]
    fn stacked_bars_pile_their_layers_and_name_them() {
        let labels: Vec<String> = ["09:00", "10:00", "11:00"].map(String::from).to_vec();
        let layers = vec![
            ("≤ 5 ms".to_owned(), vec![Some(90.0), Some(40.0), None]),
            ("> 5 ms".to_owned(), vec![Some(10.0), Some(0.0), Some(5.0)]),
        ];
        let svg = stacked(&labels, &layers, "answer <time>");
        assert!(svg.starts_with("<svg") && svg.contains("chart-stacked"));
        assert!(svg.contains("answer &lt;time&gt;"));
        // Four segments (a zero or hidden value draws none) and two legend keys.
        assert_eq!(svg.matches("class=\"layer-0\"").count(), 1 + 2);
        assert_eq!(svg.matches("class=\"layer-1\"").count(), 1 + 2);
        assert!(svg.contains("<title>09:00 &gt; 5 ms 10</title>"));
        // The 09:00 bar's top segment sits on its bottom one: 100 is the plot's top.
        let segment = |title: &str| {
            let at = svg.find(title).expect("segment");
            let tag = &svg[svg[..at].rfind("<rect").expect("rect")..at];
            let read = |attr: &str| -> f64 {
                let from = tag.find(attr).expect("attr") + attr.len();
                tag[from..from + tag[from..].find('"').expect("quote")]
                    .parse()
                    .expect("number")
            };
            (read("y=\""), read("height=\""))
        };
        let (low_y, _) = segment("09:00 ≤ 5 ms 90");
        let (high_y, high_h) = segment("09:00 &gt; 5 ms 10");
        assert!(
            (high_y + high_h - low_y).abs() < 0.2,
            "{high_y} {high_h} {low_y}"
        );
        assert!((high_y - (TOP + 18.0)).abs() < 0.2);
        assert!(
            stacked(
                &labels,
                &[("x".to_owned(), vec![None, Some(0.0), None])],
                "t"
            )
            .is_empty()
        );
    }
}
