//! The one place kube errors become [`BackendError`]s.

use riskgrid_capacity::BackendError;

/// Maps a kube client error for operation `what` (e.g. `create pod w-1`).
pub(crate) fn from_kube(what: &str, err: kube::Error) -> BackendError {
    match err {
        kube::Error::Api(status) => {
            let detail = format!("{what}: {} {} ({})", status.code, status.reason, status.message);
            match status.code {
                404 => BackendError::NotFound(detail),
                409 => BackendError::Conflict(detail),
                // Bad request, forbidden (RBAC or an admission policy), invalid object: retrying won't help.
                400 | 401 | 403 | 405 | 413 | 415 | 422 => BackendError::Invalid(detail),
                // 408, 410, 429, 5xx and anything unknown: transient as far as the controller can tell.
                _ => BackendError::Unavailable(detail),
            }
        }
        other => BackendError::Unavailable(format!("{what}: {other}")),
    }
}

/// True when `err` is the API's 409 for a name that is already taken.
pub(crate) fn is_already_exists(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == 409 && (s.reason == "AlreadyExists" || s.reason.is_empty()))
}

/// True when `err` is the API's 404.
pub(crate) fn is_not_found(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == 404)
}
