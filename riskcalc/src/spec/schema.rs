//! JSON Schema of the job file, generated from the types and their doc comments.

use super::types::JobSpec;

/// The JSON Schema (draft-07, as schemars 0.8 writes it) of a job file.
///
/// Descriptions come from the doc comments of the [`JobSpec`] types. The
/// schema checks shapes, types and enum names only; the numeric limits and
/// cross-field rules are enforced by [`JobSpec::validate`].
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(JobSpec);
    serde_json::to_value(schema)
        .unwrap_or_else(|e| serde_json::json!({ "error": format!("cannot serialize the job schema: {e}") }))
}
