//! Parsing job files (YAML or JSON) into a validated [`JobSpec`].

use std::path::Path;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer};
use serde_yaml::Value;

use super::error::{FieldError, ROOT_PATH, SpecErrors};
use super::types::{InstrumentSpec, JobSpec};

/// Marks the path of an error found inside an instrument's payload, so that
/// [`to_field_error`] can append it to the outer path (the instrument is
/// buffered to find its `type`, which hides the inner path from
/// `serde_path_to_error`). Readable on its own if it ever leaks.
const INNER_OPEN: &str = "\u{ab}at ";
const INNER_CLOSE: &str = "\u{bb} ";

/// Parses a YAML job file (JSON is YAML too) and validates it.
///
/// A type error names the field path (`portfolio[2].instrument.strike:
/// invalid type: string "abc", expected f64 at line ...`);
/// validation reports every problem found, not just the first.
pub fn parse_yaml(text: &str) -> Result<JobSpec, SpecErrors> {
    check_not_empty(text)?;
    // Field paths are tracked only to explain an error: a good file is read without them
    // (a quarter of the time), a bad one is read again with them.
    let spec: JobSpec = match serde_yaml::from_str(text) {
        Ok(spec) => spec,
        Err(_) => {
            let de = serde_yaml::Deserializer::from_str(text);
            serde_path_to_error::deserialize(de).map_err(path_error)?
        }
    };
    spec.validate()?;
    Ok(spec)
}

/// Parses a JSON job file and validates it. Same errors as [`parse_yaml`],
/// with JSON's stricter syntax (and no NaN or infinity literals).
pub fn parse_json(text: &str) -> Result<JobSpec, SpecErrors> {
    check_not_empty(text)?;
    let mut de = serde_json::Deserializer::from_str(text);
    // As in `parse_yaml`: paths are tracked only when reading again to explain an error.
    let spec: JobSpec = match JobSpec::deserialize(&mut de) {
        Ok(spec) => spec,
        Err(_) => {
            de = serde_json::Deserializer::from_str(text);
            serde_path_to_error::deserialize(&mut de).map_err(path_error)?
        }
    };
    de.end().map_err(|e| SpecErrors::single(ROOT_PATH, format!("trailing characters: {e}")))?;
    spec.validate()?;
    Ok(spec)
}

/// A deserialization error with its field path, as a [`FieldError`].
fn path_error<E: std::fmt::Display>(e: serde_path_to_error::Error<E>) -> SpecErrors {
    let path = e.path().to_string();
    SpecErrors(vec![to_field_error(&path, &e.into_inner().to_string())])
}

/// Parses job-file text, choosing JSON for a name ending in `.json` (any
/// case) and YAML otherwise. Reading the file is the caller's job: riskcalc
/// does no I/O.
pub fn parse_named(name: &str, text: &str) -> Result<JobSpec, SpecErrors> {
    let is_json = Path::new(name).extension().is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
    if is_json { parse_json(text) } else { parse_yaml(text) }
}

/// Refuses input with no content (nothing but whitespace, comments and
/// document markers) with a clearer message than "EOF while parsing".
fn check_not_empty(text: &str) -> Result<(), SpecErrors> {
    let has_content = text.lines().any(|line| {
        let t = line.trim();
        !(t.is_empty() || t.starts_with('#') || t == "---" || t == "...")
    });
    if has_content {
        Ok(())
    } else {
        Err(SpecErrors::single(
            ROOT_PATH,
            "the job file is empty; expected a mapping with `seed`, `market`, `portfolio` and `analysis`",
        ))
    }
}

/// Turns a `serde_path_to_error` path and message into a [`FieldError`]:
/// removes the path prefix serde_yaml puts in its own messages, appends the
/// inner instrument path, and points `missing field` / `unknown field`
/// errors at the field itself.
fn to_field_error(path: &str, message: &str) -> FieldError {
    // `?` marks a segment serde_path_to_error could not name (for example
    // a YAML syntax error while reading a key): drop it.
    let mut path = path.to_string();
    while path == "." || path == "?" || path.ends_with(".?") {
        path.truncate(path.len().saturating_sub(2));
    }
    // serde_yaml writes its own (sometimes shorter) path before the message.
    let mut msg = message;
    if let Some((head, rest)) = message.split_once(": ")
        && !head.is_empty()
        && !head.contains(char::is_whitespace)
        && path.starts_with(head)
    {
        msg = rest;
    }
    let mut msg = msg.to_string();
    if let Some((inner, rest)) = split_inner(&msg) {
        join_path(&mut path, &inner);
        msg = rest;
    }
    // Point `missing field` / `unknown field` errors at the field itself
    // (serde_path_to_error already includes an unknown field's name).
    for prefix in ["missing field `", "unknown field `"] {
        if let Some(field) = msg.strip_prefix(prefix).and_then(|rest| rest.find('`').map(|end| &rest[..end])) {
            let named = path == field || path.ends_with(&format!(".{field}"));
            if prefix.starts_with("missing") || !named {
                let field = field.to_string();
                join_path(&mut path, &field);
            }
            break;
        }
    }
    if path.is_empty() {
        path = ROOT_PATH.to_string();
    }
    FieldError::new(path, msg)
}

/// Splits `...«at PATH» MESSAGE` into `(PATH, MESSAGE)`.
fn split_inner(msg: &str) -> Option<(String, String)> {
    let open = msg.find(INNER_OPEN)?;
    let after = &msg[open + INNER_OPEN.len()..];
    let close = after.find(INNER_CLOSE)?;
    Some((after[..close].to_string(), after[close + INNER_CLOSE.len()..].to_string()))
}

fn join_path(path: &mut String, segment: &str) {
    if segment.is_empty() || segment == "." {
        return;
    }
    if !path.is_empty() && !segment.starts_with('[') {
        path.push('.');
    }
    path.push_str(segment);
}

fn type_list() -> String {
    InstrumentSpec::TYPE_NAMES.join(", ")
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a sequence",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// Deserializes an instrument payload, keeping the path of any error.
fn payload<T, E>(value: Value, wrap: fn(T) -> InstrumentSpec) -> Result<InstrumentSpec, E>
where
    T: DeserializeOwned,
    E: de::Error,
{
    serde_path_to_error::deserialize(value).map(wrap).map_err(|e| {
        let inner = e.path().to_string();
        let msg = e.into_inner().to_string();
        if inner == "." || inner.is_empty() {
            E::custom(msg)
        } else {
            E::custom(format!("{INNER_OPEN}{inner}{INNER_CLOSE}{msg}"))
        }
    })
}

impl<'de> Deserialize<'de> for InstrumentSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let mut map = match value {
            Value::Mapping(map) => map,
            other => {
                return Err(de::Error::custom(format!(
                    "expected an instrument mapping with a `type` field (one of: {}), got {}",
                    type_list(),
                    describe(&other)
                )));
            }
        };
        let kind = match map.remove("type") {
            Some(Value::String(kind)) => kind,
            Some(other) => {
                return Err(de::Error::custom(format!(
                    "instrument `type` must be one of: {}; got {}",
                    type_list(),
                    describe(&other)
                )));
            }
            None => {
                return Err(de::Error::custom(format!(
                    "missing field `type`: the instrument type, one of: {}",
                    type_list()
                )));
            }
        };
        let rest = Value::Mapping(map);
        match kind.as_str() {
            "stock" => payload(rest, InstrumentSpec::Stock),
            "european" => payload(rest, InstrumentSpec::European),
            "digital" => payload(rest, InstrumentSpec::Digital),
            "asian" => payload(rest, InstrumentSpec::Asian),
            "barrier" => payload(rest, InstrumentSpec::Barrier),
            "basket" => payload(rest, InstrumentSpec::Basket),
            "american" => payload(rest, InstrumentSpec::American),
            "bermudan" => payload(rest, InstrumentSpec::Bermudan),
            other => {
                Err(de::Error::custom(format!("unknown instrument type `{other}`; valid types are: {}", type_list())))
            }
        }
    }
}
