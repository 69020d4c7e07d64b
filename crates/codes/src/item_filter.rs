//! Field-level filtering: a consumer receives only the items its grant covers. The gateway
//! understands the shapes a provider may answer with and refuses to pass what it cannot
//! filter, so an item can never slip through in a format it does not read.
//!
//! - JSON: a record (an object whose keys are item codes), an array of records, an envelope
//!   `{"records": [...], "total": n, "next": "..."}` or, as GovStack registries answer,
//!   `{"results": [...], "count": n, "next": …, "previous": …}`, a record wrapped as
//!   `{"content": {...}}`, or an existence answer `{"answer": {"status": …, "message": …}}`.
//!   Every key of a record that is not a granted item is removed; an envelope keeps only its
//!   list and those counts and links.
//! - CSV (`text/csv`, a bulk export): the first line names the item of each column; columns
//!   not granted are removed.
//! - An error answer (not 2xx) keeps only the members of an RFC 9457 problem, if it is JSON,
//!   and nothing otherwise.
//! - Anything else passes only when the grant covers every item of the resource.

use serde_json::{Map, Value};

/// The members an envelope may keep beside its records.
const ENVELOPE: [&str; 6] = ["records", "results", "total", "count", "next", "previous"];
/// The members of an existence answer.
const ANSWER: [&str; 2] = ["status", "message"];
/// The members an error answer may keep.
const PROBLEM: [&str; 5] = ["type", "title", "status", "detail", "instance"];

/// What filtering made of a body.
#[derive(Debug, PartialEq, Eq)]
pub enum Filtered {
    /// The body to send, and how many item values were removed.
    Body(Vec<u8>, usize),
    /// The body cannot be filtered; nothing of it may pass.
    Unfilterable(&'static str),
}

/// The media type without parameters, lower case.
pub fn media_type(content_type: Option<&str>) -> String {
    content_type
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn is_json(media: &str) -> bool {
    media == "application/json" || media.ends_with("+json")
}

/// Filters a provider's body for a consumer granted `granted` of a resource whose items are
/// `all`.
pub fn filter(
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
    granted: &[String],
    all: &[String],
) -> Filtered {
    if body.is_empty() {
        return Filtered::Body(Vec::new(), 0);
    }
    let media = media_type(content_type);
    if !(200..300).contains(&status) {
        return Filtered::Body(problem_only(&media, body), 0);
    }
    let everything = all.iter().all(|item| granted.contains(item));
    if is_json(&media) {
        json(body, granted)
    } else if media == "text/csv" {
        csv(body, granted)
    } else if everything {
        Filtered::Body(body.to_vec(), 0)
    } else {
        Filtered::Unfilterable("the provider answered in a format the gateway cannot filter")
    }
}

fn problem_only(media: &str, body: &[u8]) -> Vec<u8> {
    if !is_json(media) {
        return Vec::new();
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => {
            let kept: Map<String, Value> = map
                .into_iter()
                .filter(|(key, _)| PROBLEM.contains(&key.as_str()))
                .collect();
            serde_json::to_vec(&Value::Object(kept)).unwrap_or_default()
        }
        _ => Vec::new(),
    }
}

fn record(value: &mut Value, granted: &[String]) -> Result<usize, &'static str> {
    let Value::Object(map) = value else {
        return Err("a record is not a JSON object");
    };
    let before = map.len();
    map.retain(|key, _| granted.iter().any(|g| g == key));
    Ok(before - map.len())
}

fn records(values: &mut [Value], granted: &[String]) -> Result<usize, &'static str> {
    values.iter_mut().map(|v| record(v, granted)).sum()
}

fn json(body: &[u8], granted: &[String]) -> Filtered {
    let Ok(mut value) = serde_json::from_slice::<Value>(body) else {
        return Filtered::Unfilterable("the provider's JSON does not parse");
    };
    let removed = match &mut value {
        Value::Array(values) => records(values, granted),
        Value::Object(map) if map.contains_key("records") || map.contains_key("results") => {
            if map.contains_key("records") && map.contains_key("results") {
                return Filtered::Unfilterable("an envelope has both records and results");
            }
            let before = map.len();
            map.retain(|key, _| ENVELOPE.contains(&key.as_str()));
            let dropped = before - map.len();
            let list = if map.contains_key("records") {
                "records"
            } else {
                "results"
            };
            match map.get_mut(list) {
                Some(Value::Array(values)) => records(values, granted).map(|n| n + dropped),
                _ => Err("the envelope's list is not an array"),
            }
        }
        Value::Object(map) if map.len() == 1 && map.contains_key("content") => map
            .get_mut("content")
            .map_or(Err("no content"), |c| record(c, granted)),
        Value::Object(map) if map.len() == 1 && map.contains_key("answer") => {
            match map.get_mut("answer") {
                Some(Value::Object(answer)) => {
                    let before = answer.len();
                    answer.retain(|key, value| {
                        ANSWER.contains(&key.as_str()) && (value.is_boolean() || value.is_string())
                    });
                    Ok(before - answer.len())
                }
                _ => Err("the answer is not an object"),
            }
        }
        Value::Object(_) => record(&mut value, granted),
        _ => Err("the answer is neither a record, a list of records nor an envelope"),
    };
    match removed {
        Ok(removed) => match serde_json::to_vec(&value) {
            Ok(bytes) => Filtered::Body(bytes, removed),
            Err(_) => Filtered::Unfilterable("the filtered answer could not be written"),
        },
        Err(why) => Filtered::Unfilterable(why),
    }
}

fn csv(body: &[u8], granted: &[String]) -> Filtered {
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(body);
    let Ok(headers) = reader.headers().cloned() else {
        return Filtered::Unfilterable("the CSV has no readable header line");
    };
    let keep: Vec<usize> = headers
        .iter()
        .enumerate()
        .filter(|(_, name)| granted.iter().any(|g| g == name.trim()))
        .map(|(i, _)| i)
        .collect();
    let mut writer = ::csv::Writer::from_writer(Vec::with_capacity(body.len()));
    let written = writer.write_record(keep.iter().map(|&i| &headers[i]));
    if written.is_err() {
        return Filtered::Unfilterable("the filtered CSV could not be written");
    }
    let mut removed = 0;
    for row in reader.records() {
        let Ok(row) = row else {
            return Filtered::Unfilterable("a CSV line does not parse or has the wrong width");
        };
        removed += row.len() - keep.len();
        if writer.write_record(keep.iter().map(|&i| &row[i])).is_err() {
            return Filtered::Unfilterable("the filtered CSV could not be written");
        }
    }
    match writer.into_inner() {
        Ok(bytes) => Filtered::Body(bytes, removed),
        Err(_) => Filtered::Unfilterable("the filtered CSV could not be written"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn body(filtered: Filtered) -> (Value, usize) {
        match filtered {
            Filtered::Body(bytes, removed) => {
                (serde_json::from_slice(&bytes).expect("json"), removed)
            }
            Filtered::Unfilterable(why) => panic!("unfilterable: {why}"),
        }
    }

    #[test]
    fn a_record_keeps_only_the_granted_items() {
        let all = codes(&["name", "resident_id", "phone"]);
        let granted = codes(&["name"]);
        let (value, removed) = body(filter(
            200,
            Some("application/json; charset=utf-8"),
            br#"{"name":"A","resident_id":"1","phone":"2","extra":3}"#,
            &granted,
            &all,
        ));
        assert_eq!(value, serde_json::json!({"name": "A"}));
        assert_eq!(removed, 3);
    }

    #[test]
    fn lists_and_envelopes_are_filtered_record_by_record() {
        let all = codes(&["a", "b"]);
        let granted = codes(&["a"]);
        let (value, _) = body(filter(
            200,
            Some("application/json"),
            br#"[{"a":1,"b":2},{"b":3}]"#,
            &granted,
            &all,
        ));
        assert_eq!(value, serde_json::json!([{"a": 1}, {}]));
        let (value, _) = body(filter(
            200,
            Some("application/json"),
            br#"{"records":[{"a":1,"b":2}],"total":1,"debug":{"b":2}}"#,
            &granted,
            &all,
        ));
        assert_eq!(
            value,
            serde_json::json!({"records": [{"a": 1}], "total": 1})
        );
    }

    #[test]
    fn registry_shapes_are_filtered_too() {
        let all = codes(&["id", "name", "phone"]);
        let granted = codes(&["id", "name"]);
        let (value, _) = body(filter(
            200,
            Some("application/json"),
            br#"{"count":1,"next":null,"previous":null,"results":[{"id":"1","name":"A","phone":"2"}],"x":1}"#,
            &granted,
            &all,
        ));
        assert_eq!(
            value,
            serde_json::json!({"count": 1, "next": null, "previous": null, "results": [{"id": "1", "name": "A"}]})
        );
        let (value, _) = body(filter(
            200,
            Some("application/json"),
            br#"{"content":{"id":"1","phone":"2"}}"#,
            &granted,
            &all,
        ));
        assert_eq!(value, serde_json::json!({"content": {"id": "1"}}));
        let (value, _) = body(filter(
            200,
            Some("application/json"),
            br#"{"answer":{"status":true,"message":"found","phone":"2"}}"#,
            &granted,
            &all,
        ));
        assert_eq!(
            value,
            serde_json::json!({"answer": {"status": true, "message": "found"}})
        );
        assert!(matches!(
            filter(200, Some("application/json"), br#"{"answer":{"status":{"phone":"2"}}}"#, &granted, &all),
            Filtered::Body(ref b, _) if !String::from_utf8_lossy(b).contains("phone")
        ));
    }

    #[test]
    fn what_cannot_be_filtered_does_not_pass() {
        let all = codes(&["a", "b"]);
        let granted = codes(&["a"]);
        for (media, text) in [
            ("application/json", &b"[1,2]"[..]),
            ("application/json", b"\"b\""),
            ("application/json", b"{not json"),
            ("application/json", br#"{"records":{"b":1}}"#),
            ("text/plain", b"b=2"),
            ("application/xml", b"<b>2</b>"),
        ] {
            assert!(
                matches!(
                    filter(200, Some(media), text, &granted, &all),
                    Filtered::Unfilterable(_)
                ),
                "{media} {text:?}"
            );
        }
        // The whole resource granted: any format passes as it is.
        assert_eq!(
            filter(200, Some("text/plain"), b"b=2", &all, &all),
            Filtered::Body(b"b=2".to_vec(), 0)
        );
    }

    #[test]
    fn csv_columns_not_granted_are_removed() {
        let all = codes(&["uscc", "name", "phone"]);
        let granted = codes(&["uscc", "name"]);
        let text = "uscc,name,phone\n1,\"A, Ltd\",138\n2,B,139\n";
        match filter(200, Some("text/csv"), text.as_bytes(), &granted, &all) {
            Filtered::Body(bytes, removed) => {
                assert_eq!(
                    String::from_utf8(bytes).expect("utf-8"),
                    "uscc,name\n1,\"A, Ltd\"\n2,B\n"
                );
                assert_eq!(removed, 2);
            }
            Filtered::Unfilterable(why) => panic!("{why}"),
        }
        assert!(matches!(
            filter(200, Some("text/csv"), b"uscc,name\n1,2,3\n", &granted, &all),
            Filtered::Unfilterable(_)
        ));
    }

    #[test]
    fn errors_keep_only_problem_members() {
        let all = codes(&["a"]);
        let (value, _) = body(filter(
            404,
            Some("application/problem+json"),
            br#"{"title":"Not Found","status":404,"a":"leak"}"#,
            &[],
            &all,
        ));
        assert_eq!(
            value,
            serde_json::json!({"title": "Not Found", "status": 404})
        );
        assert_eq!(
            filter(500, Some("text/html"), b"<pre>a=1</pre>", &[], &all),
            Filtered::Body(Vec::new(), 0)
        );
    }
}
