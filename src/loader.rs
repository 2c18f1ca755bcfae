//! Run-time loading of vendor SDK libraries.
//!
//! Search order (DESIGN.md): the path set with `labcam_set_backend_library`, the environment
//! variable `LABCAM_<BACKEND>_LIB`, the vendor's default install locations, then the system
//! loader's search by bare file name. A failure gives `LIBRARY_LOAD` naming every path tried
//! and why each failed.
//!
//! Loaded libraries are never unloaded: vendor SDKs keep global state (GObject type
//! registrations, driver threads, callbacks) that does not survive `dlclose`, and loading a
//! library again returns the same handle anyway.

use crate::error::{Error, Result, Status};
use libloading::Library;
use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::Arc;

/// Where to look for one vendor library.
pub struct LibrarySpec<'a> {
    /// Backend name, for messages and the environment variable (`aravis` -> `LABCAM_ARAVIS_LIB`).
    pub backend: &'a str,
    /// Absolute paths of the vendor's default install locations, tried in order.
    pub default_paths: &'a [&'a str],
    /// Bare file names handed to the system loader (`libaravis-0.8.so.0`).
    pub system_names: &'a [&'a str],
    /// Linux/macOS: load with `RTLD_GLOBAL`, for a library whose own plug-ins resolve its
    /// symbols (Andor's atcore and its device libraries, andor_sdk3.md §1).
    pub global_symbols: bool,
}

/// Open one candidate. Unix: `RTLD_LAZY` (as libloading and dlopen users default), plus `RTLD_GLOBAL` when the spec asks for it.
/// Windows: a path with a folder is loaded with `LOAD_WITH_ALTERED_SEARCH_PATH`, so the DLLs
/// it depends on are found in its own folder (vendor SDKs ship them side by side).
///
/// # Safety
/// Loading a vendor library runs its initialisers.
unsafe fn open(spec: &LibrarySpec<'_>, path: &str) -> std::result::Result<Library, libloading::Error> {
    #[cfg(unix)]
    {
        use libloading::os::unix::{Library as U, RTLD_GLOBAL, RTLD_LAZY, RTLD_LOCAL};
        let flags = RTLD_LAZY | if spec.global_symbols { RTLD_GLOBAL } else { RTLD_LOCAL };
        U::open(Some(path), flags).map(Library::from)
    }
    #[cfg(windows)]
    {
        use libloading::os::windows::{Library as W, LOAD_WITH_ALTERED_SEARCH_PATH};
        let _ = spec;
        if path.contains(['\\', '/']) {
            W::load_with_flags(path, LOAD_WITH_ALTERED_SEARCH_PATH).map(Library::from)
        } else {
            Library::new(path)
        }
    }
}

/// The environment variable naming a backend's library: `LABCAM_ANDOR_SDK3_LIB`.
pub fn env_var_name(backend: &str) -> String {
    format!("LABCAM_{}_LIB", backend.to_ascii_uppercase())
}

/// Load the first library that opens (kept loaded for the life of the process) and return it
/// with the path it came from. `explicit` is the path set by the user, if any.
pub fn load(spec: &LibrarySpec<'_>, explicit: Option<&PathBuf>) -> Result<(&'static Library, String)> {
    let mut candidates: Vec<(String, &str)> = Vec::new();
    if let Some(p) = explicit {
        candidates.push((p.display().to_string(), "set by labcam_set_backend_library"));
    }
    let var = env_var_name(spec.backend);
    if let Some(p) = std::env::var_os(&var) {
        if !p.is_empty() {
            candidates.push((PathBuf::from(p).display().to_string(), "environment"));
        }
    }
    for p in spec.default_paths {
        candidates.push((p.to_string(), "default location"));
    }
    for n in spec.system_names {
        candidates.push((n.to_string(), "system search"));
    }
    let mut tried = Vec::new();
    for (path, origin) in &candidates {
        // SAFETY: loading a vendor library runs its initialisers; that is the contract of
        // using the vendor SDK at all.
        match unsafe { open(spec, path) } {
            Ok(lib) => {
                if candidates.iter().take_while(|c| c.0 != *path).any(|c| c.1 != "default location" && c.1 != "system search") {
                    // A path the user gave did not load: say which file did.
                    crate::log::warn(&format!("{}: loaded {path} ({origin}) because {}", spec.backend, tried.join("; ")));
                }
                return Ok((Box::leak(Box::new(lib)), path.clone()));
            }
            Err(e) => tried.push(format!("{path} ({origin}): {e}")),
        }
    }
    Err(Error::new(
        Status::LIBRARY_LOAD,
        format!(
            "cannot load the {} vendor library; set {} or call labcam_set_backend_library. Tried: {}",
            spec.backend,
            var,
            tried.join("; ")
        ),
    ))
}

/// Look up a required symbol; `LIBRARY_LOAD` naming the symbol and the file when missing.
///
/// # Safety
/// `T` must be the symbol's true C function pointer type.
pub unsafe fn symbol<T: Copy>(lib: &Library, path: &str, name: &str) -> Result<T> {
    let mut cname = Vec::with_capacity(name.len() + 1);
    cname.extend_from_slice(name.as_bytes());
    cname.push(0);
    match lib.get::<T>(&cname) {
        Ok(s) => Ok(*s),
        Err(e) => Err(Error::new(
            Status::LIBRARY_LOAD,
            format!("symbol '{name}' missing from {path}: {e}"),
        )),
    }
}

/// Look up an optional symbol (`None` when absent).
///
/// # Safety
/// As [`symbol`].
pub unsafe fn optional_symbol<T: Copy>(lib: &Library, name: &str) -> Option<T> {
    let mut cname = Vec::with_capacity(name.len() + 1);
    cname.extend_from_slice(name.as_bytes());
    cname.push(0);
    lib.get::<T>(&cname).ok().map(|s| *s)
}

/// A backend's vendor function table, loaded on first use and kept; a new library path
/// (`labcam_set_backend_library`) makes the next use load again, while cameras already open
/// keep the table they were opened with.
pub struct VendorLibrary<T> {
    explicit: Mutex<Option<PathBuf>>,
    table: Mutex<Option<Arc<T>>>,
}

impl<T> VendorLibrary<T> {
    pub const fn new() -> Self {
        VendorLibrary { explicit: Mutex::new(None), table: Mutex::new(None) }
    }

    /// The table, loading it with `load(explicit path)` the first time.
    pub fn get(&self, load: impl FnOnce(Option<&PathBuf>) -> Result<T>) -> Result<Arc<T>> {
        let mut t = self.table.lock();
        if let Some(table) = t.as_ref() {
            return Ok(table.clone());
        }
        let table = Arc::new(load(self.explicit.lock().as_ref())?);
        *t = Some(table.clone());
        Ok(table)
    }

    /// Set the path tried first (None: the default search); takes effect at the next load.
    /// Setting the path already set keeps the loaded table.
    pub fn set_path(&self, path: Option<PathBuf>) {
        let mut e = self.explicit.lock();
        if *e == path {
            return;
        }
        *e = path;
        *self.table.lock() = None;
    }
}

impl<T> Default for VendorLibrary<T> {
    fn default() -> Self {
        Self::new()
    }
}
