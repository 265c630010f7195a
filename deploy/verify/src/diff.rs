//! Where two JSON values differ, as a list of JSON-pointer-like paths. Used to
//! catch fields a typed round trip dropped and to explain template mismatches.

use serde_json::Value;

/// Paths (`/spec/containers/0/image`) at which `want` and `got` differ, with both
/// sides shown. Empty when equal. Object keys are compared as sets.
pub fn differences(want: &Value, got: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(want, got, String::new(), true, &mut out);
    out
}

/// Like [`differences`], but keys only `got` has are not reported: what a
/// round trip through a typed value lost or changed (serialisers may add
/// defaults such as a nested object's `apiVersion`).
pub fn lost(want: &Value, got: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(want, got, String::new(), false, &mut out);
    out
}

fn walk(want: &Value, got: &Value, path: String, extra: bool, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                let p = format!("{path}/{k}");
                match b.get(k) {
                    Some(vb) => walk(va, vb, p, extra, out),
                    None => out.push(format!("{p}: {va} vs (absent)")),
                }
            }
            for (k, vb) in b {
                if extra && !a.contains_key(k) {
                    out.push(format!("{path}/{k}: (absent) vs {vb}"));
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (va, vb)) in a.iter().zip(b).enumerate() {
                walk(va, vb, format!("{path}/{i}"), extra, out);
            }
        }
        _ if want == got => {}
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => {}
        _ => out.push(format!("{}: {want} vs {got}", if path.is_empty() { "/" } else { &path })),
    }
}

#[cfg(test)]
mod tests {
    use super::differences;
    use serde_json::json;

    #[test]
    fn reports_missing_extra_and_changed_fields() {
        let a = json!({"a": 1, "b": {"c": [1, 2]}, "d": true});
        let b = json!({"a": 1, "b": {"c": [1, 3]}, "e": true});
        let d = differences(&a, &b);
        assert_eq!(d, vec!["/b/c/1: 2 vs 3", "/d: true vs (absent)", "/e: (absent) vs true"]);
        assert!(differences(&a, &a).is_empty());
        assert_eq!(super::lost(&a, &b), vec!["/b/c/1: 2 vs 3", "/d: true vs (absent)"]);
    }
}
