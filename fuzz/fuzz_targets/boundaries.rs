//! Fuzzes the reading of a deployment's region boundaries (GeoJSON) and the map drawn from them:
//! any bytes are read or refused with a reason, never a panic, and whatever is read is drawn
//! with any values, shown or hidden, without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tongban_tables::map::Boundaries;

fuzz_target!(|data: &[u8]| {
    let Ok(map) = Boundaries::parse(data) else { return };
    let codes: Vec<String> = (0..data.len().min(64))
        .map(|i| format!("{}", 339900 + i))
        .collect();
    let values: Vec<(String, String, Option<f64>)> = codes
        .iter()
        .enumerate()
        .map(|(i, code)| {
            let value = data.get(i).map(|b| f64::from(*b) - 100.0).filter(|v| *v != 0.0);
            (code.clone(), code.clone(), value)
        })
        .collect();
    if let Some(svg) = map.choropleth(&values, "fuzz <map>", "%") {
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(!svg.contains("fuzz <map>"));
    }
});
