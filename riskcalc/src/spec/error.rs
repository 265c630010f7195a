//! Error types: every problem found in a job file, each with its field path.

use std::fmt;

/// Path used for problems with the job file as a whole (empty file,
/// YAML syntax error, missing top-level section).
pub const ROOT_PATH: &str = "(root)";

/// One problem in a job file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Where the problem is, e.g. `market.underlyings[0].vol`,
    /// `portfolio[3].instrument.barrier`, `analysis.risk.confidence[1]`,
    /// or [`ROOT_PATH`] for the file as a whole.
    pub path: String,
    /// What is wrong, what was given, and what is allowed.
    pub reason: String,
}

impl FieldError {
    /// A new error at `path`.
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        FieldError { path: path.into(), reason: reason.into() }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

impl std::error::Error for FieldError {}

/// All problems found in a job file (never empty when returned as an error).
/// Displays as one `path: reason` line per problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", display_lines(.0))]
pub struct SpecErrors(pub Vec<FieldError>);

fn display_lines(errors: &[FieldError]) -> String {
    errors.iter().map(FieldError::to_string).collect::<Vec<_>>().join("\n")
}

impl SpecErrors {
    /// A single error.
    pub fn single(path: impl Into<String>, reason: impl Into<String>) -> Self {
        SpecErrors(vec![FieldError::new(path, reason)])
    }

    /// Number of problems.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no problems.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The problems, in the order found.
    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.0.iter()
    }

    /// Problems reported exactly at `path`.
    pub fn at<'a>(&'a self, path: &'a str) -> impl Iterator<Item = &'a FieldError> + 'a {
        self.0.iter().filter(move |e| e.path == path)
    }
}

impl<'a> IntoIterator for &'a SpecErrors {
    type Item = &'a FieldError;
    type IntoIter = std::slice::Iter<'a, FieldError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl IntoIterator for SpecErrors {
    type Item = FieldError;
    type IntoIter = std::vec::IntoIter<FieldError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}
