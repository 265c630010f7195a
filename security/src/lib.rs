//! riskgrid's security building blocks (issue #5), kept free of gRPC so that
//! each can be tested on its own:
//!
//! - [`identity`]: SPIFFE ids (`spiffe://riskgrid/tenant/<name>`, `.../worker/<id>`,
//!   `.../admin/<name>`) parsed strictly from certificate URI SANs;
//! - [`certs`]: a development CA and leaf certificates (rcgen) for local mTLS grids;
//! - [`quota`]: per-tenant submit quotas and the job summary policies see;
//! - [`admission`]: Rego admission policies evaluated with regorus;
//! - [`audit`]: the append-only, hash-chained audit log and its verifier;
//! - [`build`]: the version and git commit that computed a result.

pub mod admission;
pub mod audit;
pub mod certs;
pub mod identity;
pub mod quota;

pub use identity::{Identity, Kind};

/// What code computed a result.
pub mod build {
    /// The riskgrid version.
    pub const VERSION: &str = env!("CARGO_PKG_VERSION");
    /// The git commit the binary was built from (`unknown` outside a checkout).
    pub const GIT_COMMIT: &str = env!("RISKGRID_GIT_COMMIT");
}
