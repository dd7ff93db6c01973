fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=../../proto/sla.proto");
    tonic_prost_build::configure().compile_protos(&["../../proto/sla.proto"], &["../../proto"])?;
    Ok(())
}
