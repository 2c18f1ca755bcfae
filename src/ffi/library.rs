//! Library-level functions: version, status names, error messages, logging, discovery,
//! open and close.

use super::*;
use crate::error::Status;

/// Get the library version. Each pointer may be NULL.
/// Never fails (returns LABCAM_OK). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn labcam_abi_version(major: *mut i32, minor: *mut i32, patch: *mut i32) -> i32 {
    run("labcam_abi_version", || {
        put(major, consts::LABCAM_VERSION_MAJOR);
        put(minor, consts::LABCAM_VERSION_MINOR);
        put(patch, consts::LABCAM_VERSION_PATCH);
        Ok(())
    })
}

/// Write the name of status `code` (`"TIMEOUT"`, `"OK"`) into `buf` (`cap` bytes).
/// `*needed` (may be NULL) receives the size required, NUL included.
/// Errors: NOT_FOUND for an unknown code, BUFFER_TOO_SMALL, NULL_POINTER. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn labcam_status_name(code: i32, buf: *mut c_char, cap: u64, needed: *mut u64) -> i32 {
    run("labcam_status_name", || {
        let Some(name) = Status(code).name() else { bail!(NOT_FOUND, "unknown status code {code}") };
        put_string(name, buf, cap, needed)
    })
}

/// Write a one-line description of status `code` into `buf` (`cap` bytes); as
/// labcam_status_name. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn labcam_status_text(code: i32, buf: *mut c_char, cap: u64, needed: *mut u64) -> i32 {
    run("labcam_status_text", || {
        let Some(text) = Status(code).text() else { bail!(NOT_FOUND, "unknown status code {code}") };
        put_string(text, buf, cap, needed)
    })
}

/// Write the message of the last failed call made by the calling thread ("" if none):
/// `"function: STATUS: details"`. Buffer rules as labcam_status_name. A failure of this call
/// itself does not replace the message. Thread-safe (each thread has its own).
#[no_mangle]
pub unsafe extern "C" fn labcam_thread_last_error(buf: *mut c_char, cap: u64, needed: *mut u64) -> i32 {
    let msg = thread_error();
    match catch_unwind(AssertUnwindSafe(|| put_string(&msg, buf, cap, needed))) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => e.status.0,
        Err(_) => Status::INTERNAL.0,
    }
}

/// Write the message of the last failed call on camera `h` ("" if none), whatever thread
/// made it: the form the bindings use (LabVIEW may run consecutive calls on different
/// threads). Errors: INVALID_HANDLE, BUFFER_TOO_SMALL, NULL_POINTER. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn labcam_last_error(h: labcam_handle, buf: *mut c_char, cap: u64, needed: *mut u64) -> i32 {
    let cam = match crate::handles::get(h) {
        Ok(c) => c,
        Err(e) => return record("labcam_last_error", None, &e),
    };
    let msg = cam.last_error.lock().clone();
    match catch_unwind(AssertUnwindSafe(|| put_string(&msg, buf, cap, needed))) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => e.status.0,
        Err(_) => Status::INTERNAL.0,
    }
}

/// Append log lines up to `level` (LABCAM_LOG_*) to the file `path` (UTF-8). `path` NULL or
/// level 0 turns logging off. Errors: INVALID_ARGUMENT (level out of 0..4, the file cannot
/// be opened). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn labcam_set_log(path: *const c_char, level: i32) -> i32 {
    run("labcam_set_log", || {
        if !(0..=4).contains(&level) {
            bail!(INVALID_ARGUMENT, "log level {level} out of range 0..4");
        }
        let p = opt_str_arg(path, "path")?;
        crate::log::configure(p, level).map_err(|e| err!(INVALID_ARGUMENT, "cannot open log file '{}': {e}", p.unwrap_or("")))
    })
}

/// Write the names of the compiled-in backends, one per line (each followed by '\n'), into
/// `buf`. Buffer rules as labcam_status_name. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn labcam_list_backends(buf: *mut c_char, cap: u64, needed: *mut u64) -> i32 {
    run("labcam_list_backends", || {
        let mut s = String::new();
        for d in crate::backends::drivers() {
            s.push_str(d.name());
            s.push('\n');
        }
        put_string(&s, buf, cap, needed)
    })
}

/// Write the ids of the cameras `backend` can see now (`backend:id`, one per line, each
/// followed by '\n'). `backend` NULL or "" lists every backend, skipping those whose vendor
/// library is missing. Errors: NOT_FOUND (unknown backend), LIBRARY_LOAD (its library is
/// missing; the message lists the paths tried), VENDOR, BUFFER_TOO_SMALL, NULL_POINTER.
/// May take seconds (network discovery). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn labcam_list_cameras(backend: *const c_char, buf: *mut c_char, cap: u64, needed: *mut u64) -> i32 {
    run("labcam_list_cameras", || {
        let b = opt_str_arg(backend, "backend")?.unwrap_or("");
        let mut s = String::new();
        if b.is_empty() {
            for d in crate::backends::drivers() {
                if let Ok(ids) = d.list() {
                    for id in ids {
                        s.push_str(&format!("{}:{id}\n", d.name()));
                    }
                }
            }
        } else {
            let Some(d) = crate::backends::driver(b) else { bail!(NOT_FOUND, "unknown backend '{b}'") };
            for id in d.list()? {
                s.push_str(&format!("{b}:{id}\n"));
            }
        }
        put_string(&s, buf, cap, needed)
    })
}

/// Set the vendor library file `backend` loads first (before `LABCAM_<BACKEND>_LIB`, the
/// vendor's install folders and the system search); `path` NULL restores the default search.
/// Takes effect at the next open or list. Errors: NOT_FOUND (unknown backend), NOT_SUPPORTED
/// (a built-in backend such as sim), NULL_POINTER. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn labcam_set_backend_library(backend: *const c_char, path: *const c_char) -> i32 {
    run("labcam_set_backend_library", || {
        let b = str_arg(backend, "backend")?;
        let p = opt_str_arg(path, "path")?;
        let Some(d) = crate::backends::driver(b) else { bail!(NOT_FOUND, "unknown backend '{b}'") };
        d.set_library_path(p.map(std::path::PathBuf::from))
    })
}

/// Open a camera by id: `"sim"`, `"sim:1"`, `"aravis:<device id or address>"`,
/// `"andor_sdk3:0"`, ... and write its handle to `*h`.
/// Errors: NULL_POINTER, INVALID_ARGUMENT (malformed id or not UTF-8), NOT_FOUND (unknown
/// backend or camera), LIBRARY_LOAD, VENDOR, BUSY (opened elsewhere). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn labcam_open(camera_id: *const c_char, h: *mut labcam_handle) -> i32 {
    run("labcam_open", || {
        let id = str_arg(camera_id, "camera_id")?;
        need(h, "h")?;
        let cam = crate::camera::Camera::open(id)?;
        put(h, crate::handles::insert(cam));
        Ok(())
    })
}

/// Close a camera: stops any acquisition, makes pending waits on it return ABORTED,
/// releases the device and the ring (pointers from lock_chunk become invalid), and
/// invalidates the handle. Errors: INVALID_HANDLE (already closed, stale, 0). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn labcam_close(h: labcam_handle) -> i32 {
    run("labcam_close", || {
        let cam = crate::handles::remove(h)?;
        cam.close();
        Ok(())
    })
}
