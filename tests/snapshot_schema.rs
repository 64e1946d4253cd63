//! `snapshot --format json` against `assets/snapshot.schema.json`, the
//! contract scripts rely on. The validator below covers the keywords the
//! schema uses (type, required, properties, items, enum) and fails on any
//! other, so the schema cannot grow a rule this test silently ignores.
#![allow(clippy::unwrap_used)]

use serde_json::Value;

const SCHEMA: &str = include_str!("../assets/snapshot.schema.json");

fn type_ok(value: &Value, name: &str) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => value.is_u64() || value.is_i64(),
        other => panic!("schema uses an unknown type {other}"),
    }
}

fn validate(schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = schema.as_object().unwrap();
    for key in schema.keys() {
        assert!(
            [
                "$schema",
                "$id",
                "title",
                "description",
                "type",
                "required",
                "properties",
                "items",
                "enum"
            ]
            .contains(&key.as_str()),
            "{at}: the schema uses {key}, which this validator does not check"
        );
    }
    if let Some(t) = schema.get("type") {
        let names: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().map(|v| v.as_str().unwrap()).collect(),
            _ => panic!("{at}: type"),
        };
        if !names.iter().any(|n| type_ok(value, n)) {
            errors.push(format!("{at}: {value} is not {names:?}"));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        errors.push(format!("{at}: {value} not in {allowed:?}"));
    }
    if let Some(object) = value.as_object() {
        for key in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !object.contains_key(key.as_str().unwrap()) {
                errors.push(format!("{at}: missing {key}"));
            }
        }
        for (key, sub) in schema
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if let Some(v) = object.get(key) {
                validate(sub, v, &format!("{at}.{key}"), errors);
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, v) in array.iter().enumerate() {
            validate(items, v, &format!("{at}[{i}]"), errors);
        }
    }
}

#[test]
fn the_demo_snapshot_follows_the_published_schema() {
    let schema: Value = serde_json::from_str(SCHEMA).unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cre-cockpit"))
        .args(["snapshot", "--format", "json"])
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    // Streamed, but the whole view: every pane's rows are there.
    assert!(json["inquiries"].as_array().is_some_and(|a| !a.is_empty()));
    assert!(json["customers"].as_array().is_some_and(|a| !a.is_empty()));
    assert_eq!(
        json["schema_version"],
        cre_cockpit::report::snapshot::SCHEMA_VERSION
    );
    let mut errors = Vec::new();
    validate(&schema, &json, "$", &mut errors);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // The validator can fail: a document missing a source's coverage.
    let mut broken = json.clone();
    broken["sources"][0]
        .as_object_mut()
        .unwrap()
        .remove("coverage");
    let mut errors = Vec::new();
    validate(&schema, &broken, "$", &mut errors);
    assert_eq!(errors, ["$.sources[0]: missing \"coverage\""]);
}
