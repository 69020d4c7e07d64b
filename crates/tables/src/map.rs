//! Region maps drawn as SVG: a deployment gives its regions' boundaries as GeoJSON (a
//! FeatureCollection of Polygons or MultiPolygons, each feature naming its region's code in
//! `properties.code` or, as China's public boundary files do, `properties.adcode`), and a
//! choropleth colours each region by a value — in five classes from light to dark, hidden
//! values hatched, every region with its name and value in a `<title>`.
//!
//! The file comes from the deployment, not from users, but it is read as any input is: bad
//! JSON, a missing code, coordinates off the globe or more points than a page should carry
//! are refused with a reason, never a panic.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::Value;

/// At most this many points over the whole file (a county's districts simplified for the
/// screen need a few thousand).
pub const MAX_POINTS: usize = 200_000;

/// One region's outline: its rings (outer and holes alike; drawn even-odd), in degrees.
#[derive(Debug, Clone, PartialEq)]
pub struct Area {
    pub code: String,
    pub rings: Vec<Vec<(f64, f64)>>,
}

/// The regions' outlines of a deployment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Boundaries {
    areas: HashMap<String, Area>,
}

impl Boundaries {
    /// Reads a GeoJSON FeatureCollection.
    pub fn parse(bytes: &[u8]) -> Result<Boundaries, String> {
        let doc: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
        let features = doc
            .get("features")
            .and_then(Value::as_array)
            .ok_or("not a GeoJSON FeatureCollection (no features)")?;
        let mut areas: HashMap<String, Area> = HashMap::new();
        let mut points = 0_usize;
        for (n, feature) in features.iter().enumerate() {
            let properties = feature.get("properties");
            let code = properties
                .and_then(|p| p.get("code").or_else(|| p.get("adcode")))
                .and_then(|c| match c {
                    Value::String(s) => Some(s.trim().to_owned()),
                    Value::Number(n) => n.as_u64().map(|n| n.to_string()),
                    _ => None,
                })
                .filter(|c| !c.is_empty() && c.len() <= 12 && c.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| format!("feature {n}: no region code (properties.code)"))?;
            let geometry = feature
                .get("geometry")
                .ok_or_else(|| format!("feature {n}: no geometry"))?;
            let coordinates = geometry
                .get("coordinates")
                .ok_or_else(|| format!("feature {n}: no coordinates"))?;
            let polygons: Vec<&Value> = match geometry.get("type").and_then(Value::as_str) {
                Some("Polygon") => vec![coordinates],
                Some("MultiPolygon") => coordinates
                    .as_array()
                    .ok_or_else(|| format!("feature {n}: bad MultiPolygon"))?
                    .iter()
                    .collect(),
                _ => {
                    return Err(format!(
                        "feature {n}: a Polygon or MultiPolygon is expected"
                    ));
                }
            };
            let area = areas.entry(code.clone()).or_insert_with(|| Area {
                code,
                rings: Vec::new(),
            });
            for polygon in polygons {
                for ring in polygon
                    .as_array()
                    .ok_or_else(|| format!("feature {n}: bad polygon"))?
                {
                    let ring = ring
                        .as_array()
                        .ok_or_else(|| format!("feature {n}: bad ring"))?;
                    points += ring.len();
                    if points > MAX_POINTS {
                        return Err(format!("more than {MAX_POINTS} points"));
                    }
                    let mut read = Vec::with_capacity(ring.len());
                    for point in ring {
                        let pair = point.as_array().filter(|p| p.len() >= 2);
                        let (Some(lon), Some(lat)) = (
                            pair.and_then(|p| p[0].as_f64()),
                            pair.and_then(|p| p[1].as_f64()),
                        ) else {
                            return Err(format!("feature {n}: a point is not [lon, lat]"));
                        };
                        if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
                            return Err(format!("feature {n}: a point off the globe"));
                        }
                        read.push((lon, lat));
                    }
                    if read.len() >= 3 {
                        area.rings.push(read);
                    }
                }
            }
        }
        areas.retain(|_, area| !area.rings.is_empty());
        Ok(Boundaries { areas })
    }

    /// Whether the outline of a region is known.
    pub fn has(&self, code: &str) -> bool {
        self.areas.contains_key(code)
    }

    pub fn len(&self) -> usize {
        self.areas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.areas.is_empty()
    }

    /// A choropleth of `values` — (region code, name, value; none when hidden) — or none when
    /// fewer than two of the regions have an outline (a map of one region says nothing a
    /// number does not), or none of them has a value but 0. `unit` follows each value in the titles and the legend (`%`, or
    /// nothing).
    pub fn choropleth(
        &self,
        values: &[(String, String, Option<f64>)],
        title: &str,
        unit: &str,
    ) -> Option<String> {
        const WIDTH: f64 = 640.0;
        const HEIGHT: f64 = 360.0;
        const LEGEND: f64 = 150.0;
        let drawn: Vec<(&Area, &str, Option<f64>)> = values
            .iter()
            .filter_map(|(code, name, value)| {
                self.areas.get(code).map(|a| (a, name.as_str(), *value))
            })
            .collect();
        // Two regions at least, and something to colour (all zeros say nothing a map would).
        if drawn.len() < 2 || !drawn.iter().any(|(_, _, v)| v.is_some_and(|v| v != 0.0)) {
            return None;
        }
        // The extent, and an equirectangular projection shrunk across by the cosine of the
        // middle latitude (so a district is not drawn twice as wide as it is).
        let (mut west, mut east, mut south, mut north) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for (area, _, _) in &drawn {
            for &(lon, lat) in area.rings.iter().flatten() {
                west = west.min(lon);
                east = east.max(lon);
                south = south.min(lat);
                north = north.max(lat);
            }
        }
        let across = ((south + north) / 2.0).to_radians().cos().max(0.05);
        let span_x = ((east - west) * across).max(1e-9);
        let span_y = (north - south).max(1e-9);
        let room_w = WIDTH - LEGEND - 16.0;
        let room_h = HEIGHT - 16.0;
        let scale = (room_w / span_x).min(room_h / span_y);
        let x = |lon: f64| 8.0 + (lon - west) * across * scale;
        let y = |lat: f64| 8.0 + (north - lat) * scale;
        // Five classes between the smallest and the largest value shown.
        let shown: Vec<f64> = drawn.iter().filter_map(|(_, _, v)| *v).collect();
        let low = shown.iter().copied().fold(f64::MAX, f64::min);
        let high = shown.iter().copied().fold(f64::MIN, f64::max);
        let class = |v: f64| -> usize {
            if high <= low {
                return 2;
            }
            (((v - low) / (high - low) * 5.0) as usize).min(4)
        };
        // The hatching's id, one per map (a page holds several), from the title.
        let hatch = format!(
            "hidden-{:08x}",
            title
                .bytes()
                .fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b))
                    .wrapping_mul(0x0100_0193))
        );
        let mut svg = String::new();
        let _ = write!(
            svg,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" class=\"chart map\"><title>{}</title>\
             <defs><pattern id=\"{hatch}\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" class=\"map-hidden-bg\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" class=\"map-hidden-line\"/></pattern></defs>",
            crate::chart::escape(title)
        );
        for (area, name, value) in &drawn {
            let mut d = String::new();
            for ring in &area.rings {
                let mut last = (f64::NAN, f64::NAN);
                for (i, &(lon, lat)) in ring.iter().enumerate() {
                    let point = (
                        (x(lon) * 10.0).round() / 10.0,
                        (y(lat) * 10.0).round() / 10.0,
                    );
                    // Points that fall on one tenth of a unit add nothing to the drawing.
                    if point == last {
                        continue;
                    }
                    let _ = write!(
                        d,
                        "{}{:.1},{:.1}",
                        if i == 0 { 'M' } else { 'L' },
                        point.0,
                        point.1
                    );
                    last = point;
                }
                d.push('Z');
            }
            let (fill, text) = match value {
                Some(v) => (
                    format!("class=\"map-c{}\"", class(*v)),
                    format!("{}{unit}", crate::chart::short(*v)),
                ),
                None => (format!("fill=\"url(#{hatch})\""), "—".to_owned()),
            };
            let _ = write!(
                svg,
                "<path d=\"{d}\" {fill} fill-rule=\"evenodd\" class=\"map-area\" data-region=\"{}\"><title>{} {}</title></path>",
                crate::chart::escape(&area.code),
                crate::chart::escape(name),
                crate::chart::escape(&text)
            );
        }
        // The legend: the five classes' lower bounds, and the hatching of a hidden value.
        let left = WIDTH - LEGEND + 8.0;
        // One class when every value shown is the same (or none is).
        let classes: Vec<usize> = if high > low {
            (0..5).collect()
        } else {
            vec![2]
        };
        for (row, c) in classes.into_iter().enumerate() {
            let from = if high > low {
                low + (high - low) * c as f64 / 5.0
            } else {
                low
            };
            let top = 16.0 + row as f64 * 22.0;
            let _ = write!(
                svg,
                "<rect x=\"{left}\" y=\"{top}\" width=\"16\" height=\"16\" class=\"map-c{c}\"/><text x=\"{}\" y=\"{}\" class=\"legend\">≥ {}{unit}</text>",
                left + 22.0,
                top + 12.0,
                crate::chart::short(if shown.is_empty() { 0.0 } else { from })
            );
        }
        let _ = write!(
            svg,
            "<rect x=\"{left}\" y=\"126\" width=\"16\" height=\"16\" fill=\"url(#{hatch})\"/><text x=\"{}\" y=\"138\" class=\"legend\">—</text></svg>",
            left + 22.0
        );
        Some(svg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"code":"339901","name":"江北区"},"geometry":{"type":"Polygon","coordinates":[[[120.0,30.1],[120.2,30.1],[120.2,30.2],[120.0,30.2],[120.0,30.1]]]}},
      {"type":"Feature","properties":{"adcode":339902},"geometry":{"type":"MultiPolygon","coordinates":[[[[120.0,29.9],[120.2,29.9],[120.2,30.0],[120.0,30.0],[120.0,29.9]]]]}}]}"#;

    #[test]
    fn a_map_colours_each_region_by_its_value_and_hatches_a_hidden_one() {
        let map = Boundaries::parse(TWO.as_bytes()).expect("read");
        assert_eq!(map.len(), 2);
        assert!(map.has("339902"), "a numeric adcode is a code");
        let svg = map
            .choropleth(
                &[
                    ("339901".into(), "江北区".into(), Some(120.0)),
                    ("339902".into(), "江南区".into(), None),
                    ("339903".into(), "no outline".into(), Some(5.0)),
                ],
                "checks <by district>",
                "",
            )
            .expect("drawn");
        assert!(svg.contains("data-region=\"339901\"") && svg.contains("class=\"map-c2\""));
        assert!(svg.contains("<title>江北区 120</title>"));
        let hatched = svg
            .split("<path ")
            .find(|p| p.contains("data-region=\"339902\""))
            .expect("drawn");
        assert!(hatched.contains("fill=\"url(#hidden-"), "{hatched}");
        // Two maps on one page, two hatchings.
        let other = map
            .choropleth(
                &[
                    ("339901".into(), "a".into(), Some(1.0)),
                    ("339902".into(), "b".into(), None),
                ],
                "another",
                "",
            )
            .expect("drawn");
        let id = |svg: &str| {
            svg.split("pattern id=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .map(str::to_owned)
        };
        assert_ne!(id(&svg), id(&other));
        assert!(svg.contains("checks &lt;by district&gt;"));
        assert!(!svg.contains("339903"));
        // One region with an outline is no map.
        assert!(
            map.choropleth(&[("339901".into(), "江北区".into(), Some(1.0))], "t", "")
                .is_none()
        );
    }

    #[test]
    fn a_bad_file_is_refused_with_its_reason() {
        for (bad, reason) in [
            ("[1,", "not JSON"),
            ("{}", "no features"),
            (
                r#"{"features":[{"properties":{},"geometry":{"type":"Polygon","coordinates":[]}}]}"#,
                "no region code",
            ),
            (
                r#"{"features":[{"properties":{"code":"33"},"geometry":{"type":"Point","coordinates":[1,2]}}]}"#,
                "Polygon",
            ),
            (
                r#"{"features":[{"properties":{"code":"33"},"geometry":{"type":"Polygon","coordinates":[[[1,2],[500,2],[1,3]]]}}]}"#,
                "off the globe",
            ),
            (
                r#"{"features":[{"properties":{"code":"3a"},"geometry":{"type":"Polygon","coordinates":[]}}]}"#,
                "no region code",
            ),
        ] {
            let error = Boundaries::parse(bad.as_bytes()).expect_err(bad);
            assert!(error.contains(reason), "{bad}: {error}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_are_read_or_refused_and_anything_read_is_drawn(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            if let Ok(map) = Boundaries::parse(&bytes) {
                let values: Vec<(String, String, Option<f64>)> = map.areas.keys().map(|c| (c.clone(), c.clone(), Some(1.0))).collect();
                let _ = map.choropleth(&values, "t", "%");
            }
        }
    }
}
