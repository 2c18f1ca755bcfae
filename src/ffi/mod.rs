//! The C ABI. This module only converts and validates C arguments and calls the core.
//!
//! Plumbing shared by every export: the panic boundary ([`run`], [`run_h`]), error
//! recording (per handle and per thread), C strings in and out, out-parameters.
//!
//! # Safety
//! Every export is `unsafe extern "C"` with one contract, stated here once rather than on
//! each function: each non-NULL pointer argument must point to memory valid for the size the
//! function's documentation gives (a NUL-terminated string, `cap` bytes, `dst_bytes` bytes,
//! one struct, `max_frames` infos). NULL is always checked and reported.
#![allow(clippy::missing_safety_doc)]

use crate::camera::Camera;
use crate::error::{Error, Result, Status};
use std::cell::RefCell;
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

pub mod acquisition;
pub mod attributes;
pub mod consts;
pub mod device;
pub mod library;

/// A camera handle: a generational id, never a pointer; 0 is never valid.
#[allow(non_camel_case_types)]
pub type labcam_handle = u64;

thread_local! {
    static THREAD_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

pub(crate) fn thread_error() -> String {
    THREAD_ERROR.with(|e| e.borrow().clone())
}

/// Messages longer than this are cut (a 100 kB camera id or attribute name is echoed in the
/// message; callers read it into fixed buffers, LabVIEW's among them).
pub(crate) const MAX_MESSAGE: usize = 2000;

/// `msg` cut to MAX_MESSAGE bytes at a character boundary, saying how long it was.
fn cut_message(msg: String) -> String {
    if msg.len() <= MAX_MESSAGE {
        return msg;
    }
    let mut end = MAX_MESSAGE - 60;
    while !msg.is_char_boundary(end) {
        end -= 1;
    }
    format!("{} ... (message cut: {} bytes in all)", &msg[..end], msg.len())
}

fn record(func: &str, cam: Option<&Camera>, e: &Error) -> i32 {
    let msg = cut_message(format!("{func}: {}: {}", e.status, e.message));
    crate::log::warn(&msg);
    if let Some(c) = cam {
        *c.last_error.lock() = msg.clone();
    }
    THREAD_ERROR.with(|t| *t.borrow_mut() = msg);
    e.status.0
}

fn panic_error(p: Box<dyn std::any::Any + Send>) -> Error {
    let what = if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    };
    Error::new(Status::INTERNAL, format!("panic inside labcam: {what}"))
}

/// Run an export that takes no handle: catch panics, record errors.
pub(crate) fn run(func: &str, f: impl FnOnce() -> Result<()>) -> i32 {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => record(func, None, &e),
        Err(p) => record(func, None, &panic_error(p)),
    }
}

/// Run an export on the camera behind `h`: errors are recorded on the camera too.
pub(crate) fn run_h(func: &str, h: labcam_handle, f: impl FnOnce(&Camera) -> Result<()>) -> i32 {
    let cam = match catch_unwind(|| crate::handles::get(h)) {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return record(func, None, &e),
        Err(p) => return record(func, None, &panic_error(p)),
    };
    match catch_unwind(AssertUnwindSafe(|| f(&cam))) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => record(func, Some(&cam), &e),
        Err(p) => record(func, Some(&cam), &panic_error(p)),
    }
}

/// A required C string argument as UTF-8.
pub(crate) unsafe fn str_arg<'a>(p: *const c_char, what: &str) -> Result<&'a str> {
    if p.is_null() {
        return Err(Error::new(Status::NULL_POINTER, format!("argument '{what}' is NULL")));
    }
    CStr::from_ptr(p).to_str().map_err(|e| {
        Error::new(Status::INVALID_ARGUMENT, format!("argument '{what}' is not valid UTF-8 ({e})"))
    })
}

/// An optional C string argument (NULL gives None).
pub(crate) unsafe fn opt_str_arg<'a>(p: *const c_char, what: &str) -> Result<Option<&'a str>> {
    if p.is_null() {
        Ok(None)
    } else {
        str_arg(p, what).map(Some)
    }
}

/// Check a required out-pointer.
pub(crate) fn need<T>(p: *mut T, what: &str) -> Result<()> {
    if p.is_null() {
        Err(Error::new(Status::NULL_POINTER, format!("out-parameter '{what}' is NULL")))
    } else {
        Ok(())
    }
}

/// Write an optional out-parameter.
pub(crate) unsafe fn put<T>(p: *mut T, v: T) {
    if !p.is_null() {
        p.write_unaligned(v);
    }
}

/// Write `s` as a NUL-terminated string into the caller's buffer. `*needed` (optional)
/// receives the size required, NUL included, even when the buffer is too small.
/// `buf` may be NULL only when `cap` is 0 (a size query, which gives BUFFER_TOO_SMALL).
pub(crate) unsafe fn put_string(s: &str, buf: *mut c_char, cap: u64, needed: *mut u64) -> Result<()> {
    let bytes = s.as_bytes();
    let n = bytes.len() as u64 + 1;
    put(needed, n);
    if buf.is_null() && cap > 0 {
        return Err(Error::new(Status::NULL_POINTER, "argument 'buf' is NULL but 'cap' is not 0"));
    }
    if cap < n {
        return Err(Error::new(Status::BUFFER_TOO_SMALL, format!("buffer of {cap} bytes is too small: {n} bytes needed (NUL included)")));
    }
    std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf as *mut u8, bytes.len());
    *buf.add(bytes.len()) = 0;
    Ok(())
}

/// A caller buffer of `len` bytes as a mutable slice (NULL is an error unless `len` is 0).
pub(crate) unsafe fn buf_mut<'a>(p: *mut std::ffi::c_void, len: u64, what: &str) -> Result<&'a mut [u8]> {
    if p.is_null() {
        return Err(Error::new(Status::NULL_POINTER, format!("argument '{what}' is NULL")));
    }
    let len = usize::try_from(len).map_err(|_| Error::new(Status::INVALID_ARGUMENT, format!("'{what}' size {len} too large")))?;
    Ok(std::slice::from_raw_parts_mut(p as *mut u8, len))
}

/// Convert a timeout in seconds: negative means wait for ever, NaN is invalid.
pub(crate) fn timeout_arg(t: f64) -> Result<Option<std::time::Duration>> {
    if t.is_nan() {
        return Err(Error::new(Status::INVALID_ARGUMENT, "timeout is NaN"));
    }
    if t < 0.0 || t.is_infinite() {
        return Ok(None);
    }
    Ok(Some(std::time::Duration::from_secs_f64(t.min(1e9))))
}

/// A non-negative count argument as usize.
pub(crate) fn count_arg(v: i64, what: &str) -> Result<usize> {
    usize::try_from(v).map_err(|_| Error::new(Status::INVALID_ARGUMENT, format!("'{what}' is {v}; must be >= 0")))
}

/// A count that must be at least 1 (frames to set up, wait for, grab).
pub(crate) fn count1_arg(v: i64, what: &str) -> Result<usize> {
    match usize::try_from(v) {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(Error::new(Status::INVALID_ARGUMENT, format!("'{what}' is {v}; must be >= 1"))),
    }
}
