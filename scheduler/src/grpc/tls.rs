//! mTLS settings for the scheduler's gRPC server and for its clients
//! (workers, the CLI), from PEM files.
//!
//! The server presents its certificate and verifies client certificates
//! against one CA (rustls via tonic's `tls-ring`): a certificate from another
//! CA, an expired one or a malformed one ends the handshake. A client that
//! sends no certificate is let through the handshake only to be answered
//! `UNAUTHENTICATED` by [`super::auth`] (health checks excepted), which gives
//! it a clear error rather than a bare connection reset.

use std::fmt;
use std::path::{Path, PathBuf};
use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

/// The server's certificate and key, and the CA its clients must chain to.
#[derive(Clone)]
pub struct ServerTls {
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
    pub client_ca_pem: Vec<u8>,
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls").finish_non_exhaustive()
    }
}

fn read(flag: &str, path: &Path) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{flag} {}: {e}", path.display()))?;
    if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return Err(format!("{flag} {}: not a PEM file", path.display()));
    }
    Ok(bytes)
}

impl ServerTls {
    /// Reads `--tls-cert`, `--tls-key` and `--tls-client-ca`.
    pub fn from_files(cert: &Path, key: &Path, client_ca: &Path) -> Result<ServerTls, String> {
        Ok(ServerTls {
            cert_pem: read("--tls-cert", cert)?,
            key_pem: read("--tls-key", key)?,
            client_ca_pem: read("--tls-client-ca", client_ca)?,
        })
    }

    pub fn config(&self) -> ServerTlsConfig {
        ServerTlsConfig::new()
            .identity(Identity::from_pem(&self.cert_pem, &self.key_pem))
            .client_ca_root(Certificate::from_pem(&self.client_ca_pem))
            .client_auth_optional(true)
    }
}

/// A client's trust anchor and certificate: `--tls-ca`, `--tls-cert`, `--tls-key`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientTlsFiles {
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

impl ClientTlsFiles {
    /// `None` when no flag is given (plain HTTP/2 to a loopback scheduler);
    /// otherwise all three are required.
    pub fn load(&self) -> Result<Option<ClientTlsConfig>, String> {
        match (&self.ca, &self.cert, &self.key) {
            (None, None, None) => Ok(None),
            (Some(ca), Some(cert), Some(key)) => {
                let ca = read("--tls-ca", ca)?;
                let cert = read("--tls-cert", cert)?;
                let key = read("--tls-key", key)?;
                Ok(Some(
                    ClientTlsConfig::new()
                        .ca_certificate(Certificate::from_pem(ca))
                        .identity(Identity::from_pem(cert, key)),
                ))
            }
            _ => Err("--tls-ca, --tls-cert and --tls-key go together: give all three or none".into()),
        }
    }
}

/// The URL to dial: `http://` becomes `https://` when TLS is on (and a plain
/// URL with TLS off is kept), so one `--scheduler` value works either way.
pub fn scheme_for(url: &str, tls: bool) -> String {
    match (tls, url.strip_prefix("http://")) {
        (true, Some(rest)) => format!("https://{rest}"),
        _ => url.to_owned(),
    }
}
