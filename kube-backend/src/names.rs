//! Kubernetes name rules (RFC 1123 labels and subdomains, label keys and
//! values), checked before a request is sent so a bad name is a clear
//! [`BackendError::Invalid`] naming the field, not an API server 422.

use riskgrid_capacity::BackendError;

fn invalid(what: &str, value: &str, rule: &str) -> BackendError {
    BackendError::Invalid(format!("{what}: {value:?} {rule}"))
}

fn alnum_lower(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// RFC 1123 label: 1..=63 of `[a-z0-9-]`, starting and ending alphanumeric (pod and namespace names).
pub fn check_rfc1123_label(what: &str, s: &str) -> Result<(), BackendError> {
    const RULE: &str = "must be 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit";
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.chars().all(|c| alnum_lower(c) || c == '-')
        && s.starts_with(alnum_lower)
        && s.ends_with(alnum_lower);
    if ok { Ok(()) } else { Err(invalid(what, s, RULE)) }
}

/// RFC 1123 subdomain: at most 253 characters, dot-separated RFC 1123 labels.
pub fn check_rfc1123_subdomain(what: &str, s: &str) -> Result<(), BackendError> {
    const RULE: &str = "must be a DNS subdomain (lowercase labels separated by '.', at most 253 characters)";
    if s.is_empty() || s.len() > 253 {
        return Err(invalid(what, s, RULE));
    }
    for part in s.split('.') {
        check_rfc1123_label(what, part).map_err(|_| invalid(what, s, RULE))?;
    }
    Ok(())
}

fn check_name_segment(s: &str) -> bool {
    let edge = |c: char| c.is_ascii_alphanumeric();
    s.len() <= 63
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && (s.is_empty() || (s.starts_with(edge) && s.ends_with(edge)))
}

/// Label value: empty, or at most 63 of `[A-Za-z0-9-_.]` starting and ending alphanumeric.
pub fn check_label_value(what: &str, s: &str) -> Result<(), BackendError> {
    if check_name_segment(s) {
        Ok(())
    } else {
        Err(invalid(what, s, "is not a label value (at most 63 of A-Z a-z 0-9 - _ ., alphanumeric at both ends)"))
    }
}

/// Label (or taint) key: `[prefix/]name`, prefix a DNS subdomain, name a non-empty label value.
pub fn check_label_key(what: &str, s: &str) -> Result<(), BackendError> {
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    if let Some(p) = prefix {
        check_rfc1123_subdomain(what, p).map_err(|_| invalid(what, s, "has a prefix that is not a DNS subdomain"))?;
    }
    if name.is_empty() || !check_name_segment(name) {
        return Err(invalid(what, s, "is not a label key ([prefix/]name, name 1-63 of A-Z a-z 0-9 - _ .)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        for ok in ["a", "w-1", "0abc", &"a".repeat(63)] {
            assert!(check_rfc1123_label("n", ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "a-", "A", "a_b", "a.b", &"a".repeat(64), "é"] {
            assert!(check_rfc1123_label("n", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn subdomains_keys_values() {
        assert!(check_rfc1123_subdomain("s", "a.b-c.d").is_ok());
        assert!(check_rfc1123_subdomain("s", "a..b").is_err());
        assert!(check_label_key("k", "riskgrid.io/burst").is_ok());
        assert!(check_label_key("k", "team").is_ok());
        assert!(check_label_key("k", "Bad_Prefix/x").is_err());
        assert!(check_label_key("k", "riskgrid.io/").is_err());
        assert!(check_label_value("v", "").is_ok());
        assert!(check_label_value("v", "Abc_1.x").is_ok());
        assert!(check_label_value("v", "_x").is_err());
        assert!(check_label_value("v", "a b").is_err());
    }
}
