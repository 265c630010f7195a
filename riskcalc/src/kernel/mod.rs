//! Monte Carlo kernels: everything that runs per path.
//!
//! Kernels are generic over [`simd::Simd`] and entered through [`dispatch`],
//! which picks the instruction set at run time. The scalar instantiation is the
//! reference; vector instantiations compute the same operations lane by lane,
//! so results are identical bit for bit whatever the CPU.

pub mod dispatch;
pub mod math;
pub mod normals;
pub mod path;
pub mod simd;

pub use simd::Isa;
