//! Compiles `riskgrid/v1/*.proto` without a system `protoc`: `protox` (a pure-Rust
//! protobuf compiler) parses them into a file descriptor set, which is written to
//! `OUT_DIR` for gRPC reflection and handed to `tonic-prost-build` to generate the
//! messages, clients and servers (also in `OUT_DIR`, never in `src/`).

use std::error::Error;
use std::path::PathBuf;

/// The .proto files of the API, relative to the crate root (the include path).
const PROTOS: &[&str] =
    &["riskgrid/v1/common.proto", "riskgrid/v1/jobs.proto", "riskgrid/v1/workers.proto", "riskgrid/v1/capacity.proto"];

/// Name of the encoded `FileDescriptorSet` in `OUT_DIR` (see `FILE_DESCRIPTOR_SET`).
const DESCRIPTOR_FILE: &str = "riskgrid_v1_descriptor.bin";

fn main() -> Result<(), Box<dyn Error>> {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").ok_or("CARGO_MANIFEST_DIR is not set")?);
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?);
    println!("cargo:rerun-if-changed=build.rs");
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={}", root.join(proto).display());
    }

    // Source info keeps the comments (rustdoc on the generated types, and
    // reflection clients can show them); imports make the set self-contained.
    let mut compiler = protox::Compiler::new([&root])?;
    compiler.include_source_info(true).include_imports(true);
    // `{e:?}` shows protox's diagnostic with the file, line and column.
    compiler.open_files(PROTOS).map_err(|e| format!("cannot compile the .proto files: {e:?}"))?;
    std::fs::write(out_dir.join(DESCRIPTOR_FILE), compiler.encode_file_descriptor_set())?;

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .build_transport(true)
        // Ordered maps: deterministic iteration and deterministic encoded bytes.
        .btree_map(".")
        .compile_fds(compiler.file_descriptor_set())?;
    Ok(())
}
