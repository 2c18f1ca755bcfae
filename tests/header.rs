//! The committed header matches what cbindgen generates now, follows Cargo.toml's version,
//! and stays parseable by MATLAB's loadlibrary and LabVIEW's import wizard.

const GENERATED: &str = include_str!(concat!(env!("OUT_DIR"), "/labcam.h"));
const COMMITTED: &str = include_str!("../include/labcam.h");

#[test]
fn header_is_current() {
    assert!(
        GENERATED == COMMITTED,
        "include/labcam.h is stale: regenerate it with `LABCAM_UPDATE_HEADER=1 cargo build` and commit it"
    );
}

#[test]
fn version_macros_match_cargo_toml() {
    for (name, want) in [
        ("LABCAM_VERSION_MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
        ("LABCAM_VERSION_MINOR", env!("CARGO_PKG_VERSION_MINOR")),
        ("LABCAM_VERSION_PATCH", env!("CARGO_PKG_VERSION_PATCH")),
    ] {
        let line = format!("#define {name} {want}\n");
        assert!(COMMITTED.contains(&line), "header lacks `{}`", line.trim());
    }
    let (mut a, mut b, mut c) = (-1, -1, -1);
    assert_eq!(unsafe { labcam::ffi::library::labcam_abi_version(&mut a, &mut b, &mut c) }, 0);
    let v = format!("{a}.{b}.{c}");
    assert_eq!(v, env!("CARGO_PKG_VERSION"));
}

#[test]
fn status_macros_match_the_core() {
    for s in labcam::Status::ALL {
        let name = s.name().unwrap();
        let line = if s.0 == 0 { "#define LABCAM_OK 0\n".to_string() } else { format!("#define LABCAM_ERR_{name} {}\n", s.0) };
        assert!(COMMITTED.contains(&line), "header lacks `{}`", line.trim());
    }
}

#[test]
fn header_defines_only_labcam_names() {
    // Constants of backends and the core must not leak into the C namespace (cbindgen exports
    // every `pub const` of the crate: keep internal ones pub(crate)/pub(super)).
    for line in COMMITTED.lines() {
        if let Some(rest) = line.strip_prefix("#define ") {
            let name = rest.split_whitespace().next().unwrap();
            assert!(name.starts_with("LABCAM_"), "header defines {name}");
        }
    }
}
