//! Verification helpers for `deploy/`: the manifests are plain YAML that no
//! cluster ever sees in CI, so these functions are what keeps them honest.
//!
//! - [`load`] walks `deploy/` and splits every YAML file into documents;
//! - [`typed`] deserialises each document into the `k8s-openapi` type of its kind
//!   (or a small serde struct for CRDs) and reports any field the type dropped,
//!   so a misspelt key fails instead of being silently ignored;
//! - [`gatekeeper`] evaluates a Gatekeeper ConstraintTemplate's Rego with
//!   `regorus`, the way Gatekeeper calls it (`input.review.object`, `input.parameters`);
//! - [`kustomize`] follows kustomizations to the files they deploy;
//! - [`matching`] decides which objects a constraint's `match` block selects;
//! - [`diff`] names the paths where two JSON values differ.
//!
//! Everything returns [`Error`]; the tests in `tests/` turn these into assertions.

pub mod diff;
pub mod gatekeeper;
pub mod kustomize;
pub mod load;
pub mod matching;
pub mod typed;

use std::path::PathBuf;

/// Why a manifest or policy could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} (document {index}): not YAML: {message}")]
    Yaml { path: PathBuf, index: usize, message: String },
    #[error("{0}")]
    Manifest(String),
    #[error("rego: {0}")]
    Rego(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The `deploy/` directory of this checkout (this crate lives in `deploy/verify`).
pub fn deploy_dir() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map_or(here.clone(), std::path::Path::to_path_buf)
}
