//! Helpers for tests that call the C ABI as a C program would.
#![allow(dead_code)]

pub use labcam::ffi::acquisition::*;
pub use labcam::ffi::attributes::*;
pub use labcam::ffi::consts::*;
pub use labcam::ffi::device::*;
pub use labcam::ffi::library::*;
pub use labcam::model::*;
use std::ffi::{c_char, CString};

pub fn cs(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// Read a string through the (buf, cap, needed) convention.
pub fn string_out(f: impl Fn(*mut c_char, u64, *mut u64) -> i32) -> Result<String, i32> {
    let mut needed = 0u64;
    let st = f(std::ptr::null_mut(), 0, &mut needed);
    if st != LABCAM_ERR_BUFFER_TOO_SMALL && st != LABCAM_OK {
        return Err(st);
    }
    let mut buf = vec![0u8; needed as usize];
    let st = f(buf.as_mut_ptr() as *mut c_char, needed, &mut needed);
    if st != LABCAM_OK {
        return Err(st);
    }
    buf.pop();
    Ok(String::from_utf8(buf).unwrap())
}

pub fn last_error(h: u64) -> String {
    string_out(|b, c, n| unsafe { labcam_last_error(h, b, c, n) }).unwrap()
}

pub fn thread_error() -> String {
    string_out(|b, c, n| unsafe { labcam_thread_last_error(b, c, n) }).unwrap()
}

pub fn status_name(code: i32) -> String {
    string_out(|b, c, n| unsafe { labcam_status_name(code, b, c, n) }).unwrap()
}

/// Panics with the status name and message when `st` is not OK.
#[track_caller]
pub fn ok(h: u64, st: i32) {
    if st != LABCAM_OK {
        let msg = if h != 0 { last_error(h) } else { thread_error() };
        panic!("status {} ({}): {}", st, status_name(st), msg);
    }
}

pub fn open(id: &str) -> u64 {
    let mut h = 0u64;
    let st = unsafe { labcam_open(cs(id).as_ptr(), &mut h) };
    ok(0, st);
    assert_ne!(h, 0);
    h
}

/// Open the sim camera with pacing off (frames as fast as possible) unless `paced`.
pub fn open_sim(paced: bool) -> u64 {
    let h = open("sim");
    unsafe { ok(h, labcam_set_attr_bool(h, cs("RealTimePacing").as_ptr(), paced as i32)) };
    h
}

pub fn set_int(h: u64, name: &str, v: i64) {
    unsafe { ok(h, labcam_set_attr_int(h, cs(name).as_ptr(), v)) }
}

pub fn set_bool(h: u64, name: &str, v: bool) {
    unsafe { ok(h, labcam_set_attr_bool(h, cs(name).as_ptr(), v as i32)) }
}

pub fn set_roi(h: u64, hs: i64, he: i64, vs: i64, ve: i64, hb: i64, vb: i64) -> Roi {
    let mut r = Roi::default();
    unsafe { ok(h, labcam_set_roi(h, hs, he, vs, ve, hb, vb, &mut r)) };
    r
}

pub fn status(h: u64) -> FramesStatus {
    let mut s = FramesStatus::default();
    unsafe { ok(h, labcam_get_frames_status(h, &mut s)) };
    s
}

pub fn format(h: u64) -> FrameFormat {
    let mut f = FrameFormat::default();
    unsafe { ok(h, labcam_get_frame_format(h, &mut f)) };
    f
}

pub fn state(h: u64) -> i32 {
    let mut s = 0;
    unsafe { ok(h, labcam_get_acquisition_state(h, &mut s)) };
    s
}

/// Read up to `max` frames of `fb` bytes (labcam_read_chunk): the pixels as bytes and the
/// infos, cut to the frames read.
pub fn read_bytes(h: u64, max: usize, fb: usize, peek: bool) -> (Vec<u8>, Vec<FrameInfo>) {
    let mut buf = vec![0u8; max * fb];
    let mut infos = vec![FrameInfo::default(); max];
    let mut n = 0i64;
    let flags = if peek { LABCAM_READ_PEEK } else { 0 };
    unsafe {
        ok(h, labcam_read_chunk(h, buf.as_mut_ptr() as *mut _, buf.len() as u64, max as i64, flags, infos.as_mut_ptr(), &mut n));
    }
    buf.truncate(n as usize * fb);
    infos.truncate(n as usize);
    (buf, infos)
}

/// As read_bytes, the pixels as 16-bit values.
pub fn read_u16(h: u64, max: usize, fb: usize, peek: bool) -> (Vec<u16>, Vec<FrameInfo>) {
    let (bytes, infos) = read_bytes(h, max, fb, peek);
    (bytes.chunks_exact(2).map(|b| u16::from_ne_bytes([b[0], b[1]])).collect(), infos)
}

/// The sim's pixel formula (see src/backends/sim/mod.rs), restated independently.
pub fn sim_pixel(n: i64, x: i64, y: i64) -> u16 {
    ((x + 2053 * y + 7919 * n).rem_euclid(65536)) as u16
}

pub fn close(h: u64) {
    unsafe { ok(0, labcam_close(h)) }
}

/// Closes the camera when dropped, also when a test panics (a leaked handle would keep a
/// real device, such as a GigE Vision camera, locked).
pub struct Guard(pub u64);

impl Drop for Guard {
    fn drop(&mut self) {
        unsafe { labcam_close(self.0) };
    }
}

/// `st` is `code`, and the thread's message (and the handle's, when `h` is not 0) names the
/// status and contains `needle`.
pub fn assert_err(h: u64, st: i32, code: i32, needle: &str) {
    assert_eq!(st, code, "expected {} got {} ({})", status_name(code), st, if st < 0 { thread_error() } else { String::new() });
    let t = thread_error();
    assert!(t.contains(needle), "thread message {t:?} lacks {needle:?}");
    assert!(t.contains(&status_name(code)), "thread message {t:?} lacks the status name");
    if h != 0 {
        let m = last_error(h);
        assert_eq!(m, t, "per-handle and per-thread messages differ");
    }
}
