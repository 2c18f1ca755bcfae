//! Generates the C header with cbindgen into OUT_DIR/labcam.h. With
//! `LABCAM_UPDATE_HEADER=1`, also writes include/labcam.h (which is committed; the test
//! `header_is_current` fails when it differs from the generated one).

use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("labcam.h");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=LABCAM_UPDATE_HEADER");
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate the header");
    bindings.write_to_file(&out);
    if std::env::var("LABCAM_UPDATE_HEADER").map(|v| v == "1").unwrap_or(false) {
        bindings.write_to_file(crate_dir.join("include/labcam.h"));
    }
}
