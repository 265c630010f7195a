//! Errors at the edge, with their exit codes.

use std::process::ExitCode;

/// A failure of a command: bad input (exit 2) or anything else (exit 1).
#[derive(Debug)]
pub enum Failure {
    /// The user's input is wrong; the message says where and why.
    Input(String),
    Other(anyhow::Error),
}

impl Failure {
    pub fn report(self) -> ExitCode {
        match self {
            Failure::Input(message) => {
                eprintln!("error: {message}");
                ExitCode::from(2)
            }
            Failure::Other(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(1)
            }
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Other(e)
    }
}
