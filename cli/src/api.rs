//! A small safe wrapper over labcam's C ABI, as the CLI's only way into the library (so the
//! CLI exercises exactly what C, MATLAB and LabVIEW users call).

use labcam::ffi::acquisition::*;
use labcam::ffi::attributes::*;
use labcam::ffi::device::*;
use labcam::ffi::library::*;
pub use labcam::ffi::consts::*;
pub use labcam::model::{AttrInfo, Chunk, FrameFormat, FrameInfo, FramesStatus, Roi, RoiLimits};
use std::ffi::{c_char, CString};
use std::fmt;

/// A failed call: status code, its name and the library's message.
#[derive(Debug)]
pub struct ApiError {
    pub code: i32,
    pub name: String,
    pub message: String,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.name, self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

pub type Result<T> = std::result::Result<T, ApiError>;

fn read_string(f: impl Fn(*mut c_char, u64, *mut u64) -> i32) -> std::result::Result<String, i32> {
    let mut cap = 256u64;
    loop {
        let mut buf = vec![0u8; cap as usize];
        let mut needed = 0u64;
        let st = f(buf.as_mut_ptr() as *mut c_char, cap, &mut needed);
        if st == LABCAM_ERR_BUFFER_TOO_SMALL && needed > cap {
            cap = needed;
            continue;
        }
        if st != LABCAM_OK {
            return Err(st);
        }
        let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        buf.truncate(len);
        return Ok(String::from_utf8_lossy(&buf).into_owned());
    }
}

pub fn status_name(code: i32) -> String {
    read_string(|b, c, n| unsafe { labcam_status_name(code, b, c, n) }).unwrap_or_else(|_| format!("UNKNOWN({code})"))
}

fn error(code: i32, h: Option<u64>) -> ApiError {
    let message = match h {
        Some(h) => read_string(|b, c, n| unsafe { labcam_last_error(h, b, c, n) }),
        None => read_string(|b, c, n| unsafe { labcam_thread_last_error(b, c, n) }),
    }
    .unwrap_or_default();
    ApiError { code, name: status_name(code), message }
}

/// Turn a library-level status into a Result.
pub fn check(code: i32) -> Result<()> {
    if code == LABCAM_OK {
        Ok(())
    } else {
        Err(error(code, None))
    }
}

fn cs(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| ApiError { code: LABCAM_ERR_INVALID_ARGUMENT, name: "INVALID_ARGUMENT".into(), message: format!("'{s}' contains a NUL byte") })
}

pub fn version() -> (i32, i32, i32) {
    let (mut a, mut b, mut c) = (0, 0, 0);
    unsafe { labcam_abi_version(&mut a, &mut b, &mut c) };
    (a, b, c)
}

pub fn list_backends() -> Result<Vec<String>> {
    let s = read_string(|b, c, n| unsafe { labcam_list_backends(b, c, n) }).map_err(|e| error(e, None))?;
    Ok(s.lines().map(String::from).collect())
}

pub fn list_cameras(backend: Option<&str>) -> Result<Vec<String>> {
    let b = match backend {
        Some(b) => Some(cs(b)?),
        None => None,
    };
    let p = b.as_ref().map(|c| c.as_ptr()).unwrap_or(std::ptr::null());
    let s = read_string(|buf, c, n| unsafe { labcam_list_cameras(p, buf, c, n) }).map_err(|e| error(e, None))?;
    Ok(s.lines().map(String::from).collect())
}

/// An open camera; closed on drop.
pub struct Camera {
    pub h: u64,
}

impl Drop for Camera {
    fn drop(&mut self) {
        unsafe { labcam_close(self.h) };
    }
}

macro_rules! call {
    ($self:ident, $e:expr) => {{
        let st = unsafe { $e };
        if st != LABCAM_OK {
            return Err(error(st, Some($self.h)));
        }
    }};
}

impl Camera {
    pub fn open(id: &str) -> Result<Camera> {
        let c = cs(id)?;
        let mut h = 0;
        check(unsafe { labcam_open(c.as_ptr(), &mut h) })?;
        Ok(Camera { h })
    }
    pub fn device_info(&self) -> Result<String> {
        read_string(|b, c, n| unsafe { labcam_get_device_info(self.h, b, c, n) }).map_err(|e| error(e, Some(self.h)))
    }
    pub fn detector_size(&self) -> Result<(i64, i64)> {
        let (mut w, mut hh) = (0, 0);
        call!(self, labcam_get_detector_size(self.h, &mut w, &mut hh));
        Ok((w, hh))
    }
    pub fn roi_limits(&self) -> Result<RoiLimits> {
        let mut l = RoiLimits::default();
        call!(self, labcam_get_roi_limits(self.h, &mut l));
        Ok(l)
    }
    pub fn roi(&self) -> Result<Roi> {
        let mut r = Roi::default();
        call!(self, labcam_get_roi(self.h, &mut r));
        Ok(r)
    }
    pub fn set_roi(&self, r: Roi) -> Result<Roi> {
        let mut a = Roi::default();
        call!(self, labcam_set_roi(self.h, r.hstart, r.hend, r.vstart, r.vend, r.hbin, r.vbin, &mut a));
        Ok(a)
    }
    pub fn frame_format(&self) -> Result<FrameFormat> {
        let mut f = FrameFormat::default();
        call!(self, labcam_get_frame_format(self.h, &mut f));
        Ok(f)
    }
    pub fn set_exposure(&self, s: f64) -> Result<f64> {
        let mut a = 0.0;
        call!(self, labcam_set_exposure(self.h, s, &mut a));
        Ok(a)
    }
    pub fn set_frame_period(&self, s: f64) -> Result<f64> {
        let mut a = 0.0;
        call!(self, labcam_set_frame_period(self.h, s, &mut a));
        Ok(a)
    }
    pub fn frame_timings(&self) -> Result<(f64, f64)> {
        let (mut e, mut p) = (0.0, 0.0);
        call!(self, labcam_get_frame_timings(self.h, &mut e, &mut p));
        Ok((e, p))
    }
    pub fn set_trigger_mode(&self, m: i32) -> Result<()> {
        call!(self, labcam_set_trigger_mode(self.h, m));
        Ok(())
    }
    pub fn trigger_mode(&self) -> Result<i32> {
        let mut m = 0;
        call!(self, labcam_get_trigger_mode(self.h, &mut m));
        Ok(m)
    }
    pub fn software_trigger(&self) -> Result<()> {
        call!(self, labcam_send_software_trigger(self.h));
        Ok(())
    }
    pub fn setup(&self, nframes: i64) -> Result<()> {
        call!(self, labcam_setup_acquisition(self.h, nframes));
        Ok(())
    }
    pub fn clear(&self) -> Result<()> {
        call!(self, labcam_clear_acquisition(self.h));
        Ok(())
    }
    pub fn start(&self) -> Result<()> {
        call!(self, labcam_start(self.h));
        Ok(())
    }
    /// Start an acquisition that ends after `n` kept frames (labcam_start_sequence).
    pub fn start_sequence(&self, n: i64) -> Result<()> {
        call!(self, labcam_start_sequence(self.h, n));
        Ok(())
    }
    pub fn stop(&self) -> Result<()> {
        call!(self, labcam_stop(self.h));
        Ok(())
    }
    /// Wait for `n` unread frames; the raw status (TIMEOUT etc.) is returned as an error.
    pub fn wait(&self, n: i64, timeout_s: f64) -> Result<()> {
        call!(self, labcam_wait(self.h, n, timeout_s));
        Ok(())
    }
    pub fn frames_status(&self) -> Result<FramesStatus> {
        let mut s = FramesStatus::default();
        call!(self, labcam_get_frames_status(self.h, &mut s));
        Ok(s)
    }
    /// Read up to `max` frames into `dst`, infos into `infos` (at least `max` long).
    pub fn read_chunk(&self, dst: &mut [u8], max: usize, peek: bool, infos: Option<&mut [FrameInfo]>) -> Result<usize> {
        let mut n = 0;
        let ip = match infos {
            Some(i) => {
                assert!(i.len() >= max);
                i.as_mut_ptr()
            }
            None => std::ptr::null_mut(),
        };
        let flags = if peek { LABCAM_READ_PEEK } else { 0 };
        call!(self, labcam_read_chunk(self.h, dst.as_mut_ptr() as *mut _, dst.len() as u64, max as i64, flags, ip, &mut n));
        Ok(n as usize)
    }
    pub fn lock_chunk(&self, max: i64) -> Result<Chunk> {
        let mut c = Chunk::default();
        call!(self, labcam_lock_chunk(self.h, max, &mut c));
        Ok(c)
    }
    pub fn unlock_chunk(&self, id: u64) -> Result<()> {
        call!(self, labcam_unlock_chunk(self.h, id));
        Ok(())
    }
    pub fn attr_names(&self) -> Result<Vec<String>> {
        let mut n = 0;
        call!(self, labcam_attr_count(self.h, &mut n));
        (0..n)
            .map(|i| read_string(|b, c, nn| unsafe { labcam_attr_name(self.h, i, b, c, nn) }).map_err(|e| error(e, Some(self.h))))
            .collect()
    }
    pub fn attr_info(&self, name: &str) -> Result<AttrInfo> {
        let c = cs(name)?;
        let mut i = AttrInfo::default();
        call!(self, labcam_attr_info(self.h, c.as_ptr(), &mut i));
        Ok(i)
    }
    pub fn attr_enum_values(&self, name: &str, count: i64) -> Result<Vec<String>> {
        let c = cs(name)?;
        (0..count)
            .map(|i| read_string(|b, cap, n| unsafe { labcam_attr_enum_value(self.h, c.as_ptr(), i, b, cap, n) }).map_err(|e| error(e, Some(self.h))))
            .collect()
    }
    /// The attribute's value as text, whatever its kind.
    pub fn get_attr_text(&self, name: &str) -> Result<String> {
        let info = self.attr_info(name)?;
        let c = cs(name)?;
        Ok(match info.kind as i32 {
            LABCAM_ATTR_INT => {
                let mut v = 0;
                call!(self, labcam_get_attr_int(self.h, c.as_ptr(), &mut v));
                v.to_string()
            }
            LABCAM_ATTR_FLOAT => {
                let mut v = 0.0;
                call!(self, labcam_get_attr_float(self.h, c.as_ptr(), &mut v));
                format!("{v}")
            }
            LABCAM_ATTR_BOOL => {
                let mut v = 0;
                call!(self, labcam_get_attr_bool(self.h, c.as_ptr(), &mut v));
                (if v != 0 { "true" } else { "false" }).into()
            }
            LABCAM_ATTR_COMMAND => "(command)".into(),
            _ => read_string(|b, cap, n| unsafe { labcam_get_attr_string(self.h, c.as_ptr(), b, cap, n) }).map_err(|e| error(e, Some(self.h)))?,
        })
    }
    /// Set an attribute from text, parsed according to its kind (a COMMAND is run).
    pub fn set_attr_text(&self, name: &str, value: &str) -> Result<()> {
        let info = self.attr_info(name)?;
        let c = cs(name)?;
        let bad = |what: &str| ApiError { code: LABCAM_ERR_INVALID_ARGUMENT, name: "INVALID_ARGUMENT".into(), message: format!("'{value}' is not {what} (attribute '{name}')") };
        match info.kind as i32 {
            LABCAM_ATTR_INT => {
                let v: i64 = value.parse().map_err(|_| bad("an integer"))?;
                call!(self, labcam_set_attr_int(self.h, c.as_ptr(), v));
            }
            LABCAM_ATTR_FLOAT => {
                let v: f64 = value.parse().map_err(|_| bad("a number"))?;
                call!(self, labcam_set_attr_float(self.h, c.as_ptr(), v));
            }
            LABCAM_ATTR_BOOL => {
                let v = match value.to_ascii_lowercase().as_str() {
                    "1" | "true" | "on" | "yes" => 1,
                    "0" | "false" | "off" | "no" => 0,
                    _ => return Err(bad("a boolean (true/false/1/0)")),
                };
                call!(self, labcam_set_attr_bool(self.h, c.as_ptr(), v));
            }
            LABCAM_ATTR_COMMAND => call!(self, labcam_attr_command(self.h, c.as_ptr())),
            _ => {
                let v = cs(value)?;
                call!(self, labcam_set_attr_string(self.h, c.as_ptr(), v.as_ptr()));
            }
        }
        Ok(())
    }
    pub fn set_attr_float(&self, name: &str, v: f64) -> Result<()> {
        let c = cs(name)?;
        call!(self, labcam_set_attr_float(self.h, c.as_ptr(), v));
        Ok(())
    }
    pub fn set_attr_bool(&self, name: &str, v: bool) -> Result<()> {
        let c = cs(name)?;
        call!(self, labcam_set_attr_bool(self.h, c.as_ptr(), v as i32));
        Ok(())
    }
}

pub fn kind_name(kind: i64) -> &'static str {
    match kind as i32 {
        LABCAM_ATTR_INT => "INT",
        LABCAM_ATTR_FLOAT => "FLOAT",
        LABCAM_ATTR_BOOL => "BOOL",
        LABCAM_ATTR_ENUM => "ENUM",
        LABCAM_ATTR_STRING => "STRING",
        LABCAM_ATTR_COMMAND => "COMMAND",
        _ => "?",
    }
}
