//! Certificates from the dev CA carry exactly the identity they were issued
//! for, and identities round-trip through their SPIFFE ids.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use riskgrid_security::Identity;
use riskgrid_security::certs::{Ca, Validity, local_hosts};
use x509_parser::pem::parse_x509_pem;

const NOW: i64 = 1_767_225_600;

#[test]
fn every_kind_of_leaf_names_its_holder() {
    let ca = Ca::generate("riskgrid test CA", Validity::days_from(NOW, 30)).unwrap();
    for id in [
        Identity::Tenant("alpha".into()),
        Identity::Worker("w-0".into()),
        Identity::Admin("ops".into()),
        Identity::Scheduler("scheduler".into()),
    ] {
        let pem = ca.issue(&id, Validity::days_from(NOW, 1), &local_hosts()).unwrap();
        let (_, der) = parse_x509_pem(pem.cert.as_bytes()).unwrap();
        assert_eq!(Identity::from_cert_der(&der.contents).unwrap(), id);
        let cert = der.parse_x509().unwrap();
        let (_, ca_der) = parse_x509_pem(ca.pem().cert.as_bytes()).unwrap();
        assert_eq!(cert.issuer(), ca_der.parse_x509().unwrap().subject(), "signed by the CA");
    }
}

#[test]
fn a_cert_without_a_spiffe_id_has_no_identity() {
    let ca = Ca::generate("riskgrid test CA", Validity::days_from(NOW, 30)).unwrap();
    let (_, der) = parse_x509_pem(ca.pem().cert.as_bytes()).unwrap();
    assert!(Identity::from_cert_der(&der.contents).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

    #[test]
    fn uris_never_panic_and_valid_ones_round_trip(uri in "\\PC{0,80}", kind in 0u8..4, name in "[A-Za-z0-9._-]{1,64}") {
        let _ = Identity::from_uri(&uri);
        let _ = Identity::from_uri(&format!("spiffe://riskgrid/{uri}"));
        let _ = Identity::from_cert_der(uri.as_bytes());
        let kind = [riskgrid_security::Kind::Tenant, riskgrid_security::Kind::Worker,
            riskgrid_security::Kind::Admin, riskgrid_security::Kind::Scheduler][kind as usize];
        if let Ok(id) = Identity::new(kind, name.clone()) {
            prop_assert_eq!(Identity::from_uri(&id.uri()), Ok(id));
        } else {
            prop_assert!(name == "." || name == "..");
        }
    }
}
