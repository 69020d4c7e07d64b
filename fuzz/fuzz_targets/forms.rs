//! Fuzzes the form engine: any form definition (as JSON) and any submission may be refused,
//! never panic; what is accepted has a value for every required field and nothing else.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use tongban_forms::{FormField, Known, Prefill, check, json_schema};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (form, submission) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(fields) = serde_json::from_str::<Vec<FormField>>(form) else { return };
    let submitted: BTreeMap<String, String> = serde_json::from_str(submission).unwrap_or_default();
    let known: Known = [(Prefill::Name, "张伟".to_owned())].into_iter().collect();
    let _ = json_schema(&fields);
    if let Ok(values) = check(&fields, &submitted, &known) {
        for field in &fields {
            if field.required {
                assert!(values.contains_key(&field.code), "{} is required", field.code);
            }
        }
        assert!(values.keys().all(|k| fields.iter().any(|f| &f.code == k)));
    }
});
