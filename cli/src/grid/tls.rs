//! The TLS flags of the grid commands: clients (`submit`, `watch`, ...,
//! `worker`) give a CA and their own certificate; the scheduler gives its
//! certificate and the CA its clients must chain to.

use crate::exit::Failure;
use riskgrid_scheduler::grpc::tls::{ClientTlsFiles, ServerTls};
use std::path::PathBuf;
use tonic::transport::ClientTlsConfig;

/// mTLS to the scheduler: all three flags, or none (plain HTTP/2 to a loopback scheduler).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ClientTlsArgs {
    /// CA certificate (PEM) the scheduler's certificate must chain to; turns mTLS on.
    #[arg(long, value_name = "PEM", env = "RISKGRID_TLS_CA")]
    pub tls_ca: Option<PathBuf>,
    /// This client's certificate (PEM); its spiffe:// URI SAN is who you are.
    #[arg(long, value_name = "PEM", env = "RISKGRID_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// This client's private key (PEM).
    #[arg(long, value_name = "PEM", env = "RISKGRID_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
}

impl ClientTlsArgs {
    pub fn load(&self) -> Result<Option<ClientTlsConfig>, Failure> {
        ClientTlsFiles { ca: self.tls_ca.clone(), cert: self.tls_cert.clone(), key: self.tls_key.clone() }
            .load()
            .map_err(Failure::Input)
    }
}

/// The scheduler's side: all three flags, or none (then it listens on loopback only).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServerTlsArgs {
    /// The scheduler's certificate (PEM), e.g. from `riskgrid certs init`.
    #[arg(long, value_name = "PEM", env = "RISKGRID_SCHEDULER_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// The scheduler's private key (PEM).
    #[arg(long, value_name = "PEM", env = "RISKGRID_SCHEDULER_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// CA certificate (PEM) that client certificates must chain to (mTLS).
    #[arg(long, value_name = "PEM", env = "RISKGRID_SCHEDULER_TLS_CLIENT_CA")]
    pub tls_client_ca: Option<PathBuf>,
}

impl ServerTlsArgs {
    pub fn load(&self) -> Result<Option<ServerTls>, Failure> {
        match (&self.tls_cert, &self.tls_key, &self.tls_client_ca) {
            (None, None, None) => Ok(None),
            (Some(c), Some(k), Some(ca)) => ServerTls::from_files(c, k, ca).map(Some).map_err(Failure::Input),
            _ => Err(Failure::Input("--tls-cert, --tls-key and --tls-client-ca go together: give all three".into())),
        }
    }
}
