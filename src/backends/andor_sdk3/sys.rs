//! Andor SDK3 (`atcore`) function table, loaded once at run time; signatures from the public
//! `atcore.h` (vendor-sdk/andor_sdk3.md §4). Feature names and strings are `AT_WC`
//! (`wchar_t`: 4 bytes on Linux and macOS, 2 on Windows). Fields carry the SDK names.
#![allow(non_snake_case)]

use crate::error::{Error, Result, Status};
use crate::loader::{self, LibrarySpec};
use libloading::Library;
use std::ffi::{c_int, c_uint, c_void};
use std::path::PathBuf;

#[cfg(windows)]
pub type AtWc = u16;
#[cfg(not(windows))]
pub type AtWc = i32;
pub type AtH = c_int;
pub type Cb = unsafe extern "C" fn(AtH, *const AtWc, *mut c_void) -> c_int;

pub(super) const AT_HANDLE_SYSTEM: AtH = 1;
pub(super) const AT_SUCCESS: c_int = 0;
pub(super) const AT_ERR_NOTWRITABLE: c_int = 5;
pub(super) const AT_ERR_CONNECTION: c_int = 10;
pub(super) const AT_ERR_NODATA: c_int = 11;
pub(super) const AT_ERR_TIMEDOUT: c_int = 13;
pub(super) const AT_ERR_HARDWARE_OVERFLOW: c_int = 100;

macro_rules! api {
    ($( $field:ident : fn($($arg:ty),*); )*) => {
        /// Function pointers into atcore; all return an SDK3 status code (0 = success).
        #[allow(dead_code)]
        pub struct Api {
            _lib: &'static Library,
            pub path: String,
            $( pub $field: unsafe extern "C" fn($($arg),*) -> c_int, )*
        }
        impl Api {
            fn from_library(lib: &'static Library, path: String) -> Result<Api> {
                // SAFETY: symbols looked up with atcore.h's signatures.
                unsafe {
                    Ok(Api { $( $field: loader::symbol(lib, &path, concat!("AT_", stringify!($field)))?, )* _lib: lib, path })
                }
            }
        }
    };
}

api! {
    InitialiseLibrary: fn();
    FinaliseLibrary: fn();
    Open: fn(c_int, *mut AtH);
    Close: fn(AtH);
    RegisterFeatureCallback: fn(AtH, *const AtWc, Cb, *mut c_void);
    UnregisterFeatureCallback: fn(AtH, *const AtWc, Cb, *mut c_void);
    IsImplemented: fn(AtH, *const AtWc, *mut c_int);
    IsReadable: fn(AtH, *const AtWc, *mut c_int);
    IsWritable: fn(AtH, *const AtWc, *mut c_int);
    IsReadOnly: fn(AtH, *const AtWc, *mut c_int);
    SetInt: fn(AtH, *const AtWc, i64);
    GetInt: fn(AtH, *const AtWc, *mut i64);
    GetIntMin: fn(AtH, *const AtWc, *mut i64);
    GetIntMax: fn(AtH, *const AtWc, *mut i64);
    SetFloat: fn(AtH, *const AtWc, f64);
    GetFloat: fn(AtH, *const AtWc, *mut f64);
    GetFloatMin: fn(AtH, *const AtWc, *mut f64);
    GetFloatMax: fn(AtH, *const AtWc, *mut f64);
    SetBool: fn(AtH, *const AtWc, c_int);
    GetBool: fn(AtH, *const AtWc, *mut c_int);
    SetEnumString: fn(AtH, *const AtWc, *const AtWc);
    GetEnumIndex: fn(AtH, *const AtWc, *mut c_int);
    GetEnumCount: fn(AtH, *const AtWc, *mut c_int);
    IsEnumIndexAvailable: fn(AtH, *const AtWc, c_int, *mut c_int);
    IsEnumIndexImplemented: fn(AtH, *const AtWc, c_int, *mut c_int);
    GetEnumStringByIndex: fn(AtH, *const AtWc, c_int, *mut AtWc, c_int);
    Command: fn(AtH, *const AtWc);
    SetString: fn(AtH, *const AtWc, *const AtWc);
    GetString: fn(AtH, *const AtWc, *mut AtWc, c_int);
    GetStringMaxLength: fn(AtH, *const AtWc, *mut c_int);
    QueueBuffer: fn(AtH, *mut u8, c_int);
    WaitBuffer: fn(AtH, *mut *mut u8, *mut c_int, c_uint);
    Flush: fn(AtH);
}

const SPEC: LibrarySpec<'static> = LibrarySpec {
    backend: "andor_sdk3",
    default_paths: &[
        "/usr/local/lib/libatcore.so.3",
        "/usr/local/lib/libatcore.so",
        "/opt/andor/sdk3/lib/libatcore.so",
        "C:\\Program Files\\Andor SDK3\\atcore.dll",
        "C:\\Program Files\\Andor SOLIS\\atcore.dll",
    ],
    system_names: &["libatcore.so.3", "libatcore.so", "atcore.dll"],
    global_symbols: true,
};

pub fn load(explicit: Option<&PathBuf>) -> Result<Api> {
    let (lib, path) = loader::load(&SPEC, explicit)?;
    Api::from_library(lib, path)
}

/// Name of an SDK3 error code (atcore.h, atutility.h).
pub fn code_name(code: c_int) -> &'static str {
    const NAMES: [&str; 40] = [
        "AT_SUCCESS", "AT_ERR_NOTINITIALISED", "AT_ERR_NOTIMPLEMENTED", "AT_ERR_READONLY", "AT_ERR_NOTREADABLE",
        "AT_ERR_NOTWRITABLE", "AT_ERR_OUTOFRANGE", "AT_ERR_INDEXNOTAVAILABLE", "AT_ERR_INDEXNOTIMPLEMENTED",
        "AT_ERR_EXCEEDEDMAXSTRINGLENGTH", "AT_ERR_CONNECTION", "AT_ERR_NODATA", "AT_ERR_INVALIDHANDLE",
        "AT_ERR_TIMEDOUT", "AT_ERR_BUFFERFULL", "AT_ERR_INVALIDSIZE", "AT_ERR_INVALIDALIGNMENT", "AT_ERR_COMM",
        "AT_ERR_STRINGNOTAVAILABLE", "AT_ERR_STRINGNOTIMPLEMENTED", "AT_ERR_NULL_FEATURE", "AT_ERR_NULL_HANDLE",
        "AT_ERR_NULL_IMPLEMENTED_VAR", "AT_ERR_NULL_READABLE_VAR", "AT_ERR_NULL_READONLY_VAR",
        "AT_ERR_NULL_WRITABLE_VAR", "AT_ERR_NULL_MINVALUE", "AT_ERR_NULL_MAXVALUE", "AT_ERR_NULL_VALUE",
        "AT_ERR_NULL_STRING", "AT_ERR_NULL_COUNT_VAR", "AT_ERR_NULL_ISAVAILABLE_VAR", "AT_ERR_NULL_MAXSTRINGLENGTH",
        "AT_ERR_NULL_EVCALLBACK", "AT_ERR_NULL_QUEUE_PTR", "AT_ERR_NULL_WAIT_PTR", "AT_ERR_NULL_PTRSIZE",
        "AT_ERR_NOMEMORY", "AT_ERR_DEVICEINUSE", "AT_ERR_DEVICENOTFOUND",
    ];
    match code {
        0..=39 => NAMES[code as usize],
        100 => "AT_ERR_HARDWARE_OVERFLOW",
        1002 => "AT_ERR_INVALIDOUTPUTPIXELENCODING",
        1003 => "AT_ERR_INVALIDINPUTPIXELENCODING",
        1004 => "AT_ERR_INVALIDMETADATAINFO",
        1005 => "AT_ERR_CORRUPTEDMETADATA",
        1006 => "AT_ERR_METADATANOTFOUND",
        1008 => "AT_ERR_INVALIDFORMAT",
        1009 => "AT_ERR_INVALIDPATH",
        1010 => "AT_ERR_NO_NEW_DATA",
        1011 => "AT_ERR_SPOOLING_NOT_CONFIGURED",
        _ => "unknown code",
    }
}

/// A VENDOR error naming the function, the feature, the code and its name (CONNECTION and
/// COMM give DISCONNECTED).
pub fn vendor_error(func: &str, feature: &str, code: c_int) -> Error {
    let status = if code == AT_ERR_CONNECTION || code == 17 { Status::DISCONNECTED } else { Status::VENDOR };
    let f = if feature.is_empty() { String::new() } else { format!("(\"{feature}\")") };
    Error::new(status, format!("{func}{f} returned {code} ({})", code_name(code)))
}

/// A NUL-terminated wide string.
pub fn wide(s: &str) -> Vec<AtWc> {
    #[cfg(windows)]
    let mut v: Vec<AtWc> = s.encode_utf16().collect();
    #[cfg(not(windows))]
    let mut v: Vec<AtWc> = s.chars().map(|c| c as AtWc).collect();
    v.push(0);
    v
}

/// Decode a wide buffer up to its NUL.
pub fn from_wide(b: &[AtWc]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    #[cfg(windows)]
    return String::from_utf16_lossy(&b[..end]);
    #[cfg(not(windows))]
    b[..end].iter().map(|&c| char::from_u32(c as u32).unwrap_or('\u{FFFD}')).collect()
}
