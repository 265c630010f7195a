//! Randomness keyed by coordinates, never by history.
//!
//! A normal draw is a pure function of (job seed, stream, path index, dimension):
//! - key     = seed (64 bits);
//! - counter = [group lo, group hi, dimension, stream] with group = path / 4;
//! - output word `path % 4` of Philox4x32-10 → uniform (x + ½)·2⁻³² → inverse CDF.
//!
//! Four consecutive paths share one Philox call, so no output word is wasted
//! whatever the number of dimensions. Dimensions number the normals a path
//! consumes in order (step-major, then asset, then the variance factors of
//! Heston assets). Streams separate independent simulations: each trade's
//! pricing paths, its regression (Longstaff–Schwartz) paths, the risk
//! scenarios and the nested revaluation paths.

pub mod philox;
pub mod stream;

pub use philox::{PhiloxStream, RoundKeys, philox4x32};
pub use stream::StreamId;
