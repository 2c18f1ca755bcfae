// The real library's soname, so a copy loaded by path satisfies later opens by name.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libpvcam.so.2");
    }
}
