//! The riskgrid scheduler (issue #3, in progress).
