//! The one place where AWS SDK failures become riskgrid errors.
//!
//! Every call in this crate funnels its `SdkError` through [`Error::from_sdk`], which
//! classifies the AWS error code (and, when the code is unknown, the HTTP status) into a
//! small set of kinds the capacity controller can act on. The AWS code and message are
//! kept in the error text so an operator sees what AWS said.

use aws_sdk_eks::config::http::HttpResponse;
use aws_sdk_eks::error::{ProvideErrorMetadata, SdkError};
use riskgrid_capacity::BackendError;
use std::fmt;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong talking to EKS/EC2, or what we refused before calling them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The cluster, nodegroup or other named resource does not exist.
    #[error("{op}: not found: {message}")]
    NotFound { op: &'static str, message: String },
    /// AWS rejected the request as invalid (parameters, permissions, quotas).
    #[error("{op}: refused by AWS: {message}")]
    Invalid { op: &'static str, message: String },
    /// The resource is busy (e.g. another nodegroup update is in progress).
    #[error("{op}: conflict: {message}")]
    Conflict { op: &'static str, message: String },
    /// Throttling, timeouts, network or server errors: worth retrying later.
    #[error("{op}: unavailable: {message}")]
    Unavailable { op: &'static str, message: String },
    /// AWS answered, but without a field we need (or with one we cannot read).
    #[error("{op}: malformed response: {what}")]
    Malformed { op: &'static str, what: String },
    /// Our own validation: a desired size outside the nodegroup's `[min, max]`.
    /// Checked against a fresh DescribeNodegroup before any update is sent, because
    /// not every implementation of the API enforces it (moto does not).
    #[error("nodegroup {nodegroup}: desired {desired} is {bound} (min {min}, max {max}); no update sent")]
    DesiredOutOfRange { nodegroup: String, desired: u32, min: u32, max: u32, bound: Bound },
    /// The configuration cannot produce a working client.
    #[error("invalid EKS backend config: {0}")]
    Config(String),
}

/// Which bound a desired size violated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// desired < min
    BelowMin,
    /// desired > max
    AboveMax,
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Bound::BelowMin => "below min",
            Bound::AboveMax => "above max",
        })
    }
}

/// The kinds the controller distinguishes; see [`classify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    NotFound,
    Invalid,
    Conflict,
    Unavailable,
}

/// Classifies an AWS error code (EKS REST-JSON or EC2 query style) and, for codes we do
/// not know, the HTTP status. Unknown failures without a 4xx status count as
/// unavailable, so the controller retries rather than giving up on a transient fault.
pub fn classify(code: Option<&str>, http_status: Option<u16>) -> Kind {
    if let Some(code) = code {
        match code {
            "ResourceNotFoundException" | "NotFoundException" | "NotFound" => return Kind::NotFound,
            c if c.ends_with(".NotFound") => return Kind::NotFound,
            "ResourceInUseException" | "ConflictException" | "IncorrectState" | "IncorrectInstanceState" => {
                return Kind::Conflict;
            }
            "ThrottlingException"
            | "Throttling"
            | "RequestLimitExceeded"
            | "TooManyRequestsException"
            | "ServerException"
            | "ServiceUnavailableException"
            | "ServiceUnavailable"
            | "Unavailable"
            | "InternalError"
            | "InternalFailure"
            | "RequestTimeout"
            | "RequestTimeoutException"
            | "ExpiredToken"
            | "ExpiredTokenException"
            | "RequestExpired" => return Kind::Unavailable,
            "InvalidParameterException"
            | "InvalidRequestException"
            | "ClientException"
            | "ValidationException"
            | "ValidationError"
            | "InvalidParameterValue"
            | "InvalidParameterCombination"
            | "MissingParameter"
            | "UnsupportedAvailabilityZoneException"
            | "ResourceLimitExceededException"
            | "AccessDeniedException"
            | "AccessDenied"
            | "UnauthorizedOperation"
            | "UnrecognizedClientException"
            | "AuthFailure"
            | "InvalidClientTokenId"
            | "SignatureDoesNotMatch" => return Kind::Invalid,
            c if c.starts_with("Invalid") => return Kind::Invalid,
            _ => {}
        }
    }
    match http_status {
        Some(404) => Kind::NotFound,
        Some(409) => Kind::Conflict,
        Some(429) => Kind::Unavailable,
        Some(s) if (400..500).contains(&s) => Kind::Invalid,
        _ => Kind::Unavailable,
    }
}

impl Error {
    /// Maps any EKS or EC2 SDK error of operation `op` (both SDKs share these types).
    pub fn from_sdk<E>(op: &'static str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        match &err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                let status = service.raw().status().as_u16();
                let code = e.code();
                let message = match (code, e.message()) {
                    (Some(c), Some(m)) => format!("{c}: {m}"),
                    (Some(c), None) => c.to_owned(),
                    (None, Some(m)) => format!("HTTP {status}: {m}"),
                    (None, None) => format!("HTTP {status}: {}", chain(e)),
                };
                Self::of_kind(classify(code, Some(status)), op, message)
            }
            SdkError::ConstructionFailure(_) => {
                // The SDK could not build the request (missing region, credentials, ...):
                // retrying will not help, so it is refused rather than unavailable.
                Self::Invalid { op, message: chain(&err) }
            }
            // Timeouts, dispatch failures (connection refused, DNS, TLS) and unparseable
            // responses: transient as far as the controller can tell.
            _ => Self::Unavailable { op, message: chain(&err) },
        }
    }

    fn of_kind(kind: Kind, op: &'static str, message: String) -> Self {
        match kind {
            Kind::NotFound => Self::NotFound { op, message },
            Kind::Invalid => Self::Invalid { op, message },
            Kind::Conflict => Self::Conflict { op, message },
            Kind::Unavailable => Self::Unavailable { op, message },
        }
    }

    /// The controller-facing kind of this error.
    pub fn kind(&self) -> Kind {
        match self {
            Error::NotFound { .. } => Kind::NotFound,
            Error::Invalid { .. } | Error::DesiredOutOfRange { .. } | Error::Config(_) => Kind::Invalid,
            Error::Conflict { .. } => Kind::Conflict,
            // A response we cannot read is an API fault; the next reconcile may do better.
            Error::Unavailable { .. } | Error::Malformed { .. } => Kind::Unavailable,
        }
    }
}

/// An error and its sources, `": "`-joined (the SDK's top-level messages alone are
/// terse, e.g. "dispatch failure"; its debug form dumps whole responses).
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

impl From<Error> for BackendError {
    fn from(err: Error) -> Self {
        let text = err.to_string();
        match err.kind() {
            Kind::NotFound => BackendError::NotFound(text),
            Kind::Invalid => BackendError::Invalid(text),
            Kind::Conflict => BackendError::Conflict(text),
            Kind::Unavailable => BackendError::Unavailable(text),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]
    use super::*;
    use aws_sdk_eks::error::ErrorMetadata;
    use aws_sdk_eks::operation::describe_nodegroup::DescribeNodegroupError;

    fn service_error(code: Option<&str>, message: &str, status: u16) -> Error {
        let mut meta = ErrorMetadata::builder().message(message);
        if let Some(code) = code {
            meta = meta.code(code);
        }
        let err = DescribeNodegroupError::generic(meta.build());
        let status = status.try_into().expect("valid status");
        let raw = HttpResponse::new(status, aws_smithy_types::body::SdkBody::empty());
        Error::from_sdk("DescribeNodegroup", SdkError::service_error(err, raw))
    }

    #[test]
    fn codes_map_to_kinds() {
        let cases = [
            ("ResourceNotFoundException", Kind::NotFound),
            ("InvalidInstanceID.NotFound", Kind::NotFound),
            ("InvalidParameterException", Kind::Invalid),
            ("InvalidInstanceType", Kind::Invalid),
            ("AccessDeniedException", Kind::Invalid),
            ("ResourceInUseException", Kind::Conflict),
            ("ThrottlingException", Kind::Unavailable),
            ("RequestLimitExceeded", Kind::Unavailable),
            ("ServerException", Kind::Unavailable),
        ];
        for (code, kind) in cases {
            assert_eq!(classify(Some(code), Some(400)), kind, "{code}");
        }
    }

    #[test]
    fn unknown_codes_fall_back_to_status() {
        assert_eq!(classify(Some("SomethingNew"), Some(404)), Kind::NotFound);
        assert_eq!(classify(Some("SomethingNew"), Some(400)), Kind::Invalid);
        assert_eq!(classify(None, Some(429)), Kind::Unavailable);
        assert_eq!(classify(None, Some(503)), Kind::Unavailable);
        assert_eq!(classify(None, None), Kind::Unavailable);
    }

    #[test]
    fn service_errors_keep_code_and_message() {
        let err = service_error(Some("ResourceNotFoundException"), "No node group found for name: ng9.", 404);
        assert_eq!(err.kind(), Kind::NotFound);
        let backend = BackendError::from(err);
        match backend {
            BackendError::NotFound(text) => {
                assert!(text.contains("DescribeNodegroup"), "{text}");
                assert!(text.contains("ResourceNotFoundException: No node group found for name: ng9."), "{text}");
            }
            other => panic!("expected NotFound, got {other:?}"),
        }
        let throttled = service_error(Some("ThrottlingException"), "Rate exceeded", 400);
        assert!(matches!(BackendError::from(throttled), BackendError::Unavailable(t) if t.contains("Rate exceeded")));
        let in_use = service_error(Some("ResourceInUseException"), "update in progress", 409);
        assert!(matches!(BackendError::from(in_use), BackendError::Conflict(_)));
        let bare = service_error(None, "gateway", 502);
        assert!(matches!(BackendError::from(bare), BackendError::Unavailable(t) if t.contains("HTTP 502")));
    }

    #[test]
    fn transport_failures_are_unavailable_with_their_cause() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let err: SdkError<DescribeNodegroupError, HttpResponse> =
            SdkError::dispatch_failure(aws_sdk_eks::error::ConnectorError::io(Box::new(io)));
        let mapped = Error::from_sdk("DescribeNodegroup", err);
        assert!(
            matches!(&mapped, Error::Unavailable { message, .. } if message.contains("Connection refused")),
            "{mapped:?}"
        );
    }

    #[test]
    fn out_of_range_names_field_and_bounds() {
        let err =
            Error::DesiredOutOfRange { nodegroup: "ng".into(), desired: 9, min: 1, max: 5, bound: Bound::AboveMax };
        let text = BackendError::from(err).to_string();
        assert_eq!(text, "refused: nodegroup ng: desired 9 is above max (min 1, max 5); no update sent");
    }
}
