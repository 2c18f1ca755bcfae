//! An emulator of Photometrics PVCAM (`libpvcam`): the `pl_*` functions with PVCAM's
//! signatures and semantics, driving a Prime-95B-like 1200×1200 16-bit camera. Facts from
//! `shared/vendor-sdk/pvcam.md`; choices where it is silent are in README.md.
#![allow(clippy::missing_safety_doc, non_camel_case_types)]

mod cam;
mod params;

use cam::Cam;
use params::*;
use std::cell::Cell;
use std::ffi::{c_char, c_void, CStr};
use std::sync::{Mutex, OnceLock};

pub type rs_bool = u16;
const PV_OK: rs_bool = 1;
const PV_FAIL: rs_bool = 0;

/// `FRAME_INFO` (48 bytes): GUID, hCam, FrameNr, TimeStamp, ReadoutTime, TimeStampBOF.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct FRAME_INFO {
    pub guid: [u32; 4],
    pub h_cam: i16,
    pub frame_nr: i32,
    pub time_stamp: i64,
    pub readout_time: i32,
    pub time_stamp_bof: i64,
}

pub(crate) const FRAME_INFO_GUID: [u32; 4] = [0xD9D321FC, 0x4272_A233, 0xEC42_7E89, 0xD60D_DA15];

struct Lib {
    initialised: bool,
    cams: Vec<Cam>,
    open: Vec<bool>,
}

fn lib() -> &'static Mutex<Lib> {
    static L: OnceLock<Mutex<Lib>> = OnceLock::new();
    L.get_or_init(|| Mutex::new(Lib { initialised: false, cams: Vec::new(), open: Vec::new() }))
}

thread_local! {
    static LAST: Cell<i16> = const { Cell::new(0) };
}
static GLOBAL_LAST: Mutex<i16> = Mutex::new(0);

fn fail(code: i16) -> rs_bool {
    LAST.with(|l| l.set(code));
    *GLOBAL_LAST.lock().unwrap() = code;
    PV_FAIL
}

/// `PVCAM_EMU_ERROR=pl_function:code[,...]`: that function fails with that code.
fn injected(func: &str) -> Option<i16> {
    let spec = std::env::var("PVCAM_EMU_ERROR").ok()?;
    spec.split(',').find_map(|item| {
        let (f, c) = item.split_once(':')?;
        (f.trim() == func).then(|| c.trim().parse().ok()).flatten()
    })
}

fn n_cameras() -> usize {
    std::env::var("PVCAM_EMU_CAMERAS").ok().and_then(|v| v.parse().ok()).unwrap_or(1)
}

fn cam_name(i: usize) -> String {
    format!("PMPrime95B-Emu{i}")
}

/// The index of the open camera `h`.
fn open_index(l: &Lib, h: i16) -> Result<usize, i16> {
    let i = h as usize;
    if !l.initialised || h < 0 || i >= l.cams.len() || !l.open[i] {
        return Err(ERR_INVALID_HANDLE);
    }
    Ok(i)
}

/// Wait for workers told to stop (`Cam::halt`). Call it with the library's lock released:
/// a callback in progress may be calling into the library.
fn join(workers: impl IntoIterator<Item = Option<std::thread::JoinHandle<()>>>) {
    for t in workers.into_iter().flatten() {
        let _ = t.join();
    }
}

/// Run `f` on the open camera `h`.
fn with_cam(func: &str, h: i16, f: impl FnOnce(&mut Cam) -> Result<(), i16>) -> rs_bool {
    if let Some(c) = injected(func) {
        return fail(c);
    }
    let mut l = lib().lock().unwrap();
    if !l.initialised {
        return fail(ERR_NOT_INITIALIZED);
    }
    let i = match open_index(&l, h) {
        Ok(i) => i,
        Err(e) => return fail(e),
    };
    let cam = &mut l.cams[i];
    if !cam.connected || cam.acq.p.lock().unwrap().failed {
        cam.connected = false;
        return fail(ERR_DISCONNECTED);
    }
    match f(cam) {
        Ok(()) => PV_OK,
        Err(e) => fail(e),
    }
}

unsafe fn write_str(dst: *mut c_char, s: &str, cap: usize) {
    let n = s.len().min(cap.saturating_sub(1));
    std::ptr::copy_nonoverlapping(s.as_ptr(), dst as *mut u8, n);
    *dst.add(n) = 0;
}

#[no_mangle]
pub extern "C" fn pl_pvcam_init() -> rs_bool {
    if let Some(c) = injected("pl_pvcam_init") {
        return fail(c);
    }
    let mut l = lib().lock().unwrap();
    if l.initialised {
        return fail(ERR_ALREADY_INITIALIZED);
    }
    let n = n_cameras();
    l.cams = (0..n).map(|i| Cam::new(i as i16)).collect();
    l.open = vec![false; n];
    l.initialised = true;
    PV_OK
}

#[no_mangle]
pub extern "C" fn pl_pvcam_uninit() -> rs_bool {
    let mut l = lib().lock().unwrap();
    if !l.initialised {
        return fail(ERR_NOT_INITIALIZED);
    }
    let workers: Vec<_> = l.cams.iter_mut().map(|c| c.halt()).collect();
    l.cams.clear();
    l.open.clear();
    l.initialised = false;
    drop(l);
    join(workers);
    PV_OK
}

#[no_mangle]
pub unsafe extern "C" fn pl_pvcam_get_ver(ver: *mut u16) -> rs_bool {
    if ver.is_null() {
        return fail(ERR_BAD_ARGUMENT);
    }
    *ver = (3 << 8) | (9 << 4) | 1; // 3.9.1
    PV_OK
}

#[no_mangle]
pub unsafe extern "C" fn pl_cam_get_total(n: *mut i16) -> rs_bool {
    if let Some(c) = injected("pl_cam_get_total") {
        return fail(c);
    }
    let l = lib().lock().unwrap();
    if !l.initialised {
        return fail(ERR_NOT_INITIALIZED);
    }
    if n.is_null() {
        return fail(ERR_BAD_ARGUMENT);
    }
    *n = l.cams.len() as i16;
    PV_OK
}

#[no_mangle]
pub unsafe extern "C" fn pl_cam_get_name(idx: i16, name: *mut c_char) -> rs_bool {
    let l = lib().lock().unwrap();
    if !l.initialised {
        return fail(ERR_NOT_INITIALIZED);
    }
    if idx < 0 || idx as usize >= l.cams.len() || name.is_null() {
        return fail(ERR_BAD_ARGUMENT);
    }
    write_str(name, &cam_name(idx as usize), 32);
    PV_OK
}

#[no_mangle]
pub unsafe extern "C" fn pl_cam_open(name: *const c_char, hcam: *mut i16, mode: i16) -> rs_bool {
    if let Some(c) = injected("pl_cam_open") {
        return fail(c);
    }
    if name.is_null() || hcam.is_null() || mode != 0 {
        return fail(ERR_BAD_ARGUMENT);
    }
    let want = CStr::from_ptr(name).to_string_lossy().into_owned();
    let mut l = lib().lock().unwrap();
    if !l.initialised {
        return fail(ERR_NOT_INITIALIZED);
    }
    let Some(i) = (0..l.cams.len()).find(|&i| cam_name(i) == want) else { return fail(ERR_BAD_ARGUMENT) };
    if l.open[i] {
        return fail(ERR_BUSY);
    }
    l.open[i] = true;
    l.cams[i] = Cam::new(i as i16);
    *hcam = i as i16;
    PV_OK
}

#[no_mangle]
pub extern "C" fn pl_cam_close(h: i16) -> rs_bool {
    let mut l = lib().lock().unwrap();
    let i = match open_index(&l, h) {
        Ok(i) => i,
        Err(e) => return fail(e),
    };
    let worker = l.cams[i].halt();
    let acq = l.cams[i].acq.clone();
    l.open[i] = false;
    drop(l);
    join([worker]);
    acq.callbacks.lock().unwrap().fill(None);
    PV_OK
}

#[no_mangle]
pub extern "C" fn pl_error_code() -> i16 {
    LAST.with(|l| l.get())
}

#[no_mangle]
pub unsafe extern "C" fn pl_error_message(code: i16, msg: *mut c_char) -> rs_bool {
    if msg.is_null() {
        return PV_FAIL;
    }
    write_str(msg, message(code), 255);
    PV_OK
}

/// Write `v` as `ty` at `out`.
unsafe fn put(out: *mut c_void, ty: u16, v: &V) {
    match (ty, v) {
        (TYPE_INT16, V::I(x)) => *(out as *mut i16) = *x as i16,
        (TYPE_UNS16 | TYPE_BOOLEAN, V::I(x)) => *(out as *mut u16) = *x as u16,
        (TYPE_INT32 | TYPE_ENUM, V::I(x)) => *(out as *mut i32) = *x as i32,
        (TYPE_UNS32, V::I(x)) => *(out as *mut u32) = *x as u32,
        (TYPE_INT64, V::I(x)) => *(out as *mut i64) = *x,
        (TYPE_UNS64, V::I(x)) => *(out as *mut u64) = *x as u64,
        (TYPE_CHAR_PTR, V::S(s)) => write_str(out as *mut c_char, s, s.len() + 1),
        _ => {}
    }
}

#[no_mangle]
pub unsafe extern "C" fn pl_get_param(h: i16, id: u32, attr: i16, value: *mut c_void) -> rs_bool {
    if value.is_null() {
        return fail(ERR_BAD_ARGUMENT);
    }
    with_cam("pl_get_param", h, |c| {
        let Some((ty, acc)) = lookup(id) else {
            if attr == 8 {
                *(value as *mut u16) = 0; // ATTR_AVAIL: FALSE for unknown parameters
                return Ok(());
            }
            return Err(ERR_NOT_AVAILABLE);
        };
        match attr {
            0 | 5 => put(value, ty, &c.current(id)?),
            1 => {
                let n = match ty {
                    TYPE_ENUM => enum_items(id).len() as u32,
                    TYPE_CHAR_PTR => match c.current(id) {
                        Ok(V::S(s)) => s.len() as u32 + 1,
                        _ => 64,
                    },
                    _ => 1,
                };
                *(value as *mut u32) = n;
            }
            2 => *(value as *mut u16) = ty,
            3 | 4 | 6 => {
                let (lo, hi, inc) = c.limits(id);
                put(value, ty, &V::I(match attr { 3 => lo, 4 => hi, _ => inc }));
            }
            7 => *(value as *mut u16) = acc,
            8 => *(value as *mut u16) = 1,
            9 => *(value as *mut u16) = (id == 0x0102020D) as u16,
            _ => return Err(ERR_BAD_ARGUMENT),
        }
        Ok(())
    })
}

#[no_mangle]
pub unsafe extern "C" fn pl_set_param(h: i16, id: u32, value: *mut c_void) -> rs_bool {
    if value.is_null() {
        return fail(ERR_BAD_ARGUMENT);
    }
    with_cam("pl_set_param", h, |c| {
        let Some((ty, _)) = lookup(id) else { return Err(ERR_NOT_AVAILABLE) };
        let v = match ty {
            TYPE_INT16 => *(value as *const i16) as i64,
            TYPE_UNS16 | TYPE_BOOLEAN => *(value as *const u16) as i64,
            TYPE_INT32 | TYPE_ENUM => *(value as *const i32) as i64,
            TYPE_UNS32 => *(value as *const u32) as i64,
            TYPE_INT64 | TYPE_UNS64 => *(value as *const i64),
            _ => return Err(ERR_READ_ONLY),
        };
        c.set(id, v)
    })
}

#[no_mangle]
pub unsafe extern "C" fn pl_get_enum_param(h: i16, id: u32, index: u32, value: *mut i32, desc: *mut c_char, length: u32) -> rs_bool {
    with_cam("pl_get_enum_param", h, |_| {
        let items = enum_items(id);
        let Some((v, label)) = items.get(index as usize) else { return Err(ERR_OUT_OF_RANGE) };
        if !value.is_null() {
            *value = *v;
        }
        if !desc.is_null() && length > 0 {
            write_str(desc, label, length as usize);
        }
        Ok(())
    })
}

#[no_mangle]
pub unsafe extern "C" fn pl_enum_str_length(h: i16, id: u32, index: u32, len: *mut u32) -> rs_bool {
    with_cam("pl_enum_str_length", h, |_| {
        let items = enum_items(id);
        let Some((_, label)) = items.get(index as usize) else { return Err(ERR_OUT_OF_RANGE) };
        if len.is_null() {
            return Err(ERR_BAD_ARGUMENT);
        }
        *len = label.len() as u32 + 1;
        Ok(())
    })
}

#[no_mangle]
pub extern "C" fn pl_pp_reset(h: i16) -> rs_bool {
    with_cam("pl_pp_reset", h, |_| Ok(()))
}

/// `rgn_type`: six uns16.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct rgn_type {
    pub s1: u16,
    pub s2: u16,
    pub sbin: u16,
    pub p1: u16,
    pub p2: u16,
    pub pbin: u16,
}

#[no_mangle]
pub unsafe extern "C" fn pl_exp_setup_cont(h: i16, rgn_total: u16, rgns: *const rgn_type, exp_mode: i16, exposure: u32, exp_bytes: *mut u32, buffer_mode: i16) -> rs_bool {
    if rgns.is_null() || exp_bytes.is_null() || !(0..=2).contains(&buffer_mode) {
        return fail(ERR_BAD_ARGUMENT);
    }
    with_cam("pl_exp_setup_cont", h, |c| {
        if rgn_total != 1 {
            return Err(ERR_REGION_INVALID);
        }
        let r = *rgns;
        let fb = c.setup((r.s1, r.s2, r.sbin, r.p1, r.p2, r.pbin), exp_mode as u16 as i32, exposure, buffer_mode)?;
        *exp_bytes = fb as u32;
        Ok(())
    })
}

#[no_mangle]
pub unsafe extern "C" fn pl_exp_start_cont(h: i16, buf: *mut c_void, size: u32) -> rs_bool {
    with_cam("pl_exp_start_cont", h, |c| c.start(buf as usize, size as usize))
}

#[no_mangle]
pub unsafe extern "C" fn pl_exp_setup_seq(h: i16, exp_total: u16, rgn_total: u16, rgns: *const rgn_type, exp_mode: i16, exposure: u32, exp_bytes: *mut u32) -> rs_bool {
    let mut fb = 0u32;
    let r = pl_exp_setup_cont(h, rgn_total, rgns, exp_mode, exposure, &mut fb, 0);
    if r == PV_OK && !exp_bytes.is_null() {
        *exp_bytes = fb * exp_total.max(1) as u32;
    }
    r
}

#[no_mangle]
pub unsafe extern "C" fn pl_exp_start_seq(h: i16, buf: *mut c_void) -> rs_bool {
    with_cam("pl_exp_start_seq", h, |c| {
        let fb = c.s.setup.as_ref().map(|s| s.frame_bytes).ok_or(ERR_SETUP_REQUIRED)?;
        c.start(buf as usize, fb)
    })
}

unsafe fn status_of(c: &Cam, status: *mut i16, bytes: *mut u32, cnt: *mut u32, fi: *mut FRAME_INFO) -> Result<(), i16> {
    let p = c.acq.p.lock().unwrap();
    let fb = c.s.setup.as_ref().map(|s| s.frame_bytes).unwrap_or(0);
    let n = c.ring_frames.max(1) as i64;
    if !status.is_null() {
        *status = if p.failed { 4 } else if p.frame_nr > 0 { 3 } else if p.running { 1 } else { 0 };
    }
    if !bytes.is_null() {
        *bytes = if p.written > 0 { (((p.written - 1) % n + 1) as usize * fb) as u32 } else { 0 };
    }
    if !cnt.is_null() {
        *cnt = ((p.written.max(1) - 1) / n) as u32;
    }
    if !fi.is_null() {
        (*fi).frame_nr = p.frame_nr as i32;
        (*fi).time_stamp = p.timestamp_us / 100;
        (*fi).time_stamp_bof = p.timestamp_us / 100;
        (*fi).h_cam = c.index;
    }
    if p.failed {
        return Err(ERR_DISCONNECTED);
    }
    Ok(())
}

#[no_mangle]
pub unsafe extern "C" fn pl_exp_check_status(h: i16, status: *mut i16, bytes: *mut u32) -> rs_bool {
    with_cam("pl_exp_check_status", h, |c| status_of(c, status, bytes, std::ptr::null_mut(), std::ptr::null_mut()))
}

#[no_mangle]
pub unsafe extern "C" fn pl_exp_check_cont_status(h: i16, status: *mut i16, bytes: *mut u32, cnt: *mut u32) -> rs_bool {
    with_cam("pl_exp_check_cont_status", h, |c| status_of(c, status, bytes, cnt, std::ptr::null_mut()))
}

#[no_mangle]
pub unsafe extern "C" fn pl_exp_check_cont_status_ex(h: i16, status: *mut i16, bytes: *mut u32, cnt: *mut u32, fi: *mut FRAME_INFO) -> rs_bool {
    with_cam("pl_exp_check_cont_status_ex", h, |c| status_of(c, status, bytes, cnt, fi))
}

/// The `k`-th frame written (1-based) and its info.
unsafe fn frame_at(c: &Cam, k: i64, frame: *mut *mut c_void, fi: *mut FRAME_INFO) -> Result<(), i16> {
    if frame.is_null() {
        return Err(ERR_BAD_ARGUMENT);
    }
    let fb = c.s.setup.as_ref().map(|s| s.frame_bytes).ok_or(ERR_SETUP_REQUIRED)?;
    let slot = (k as usize - 1) % c.ring_frames;
    let nr = if k == c.acq.p.lock().unwrap().written { c.acq.p.lock().unwrap().frame_nr } else { k };
    *frame = (c.ring + slot * fb) as *mut c_void;
    if !fi.is_null() {
        let p = c.acq.p.lock().unwrap();
        *fi = FRAME_INFO { guid: FRAME_INFO_GUID, h_cam: c.index, frame_nr: nr as i32, time_stamp: p.timestamp_us / 100, readout_time: 0, time_stamp_bof: p.timestamp_us / 100 };
    }
    Ok(())
}

#[no_mangle]
pub unsafe extern "C" fn pl_exp_get_latest_frame_ex(h: i16, frame: *mut *mut c_void, fi: *mut FRAME_INFO) -> rs_bool {
    with_cam("pl_exp_get_latest_frame", h, |c| {
        let k = c.acq.p.lock().unwrap().written;
        if k == 0 {
            return Err(ERR_NO_FRAME);
        }
        frame_at(c, k, frame, fi)
    })
}

#[no_mangle]
pub unsafe extern "C" fn pl_exp_get_latest_frame(h: i16, frame: *mut *mut c_void) -> rs_bool {
    pl_exp_get_latest_frame_ex(h, frame, std::ptr::null_mut())
}

#[no_mangle]
pub unsafe extern "C" fn pl_exp_get_oldest_frame_ex(h: i16, frame: *mut *mut c_void, fi: *mut FRAME_INFO) -> rs_bool {
    with_cam("pl_exp_get_oldest_frame", h, |c| {
        let (oldest, newest) = {
            let p = c.acq.p.lock().unwrap();
            (p.oldest, p.written)
        };
        if newest < oldest {
            return Err(ERR_NO_FRAME);
        }
        if newest - oldest >= c.ring_frames as i64 {
            return Err(ERR_OVERRUN);
        }
        frame_at(c, oldest, frame, fi)
    })
}

#[no_mangle]
pub unsafe extern "C" fn pl_exp_get_oldest_frame(h: i16, frame: *mut *mut c_void) -> rs_bool {
    pl_exp_get_oldest_frame_ex(h, frame, std::ptr::null_mut())
}

#[no_mangle]
pub extern "C" fn pl_exp_unlock_oldest_frame(h: i16) -> rs_bool {
    with_cam("pl_exp_unlock_oldest_frame", h, |c| {
        let mut p = c.acq.p.lock().unwrap();
        if p.oldest > p.written {
            return Err(ERR_NO_FRAME);
        }
        p.oldest += 1;
        drop(p);
        c.acq.cv.notify_all();
        Ok(())
    })
}

#[no_mangle]
pub extern "C" fn pl_exp_stop_cont(h: i16, _cam_state: i16) -> rs_bool {
    let mut worker = None;
    let r = with_cam("pl_exp_stop_cont", h, |c| {
        worker = c.halt();
        Ok(())
    });
    join([worker]);
    r
}

/// Stops any acquisition; succeeds when idle and after a disconnect (clients call it in
/// their cleanup).
#[no_mangle]
pub extern "C" fn pl_exp_abort(h: i16, _cam_state: i16) -> rs_bool {
    let mut l = lib().lock().unwrap();
    let i = match open_index(&l, h) {
        Ok(i) => i,
        Err(e) => return fail(e),
    };
    let worker = l.cams[i].halt();
    drop(l);
    join([worker]);
    PV_OK
}

#[no_mangle]
pub extern "C" fn pl_exp_finish_seq(h: i16, _buf: *mut c_void, _hbuf: i16) -> rs_bool {
    pl_exp_abort(h, 0)
}

#[no_mangle]
pub unsafe extern "C" fn pl_exp_trigger(h: i16, flags: *mut u32, _value: u32) -> rs_bool {
    with_cam("pl_exp_trigger", h, |c| {
        let mode = c.s.setup.as_ref().map(|s| params::trigger_of(s.mode)).unwrap_or(0);
        let mut p = c.acq.p.lock().unwrap();
        if !p.running || mode != 0xC00 {
            return Err(ERR_NOT_ACQUIRING);
        }
        // A trigger while the previous one is pending or its exposure runs is ignored.
        let ignored = p.exposing || p.sw_triggers > p.sw_taken;
        if !ignored {
            p.sw_triggers += 1;
        }
        drop(p);
        c.acq.cv.notify_all();
        if !flags.is_null() {
            *flags = ignored as u32; // PL_SW_TRIG_STATUS_TRIGGERED 0, IGNORED 1
        }
        Ok(())
    })
}

#[no_mangle]
pub unsafe extern "C" fn pl_create_frame_info_struct(fi: *mut *mut FRAME_INFO) -> rs_bool {
    if fi.is_null() {
        return fail(ERR_BAD_ARGUMENT);
    }
    *fi = Box::into_raw(Box::new(FRAME_INFO { guid: FRAME_INFO_GUID, ..Default::default() }));
    PV_OK
}

#[no_mangle]
pub unsafe extern "C" fn pl_release_frame_info_struct(fi: *mut FRAME_INFO) -> rs_bool {
    if fi.is_null() {
        return fail(ERR_BAD_ARGUMENT);
    }
    drop(Box::from_raw(fi));
    PV_OK
}

/// `PL_CALLBACK_BOF` 0, `EOF` 1 and `CAM_REMOVED` 3 are called on the worker thread (EOF
/// once a frame is complete in the ring, BOF before it is written, CAM_REMOVED when the camera
/// goes); `CHECK_CAMS` 2 and `CAM_RESUMED` 4 are not supported (the vendor sheet's "2, 4
/// unsupported") and fail with 12, as do a NULL function and an unknown event. A callback
/// may call into the library, but not (de)register callbacks.
#[no_mangle]
pub extern "C" fn pl_cam_register_callback_ex3(h: i16, event: i32, cb: *mut c_void, ctx: *mut c_void) -> rs_bool {
    with_cam("pl_cam_register_callback_ex3", h, |c| {
        if cb.is_null() || !matches!(event, 0 | 1 | 3) {
            return Err(ERR_BAD_ARGUMENT);
        }
        c.acq.callbacks.lock().unwrap()[event as usize] = Some((cb as usize, ctx as usize));
        Ok(())
    })
}

/// Waits for a call of that callback in progress to end; after it returns the callback is
/// not called again. Succeeds when nothing is registered.
#[no_mangle]
pub extern "C" fn pl_cam_deregister_callback(h: i16, event: i32) -> rs_bool {
    if let Some(c) = injected("pl_cam_deregister_callback") {
        return fail(c);
    }
    if !(0..4).contains(&event) {
        return fail(ERR_BAD_ARGUMENT);
    }
    // Not under the library's lock: a callback in progress may be calling into the library.
    let acq = {
        let l = lib().lock().unwrap();
        match open_index(&l, h) {
            Ok(i) => l.cams[i].acq.clone(),
            Err(e) => return fail(e),
        }
    };
    acq.callbacks.lock().unwrap()[event as usize] = None;
    PV_OK
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cam::Callback;
    use std::sync::atomic::{AtomicI64, Ordering::SeqCst};
    use std::time::{Duration, Instant};

    #[derive(Default)]
    struct Seen {
        bof: AtomicI64,
        eof: AtomicI64,
        last_nr: AtomicI64,
        latest_matches: AtomicI64,
        removed: AtomicI64,
    }

    unsafe extern "C" fn on_bof(_fi: *mut FRAME_INFO, ctx: *mut c_void) {
        (*(ctx as *const Seen)).bof.fetch_add(1, SeqCst);
    }

    unsafe extern "C" fn on_eof(fi: *mut FRAME_INFO, ctx: *mut c_void) {
        let s = &*(ctx as *const Seen);
        s.eof.fetch_add(1, SeqCst);
        s.last_nr.store((*fi).frame_nr as i64, SeqCst);
        // Calling into the library from the callback, as PVCAM's samples do.
        let (mut p, mut latest) = (std::ptr::null_mut(), FRAME_INFO::default());
        if pl_exp_get_latest_frame_ex((*fi).h_cam, &mut p, &mut latest) == PV_OK && latest.frame_nr == (*fi).frame_nr {
            s.latest_matches.fetch_add(1, SeqCst);
        }
    }

    unsafe extern "C" fn on_removed(_fi: *mut FRAME_INFO, ctx: *mut c_void) {
        (*(ctx as *const Seen)).removed.fetch_add(1, SeqCst);
    }

    #[test]
    fn callbacks_fire_per_frame_and_at_removal() {
        std::env::set_var("PVCAM_EMU_DISCONNECT_AFTER", "5");
        unsafe {
            assert_eq!(pl_pvcam_init(), PV_OK);
            let mut name = [0 as c_char; 32];
            assert_eq!(pl_cam_get_name(0, name.as_mut_ptr()), PV_OK);
            let mut h = 0;
            assert_eq!(pl_cam_open(name.as_ptr(), &mut h, 0), PV_OK);
            let rgn = rgn_type { s1: 0, s2: 31, sbin: 1, p1: 0, p2: 7, pbin: 1 };
            let mut bytes = 0u32;
            assert_eq!(pl_exp_setup_cont(h, 1, &rgn, 0x700, 1, &mut bytes, 1), PV_OK);
            let mut ring = vec![0u8; 8 * bytes as usize];
            let seen = Seen::default();
            let ctx = &seen as *const Seen as *mut c_void;
            for (event, f) in [(0, on_bof as Callback), (1, on_eof as Callback), (3, on_removed as Callback)] {
                assert_eq!(pl_cam_register_callback_ex3(h, event, f as *mut c_void, ctx), PV_OK);
            }
            assert_eq!(pl_cam_register_callback_ex3(h, 2, on_bof as Callback as *mut c_void, ctx), PV_FAIL);
            assert_eq!(pl_error_code(), ERR_BAD_ARGUMENT);
            assert_eq!(pl_cam_register_callback_ex3(h, 1, std::ptr::null_mut(), ctx), PV_FAIL);
            assert_eq!(pl_exp_start_cont(h, ring.as_mut_ptr() as *mut c_void, ring.len() as u32), PV_OK);
            let t = Instant::now();
            while seen.removed.load(SeqCst) == 0 && t.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(1));
            }
            assert_eq!(seen.removed.load(SeqCst), 1);
            assert_eq!(seen.bof.load(SeqCst), 5);
            assert_eq!(seen.eof.load(SeqCst), 5);
            assert_eq!(seen.last_nr.load(SeqCst), 5);
            assert_eq!(seen.latest_matches.load(SeqCst), 5);
            // Deregistering and aborting work after the disconnect; nothing fires afterwards.
            for event in [0, 1, 3] {
                assert_eq!(pl_cam_deregister_callback(h, event), PV_OK);
            }
            assert_eq!(pl_exp_abort(h, 0), PV_OK);
            assert_eq!(pl_cam_close(h), PV_OK);
            assert_eq!(pl_pvcam_uninit(), PV_OK);
            assert_eq!(seen.eof.load(SeqCst), 5);
        }
        std::env::remove_var("PVCAM_EMU_DISCONNECT_AFTER");
    }
}
