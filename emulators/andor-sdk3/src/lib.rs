//! An emulator of Andor SDK3's `libatcore` (see README.md): the SDK's exported C functions
//! with their exact signatures, error codes and semantics, driving a simulated Zyla-like
//! 2560×2160 sCMOS camera. Facts from `shared/vendor-sdk/andor_sdk3.md`; choices marked
//! *(inferred)* there are documented in README.md.
#![allow(clippy::missing_safety_doc, non_snake_case)]

mod camera;
mod features;

use camera::Cam;
use std::collections::HashMap;
use std::ffi::{c_int, c_uint, c_void};
use std::sync::{Arc, Mutex, OnceLock};

/// `AT_WC`: `wchar_t`, 4 bytes on Linux and macOS, 2 on Windows.
#[cfg(windows)]
pub type AtWc = u16;
#[cfg(not(windows))]
pub type AtWc = i32;
pub type AtH = c_int;
pub type AtBool = c_int;
pub type At64 = i64;
/// `FeatureCallback`: `int cb(AT_H, const AT_WC* feature, void* context)`.
pub type FeatureCallback = Option<unsafe extern "C" fn(AtH, *const AtWc, *mut c_void) -> c_int>;

pub const AT_HANDLE_SYSTEM: AtH = 1;
pub const AT_INFINITE: c_uint = 0xFFFF_FFFF;

/// SDK3 error codes (atcore.h).
pub mod code {
    pub const SUCCESS: i32 = 0;
    pub const NOTINITIALISED: i32 = 1;
    pub const NOTIMPLEMENTED: i32 = 2;
    pub const READONLY: i32 = 3;
    pub const NOTREADABLE: i32 = 4;
    pub const NOTWRITABLE: i32 = 5;
    pub const OUTOFRANGE: i32 = 6;
    pub const INDEXNOTAVAILABLE: i32 = 7;
    pub const INDEXNOTIMPLEMENTED: i32 = 8;
    pub const EXCEEDEDMAXSTRINGLENGTH: i32 = 9;
    pub const CONNECTION: i32 = 10;
    pub const NODATA: i32 = 11;
    pub const INVALIDHANDLE: i32 = 12;
    pub const TIMEDOUT: i32 = 13;
    pub const BUFFERFULL: i32 = 14;
    pub const INVALIDSIZE: i32 = 15;
    pub const INVALIDALIGNMENT: i32 = 16;
    pub const STRINGNOTAVAILABLE: i32 = 18;
    pub const STRINGNOTIMPLEMENTED: i32 = 19;
    pub const NULL_FEATURE: i32 = 20;
    pub const NULL_HANDLE: i32 = 21;
    pub const NULL_IMPLEMENTED_VAR: i32 = 22;
    pub const NULL_READABLE_VAR: i32 = 23;
    pub const NULL_READONLY_VAR: i32 = 24;
    pub const NULL_WRITABLE_VAR: i32 = 25;
    pub const NULL_MINVALUE: i32 = 26;
    pub const NULL_MAXVALUE: i32 = 27;
    pub const NULL_VALUE: i32 = 28;
    pub const NULL_STRING: i32 = 29;
    pub const NULL_COUNT_VAR: i32 = 30;
    pub const NULL_ISAVAILABLE_VAR: i32 = 31;
    pub const NULL_MAXSTRINGLENGTH: i32 = 32;
    pub const NULL_EVCALLBACK: i32 = 33;
    pub const NULL_QUEUE_PTR: i32 = 34;
    pub const NULL_WAIT_PTR: i32 = 35;
    pub const NULL_PTRSIZE: i32 = 36;
    pub const DEVICEINUSE: i32 = 38;
    pub const DEVICENOTFOUND: i32 = 39;
    pub const HARDWARE_OVERFLOW: i32 = 100;
}

pub(crate) struct Lib {
    initialised: bool,
    cams: HashMap<AtH, Arc<Cam>>,
    next: AtH,
}

pub(crate) fn lib() -> &'static Mutex<Lib> {
    static L: OnceLock<Mutex<Lib>> = OnceLock::new();
    L.get_or_init(|| Mutex::new(Lib { initialised: false, cams: HashMap::new(), next: 100 }))
}

/// Number of emulated cameras (`ATCORE_EMU_DEVICES`, default 1).
pub(crate) fn device_count() -> i64 {
    std::env::var("ATCORE_EMU_DEVICES").ok().and_then(|v| v.parse().ok()).unwrap_or(1)
}

/// `ATCORE_EMU_ERROR=AT_Function:code[,...]`: that function returns that code.
fn injected(func: &str) -> Option<c_int> {
    let spec = std::env::var("ATCORE_EMU_ERROR").ok()?;
    spec.split(',').find_map(|item| {
        let (f, c) = item.split_once(':')?;
        (f.trim() == func).then(|| c.trim().parse().ok()).flatten()
    })
}

/// Read a NUL-terminated wide string.
pub(crate) unsafe fn wide_in(p: *const AtWc) -> Option<String> {
    if p.is_null() {
        return None;
    }
    let mut s = String::new();
    let mut i = 0;
    loop {
        let c = *p.add(i);
        if c == 0 {
            return Some(s);
        }
        s.push(char::from_u32(c as u32).unwrap_or('\u{FFFD}'));
        i += 1;
    }
}

/// Wide string with NUL, as the SDK hands feature names to callbacks.
pub(crate) fn wide(s: &str) -> Vec<AtWc> {
    #[cfg(windows)]
    let mut v: Vec<AtWc> = s.encode_utf16().collect();
    #[cfg(not(windows))]
    let mut v: Vec<AtWc> = s.chars().map(|c| c as AtWc).collect();
    v.push(0);
    v
}

/// Write `s` into a caller buffer of `len` wide chars (NUL included).
pub(crate) unsafe fn wide_out(s: &str, p: *mut AtWc, len: c_int) -> c_int {
    if p.is_null() {
        return code::NULL_STRING;
    }
    let w = wide(s);
    if w.len() > len.max(0) as usize {
        return code::EXCEEDEDMAXSTRINGLENGTH;
    }
    std::ptr::copy_nonoverlapping(w.as_ptr(), p, w.len());
    code::SUCCESS
}

fn cam(h: AtH) -> Result<Arc<Cam>, c_int> {
    let l = lib().lock().unwrap();
    if !l.initialised {
        return Err(code::NOTINITIALISED);
    }
    l.cams.get(&h).cloned().ok_or(code::INVALIDHANDLE)
}

/// Run a feature call: injected errors, initialisation, the system handle, the camera.
fn with_feature(func: &str, h: AtH, feature: *const AtWc, f: impl FnOnce(Target, &str) -> c_int) -> c_int {
    if let Some(c) = injected(func) {
        return c;
    }
    let Some(name) = (unsafe { wide_in(feature) }) else { return code::NULL_FEATURE };
    if h == AT_HANDLE_SYSTEM {
        if !lib().lock().unwrap().initialised {
            return code::NOTINITIALISED;
        }
        return f(Target::System, &name);
    }
    match cam(h) {
        Ok(c) => f(Target::Cam(&c), &name),
        Err(e) => e,
    }
}

pub(crate) enum Target<'a> {
    System,
    Cam(&'a Arc<Cam>),
}

#[no_mangle]
pub extern "C" fn AT_InitialiseLibrary() -> c_int {
    if let Some(c) = injected("AT_InitialiseLibrary") {
        return c;
    }
    lib().lock().unwrap().initialised = true;
    code::SUCCESS
}

#[no_mangle]
pub extern "C" fn AT_FinaliseLibrary() -> c_int {
    let cams: Vec<Arc<Cam>> = {
        let mut l = lib().lock().unwrap();
        l.initialised = false;
        l.cams.drain().map(|(_, c)| c).collect()
    };
    for c in cams {
        c.shutdown();
    }
    code::SUCCESS
}

#[no_mangle]
pub unsafe extern "C" fn AT_Open(index: c_int, hndl: *mut AtH) -> c_int {
    if let Some(c) = injected("AT_Open") {
        return c;
    }
    if hndl.is_null() {
        return code::NULL_HANDLE;
    }
    let mut l = lib().lock().unwrap();
    if !l.initialised {
        return code::NOTINITIALISED;
    }
    if index < 0 || index as i64 >= device_count() {
        return code::DEVICENOTFOUND;
    }
    if l.cams.values().any(|c| c.index == index) {
        return code::DEVICEINUSE;
    }
    let h = l.next;
    l.next += 1;
    l.cams.insert(h, Cam::new(index, h));
    *hndl = h;
    code::SUCCESS
}

#[no_mangle]
pub extern "C" fn AT_Close(h: AtH) -> c_int {
    if let Some(c) = injected("AT_Close") {
        return c;
    }
    let c = {
        let mut l = lib().lock().unwrap();
        if !l.initialised {
            return code::NOTINITIALISED;
        }
        match l.cams.remove(&h) {
            Some(c) => c,
            None => return code::INVALIDHANDLE,
        }
    };
    c.shutdown();
    code::SUCCESS
}

#[no_mangle]
pub unsafe extern "C" fn AT_RegisterFeatureCallback(h: AtH, feature: *const AtWc, cb: FeatureCallback, ctx: *mut c_void) -> c_int {
    if cb.is_none() {
        return code::NULL_EVCALLBACK;
    }
    with_feature("AT_RegisterFeatureCallback", h, feature, |t, name| match t {
        // Only features the camera implements (2 NOTIMPLEMENTED otherwise, as for any call).
        Target::Cam(_) if !features::is_implemented(&t, name).1 => code::NOTIMPLEMENTED,
        Target::Cam(c) => c.register(name, cb, ctx as usize),
        Target::System => code::NOTIMPLEMENTED,
    })
}

#[no_mangle]
pub unsafe extern "C" fn AT_UnregisterFeatureCallback(h: AtH, feature: *const AtWc, cb: FeatureCallback, ctx: *mut c_void) -> c_int {
    with_feature("AT_UnregisterFeatureCallback", h, feature, |t, name| match t {
        Target::Cam(c) => c.unregister(name, cb, ctx as usize),
        Target::System => code::NOTIMPLEMENTED,
    })
}

macro_rules! bool_query {
    ($name:ident, $null:expr, $method:ident) => {
        #[no_mangle]
        pub unsafe extern "C" fn $name(h: AtH, feature: *const AtWc, out: *mut AtBool) -> c_int {
            if out.is_null() {
                return $null;
            }
            with_feature(stringify!($name), h, feature, |t, name| {
                let (r, v) = features::$method(&t, name);
                if r == code::SUCCESS {
                    *out = v as AtBool;
                }
                r
            })
        }
    };
}

bool_query!(AT_IsImplemented, code::NULL_IMPLEMENTED_VAR, is_implemented);
bool_query!(AT_IsReadable, code::NULL_READABLE_VAR, is_readable);
bool_query!(AT_IsWritable, code::NULL_WRITABLE_VAR, is_writable);
bool_query!(AT_IsReadOnly, code::NULL_READONLY_VAR, is_read_only);

macro_rules! getter {
    ($name:ident, $ty:ty, $null:expr, $method:ident) => {
        #[no_mangle]
        pub unsafe extern "C" fn $name(h: AtH, feature: *const AtWc, out: *mut $ty) -> c_int {
            if out.is_null() {
                return $null;
            }
            with_feature(stringify!($name), h, feature, |t, name| match features::$method(&t, name) {
                Ok(v) => {
                    *out = v;
                    code::SUCCESS
                }
                Err(e) => e,
            })
        }
    };
}

getter!(AT_GetInt, At64, code::NULL_VALUE, get_int);
getter!(AT_GetIntMin, At64, code::NULL_MINVALUE, get_int_min);
getter!(AT_GetIntMax, At64, code::NULL_MAXVALUE, get_int_max);
getter!(AT_GetFloat, f64, code::NULL_VALUE, get_float);
getter!(AT_GetFloatMin, f64, code::NULL_MINVALUE, get_float_min);
getter!(AT_GetFloatMax, f64, code::NULL_MAXVALUE, get_float_max);
getter!(AT_GetBool, AtBool, code::NULL_VALUE, get_bool);
getter!(AT_GetEnumIndex, c_int, code::NULL_VALUE, get_enum_index);
getter!(AT_GetEnumCount, c_int, code::NULL_COUNT_VAR, get_enum_count);
getter!(AT_GetStringMaxLength, c_int, code::NULL_MAXSTRINGLENGTH, get_string_max_length);

#[no_mangle]
pub unsafe extern "C" fn AT_SetInt(h: AtH, feature: *const AtWc, v: At64) -> c_int {
    with_feature("AT_SetInt", h, feature, |t, name| features::set_int(&t, name, v))
}

#[no_mangle]
pub unsafe extern "C" fn AT_SetFloat(h: AtH, feature: *const AtWc, v: f64) -> c_int {
    with_feature("AT_SetFloat", h, feature, |t, name| features::set_float(&t, name, v))
}

#[no_mangle]
pub unsafe extern "C" fn AT_SetBool(h: AtH, feature: *const AtWc, v: AtBool) -> c_int {
    with_feature("AT_SetBool", h, feature, |t, name| features::set_bool(&t, name, v != 0))
}

#[no_mangle]
pub unsafe extern "C" fn AT_SetEnumIndex(h: AtH, feature: *const AtWc, v: c_int) -> c_int {
    with_feature("AT_SetEnumIndex", h, feature, |t, name| features::set_enum_index(&t, name, v))
}

#[no_mangle]
pub unsafe extern "C" fn AT_SetEnumString(h: AtH, feature: *const AtWc, s: *const AtWc) -> c_int {
    let Some(v) = wide_in(s) else { return code::NULL_STRING };
    with_feature("AT_SetEnumString", h, feature, |t, name| features::set_enum_string(&t, name, &v))
}

#[no_mangle]
pub unsafe extern "C" fn AT_IsEnumIndexAvailable(h: AtH, feature: *const AtWc, i: c_int, out: *mut AtBool) -> c_int {
    if out.is_null() {
        return code::NULL_ISAVAILABLE_VAR;
    }
    with_feature("AT_IsEnumIndexAvailable", h, feature, |t, name| match features::enum_index_available(&t, name, i) {
        Ok(v) => {
            *out = v as AtBool;
            code::SUCCESS
        }
        Err(e) => e,
    })
}

#[no_mangle]
pub unsafe extern "C" fn AT_IsEnumIndexImplemented(h: AtH, feature: *const AtWc, i: c_int, out: *mut AtBool) -> c_int {
    if out.is_null() {
        return code::NULL_IMPLEMENTED_VAR;
    }
    with_feature("AT_IsEnumIndexImplemented", h, feature, |t, name| match features::enum_entries(&t, name) {
        Ok(e) => {
            *out = (i >= 0 && (i as usize) < e.len()) as AtBool;
            code::SUCCESS
        }
        Err(e) => e,
    })
}

#[no_mangle]
pub unsafe extern "C" fn AT_GetEnumStringByIndex(h: AtH, feature: *const AtWc, i: c_int, s: *mut AtWc, len: c_int) -> c_int {
    with_feature("AT_GetEnumStringByIndex", h, feature, |t, name| match features::enum_entries(&t, name) {
        Ok(e) => match usize::try_from(i).ok().and_then(|i| e.get(i)) {
            Some(v) => wide_out(v, s, len),
            None => code::INDEXNOTIMPLEMENTED,
        },
        Err(e) => e,
    })
}

#[no_mangle]
pub unsafe extern "C" fn AT_Command(h: AtH, feature: *const AtWc) -> c_int {
    with_feature("AT_Command", h, feature, |t, name| features::command(&t, name))
}

#[no_mangle]
pub unsafe extern "C" fn AT_SetString(h: AtH, feature: *const AtWc, s: *const AtWc) -> c_int {
    let Some(v) = wide_in(s) else { return code::NULL_STRING };
    with_feature("AT_SetString", h, feature, |t, name| features::set_string(&t, name, &v))
}

#[no_mangle]
pub unsafe extern "C" fn AT_GetString(h: AtH, feature: *const AtWc, s: *mut AtWc, len: c_int) -> c_int {
    with_feature("AT_GetString", h, feature, |t, name| match features::get_string(&t, name) {
        Ok(v) => wide_out(&v, s, len),
        Err(e) => e,
    })
}

#[no_mangle]
pub unsafe extern "C" fn AT_QueueBuffer(h: AtH, ptr: *mut u8, size: c_int) -> c_int {
    if let Some(c) = injected("AT_QueueBuffer") {
        return c;
    }
    if ptr.is_null() {
        return code::NULL_QUEUE_PTR;
    }
    match cam(h) {
        Ok(c) => c.queue(ptr as usize, size),
        Err(e) => e,
    }
}

#[no_mangle]
pub unsafe extern "C" fn AT_WaitBuffer(h: AtH, ptr: *mut *mut u8, size: *mut c_int, timeout_ms: c_uint) -> c_int {
    if let Some(c) = injected("AT_WaitBuffer") {
        return c;
    }
    if ptr.is_null() {
        return code::NULL_WAIT_PTR;
    }
    if size.is_null() {
        return code::NULL_PTRSIZE;
    }
    match cam(h) {
        Ok(c) => match c.wait(timeout_ms) {
            Ok((p, s)) => {
                *ptr = p as *mut u8;
                *size = s;
                code::SUCCESS
            }
            Err(e) => e,
        },
        Err(e) => e,
    }
}

#[no_mangle]
pub extern "C" fn AT_Flush(h: AtH) -> c_int {
    if let Some(c) = injected("AT_Flush") {
        return c;
    }
    match cam(h) {
        Ok(c) => {
            c.flush();
            code::SUCCESS
        }
        Err(e) => e,
    }
}
