//! Compiles the test fixtures' .proto files into clients for the integration tests: the
//! original system's `sla.proto` (wire compatibility) and a padded request (size limits). The
//! service's own proto is compiled once, in `common`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    for (fixture, includes, module) in [
        (
            "tests/fixtures/original/sla.proto",
            "tests/fixtures/original",
            "original",
        ),
        ("tests/fixtures/padded.proto", "tests/fixtures", "padded"),
    ] {
        println!("cargo:rerun-if-changed={fixture}");
        let dir = out_dir.join(module);
        std::fs::create_dir_all(&dir)?;
        tonic_prost_build::configure()
            .build_server(false)
            .out_dir(&dir)
            .compile_protos(&[fixture], &[includes])?;
    }
    Ok(())
}
