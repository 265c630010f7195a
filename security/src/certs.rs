//! A development certificate authority (rcgen): a CA and leaf certificates
//! whose one `spiffe://` URI SAN is the holder's [`Identity`]. Leaves are
//! good for both ends of mTLS (serverAuth + clientAuth); the scheduler's also
//! names `localhost`, `127.0.0.1` and `::1` (and any extra hosts) so clients
//! can verify it. Validity is given explicitly (the caller reads the clock),
//! which is also how tests make already-expired certificates.
//!
//! This is for local grids and tests. Production certificates come from the
//! platform's issuer (cert-manager, SPIRE); the scheduler only needs PEM files.

use crate::identity::Identity;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    SanType,
};
use std::fmt;
use std::net::IpAddr;
use thiserror::Error;
use time::OffsetDateTime;

#[derive(Debug, Error)]
pub enum Error {
    #[error("certificate generation: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("validity: {0}")]
    Validity(String),
    #[error("host {0:?} is neither an IP address nor a DNS name")]
    BadHost(String),
}

/// When a certificate is valid, in Unix seconds (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub not_before: i64,
    pub not_after: i64,
}

const DAY: i64 = 86_400;

impl Validity {
    /// From an hour before `now` (clock skew) to `days` days after it.
    pub fn days_from(now: i64, days: u32) -> Validity {
        Validity { not_before: now - 3600, not_after: now + i64::from(days) * DAY }
    }

    /// Expired a day before `now` (for tests of refusal).
    pub fn expired_at(now: i64) -> Validity {
        Validity { not_before: now - 30 * DAY, not_after: now - DAY }
    }

    fn dates(self) -> Result<(OffsetDateTime, OffsetDateTime), Error> {
        if self.not_after <= self.not_before {
            return Err(Error::Validity("not_after must be later than not_before".into()));
        }
        let at = |t: i64| OffsetDateTime::from_unix_timestamp(t).map_err(|e| Error::Validity(e.to_string()));
        Ok((at(self.not_before)?, at(self.not_after)?))
    }
}

/// A certificate and its private key, both PEM.
#[derive(Clone, PartialEq, Eq)]
pub struct Pem {
    pub cert: String,
    pub key: String,
}

impl fmt::Debug for Pem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pem").field("cert", &self.cert).field("key", &"<redacted>").finish()
    }
}

/// A certificate authority able to sign leaves.
pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: Pem,
}

impl fmt::Debug for Ca {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ca").field("cert", &self.pem.cert).finish_non_exhaustive()
    }
}

impl Ca {
    /// A fresh self-signed CA named `name` (an ECDSA P-256 key).
    pub fn generate(name: &str, validity: Validity) -> Result<Ca, Error> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        let (not_before, not_after) = validity.dates()?;
        params.not_before = not_before;
        params.not_after = not_after;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.distinguished_name.push(DnType::CommonName, name);
        params.distinguished_name.push(DnType::OrganizationName, "riskgrid dev CA");
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        let pem = Pem { cert: cert.pem(), key: key.serialize_pem() };
        Ok(Ca { issuer: Issuer::new(params, key), pem })
    }

    /// The CA certificate (what peers trust) and its key.
    pub fn pem(&self) -> &Pem {
        &self.pem
    }

    /// A leaf for `identity`. `hosts` (IP addresses or DNS names) are added as
    /// SANs so the holder can serve TLS under those names.
    pub fn issue(&self, identity: &Identity, validity: Validity, hosts: &[String]) -> Result<Pem, Error> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        let (not_before, not_after) = validity.dates()?;
        params.not_before = not_before;
        params.not_after = not_after;
        params.distinguished_name.push(DnType::CommonName, identity.uri());
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        params.subject_alt_names.push(SanType::URI(identity.uri().try_into()?));
        for host in hosts {
            params.subject_alt_names.push(san_of_host(host)?);
        }
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Pem { cert: cert.pem(), key: key.serialize_pem() })
    }
}

/// The hosts every scheduler certificate names (local grids connect to these).
pub fn local_hosts() -> Vec<String> {
    vec!["localhost".into(), "127.0.0.1".into(), "::1".into()]
}

fn san_of_host(host: &str) -> Result<SanType, Error> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(SanType::IpAddress(ip));
    }
    let ok = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|l| {
            !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'*')
        });
    if !ok {
        return Err(Error::BadHost(host.to_owned()));
    }
    Ok(SanType::DnsName(host.try_into().map_err(|_| Error::BadHost(host.to_owned()))?))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use x509_parser::pem::parse_x509_pem;

    const NOW: i64 = 1_767_225_600; // 2026-01-01

    #[test]
    fn a_leaf_carries_its_identity_and_validity() {
        let ca = Ca::generate("test CA", Validity::days_from(NOW, 10)).unwrap();
        let id = Identity::Tenant("alpha".into());
        let leaf = ca.issue(&id, Validity::days_from(NOW, 2), &local_hosts()).unwrap();
        let (_, pem) = parse_x509_pem(leaf.cert.as_bytes()).unwrap();
        assert_eq!(Identity::from_cert_der(&pem.contents).unwrap(), id);
        let cert = pem.parse_x509().unwrap();
        assert_eq!(cert.validity().not_after.timestamp(), NOW + 2 * DAY);
        assert!(leaf.key.contains("PRIVATE KEY"));
        assert!(!format!("{leaf:?}").contains("PRIVATE"), "keys are not logged");
    }

    #[test]
    fn an_expired_validity_is_in_the_past_and_nonsense_is_refused() {
        let v = Validity::expired_at(NOW);
        assert!(v.not_after < NOW && v.not_before < v.not_after);
        assert!(Ca::generate("x", Validity { not_before: NOW, not_after: NOW }).is_err());
        let ca = Ca::generate("x", Validity::days_from(NOW, 1)).unwrap();
        assert!(ca.issue(&Identity::Admin("a".into()), Validity::days_from(NOW, 1), &["bad host!".into()]).is_err());
    }
}
