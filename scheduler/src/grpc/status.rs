//! The one place where scheduler errors become gRPC statuses.

use crate::error::{Error, ErrorCode};
use crate::ids::JobId;
use tonic::{Code, Status};

/// The gRPC code of an error class.
pub fn code(code: ErrorCode) -> Code {
    match code {
        ErrorCode::InvalidArgument => Code::InvalidArgument,
        ErrorCode::NotFound => Code::NotFound,
        ErrorCode::ResourceExhausted => Code::ResourceExhausted,
        ErrorCode::FailedPrecondition => Code::FailedPrecondition,
        ErrorCode::Unavailable => Code::Unavailable,
    }
}

/// A scheduler error as a status. A reused client request id is
/// ALREADY_EXISTS (as the API documents); a job of another tenant is
/// reported exactly like an unknown one.
pub fn from_error(e: &Error) -> Status {
    match e {
        Error::RequestIdReused { .. } => Status::already_exists(format!("client_request_id: {e}")),
        Error::NotYourJob { job } => not_found_job(*job),
        Error::InvalidSpec(text) => Status::invalid_argument(text.clone()),
        // The domain's names for request fields, as the protobuf spells them.
        Error::InvalidField { field: "deadline", reason } => invalid("deadline_unix_ms", reason),
        _ => Status::new(code(e.code()), e.to_string()),
    }
}

/// INVALID_ARGUMENT naming the field: `field: reason`.
pub fn invalid(field: &str, reason: impl std::fmt::Display) -> Status {
    Status::invalid_argument(format!("{field}: {reason}"))
}

/// INVALID_ARGUMENT for every problem of a spec field, one `field: path: reason` line each.
pub fn invalid_lines(field: &str, lines: impl std::fmt::Display) -> Status {
    let text = lines.to_string();
    let msg: Vec<String> = text.lines().map(|l| format!("{field}: {l}")).collect();
    Status::invalid_argument(msg.join("\n"))
}

pub fn not_found_job(job: JobId) -> Status {
    Status::not_found(format!("unknown job {job}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{TenantId, WorkerId};

    #[test]
    fn every_error_maps_to_its_code() {
        let job = JobId(3);
        assert_eq!(from_error(&Error::InvalidSpec("x: y".into())).code(), Code::InvalidArgument);
        assert_eq!(from_error(&Error::UnknownJob(job)).code(), Code::NotFound);
        assert_eq!(from_error(&Error::NotYourJob { job }).message(), "unknown job job-3");
        assert_eq!(from_error(&Error::UnknownWorker(WorkerId(1))).code(), Code::NotFound);
        assert_eq!(
            from_error(&Error::TooManyQueuedJobs { tenant: TenantId::from("a"), limit: 1 }).code(),
            Code::ResourceExhausted
        );
        assert_eq!(
            from_error(&Error::RequestIdReused { tenant: TenantId::from("a"), request_id: "r".into(), job }).code(),
            Code::AlreadyExists
        );
        assert_eq!(from_error(&Error::JobFinished { job, state: "succeeded" }).code(), Code::FailedPrecondition);
        assert_eq!(from_error(&Error::Store("disk".into())).code(), Code::Unavailable);
        assert_eq!(invalid_lines("job_yaml", "a: b\nc: d").message(), "job_yaml: a: b\njob_yaml: c: d");
    }
}
