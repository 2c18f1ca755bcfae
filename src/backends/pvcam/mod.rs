//! `pvcam`: Photometrics / Teledyne cameras (Prime, Kinetix, Iris, Retiga) through PVCAM,
//! loaded at run time. Facts: `vendor-sdk/pvcam.md`.
//!
//! * Camera ids: `pvcam:<camera name>` as `pl_cam_get_name` gives it. PVCAM builds its
//!   camera list at `pl_pvcam_init`: listing (and opening a name not in the list) runs
//!   `pl_pvcam_uninit` + `pl_pvcam_init` again while no camera is open, so cameras plugged
//!   in later are found.
//! * ROI and binning are not parameters in PVCAM: they go into the `rgn_type` of
//!   `pl_exp_setup_cont` (0-based, inclusive). Binning must be one of the pairs of
//!   `BINNING_SER`/`BINNING_PAR` (INVALID_ARGUMENT otherwise); the ROI size is rounded down to a
//!   multiple of the binning.
//! * Exposure: `EXP_RES` is set to microseconds when the camera offers it (else
//!   milliseconds) and the exposure passed at setup in those units; limits from
//!   `EXPOSURE_TIME` MIN/MAX. The frame period cannot be set in PVCAM (exposure + readout):
//!   `set_frame_period(0)` (the fastest) is accepted, others give NOT_SUPPORTED.
//! * Triggers → exposure modes: INT `EXT_TRIG_INTERNAL` (0x700), EXT `EXT_TRIG_EDGE_RISING`
//!   (0x900), SOFTWARE `EXT_TRIG_SOFTWARE_EDGE` (0xC00, `pl_exp_trigger`), EXT_START
//!   `EXT_TRIG_TRIG_FIRST` (0x800), EXT_EXPOSURE `EXT_TRIG_LEVEL` (0xA00), when the camera's
//!   `EXPOSURE_MODE` lists them; expose-out FIRST_ROW. Older cameras that list only the
//!   classic modes get INT `TIMED_MODE` (0, also the default), EXT `STROBED_MODE` (1),
//!   EXT_START `TRIGGER_FIRST_MODE` (3), EXT_EXPOSURE `BULB_MODE` (2); no SOFTWARE.
//! * Acquisition: PVCAM writes frame k into slot k mod N of one circular buffer it is given
//!   (`pl_exp_start_cont`), and has no blocking wait: the stream reads
//!   `pl_exp_check_cont_status_ex`, and while nothing is new sleeps until PVCAM's
//!   end-of-frame callback (`pl_cam_register_callback_ex3`, `PL_CALLBACK_EOF`, registered
//!   before `pl_exp_start_cont` and deregistered after `pl_exp_abort`, as PVCAM's samples
//!   do) or for at most 20 ms. A library without the callback, or one that refuses it, is
//!   polled every 200 µs instead.
//!   - In place (when metadata is on, the labcam ring is under 4 GiB, PVCAM's `uns32` size,
//!     and an eighth of it lasts at least 20 ms at the camera's fastest frame rate, that is
//!     exposure plus readout): the labcam ring *is* that buffer, in CIRC_NO_OVERWRITE mode.
//!     Each ring slot holds PVCAM's frame as it lays it out (the 80-byte metadata header,
//!     then the pixels), so the ring's frame offset is 80 and `labcam_chunk.slot_bytes` =
//!     frame bytes + 80. The core gives PVCAM
//!     every free slot; a slot given back (its frame read, or given up) unlocks the frame
//!     that was in it (`pl_exp_get_oldest_frame` + `pl_exp_unlock_oldest_frame`). PVCAM does
//!     not wait for slots, so the core keeps an eighth of the ring free ahead of it by
//!     giving up the oldest unread frames (`lost_overwritten`); if PVCAM still writes over
//!     an unread frame, that frame is counted in `lost_overwritten`, and a reader that was
//!     copying it drops it (each slot's metadata header, which PVCAM writes first, must
//!     still name the frame after the copy); if PVCAM went round the whole ring unseen,
//!     every unread frame is given up and the frames never seen count in `lost_device`; if
//!     it writes over a locked chunk (held too long), the acquisition faults with BUSY.
//!   - Copy mode (a smaller or a larger ring, or a driver that refuses the ring in
//!     `pl_exp_start_cont`): PVCAM gets a buffer of its own (CIRC_OVERWRITE; up to 64 MiB
//!     and at most the ring, halved down to 8 frames while the driver refuses it) and the
//!     stream copies each new frame once into the labcam ring; frames PVCAM overwrote before
//!     they were copied, or while they were copied, count in `lost_device`.
//!   - Either way, frame numbers the camera skipped (metadata `frameNr` gaps) count in
//!     `lost_device`.
//! * `METADATA_ENABLED` is switched on when available: framestamp = the metadata frame number,
//!   timestamp = end-of-frame time in ns (`timestamp_hz` 1e9). Without metadata the
//!   framestamp counts frames.
//! * Attributes: every PVCAM parameter the camera reports available, by its name without
//!   the `PARAM_` prefix (`EXP_RES`, `GAIN_INDEX`, `TEMP`), with the kind from `ATTR_TYPE`,
//!   access from `ATTR_ACCESS`, limits, and enum entries by label.
//! * Errors: VENDOR with the function, `pl_error_code` and `pl_error_message`.

mod sys;

use crate::error::Num;
use crate::backend::{Device, Driver, FrameMeta, InPlaceEvent, RingLayout, Stream, WHOLE_RING};
use crate::error::Result;
use crate::loader::VendorLibrary;
use crate::model::*;
use parking_lot::Mutex;
use std::ffi::{c_char, c_void, CStr, CString};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use sys::{Api, PvFrameInfo, Rgn};

/// PVCAM parameters (name without `PARAM_`, id) — vendor-sdk/pvcam.md §5.4.
const PARAMS: &[(&str, u32)] = &[
    ("SER_SIZE", 0x0602003A), ("PAR_SIZE", 0x06020039), ("BIT_DEPTH", 0x010201FF), ("EXPOSURE_TIME", 0x08030008),
    ("EXP_RES", 0x09030002), ("EXPOSURE_MODE", 0x09020217), ("EXPOSE_OUT_MODE", 0x09020230), ("BINNING_SER", 0x090300A5),
    ("BINNING_PAR", 0x090300A6), ("READOUT_PORT", 0x090200F7), ("SPDTAB_INDEX", 0x01020201), ("GAIN_INDEX", 0x01020200),
    ("GAIN_NAME", 0x0D020202), ("SPDTAB_NAME", 0x0D020203), ("PIX_TIME", 0x06020204), ("READOUT_TIME", 0x040200B3),
    ("CLEARING_TIME", 0x100200B4), ("PRE_TRIGGER_DELAY", 0x100200B6), ("POST_TRIGGER_DELAY", 0x100200B5),
    ("CLEAR_MODE", 0x0902020B), ("CLEAR_CYCLES", 0x06020061), ("TEMP", 0x0102020D), ("TEMP_SETPOINT", 0x0102020E),
    ("FAN_SPEED_SETPOINT", 0x090202C6), ("METADATA_ENABLED", 0x0B0300A8), ("ROI_COUNT", 0x060300A9), ("CIRC_BUFFER", 0x0B03012B),
    ("FRAME_BUFFER_SIZE", 0x0803012C), ("COLOR_MODE", 0x090201F8), ("CHIP_NAME", 0x0D020081), ("SYSTEM_NAME", 0x0D020082),
    ("VENDOR_NAME", 0x0D020083), ("PRODUCT_NAME", 0x0D020084), ("CAMERA_PART_NUMBER", 0x0D020085), ("HEAD_SER_NUM_ALPHA", 0x0D020215),
    ("PIX_SER_SIZE", 0x0602003E), ("PIX_PAR_SIZE", 0x0602003F), ("PIX_SER_DIST", 0x060201F5), ("PIX_PAR_DIST", 0x060201F4),
];
const ATTR_CURRENT: i16 = 0;
const ATTR_COUNT: i16 = 1;
const ATTR_TYPE: i16 = 2;
const ATTR_MIN: i16 = 3;
const ATTR_MAX: i16 = 4;
const ATTR_INCREMENT: i16 = 6;
const ATTR_ACCESS: i16 = 7;
const ATTR_AVAIL: i16 = 8;
const CIRC_OVERWRITE: i16 = 1;
const CIRC_NO_OVERWRITE: i16 = 2;
const CCS_HALT: i16 = 1;
const EXP_RES: u32 = 0x09030002;
const EXPOSURE_TIME: u32 = 0x08030008;
const METADATA_ENABLED: u32 = 0x0B0300A8;
/// labcam trigger → PVCAM exposure mode: the extended mode, else the classic one of older
/// cameras whose `EXPOSURE_MODE` lists only those (pvcam.md: 0 TIMED, 1 STROBED, 2 BULB,
/// 3 TRIGGER_FIRST).
const TRIGGERS: [(TriggerMode, i32, Option<i32>); 5] = [
    (TriggerMode::Int, 0x700, Some(0)),
    (TriggerMode::Ext, 0x900, Some(1)),
    (TriggerMode::Software, 0xC00, None),
    (TriggerMode::ExtStart, 0x800, Some(3)),
    (TriggerMode::ExtExposure, 0xA00, Some(2)),
];

pub struct PvcamDriver {
    lib: VendorLibrary<Api>,
    /// Cameras open now; held (locked) while listing or opening, so that the camera list is
    /// rebuilt only while none is open.
    open_cams: Arc<Mutex<usize>>,
    /// `pl_pvcam_init` has just run (the list is new): the next refresh is not needed.
    fresh: std::sync::atomic::AtomicBool,
}

impl PvcamDriver {
    pub fn new() -> Self {
        PvcamDriver { lib: VendorLibrary::new(), open_cams: Arc::new(Mutex::new(0)), fresh: std::sync::atomic::AtomicBool::new(false) }
    }

    /// PVCAM builds its camera list at `pl_pvcam_init` only: while no camera is open,
    /// `pl_pvcam_uninit` + `pl_pvcam_init` rebuild it, so a camera plugged in (or back)
    /// since shows up.
    fn refresh(&self, api: &Api, open: usize) -> Result<()> {
        if open > 0 || self.fresh.swap(false, std::sync::atomic::Ordering::AcqRel) {
            return Ok(());
        }
        unsafe { (api.pl_pvcam_uninit)() };
        api.check("pl_pvcam_init", unsafe { (api.pl_pvcam_init)() })
    }
    /// The table, with `pl_pvcam_init` done once for it (PVCAM refuses a second init).
    fn api(&self) -> Result<Arc<Api>> {
        self.lib.get(|path| {
            let api = sys::load(path)?;
            api.check("pl_pvcam_init", unsafe { (api.pl_pvcam_init)() })?;
            self.fresh.store(true, std::sync::atomic::Ordering::Release);
            Ok(api)
        })
    }
}

impl Default for PvcamDriver {
    fn default() -> Self {
        Self::new()
    }
}

fn names(api: &Api) -> Result<Vec<String>> {
    let mut n = 0i16;
    api.check("pl_cam_get_total", unsafe { (api.pl_cam_get_total)(&mut n) })?;
    (0..n)
        .map(|i| {
            let mut buf = [0 as c_char; 64];
            api.check("pl_cam_get_name", unsafe { (api.pl_cam_get_name)(i, buf.as_mut_ptr()) })?;
            Ok(unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned())
        })
        .collect()
}

impl Driver for PvcamDriver {
    fn name(&self) -> &'static str {
        "pvcam"
    }

    fn list(&self) -> Result<Vec<String>> {
        let api = self.api()?;
        let open = self.open_cams.lock();
        self.refresh(&api, *open)?;
        names(&api)
    }

    fn open(&self, id: &str) -> Result<Box<dyn Device>> {
        let api = self.api()?;
        let mut open = self.open_cams.lock();
        let mut all = names(&api)?;
        if !all.iter().any(|n| n == id) {
            // Plugged in since the list was built?
            self.refresh(&api, *open)?;
            all = names(&api)?;
        }
        if !all.iter().any(|n| n == id) {
            if all.is_empty() {
                bail!(NOT_FOUND, "PVCAM reports no camera (on Linux, check that /opt/pvcam/etc/profile.d/pvcam.sh has set PVCAM_UMD_PATH)");
            }
            bail!(NOT_FOUND, "no PVCAM camera '{id}' (cameras: {})", all.join(", "));
        }
        let c = CString::new(id).map_err(|_| err!(INVALID_ARGUMENT, "camera name contains NUL"))?;
        let mut h = 0i16;
        if unsafe { (api.pl_cam_open)(c.as_ptr(), &mut h, 0) } != sys::PV_OK {
            let e = api.error("pl_cam_open");
            return Err(if e.message.contains("busy") || e.message.contains("open") { crate::Error::new(crate::Status::BUSY, e.message) } else { e });
        }
        *open += 1;
        let mut cam = PvcamCamera { api, h, name: id.to_string(), params: Vec::new(), roi: Roi::default(), exposure: 0.01, trigger: 0x700, res_us: 1000.0, metadata: false, pool: None, readout_s: 0.0, ring_frames: 0, eof: Arc::new(EofSignal::default()), active: Arc::new(()), open_cams: self.open_cams.clone() };
        drop(open);
        cam.init()?;
        Ok(Box::new(cam))
    }

    fn set_library_path(&self, path: Option<PathBuf>) -> Result<()> {
        self.lib.set_path(path);
        Ok(())
    }
}

/// The circular buffer handed to PVCAM (one block, frame k at slot k mod n).
struct Ring {
    ptr: *mut u8,
    bytes: usize,
    n: usize,
    frame_bytes: usize,
}

// SAFETY: a plain heap block; PVCAM and the one running stream are its only users.
unsafe impl Send for Ring {}
unsafe impl Sync for Ring {}

impl Ring {
    fn new(n: usize, frame_bytes: usize) -> Ring {
        let v = vec![1u8; n * frame_bytes].into_boxed_slice();
        let bytes = v.len();
        Ring { ptr: Box::into_raw(v) as *mut u8, bytes, n, frame_bytes }
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this length.
        unsafe { drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(self.ptr, self.bytes))) };
    }
}

pub struct PvcamCamera {
    api: Arc<Api>,
    h: i16,
    name: String,
    /// Available parameters: (name, id, ATTR_TYPE).
    params: Vec<(&'static str, u32, u16)>,
    roi: Roi,
    exposure: f64,
    trigger: i32,
    /// Seconds per EXP_RES unit, in µs.
    res_us: f64,
    metadata: bool,
    pool: Option<Arc<Mutex<Ring>>>,
    readout_s: f64,
    /// Frames in the labcam ring (from `setup`).
    ring_frames: usize,
    /// Counts PVCAM's end-of-frame callbacks; lives as long as the camera is open, so a
    /// callback that runs late never finds it gone.
    eof: Arc<EofSignal>,
    /// Held by the running stream: the camera is acquiring while a clone exists.
    active: Arc<()>,
    /// The driver's count of open cameras, less this one when it closes.
    open_cams: Arc<Mutex<usize>>,
}

/// End-of-frame callbacks (`PL_CALLBACK_EOF`) counted, so that the stream sleeps until PVCAM
/// reports a frame instead of polling `pl_exp_check_cont_status_ex`.
#[derive(Default)]
struct EofSignal {
    count: Mutex<u64>,
    cv: parking_lot::Condvar,
}

impl EofSignal {
    fn count(&self) -> u64 {
        *self.count.lock()
    }

    /// Wait until a callback came after the count was `seen`, or until `until`.
    fn wait(&self, seen: u64, until: Instant) {
        let mut c = self.count.lock();
        while *c == seen {
            if self.cv.wait_until(&mut c, until).timed_out() {
                return;
            }
        }
    }
}

/// The `PL_CALLBACK_EOF` callback, on a PVCAM thread: `ctx` is the camera's `EofSignal`.
unsafe extern "C" fn on_eof(_info: *mut sys::PvFrameInfo, ctx: *mut c_void) {
    // SAFETY: registered with a pointer to the camera's EofSignal, which outlives the
    // registration (the camera deregisters before it closes, and keeps the Arc until then).
    let s = unsafe { &*(ctx as *const EofSignal) };
    *s.count.lock() += 1;
    s.cv.notify_all();
}

impl Drop for PvcamCamera {
    fn drop(&mut self) {
        let mut open = self.open_cams.lock();
        unsafe {
            (self.api.pl_exp_abort)(self.h, CCS_HALT);
            (self.api.pl_cam_close)(self.h);
        }
        *open -= 1;
    }
}

impl PvcamCamera {
    /// Register the end-of-frame callback for the acquisition about to start (PVCAM's
    /// sample programs register before `pl_exp_start_cont` and deregister after
    /// `pl_exp_abort`). None, and the stream polls, when the library has no callbacks or
    /// refuses it.
    fn register_eof(&self) -> Option<Arc<EofSignal>> {
        let cb = self.api.callbacks.as_ref()?;
        let f: sys::Callback = on_eof;
        let ctx = Arc::as_ptr(&self.eof) as *mut c_void;
        // SAFETY: on_eof has the callback signature; ctx stays valid while the camera is open.
        if unsafe { (cb.register)(self.h, sys::PL_CALLBACK_EOF, f as *mut c_void, ctx) } != sys::PV_OK {
            crate::log::info(&format!("PVCAM refused the end-of-frame callback ({}); polling instead", self.api.error("pl_cam_register_callback_ex3")));
            return None;
        }
        Some(self.eof.clone())
    }

    /// The exposure mode the camera offers for `mode`: extended, else classic.
    fn exposure_mode_for(&self, mode: TriggerMode) -> Result<i32> {
        let (_, ext, classic) = *TRIGGERS.iter().find(|t| t.0 == mode).unwrap();
        let (id, _) = self.param("EXPOSURE_MODE")?;
        let items = self.items(id)?;
        if let Some(v) = [Some(ext), classic].into_iter().flatten().find(|v| items.iter().any(|i| i.0 == *v)) {
            return Ok(v);
        }
        bail!(NOT_SUPPORTED, "no exposure mode for {} among the camera's: {}", mode.name(), items.iter().map(|i| format!("{} ({:#x})", i.1, i.0)).collect::<Vec<_>>().join(", "))
    }

    /// Whether an acquisition is running (its stream alive).
    fn running(&self) -> bool {
        Arc::strong_count(&self.active) > 1
    }

    /// WRONG_STATE for a setting PVCAM takes only at pl_exp_setup_cont, while acquiring.
    fn check_not_running(&self, what: &str) -> Result<()> {
        if self.running() {
            bail!(WRONG_STATE, "cannot change {what} while acquiring (PVCAM takes it at pl_exp_setup_cont); stop first");
        }
        Ok(())
    }

    fn get_raw(&self, id: u32, attr: i16, out: *mut c_void) -> Result<()> {
        self.api.check("pl_get_param", unsafe { (self.api.pl_get_param)(self.h, id, attr, out) })
    }

    fn get_u16(&self, id: u32, attr: i16) -> Result<u16> {
        let mut v = 0u16;
        self.get_raw(id, attr, &mut v as *mut u16 as *mut c_void)?;
        Ok(v)
    }

    /// A numeric parameter's attribute as i64, by the parameter's type.
    fn get_num(&self, id: u32, ty: u16, attr: i16) -> Result<i64> {
        let mut buf = [0u8; 8];
        self.get_raw(id, attr, buf.as_mut_ptr() as *mut c_void)?;
        Ok(match ty {
            1 => i16::from_ne_bytes([buf[0], buf[1]]) as i64,
            6 | 11 => u16::from_ne_bytes([buf[0], buf[1]]) as i64,
            2 | 9 => i32::from_ne_bytes(buf[..4].try_into().unwrap()) as i64,
            7 => u32::from_ne_bytes(buf[..4].try_into().unwrap()) as i64,
            12 => buf[0] as i8 as i64,
            5 => buf[0] as i64,
            8 | 16 => i64::from_ne_bytes(buf),
            _ => bail!(NOT_SUPPORTED, "parameter {id:#x} of type {ty} is not numeric"),
        })
    }

    fn set_num(&self, id: u32, ty: u16, v: i64) -> Result<()> {
        let mut buf = [0u8; 8];
        match ty {
            1 => buf[..2].copy_from_slice(&(v as i16).to_ne_bytes()),
            6 | 11 => buf[..2].copy_from_slice(&(v as u16).to_ne_bytes()),
            2 | 9 => buf[..4].copy_from_slice(&(v as i32).to_ne_bytes()),
            7 => buf[..4].copy_from_slice(&(v as u32).to_ne_bytes()),
            12 | 5 => buf[0] = v as u8,
            8 | 16 => buf = v.to_ne_bytes(),
            _ => bail!(NOT_SUPPORTED, "parameter {id:#x} of type {ty} is not numeric"),
        }
        self.api.check("pl_set_param", unsafe { (self.api.pl_set_param)(self.h, id, buf.as_mut_ptr() as *mut c_void) })
    }

    fn string(&self, id: u32) -> Result<String> {
        let mut n = 0u32;
        self.get_raw(id, ATTR_COUNT, &mut n as *mut u32 as *mut c_void)?;
        let mut buf = vec![0 as c_char; n.max(1) as usize + 1];
        self.get_raw(id, ATTR_CURRENT, buf.as_mut_ptr() as *mut c_void)?;
        Ok(unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned())
    }

    /// Enum items (value, label).
    fn items(&self, id: u32) -> Result<Vec<(i32, String)>> {
        let mut n = 0u32;
        self.get_raw(id, ATTR_COUNT, &mut n as *mut u32 as *mut c_void)?;
        (0..n)
            .map(|i| {
                let mut v = 0i32;
                let mut buf = [0 as c_char; 256];
                self.api.check("pl_get_enum_param", unsafe { (self.api.pl_get_enum_param)(self.h, id, i, &mut v, buf.as_mut_ptr(), 256) })?;
                Ok((v, unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned()))
            })
            .collect()
    }

    fn param(&self, name: &str) -> Result<(u32, u16)> {
        self.params.iter().find(|p| p.0 == name).map(|p| (p.1, p.2)).ok_or_else(|| err!(NOT_FOUND, "PVCAM camera '{}' has no available parameter '{name}'", self.name))
    }

    fn has(&self, id: u32) -> bool {
        self.params.iter().any(|p| p.1 == id)
    }

    /// Probe the parameters, choose µs exposure and metadata, reset the ROI.
    fn init(&mut self) -> Result<()> {
        for (name, id) in PARAMS {
            let avail = self.get_u16(*id, ATTR_AVAIL).unwrap_or(0);
            if avail != 0 {
                let ty = self.get_u16(*id, ATTR_TYPE)?;
                self.params.push((name, *id, ty));
            }
        }
        if self.has(EXP_RES) && self.items(EXP_RES)?.iter().any(|i| i.0 == 1) {
            self.set_num(EXP_RES, 9, 1)?;
            self.res_us = 1.0;
        }
        if self.has(METADATA_ENABLED) && self.set_num(METADATA_ENABLED, 11, 1).is_ok() {
            self.metadata = true;
        }
        // The internal trigger in the form the camera offers (classic TIMED_MODE on older
        // cameras).
        if let Ok(v) = self.exposure_mode_for(TriggerMode::Int) {
            self.trigger = v;
        }
        let (w, h) = self.detector_size()?;
        self.roi = Roi { hstart: 0, hend: w, vstart: 0, vend: h, hbin: 1, vbin: 1 };
        Ok(())
    }

    fn binnings(&self) -> Result<Vec<(i64, i64)>> {
        let (Ok((s, _)), Ok((p, _))) = (self.param("BINNING_SER"), self.param("BINNING_PAR")) else { return Ok(vec![(1, 1)]) };
        let ser = self.items(s)?;
        let par = self.items(p)?;
        Ok(ser.iter().zip(par.iter()).map(|(a, b)| (a.0 as i64, b.0 as i64)).collect())
    }

    fn rgn(&self) -> Rgn {
        let r = self.roi;
        Rgn { s1: r.hstart as u16, s2: (r.hend - 1) as u16, sbin: r.hbin as u16, p1: r.vstart as u16, p2: (r.vend - 1) as u16, pbin: r.vbin as u16 }
    }

    /// The exposure in EXP_RES units.
    fn exposure_units(&self) -> u32 {
        (self.exposure * 1e6 / self.res_us).round() as u32
    }

    /// Slot size when PVCAM writes into the labcam ring itself. Metadata must be on: each
    /// slot's header names the frame in it, which is how readers notice PVCAM overwrote a
    /// frame they were copying (`slot_holds`). PVCAM's buffer size is an `uns32`, so the ring
    /// must stay under 4 GiB; and as PVCAM cannot be held back, the
    /// eighth of the ring kept free ahead of it must last `IN_PLACE_MARGIN` at the camera's
    /// fastest frame rate (exposure + readout), so that a reader copying the oldest frames
    /// is never caught up with. Smaller rings copy frames out of a buffer of PVCAM's own.
    fn in_place_slot(&self, frame_bytes: usize) -> Option<usize> {
        let total = self.ring_frames.checked_mul(frame_bytes)?;
        let margin_s = (self.ring_frames / 8) as f64 * (self.exposure + self.readout_s);
        (self.metadata && self.ring_frames > 0 && frame_bytes > 0 && total <= u32::MAX as usize && margin_s >= IN_PLACE_MARGIN).then_some(frame_bytes)
    }

    /// `pl_exp_setup_cont` with the current settings; returns the bytes per frame.
    fn setup_cont(&mut self) -> Result<usize> {
        let rgn = self.rgn();
        let exposure = self.exposure_units();
        let mut fb = 0u32;
        let r = unsafe { (self.api.pl_exp_setup_cont)(self.h, 1, &rgn, self.trigger as i16, exposure, &mut fb, CIRC_OVERWRITE) };
        self.api.check("pl_exp_setup_cont", r)?;
        // labcam reads one region after a frame header and a region header of their base
        // sizes (MD_BYTES). A camera that adds extended metadata blocks makes frames larger;
        // their pixels would be read at the wrong place, so refuse rather than deliver them.
        let pixels = self.frame_format()?.frame_bytes as usize;
        let want = pixels + if self.metadata { MD_BYTES } else { 0 };
        if fb as usize != want {
            bail!(NOT_SUPPORTED, "PVCAM frames are {fb} bytes, not the {want} of {pixels} bytes of pixels{}: extended metadata is not supported; switch METADATA_ENABLED off or the camera's extended metadata off", if self.metadata { " after an 80-byte metadata header" } else { "" });
        }
        if let Ok((id, ty)) = self.param("READOUT_TIME") {
            if let Ok(us) = self.get_num(id, ty, ATTR_CURRENT) {
                self.readout_s = us as f64 * 1e-6;
            }
        }
        Ok(fb as usize)
    }
}

impl Device for PvcamCamera {
    fn device_info(&mut self) -> Result<Vec<(String, String)>> {
        let s = |n: &str| self.param(n).and_then(|(id, _)| self.string(id)).unwrap_or_default();
        let mut ver = 0u16;
        unsafe { (self.api.pl_pvcam_get_ver)(&mut ver) };
        Ok(vec![
            ("backend".into(), "pvcam".into()),
            ("vendor".into(), s("VENDOR_NAME")),
            ("model".into(), s("PRODUCT_NAME")),
            ("serial".into(), s("HEAD_SER_NUM_ALPHA")),
            ("sdk_version".into(), format!("PVCAM {}.{}.{}", ver >> 8, (ver >> 4) & 0xF, ver & 0xF)),
            ("chip".into(), s("CHIP_NAME")),
            ("name".into(), self.name.clone()),
            ("library".into(), self.api.path.clone()),
        ])
    }

    fn detector_size(&mut self) -> Result<(i64, i64)> {
        let (w, wt) = self.param("SER_SIZE")?;
        let (h, ht) = self.param("PAR_SIZE")?;
        Ok((self.get_num(w, wt, ATTR_CURRENT)?, self.get_num(h, ht, ATTR_CURRENT)?))
    }

    fn roi_limits(&mut self) -> Result<RoiLimits> {
        let (w, h) = self.detector_size()?;
        let b = self.binnings()?;
        let mh = b.iter().map(|x| x.0).max().unwrap_or(1);
        let mv = b.iter().map(|x| x.1).max().unwrap_or(1);
        let mask = |it: &mut dyn Iterator<Item = i64>| it.fold(0u64, |m, x| if (1..=64).contains(&x) { m | 1 << (x - 1) } else { m });
        Ok(RoiLimits {
            min_width: self.roi.hbin,
            max_width: w,
            min_height: self.roi.vbin,
            max_height: h,
            hstart_step: 1,
            vstart_step: 1,
            width_step: self.roi.hbin,
            height_step: self.roi.vbin,
            max_hbin: mh,
            max_vbin: mv,
            hbin_mask: mask(&mut b.iter().map(|x| x.0)),
            vbin_mask: mask(&mut b.iter().map(|x| x.1)),
        })
    }

    fn set_roi(&mut self, r: Roi) -> Result<Roi> {
        let pairs = self.binnings()?;
        if !pairs.contains(&(r.hbin, r.vbin)) {
            bail!(INVALID_ARGUMENT, "binning {}x{} not among the camera's pairs ({})", r.hbin, r.vbin, pairs.iter().map(|p| format!("{}x{}", p.0, p.1)).collect::<Vec<_>>().join(", "));
        }
        let w = (r.hend - r.hstart) / r.hbin * r.hbin;
        let h = (r.vend - r.vstart) / r.vbin * r.vbin;
        if w == 0 || h == 0 {
            bail!(INVALID_ARGUMENT, "ROI {}x{} px is smaller than one {}x{} bin", r.hend - r.hstart, r.vend - r.vstart, r.hbin, r.vbin);
        }
        self.roi = Roi { hstart: r.hstart, hend: r.hstart + w, vstart: r.vstart, vend: r.vstart + h, hbin: r.hbin, vbin: r.vbin };
        Ok(self.roi)
    }

    fn roi(&mut self) -> Result<Roi> {
        Ok(self.roi)
    }

    fn frame_format(&mut self) -> Result<FrameFormat> {
        let bits = match self.param("BIT_DEPTH") {
            Ok((id, ty)) => self.get_num(id, ty, ATTR_CURRENT)?,
            Err(_) => 16,
        };
        let bpp = (bits - 1) / 8 + 1;
        Ok(FrameFormat::new(self.roi.width(), self.roi.height(), bpp.max(1), bits))
    }

    fn set_exposure(&mut self, seconds: f64) -> Result<f64> {
        self.check_not_running("the exposure")?;
        let (id, ty) = self.param("EXPOSURE_TIME").unwrap_or((EXPOSURE_TIME, 8));
        let lo = self.get_num(id, ty, ATTR_MIN).unwrap_or(0) as f64 * self.res_us * 1e-6;
        let hi = self.get_num(id, ty, ATTR_MAX).unwrap_or(i64::MAX) as f64 * self.res_us * 1e-6;
        if seconds < lo || seconds > hi {
            bail!(INVALID_ARGUMENT, "exposure {} s out of the camera's range [{lo}, {hi}] s", Num(seconds));
        }
        let units = (seconds * 1e6 / self.res_us).round();
        self.exposure = units * self.res_us * 1e-6;
        Ok(self.exposure)
    }

    fn exposure(&mut self) -> Result<f64> {
        Ok(self.exposure)
    }

    fn set_frame_period(&mut self, seconds: f64) -> Result<f64> {
        if seconds > 0.0 {
            bail!(NOT_SUPPORTED, "PVCAM cameras run at exposure + readout: the frame period cannot be set (0, the fastest, is accepted)");
        }
        Ok(self.frame_timings()?.1)
    }

    fn frame_timings(&mut self) -> Result<(f64, f64)> {
        Ok((self.exposure, self.exposure + self.readout_s))
    }

    fn set_trigger_mode(&mut self, mode: TriggerMode) -> Result<()> {
        self.trigger = self.exposure_mode_for(mode)?;
        Ok(())
    }

    fn trigger_mode(&mut self) -> Result<TriggerMode> {
        Ok(TRIGGERS.iter().find(|t| t.1 == self.trigger || t.2 == Some(self.trigger)).map(|t| t.0).unwrap_or(TriggerMode::Int))
    }

    fn send_software_trigger(&mut self) -> Result<()> {
        if self.trigger != 0xC00 {
            bail!(WRONG_STATE, "software trigger sent while the exposure mode is not SOFTWARE_EDGE");
        }
        let mut flags = 0u32;
        self.api.check("pl_exp_trigger", unsafe { (self.api.pl_exp_trigger)(self.h, &mut flags, 0) })?;
        if flags != 0 {
            bail!(BUSY, "pl_exp_trigger: trigger ignored (an exposure is in progress)");
        }
        Ok(())
    }

    fn attr_names(&mut self) -> Result<Vec<String>> {
        Ok(self.params.iter().map(|p| p.0.to_string()).collect())
    }

    fn attr_info(&mut self, name: &str) -> Result<AttrInfo> {
        let (id, ty) = self.param(name)?;
        let kind = match ty {
            9 => AttrKind::Enum,
            11 => AttrKind::Bool,
            13 => AttrKind::String,
            4 | 19 => AttrKind::Float,
            1 | 2 | 5 | 6 | 7 | 8 | 12 | 16 => AttrKind::Int,
            _ => bail!(NOT_SUPPORTED, "parameter '{name}' has PVCAM type {ty}, which labcam does not map"),
        };
        let access = self.get_u16(id, ATTR_ACCESS)?;
        let mut info = AttrInfo::of(kind, access == 2 || access == 4);
        // Parameters valid only after a setup (READOUT_TIME, ...) fail with 188 before it:
        // not readable now.
        let readable_now = match kind {
            AttrKind::String => true,
            _ => self.get_num(id, ty, ATTR_CURRENT).is_ok(),
        };
        info.readable = ((access == 1 || access == 2) && readable_now) as i64;
        match kind {
            AttrKind::Int => {
                if let (Ok(lo), Ok(hi)) = (self.get_num(id, ty, ATTR_MIN), self.get_num(id, ty, ATTR_MAX)) {
                    let inc = self.get_num(id, ty, ATTR_INCREMENT).unwrap_or(1);
                    (info.int_min, info.int_max, info.int_step) = (lo, hi, inc.max(1));
                }
            }
            AttrKind::Enum => info.enum_count = self.items(id)?.len() as i64,
            _ => {}
        }
        Ok(info)
    }

    fn attr_enum_entries(&mut self, name: &str) -> Result<Vec<EnumEntry>> {
        let (id, _) = self.param(name)?;
        Ok(self.items(id)?.into_iter().map(|(_, l)| EnumEntry { name: l, available: true }).collect())
    }

    fn get_attr(&mut self, name: &str) -> Result<AttrValue> {
        let (id, ty) = self.param(name)?;
        Ok(match ty {
            9 => {
                let v = self.get_num(id, ty, ATTR_CURRENT)? as i32;
                let items = self.items(id)?;
                AttrValue::Enum(items.iter().find(|i| i.0 == v).map(|i| i.1.clone()).unwrap_or_else(|| v.to_string()))
            }
            11 => AttrValue::Bool(self.get_num(id, ty, ATTR_CURRENT)? != 0),
            13 => AttrValue::String(self.string(id)?),
            4 | 19 => bail!(NOT_SUPPORTED, "floating-point PVCAM parameters are not mapped"),
            _ => AttrValue::Int(self.get_num(id, ty, ATTR_CURRENT)?),
        })
    }

    fn set_attr(&mut self, name: &str, value: AttrValue) -> Result<()> {
        let info = self.attr_info(name)?;
        if info.writable == 0 {
            bail!(NOT_SUPPORTED, "parameter '{name}' is read-only (ATTR_ACCESS)");
        }
        let (id, ty) = self.param(name)?;
        let v = match value {
            // Limits were checked by the core (AttrInfo::check_value).
            AttrValue::Int(v) => v,
            AttrValue::Bool(b) => b as i64,
            AttrValue::Enum(label) => self.items(id)?.into_iter().find(|i| i.1 == label).map(|i| i.0 as i64).ok_or_else(|| err!(NOT_FOUND, "'{label}' is not an item of {name}"))?,
            v => bail!(ATTR_TYPE, "parameter '{name}' cannot take {v:?}"),
        };
        if let Err(e) = self.set_num(id, ty, v) {
            if self.running() {
                bail!(WRONG_STATE, "parameter '{name}' cannot change while acquiring; stop first ({})", e.message);
            }
            return Err(e);
        }
        if id == EXP_RES {
            self.res_us = match v {
                1 => 1.0,
                2 => 1e6,
                _ => 1e3,
            };
            // The exposure is kept in the new unit: rounded to it, within the camera's range
            // (10 ms becomes 1 s at one-second resolution, not an exposure of 0 that
            // pl_exp_setup_cont refuses). labcam_get_exposure shows the result.
            let (eid, ety) = self.param("EXPOSURE_TIME").unwrap_or((EXPOSURE_TIME, 8));
            let lo = self.get_num(eid, ety, ATTR_MIN).unwrap_or(0).max(0);
            let hi = self.get_num(eid, ety, ATTR_MAX).unwrap_or(u32::MAX as i64).clamp(lo, u32::MAX as i64);
            let units = ((self.exposure * 1e6 / self.res_us).round() as i64).clamp(lo, hi);
            self.exposure = units as f64 * self.res_us * 1e-6;
        }
        if id == METADATA_ENABLED {
            self.metadata = v != 0;
        }
        Ok(())
    }

    fn attr_command(&mut self, name: &str) -> Result<()> {
        bail!(ATTR_TYPE, "PVCAM parameter '{name}' is not a command")
    }

    fn setup(&mut self, nframes: usize) -> Result<()> {
        let fb = self.setup_cont()?;
        self.ring_frames = nframes;
        if self.in_place_slot(fb).is_some() {
            // PVCAM writes into the labcam ring: no buffer of its own.
            self.pool = None;
            return Ok(());
        }
        let n = own_buffer_frames(fb, nframes);
        let fits = self.pool.as_ref().map(|p| {
            let p = p.lock();
            p.frame_bytes == fb && p.n == n
        });
        if fits != Some(true) {
            self.pool = Some(Arc::new(Mutex::new(Ring::new(n, fb))));
        }
        Ok(())
    }

    fn ring_layout(&mut self) -> Result<Option<RingLayout>> {
        let fb = self.setup_cont()?;
        Ok(self.in_place_slot(fb).map(|slot_bytes| RingLayout { slot_bytes, frame_offset: MD_BYTES, check: Some(slot_holds) }))
    }

    fn clear(&mut self) -> Result<()> {
        self.pool = None;
        Ok(())
    }

    fn start(&mut self) -> Result<Box<dyn Stream>> {
        let fb = self.setup_cont()?;
        let fmt = self.frame_format()?;
        let eof = self.register_eof();
        let mut stream = PvcamStream {
            api: self.api.clone(),
            h: self.h,
            rgn: self.rgn(),
            mode: self.trigger as i16,
            exposure: self.exposure_units(),
            frame_bytes: fb,
            pool: None,
            metadata: self.metadata,
            pixel_bytes: fmt.frame_bytes as usize,
            copied: 0,
            written: 0,
            last_nr: 0,
            pending_lost: 0,
            skipped: 0,
            in_place: None,
            lap_ref: Some(0),
            eof,
            _active: self.active.clone(),
        };
        if self.in_place_slot(fb).is_some() {
            // Started by attach_ring, into the labcam ring.
            stream.in_place = Some(InPlace { base: std::ptr::null_mut(), n: 0, given: 0, released: 0 });
            return Ok(Box::new(stream));
        }
        if self.pool.as_ref().map(|p| p.lock().frame_bytes) != Some(fb) {
            self.pool = Some(Arc::new(Mutex::new(Ring::new(own_buffer_frames(fb, self.ring_frames), fb))));
        }
        // Keep the buffer the driver accepted for the next start.
        self.pool = Some(stream.start_copy(self.pool.clone().unwrap())?);
        Ok(Box::new(stream))
    }

    fn stop(&mut self) -> Result<()> {
        Ok(())
    }
}

/// The least time, in seconds, PVCAM must take to reach the oldest unread frame of an
/// in-place ring (see `in_place_slot`).
const IN_PLACE_MARGIN: f64 = 0.02;

/// Frames of PVCAM's own buffer in copy mode: up to 64 MiB, at least 8 frames, at most the
/// labcam ring's `ring_frames`.
fn own_buffer_frames(frame_bytes: usize, ring_frames: usize) -> usize {
    ((64usize << 20) / frame_bytes.max(1)).clamp(8, ring_frames.max(8))
}

/// Bytes PVCAM writes before the pixels of a one-region frame with metadata: an
/// `md_frame_header` (48) and one `md_frame_roi_header` (32).
const MD_BYTES: usize = 80;

/// The acquisition when PVCAM's circular buffer is the labcam ring itself.
struct InPlace {
    /// The ring (set by attach_ring), `n` slots of `frame_bytes`.
    base: *mut u8,
    n: usize,
    /// Slots the core has handed over so far: PVCAM may write frames `0..given`.
    given: i64,
    /// Frames unlocked in PVCAM so far (`pl_exp_unlock_oldest_frame`).
    released: i64,
}

struct PvcamStream {
    api: Arc<Api>,
    h: i16,
    rgn: Rgn,
    mode: i16,
    exposure: u32,
    /// Bytes per frame in PVCAM's buffer (metadata headers and pixels).
    frame_bytes: usize,
    /// Copy mode: PVCAM's own circular buffer.
    pool: Option<Arc<Mutex<Ring>>>,
    metadata: bool,
    pixel_bytes: usize,
    /// Frames taken out of PVCAM's buffer (copied, or reported in place) so far.
    copied: i64,
    /// Frames PVCAM had written at the last status poll.
    written: i64,
    last_nr: i64,
    pending_lost: u64,
    /// Without metadata: frames the camera skipped so far (from FRAME_INFO.FrameNr).
    skipped: i64,
    in_place: Option<InPlace>,
    /// In place: the frame number of the last frame reported (None right after a lap).
    lap_ref: Option<i64>,
    /// End-of-frame callbacks, when registered: the stream sleeps on them between polls.
    eof: Option<Arc<EofSignal>>,
    /// The camera's `active` token: dropped with the stream.
    _active: Arc<()>,
}

// SAFETY: the raw ring pointer is only used by the acquisition thread that owns the stream;
// the ring outlives it (the core joins the thread before clearing the ring).
unsafe impl Send for PvcamStream {}

impl Drop for PvcamStream {
    fn drop(&mut self) {
        // Stop PVCAM before its ring can be freed (abort returns once it no longer writes),
        // then deregister the callback (after abort, as PVCAM's samples do).
        unsafe { (self.api.pl_exp_abort)(self.h, CCS_HALT) };
        if let (Some(_), Some(cb)) = (&self.eof, &self.api.callbacks) {
            unsafe { (cb.deregister)(self.h, sys::PL_CALLBACK_EOF) };
        }
    }
}

impl PvcamStream {
    /// Frames PVCAM has written into its buffer of `n` frames at `base` (full passes plus
    /// this pass); a failed acquisition (disconnect) is DISCONNECTED once every frame
    /// written before the failure has been taken.
    fn poll_written(&mut self, n: usize, base: *const u8) -> Result<i64> {
        let (mut status, mut bytes, mut cnt) = (0i16, 0u32, 0u32);
        let mut fi = PvFrameInfo::default();
        let r = unsafe { (self.api.pl_exp_check_cont_status_ex)(self.h, &mut status, &mut bytes, &mut cnt, &mut fi) };
        if r != sys::PV_OK || status == 4 {
            // The frames that arrived before the failure are still delivered. PVCAM no longer
            // says how many there were: with metadata, the slots after the last frame known
            // hold more of them while their frame numbers keep increasing.
            let mut w = self.written;
            if self.metadata {
                let nr = |j: i64| -> i64 {
                    // SAFETY: slot j mod n of the buffer, at least MD_BYTES long.
                    let h = unsafe { std::slice::from_raw_parts(base.add((j as usize % n) * self.frame_bytes), MD_BYTES) };
                    parse_md(h).map_or(-1, |(nr, _)| nr)
                };
                let mut prev = if w > 0 { nr(w - 1) } else { 0 };
                while w < self.copied + n as i64 && prev >= 0 {
                    let next = nr(w);
                    if next <= prev {
                        break;
                    }
                    prev = next;
                    w += 1;
                }
            }
            if w > self.copied {
                self.written = w;
                return Ok(w);
            }
            let mut e = self.api.error("pl_exp_check_cont_status_ex");
            e.status = crate::Status::DISCONNECTED;
            return Err(e);
        }
        let w = if bytes > 0 || cnt > 0 { cnt as i64 * n as i64 + (bytes as usize / self.frame_bytes) as i64 } else { 0 };
        self.written = self.written.max(w);
        // Without metadata the frames carry no number: the newest frame's FrameNr (1-based,
        // counting the frames the camera skipped) against the frames written says how many
        // were skipped so far.
        if !self.metadata && fi.frame_nr as i64 >= w && w > 0 {
            self.skipped = self.skipped.max(fi.frame_nr as i64 - w);
        }
        Ok(self.written)
    }

    /// Copy mode: start PVCAM (CIRC_OVERWRITE, set up) into a buffer of its own, `pool` or,
    /// while the driver refuses it, one of half as many frames (down to 8). Returns the
    /// buffer used.
    fn start_copy(&mut self, mut pool: Arc<Mutex<Ring>>) -> Result<Arc<Mutex<Ring>>> {
        loop {
            let (n, fb) = {
                let r = pool.lock();
                let size = (r.n * r.frame_bytes) as u32;
                if unsafe { (self.api.pl_exp_start_cont)(self.h, r.ptr as *mut c_void, size) } == sys::PV_OK {
                    break;
                }
                (r.n, r.frame_bytes)
            };
            let e = self.api.error("pl_exp_start_cont");
            if n <= 8 {
                return Err(e);
            }
            crate::log::info(&format!("PVCAM refused a buffer of {n} frames ({e}); trying {}", n / 2));
            pool = Arc::new(Mutex::new(Ring::new(n / 2, fb)));
        }
        self.pool = Some(pool.clone());
        self.in_place = None;
        Ok(pool)
    }

    /// Framestamp, timestamp and frame-number gap of a frame from its metadata header (or
    /// the count of frames taken when there is none).
    fn meta(&mut self, header: &[u8]) -> FrameMeta {
        let (nr, ts) = match if self.metadata { parse_md(header) } else { None } {
            Some((nr, ts)) => (nr, ts),
            // The frames taken, plus those the camera skipped by the last status poll (their
            // place among the frames of that poll is not known: the gap shows at the first
            // frame taken after it).
            None => (self.copied + self.skipped, -1),
        };
        if self.last_nr > 0 && nr > self.last_nr + 1 {
            self.pending_lost += (nr - self.last_nr - 1) as u64;
        }
        self.last_nr = nr;
        FrameMeta {
            framestamp: nr,
            timestamp_ticks: ts,
            timestamp_hz: if ts >= 0 { 1e9 } else { 0.0 },
            flags: 0,
            lost_before: std::mem::take(&mut self.pending_lost),
        }
    }

    /// In place: unlock PVCAM's frames up to (not including) `upto`, oldest first, so that
    /// it may write their slots again. `pl_exp_get_oldest_frame` before each unlock, as the
    /// SDK pairs them; it reports an overrun when PVCAM already wrote over that frame,
    /// which is then just unlocked.
    fn release_upto(&mut self, upto: i64) -> Result<()> {
        let ip = self.in_place.as_mut().unwrap();
        while ip.released < upto {
            let mut p: *mut c_void = std::ptr::null_mut();
            unsafe { (self.api.pl_exp_get_oldest_frame)(self.h, &mut p) };
            let r = unsafe { (self.api.pl_exp_unlock_oldest_frame)(self.h) };
            self.api.check("pl_exp_unlock_oldest_frame", r)?;
            ip.released += 1;
        }
        Ok(())
    }
}

/// Whether an in-place slot still holds the frame `info` describes: its metadata header
/// (which PVCAM writes before the pixels: the buffer is filled from its start) still names
/// that frame number.
fn slot_holds(slot: *const u8, info: &FrameInfo) -> bool {
    // SAFETY: the core passes the start of a ring slot, at least MD_BYTES long.
    let header = unsafe { std::slice::from_raw_parts(slot, MD_BYTES) };
    parse_md(header).is_some_and(|(nr, _)| nr == info.framestamp)
}

/// Frame number and end-of-frame time (ns) from a PVCAM metadata frame header (v1–v3).
fn parse_md(b: &[u8]) -> Option<(i64, i64)> {
    if b.len() < 80 || u32::from_le_bytes(b[0..4].try_into().ok()?) != 5328208 {
        return None;
    }
    let nr = u32::from_le_bytes(b[5..9].try_into().ok()?) as i64;
    let eof_ns = if b[4] >= 3 {
        (u64::from_le_bytes(b[19..27].try_into().ok()?) / 1000) as i64
    } else {
        let eof = u32::from_le_bytes(b[15..19].try_into().ok()?) as i64;
        let res = u32::from_le_bytes(b[19..23].try_into().ok()?) as i64;
        eof * res
    };
    Some((nr, eof_ns))
}

/// PVCAM has no blocking wait: without the end-of-frame callback the stream polls this
/// often.
const POLL_SLEEP: Duration = Duration::from_micros(200);

/// With the callback, the stream still polls this often: in case a callback is missed,
/// and to see a disconnect (PVCAM reports it through another callback, which labcam does
/// not register).
const CALLBACK_POLL: Duration = Duration::from_millis(20);

impl PvcamStream {
    /// The end-of-frame count to wait past: read it before polling the status.
    fn eof_seen(&self) -> u64 {
        self.eof.as_ref().map_or(0, |e| e.count())
    }

    /// Nothing new at the last poll: sleep until PVCAM reports a frame (or for a while).
    fn idle(&self, seen: u64, deadline: Instant) {
        match &self.eof {
            Some(e) => e.wait(seen, deadline.min(Instant::now() + CALLBACK_POLL)),
            None => std::thread::sleep(POLL_SLEEP),
        }
    }
}

impl Stream for PvcamStream {
    fn next_frame(&mut self, dst: &mut [u8], timeout: Duration) -> Result<Option<FrameMeta>> {
        let deadline = Instant::now() + timeout;
        let pool = self.pool.clone().ok_or_else(|| err!(INTERNAL, "PVCAM stream in place asked for a copy"))?;
        let ring = pool.lock();
        loop {
            let seen = self.eof_seen();
            if self.copied >= self.written {
                self.poll_written(ring.n, ring.ptr)?;
            }
            if self.written > self.copied {
                if self.written - self.copied > ring.n as i64 {
                    // Overwritten in PVCAM's ring before we got to them.
                    let skip = self.written - ring.n as i64 - self.copied;
                    self.pending_lost += skip as u64;
                    self.copied += skip;
                }
                let slot = (self.copied as usize) % ring.n;
                // SAFETY: inside the ring; PVCAM writes other slots meanwhile.
                let src = unsafe { std::slice::from_raw_parts(ring.ptr.add(slot * ring.frame_bytes), ring.frame_bytes) };
                let off = if self.metadata { MD_BYTES } else { 0 };
                let mut header = [0u8; MD_BYTES];
                header[..off].copy_from_slice(&src[..off]);
                dst.copy_from_slice(&src[off..off + self.pixel_bytes]);
                let index = self.copied;
                self.copied += 1;
                // PVCAM kept writing meanwhile: if it reached this slot again (frame index+n
                // started), the copy may be torn. Drop it and count it lost.
                // (A camera gone meanwhile no longer writes: the copy is whole, and the next
                // call reports the disconnect.)
                match self.poll_written(ring.n, ring.ptr) {
                    Ok(w) if w >= index + ring.n as i64 => {
                        self.pending_lost += 1;
                        continue;
                    }
                    Err(e) if e.status != crate::Status::DISCONNECTED => return Err(e),
                    _ => {}
                }
                // The header as copied together with the pixels (the slot may be rewritten
                // any time after the check above).
                return Ok(Some(self.meta(&header)));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            self.idle(seen, deadline);
        }
    }

    fn take_lost(&mut self) -> u64 {
        if self.in_place.is_some() {
            // Frames of a lap, which no delivered frame accounts for.
            std::mem::take(&mut self.pending_lost)
        } else {
            0
        }
    }

    fn in_place(&self) -> usize {
        if self.in_place.is_some() {
            WHOLE_RING
        } else {
            0
        }
    }

    fn in_place_margin(&self) -> usize {
        // PVCAM does not wait for slots: keep an eighth of the ring free ahead of it, so
        // that the frames it reaches next have been given up before it writes them.
        self.in_place.as_ref().map(|ip| (ip.n / 8).max(1)).unwrap_or(1)
    }

    fn attach_ring(&mut self, base: *mut u8, nslots: usize, slot_bytes: usize) -> Result<()> {
        if slot_bytes != self.frame_bytes {
            bail!(INTERNAL, "ring slots of {slot_bytes} bytes for PVCAM frames of {}", self.frame_bytes);
        }
        // CIRC_NO_OVERWRITE: PVCAM keeps frames until they are unlocked, which happens when
        // the core gives their slot back (`give_slot`).
        let mut fb = 0u32;
        let r = unsafe { (self.api.pl_exp_setup_cont)(self.h, 1, &self.rgn, self.mode, self.exposure, &mut fb, CIRC_NO_OVERWRITE) };
        self.api.check("pl_exp_setup_cont", r)?;
        if fb as usize != self.frame_bytes {
            bail!(VENDOR, "pl_exp_setup_cont gave {fb} bytes per frame in CIRC_NO_OVERWRITE mode, {} in CIRC_OVERWRITE mode", self.frame_bytes);
        }
        let size = (nslots * slot_bytes) as u32;
        let r = unsafe { (self.api.pl_exp_start_cont)(self.h, base as *mut c_void, size) };
        if r == sys::PV_OK {
            self.in_place = Some(InPlace { base, n: nslots, given: 0, released: 0 });
            return Ok(());
        }
        // The driver cannot take the labcam ring (too large to lock, say): copy out of a
        // buffer of its own instead.
        let e = self.api.error("pl_exp_start_cont");
        crate::log::info(&format!("PVCAM cannot write into the labcam ring ({e}); copying frames from a buffer of its own"));
        let r = unsafe { (self.api.pl_exp_setup_cont)(self.h, 1, &self.rgn, self.mode, self.exposure, &mut fb, CIRC_OVERWRITE) };
        self.api.check("pl_exp_setup_cont", r)?;
        let n = own_buffer_frames(self.frame_bytes, nslots);
        self.start_copy(Arc::new(Mutex::new(Ring::new(n, self.frame_bytes)))).map(|_| ())
    }

    fn give_slot(&mut self, ptr: *mut u8, _len: usize) -> Result<()> {
        let ip = self.in_place.as_mut().ok_or_else(|| err!(INTERNAL, "give_slot on a PVCAM copy stream"))?;
        let g = ip.given;
        // SAFETY: pointer arithmetic inside the ring.
        let expect = unsafe { ip.base.add((g as usize % ip.n) * self.frame_bytes) };
        if ptr != expect {
            bail!(INTERNAL, "slot {ptr:?} given to PVCAM out of order (expected {expect:?})");
        }
        ip.given += 1;
        // PVCAM may write frame g into this slot once frame g-n (which was there) is unlocked.
        let n = ip.n as i64;
        self.release_upto(g + 1 - n)
    }

    fn next_in_place(&mut self, timeout: Duration) -> Result<InPlaceEvent> {
        let (n, base) = self.in_place.as_ref().map(|ip| (ip.n, ip.base as *const u8)).ok_or_else(|| err!(INTERNAL, "next_in_place on a PVCAM copy stream"))?;
        let deadline = Instant::now() + timeout;
        while self.copied >= self.written {
            let seen = self.eof_seen();
            if self.poll_written(n, base)? > self.copied {
                break;
            }
            if Instant::now() >= deadline {
                return Ok(InPlaceEvent::Timeout);
            }
            self.idle(seen, deadline);
        }
        let d = self.copied;
        // SAFETY: slot d mod n of the ring, frame_bytes long.
        let ptr = unsafe { base.add((d as usize % n) * self.frame_bytes) } as *mut u8;
        // PVCAM writes each frame's header first. If the header already names a frame a
        // whole ring later than the last one reported (PVCAM went round the ring, maybe more
        // than once, since `written` was read), frame d's slot is being or has been
        // overwritten: frame numbers grow by one per frame (a few more when the camera skips
        // some), never by the ring size.
        let mut header = [0u8; MD_BYTES];
        unsafe { std::ptr::copy_nonoverlapping(ptr, header.as_mut_ptr(), MD_BYTES) };
        let lapped = match (parse_md(&header), self.lap_ref) {
            (Some((nr, _)), Some(prev)) => nr - prev >= n as i64,
            (None, Some(_)) => true,
            // Right after a lap there is no frame number to compare with: PVCAM's count, read
            // after the header, must show it had not yet begun frame d + n.
            (_, None) => {
                std::sync::atomic::fence(std::sync::atomic::Ordering::Acquire);
                self.poll_written(n, base)? - d >= n as i64
            }
        };
        if lapped {
            // PVCAM went round the whole ring before these frames were reported: they and
            // every unread frame are gone. Carry on from the next frame it writes.
            let w = self.poll_written(n, base)?.max(d + n as i64);
            self.pending_lost += (w - d) as u64;
            self.copied = w;
            self.last_nr = 0;
            self.lap_ref = None;
            let ip = self.in_place.as_mut().unwrap();
            ip.given = w;
            self.release_upto(w - n as i64)?;
            return Ok(InPlaceEvent::Lapped { next_slot: w as usize % n });
        }
        let ip = self.in_place.as_mut().unwrap();
        if d >= ip.given {
            // PVCAM wrote a slot it was not given (it does not wait): over the oldest unread
            // frame, which the core gives up.
            ip.given = d + 1;
            self.release_upto(d + 1 - n as i64)?;
        }
        self.copied += 1;
        let meta = self.meta(&header);
        self.lap_ref = Some(meta.framestamp);
        Ok(InPlaceEvent::Frame { ptr, meta })
    }
}

#[cfg(test)]
mod tests {
    use super::parse_md;

    #[test]
    fn metadata_header_v3() {
        let mut b = vec![0u8; 80];
        b[0..4].copy_from_slice(&5328208u32.to_le_bytes());
        b[4] = 3;
        b[5..9].copy_from_slice(&42u32.to_le_bytes());
        b[19..27].copy_from_slice(&5_000_000u64.to_le_bytes());
        assert_eq!(parse_md(&b), Some((42, 5000)));
        b[0] = 0;
        assert_eq!(parse_md(&b), None);
    }
}
