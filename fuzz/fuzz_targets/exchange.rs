//! Fuzzes the data-sharing gateway's wire rules: X-Road identifiers and paths never panic, a
//! filtered answer never holds an item outside the grant, and a service description's
//! endpoints are always templates the gateway can match.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tongban_codes::item_filter::{Filtered, filter};
use tongban_codes::service_description::{endpoints_of, matches};
use tongban_codes::xroad::{parse_client, safe_path, split_service};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = parse_client(text);
    if let Ok((service, path)) = split_service(text) {
        assert!(path.is_empty() || path.starts_with('/'));
        assert!(!service.code.contains('/'));
    }
    let _ = safe_path(text);
    if let Ok(document) = serde_json::from_str::<serde_json::Value>(text) {
        if let Ok(endpoints) = endpoints_of(&document) {
            for (method, path) in &endpoints {
                assert!(path.starts_with('/') && !path.contains(".."));
                assert!(matches(&endpoints, method, path), "a template matches itself");
            }
        }
    }
    let endpoints = vec![("GET".to_owned(), "/licences/{no}".to_owned())];
    let _ = matches(&endpoints, "GET", text);
    let granted = vec!["a".to_owned(), "b".to_owned()];
    let all = vec!["a".to_owned(), "b".to_owned(), "secret".to_owned()];
    for media in ["application/json", "text/csv", "text/plain"] {
        if let Filtered::Body(body, _) = filter(200, Some(media), data, &granted, &all) {
            if media == "application/json" {
                let value: serde_json::Value =
                    serde_json::from_slice(&body).expect("filtered JSON parses");
                let records: Vec<&serde_json::Value> = match &value {
                    serde_json::Value::Array(list) => list.iter().collect(),
                    serde_json::Value::Object(map) => match map.get("records") {
                        Some(serde_json::Value::Array(list)) => list.iter().collect(),
                        _ => vec![&value],
                    },
                    _ => Vec::new(),
                };
                for record in records {
                    if let Some(map) = record.as_object() {
                        assert!(map.keys().all(|k| k == "a" || k == "b"), "an item outside the grant passed");
                    }
                }
            }
            if media == "text/csv" {
                let text = String::from_utf8_lossy(&body);
                assert!(!text.lines().next().unwrap_or("").contains("secret"));
            }
            assert!(media != "text/plain", "text cannot be filtered");
        }
    }
});
