//! Who is calling: a SPIFFE-style identity carried as the one `spiffe://` URI
//! SAN of a client certificate. Parsing is strict (one trust domain, exactly
//! `/<kind>/<name>`, a small alphabet) because everything downstream —
//! authorization by kind, the tenant that owns a job — trusts its result.

use std::fmt;
use thiserror::Error;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

/// The trust domain of riskgrid's identities.
pub const TRUST_DOMAIN: &str = "riskgrid";

/// Longest accepted name (the scheduler's tenant ids have the same bound).
pub const MAX_NAME_LEN: usize = 64;

/// A verified caller.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Identity {
    /// A quant team submitting jobs: `spiffe://riskgrid/tenant/<name>`.
    Tenant(String),
    /// A compute worker: `spiffe://riskgrid/worker/<id>`.
    Worker(String),
    /// An operator (capacity, policy): `spiffe://riskgrid/admin/<name>`.
    Admin(String),
    /// The scheduler's own server certificate: `spiffe://riskgrid/scheduler/<name>`.
    Scheduler(String),
}

/// The kind of an identity, for authorization tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Tenant,
    Worker,
    Admin,
    Scheduler,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Tenant => "tenant",
            Kind::Worker => "worker",
            Kind::Admin => "admin",
            Kind::Scheduler => "scheduler",
        }
    }

    fn parse(text: &str) -> Option<Kind> {
        match text {
            "tenant" => Some(Kind::Tenant),
            "worker" => Some(Kind::Worker),
            "admin" => Some(Kind::Admin),
            "scheduler" => Some(Kind::Scheduler),
            _ => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an identity was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    #[error("{uri:?}: not a riskgrid SPIFFE id: {reason}")]
    BadUri { uri: String, reason: String },
    #[error("certificate does not parse: {0}")]
    BadCertificate(String),
    #[error("certificate carries no spiffe:// URI SAN")]
    NoSpiffeId,
    #[error("certificate carries {0} spiffe:// URI SANs; exactly one is allowed")]
    SeveralSpiffeIds(usize),
    #[error("name {name:?}: {reason}")]
    BadName { name: String, reason: &'static str },
}

/// Checks a name: 1 to 64 characters of `[A-Za-z0-9._-]`, not `.` or `..`.
pub fn check_name(name: &str) -> Result<(), Error> {
    let bad = |reason| Err(Error::BadName { name: name.to_owned(), reason });
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return bad("1 to 64 characters");
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) {
        return bad("only A-Z a-z 0-9 . _ - are allowed");
    }
    if name == "." || name == ".." {
        return bad("`.` and `..` are not names");
    }
    Ok(())
}

impl Identity {
    pub fn new(kind: Kind, name: impl Into<String>) -> Result<Identity, Error> {
        let name = name.into();
        check_name(&name)?;
        Ok(match kind {
            Kind::Tenant => Identity::Tenant(name),
            Kind::Worker => Identity::Worker(name),
            Kind::Admin => Identity::Admin(name),
            Kind::Scheduler => Identity::Scheduler(name),
        })
    }

    pub fn kind(&self) -> Kind {
        match self {
            Identity::Tenant(_) => Kind::Tenant,
            Identity::Worker(_) => Kind::Worker,
            Identity::Admin(_) => Kind::Admin,
            Identity::Scheduler(_) => Kind::Scheduler,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Identity::Tenant(n) | Identity::Worker(n) | Identity::Admin(n) | Identity::Scheduler(n) => n,
        }
    }

    /// The SPIFFE id, e.g. `spiffe://riskgrid/tenant/alpha`.
    pub fn uri(&self) -> String {
        format!("spiffe://{TRUST_DOMAIN}/{}/{}", self.kind(), self.name())
    }

    /// Parses a SPIFFE id of the riskgrid trust domain. Refuses other schemes
    /// and trust domains, ports, user info, queries, fragments, percent
    /// escapes, empty, dot or extra path segments and unknown kinds.
    pub fn from_uri(uri: &str) -> Result<Identity, Error> {
        let bad = |reason: &str| Error::BadUri { uri: uri.chars().take(200).collect(), reason: reason.to_owned() };
        if uri.len() > 2048 {
            return Err(bad("longer than 2048 bytes"));
        }
        let rest = uri.strip_prefix("spiffe://").ok_or_else(|| bad("scheme must be spiffe://"))?;
        let (domain, path) = rest.split_once('/').ok_or_else(|| bad("no path"))?;
        if domain != TRUST_DOMAIN {
            return Err(bad(&format!("trust domain must be {TRUST_DOMAIN}")));
        }
        if path.contains(['?', '#', '%']) {
            return Err(bad("queries, fragments and percent escapes are not allowed"));
        }
        let mut segments = path.split('/');
        let (Some(kind), Some(name), None) = (segments.next(), segments.next(), segments.next()) else {
            return Err(bad("path must be /<kind>/<name>"));
        };
        let kind = Kind::parse(kind).ok_or_else(|| bad("kind must be tenant, worker, admin or scheduler"))?;
        Identity::new(kind, name).map_err(|e| bad(&e.to_string()))
    }

    /// The identity in a DER certificate's subject alternative names: exactly
    /// one `spiffe://` URI SAN. The certificate's chain and validity are the
    /// TLS layer's job; this only reads the name.
    pub fn from_cert_der(der: &[u8]) -> Result<Identity, Error> {
        let (_, cert) = X509Certificate::from_der(der).map_err(|e| Error::BadCertificate(e.to_string()))?;
        let san = cert.subject_alternative_name().map_err(|e| Error::BadCertificate(e.to_string()))?;
        let uris: Vec<&str> = san
            .map(|ext| {
                ext.value
                    .general_names
                    .iter()
                    .filter_map(|n| match n {
                        GeneralName::URI(u) if u.get(..9).is_some_and(|s| s.eq_ignore_ascii_case("spiffe://")) => {
                            Some(*u)
                        }
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        match uris.as_slice() {
            [] => Err(Error::NoSpiffeId),
            [one] => Identity::from_uri(one),
            many => Err(Error::SeveralSpiffeIds(many.len())),
        }
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.uri())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_kind() {
        assert_eq!(Identity::from_uri("spiffe://riskgrid/tenant/alpha"), Ok(Identity::Tenant("alpha".into())));
        assert_eq!(Identity::from_uri("spiffe://riskgrid/worker/w-1"), Ok(Identity::Worker("w-1".into())));
        assert_eq!(Identity::from_uri("spiffe://riskgrid/admin/ops"), Ok(Identity::Admin("ops".into())));
        let id = Identity::Tenant("a.b_c-9".into());
        assert_eq!(Identity::from_uri(&id.uri()), Ok(id));
    }

    #[test]
    fn refuses_anything_loose() {
        for uri in [
            "",
            "spiffe://riskgrid",
            "spiffe://riskgrid/",
            "spiffe://riskgrid/tenant",
            "spiffe://riskgrid/tenant/",
            "spiffe://riskgrid/tenant/a/b",
            "spiffe://riskgrid/tenant//a",
            "spiffe://riskgrid/tenant/..",
            "spiffe://riskgrid/tenant/a%2Fb",
            "spiffe://riskgrid/tenant/a?x=1",
            "spiffe://riskgrid/tenant/a#f",
            "spiffe://riskgrid/Tenant/a",
            "spiffe://riskgrid/root/a",
            "spiffe://other/tenant/a",
            "spiffe://riskgrid:443/tenant/a",
            "spiffe://u@riskgrid/tenant/a",
            "SPIFFE://riskgrid/tenant/a",
            "https://riskgrid/tenant/a",
            "spiffe://riskgrid/tenant/a b",
            "spiffe://riskgrid/tenant/é",
        ] {
            assert!(Identity::from_uri(uri).is_err(), "{uri:?} was accepted");
        }
        let long = format!("spiffe://riskgrid/tenant/{}", "a".repeat(65));
        assert!(Identity::from_uri(&long).is_err());
        let max = format!("spiffe://riskgrid/tenant/{}", "a".repeat(64));
        assert!(Identity::from_uri(&max).is_ok());
    }

    #[test]
    fn garbage_der_is_an_error() {
        assert!(matches!(Identity::from_cert_der(b"not a certificate"), Err(Error::BadCertificate(_))));
        assert!(matches!(Identity::from_cert_der(&[]), Err(Error::BadCertificate(_))));
    }
}
