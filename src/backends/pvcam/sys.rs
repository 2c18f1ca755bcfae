//! PVCAM function table, loaded once at run time; signatures from `pvcam.h`
//! (vendor-sdk/pvcam.md §6). Every function returns `rs_bool` (1 = PV_OK); the reason of a
//! failure comes from `pl_error_code` and `pl_error_message`.
#![allow(non_camel_case_types)]

use crate::error::{Error, Result, Status};
use crate::loader::{self, LibrarySpec};
use libloading::Library;
use std::ffi::{c_char, c_void};
use std::path::PathBuf;

pub type rs_bool = u16;
pub(super) const PV_OK: rs_bool = 1;

/// `rgn_type`: serial (x) and parallel (y) ranges, inclusive, with binning.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Rgn {
    pub s1: u16,
    pub s2: u16,
    pub sbin: u16,
    pub p1: u16,
    pub p2: u16,
    pub pbin: u16,
}

/// `FRAME_INFO` (48 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct PvFrameInfo {
    pub guid: [u32; 4],
    pub h_cam: i16,
    pub frame_nr: i32,
    pub time_stamp: i64,
    pub readout_time: i32,
    pub time_stamp_bof: i64,
}

/// `void (*)(FRAME_INFO*, void* ctx)`: a callback of `pl_cam_register_callback_ex3`.
pub type Callback = unsafe extern "C" fn(*mut PvFrameInfo, *mut c_void);

/// `PL_CALLBACK_EOF`: a frame is complete in the circular buffer.
pub(super) const PL_CALLBACK_EOF: i32 = 1;

/// The callback functions, which a client may do without (it can poll instead).
pub struct Callbacks {
    pub register: unsafe extern "C" fn(i16, i32, *mut c_void, *mut c_void) -> rs_bool,
    pub deregister: unsafe extern "C" fn(i16, i32) -> rs_bool,
}

macro_rules! api {
    ($( $field:ident : fn($($arg:ty),*) -> $ret:ty; )*) => {
        /// Function pointers into libpvcam.
        #[allow(dead_code)]
        pub struct Api {
            _lib: &'static Library,
            pub path: String,
            $( pub $field: unsafe extern "C" fn($($arg),*) -> $ret, )*
            /// `pl_cam_register_callback_ex3` and `pl_cam_deregister_callback`, when the
            /// library has both.
            pub callbacks: Option<Callbacks>,
        }
        impl Api {
            fn from_library(lib: &'static Library, path: String) -> Result<Api> {
                // SAFETY: symbols looked up with pvcam.h's signatures (x86-64: one convention).
                unsafe {
                    let callbacks = match (loader::optional_symbol(lib, "pl_cam_register_callback_ex3"), loader::optional_symbol(lib, "pl_cam_deregister_callback")) {
                        (Some(register), Some(deregister)) => Some(Callbacks { register, deregister }),
                        _ => None,
                    };
                    Ok(Api { $( $field: loader::symbol(lib, &path, stringify!($field))?, )* _lib: lib, path, callbacks })
                }
            }
        }
    };
}

api! {
    pl_pvcam_init: fn() -> rs_bool;
    pl_pvcam_uninit: fn() -> rs_bool;
    pl_pvcam_get_ver: fn(*mut u16) -> rs_bool;
    pl_cam_get_total: fn(*mut i16) -> rs_bool;
    pl_cam_get_name: fn(i16, *mut c_char) -> rs_bool;
    pl_cam_open: fn(*const c_char, *mut i16, i16) -> rs_bool;
    pl_cam_close: fn(i16) -> rs_bool;
    pl_error_code: fn() -> i16;
    pl_error_message: fn(i16, *mut c_char) -> rs_bool;
    pl_get_param: fn(i16, u32, i16, *mut c_void) -> rs_bool;
    pl_set_param: fn(i16, u32, *mut c_void) -> rs_bool;
    pl_get_enum_param: fn(i16, u32, u32, *mut i32, *mut c_char, u32) -> rs_bool;
    pl_exp_setup_cont: fn(i16, u16, *const Rgn, i16, u32, *mut u32, i16) -> rs_bool;
    pl_exp_start_cont: fn(i16, *mut c_void, u32) -> rs_bool;
    pl_exp_check_cont_status_ex: fn(i16, *mut i16, *mut u32, *mut u32, *mut PvFrameInfo) -> rs_bool;
    pl_exp_get_oldest_frame: fn(i16, *mut *mut c_void) -> rs_bool;
    pl_exp_unlock_oldest_frame: fn(i16) -> rs_bool;
    pl_exp_abort: fn(i16, i16) -> rs_bool;
    pl_exp_trigger: fn(i16, *mut u32, u32) -> rs_bool;
}

const SPEC: LibrarySpec<'static> = LibrarySpec {
    backend: "pvcam",
    default_paths: &["/opt/pvcam/library/x86_64/libpvcam.so.2", "/opt/pvcam/library/x86_64/libpvcam.so", "C:\\Windows\\System32\\pvcam64.dll"],
    system_names: &["libpvcam.so.2", "libpvcam.so", "pvcam64.dll"],
    global_symbols: false,
};

pub fn load(explicit: Option<&PathBuf>) -> Result<Api> {
    let (lib, path) = loader::load(&SPEC, explicit)?;
    Api::from_library(lib, path)
}

impl Api {
    /// VENDOR error naming the function, pl_error_code and pl_error_message (a disconnect
    /// gives DISCONNECTED).
    pub fn error(&self, func: &str) -> Error {
        let code = unsafe { (self.pl_error_code)() };
        let mut buf = [0 as c_char; 256];
        unsafe { (self.pl_error_message)(code, buf.as_mut_ptr()) };
        let msg = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned();
        let status = if msg.to_ascii_lowercase().contains("disconnect") { Status::DISCONNECTED } else { Status::VENDOR };
        Error::new(status, format!("{func} failed: pl_error_code {code}: {msg}"))
    }

    pub fn check(&self, func: &str, r: rs_bool) -> Result<()> {
        if r == PV_OK {
            Ok(())
        } else {
            Err(self.error(func))
        }
    }
}
