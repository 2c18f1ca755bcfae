//! `andor_sdk3`: Andor sCMOS cameras (Zyla, Neo, Sona, Marana, Balor) through Andor SDK3
//! (`atcore`), loaded at run time. Facts: `vendor-sdk/andor_sdk3.md`.
//!
//! * Camera ids: `andor_sdk3:<index>` (0 .. `DeviceCount`-1 of the system handle).
//! * ROI: `AOILeft`/`AOITop` are 1-based sensor pixels, `AOIWidth`/`AOIHeight` binned pixels,
//!   binning `AOIHBin`/`AOIVBin` (or the `AOIBinning` enum). labcam's `hstart = AOILeft-1`,
//!   `hend = hstart + AOIWidth*AOIHBin`. Applied in the SDK's always-valid order: position 1,
//!   size to minimum, binning, size, position (§7).
//! * Exposure `ExposureTime` (s); frame period `1/FrameRate` (0 = the current maximum).
//! * Triggers: INT "Internal", EXT "External", SOFTWARE "Software" (+ `SoftwareTrigger`),
//!   EXT_START "External Start", EXT_EXPOSURE "External Exposure".
//! * Frames: buffers (8-byte aligned, `ImageSizeBytes`) queued with `AT_QueueBuffer` in FIFO
//!   order and re-queued after `AT_WaitBuffer`. When rows are unpadded (`AOIStride` = width ×
//!   bytes per pixel) and the encoding is not Mono12Packed, the buffers are the ring slots
//!   themselves (in place: `ImageSizeBytes` rounded up to 64 bytes apart, the metadata
//!   trailer after each frame); otherwise each is copied once into the ring slot with the
//!   `AOIStride` row padding removed and Mono12Packed unpacked to 16 bits. Metadata
//!   (`MetadataEnable`, timestamp and FrameInfo blocks) is switched on when available: the
//!   device timestamp comes from the trailer (`TimestampClockFrequency`); SDK3 has no frame
//!   counter, so with the internal trigger the framestamp is the previous one plus the
//!   number of frame periods between consecutive nominal timestamps (a missing frame shows
//!   as a gap, counted in `lost_device`; a FrameRate or ExposureTime written while acquiring
//!   changes the period from then on); with other triggers it counts delivered frames.
//! * A camera that stops acquiring by itself (`AT_WaitBuffer` returns 11 at once and
//!   `CameraAcquiring` is false) faults the acquisition with VENDOR (DISCONNECTED when
//!   `CameraPresent` is false) instead of being waited on forever; after a
//!   `BufferOverflowEvent` the same 11 is taken as the overflow.
//! * `BufferOverflowEvent` (camera memory full, the acquisition aborted) is registered; on
//!   `AT_ERR_HARDWARE_OVERFLOW` the acquisition is restarted and the frames missed are
//!   counted in `lost_device` from the timestamp gap.
//! * Attributes: every feature of the SDK3 catalogue the camera implements
//!   (`AT_IsImplemented`), typed by the catalogue; enum entries report `AT_IsEnumIndexAvailable`.
//! * Errors: VENDOR naming the function, the feature, the code and its `AT_ERR_*` name;
//!   `AT_ERR_CONNECTION` gives DISCONNECTED.

mod sys;

use crate::error::Num;
use crate::backend::{Device, Driver, FrameMeta, InPlaceEvent, RingLayout, Stream};
use crate::error::Result;
use crate::loader::VendorLibrary;
use crate::model::*;
use std::ffi::{c_int, c_void};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use sys::{from_wide, vendor_error, wide, Api, AtH, AtWc};

use AttrKind::{Bool as B, Command as C, Enum as E, Float as F, Int as I, String as S};

/// The SDK3 feature catalogue (vendor-sdk/andor_sdk3.md §6), with each feature's type.
const CATALOGUE: &[(&str, AttrKind)] = &[
    ("SensorWidth", I), ("SensorHeight", I), ("AOIHBin", I), ("AOIVBin", I), ("AOIWidth", I), ("AOIHeight", I),
    ("AOILeft", I), ("AOITop", I), ("AOIStride", I), ("ImageSizeBytes", I), ("AOIBinning", E), ("BytesPerPixel", F),
    ("PixelEncoding", E), ("ExposureTime", F), ("FrameRate", F), ("TriggerMode", E), ("CycleMode", E), ("FrameCount", I),
    ("CameraAcquiring", B), ("AcquisitionStart", C), ("AcquisitionStop", C), ("SoftwareTrigger", C),
    ("MetadataEnable", B), ("MetadataTimestamp", B), ("MetadataFrameInfo", B), ("MetadataFrame", B),
    ("TimestampClock", I), ("TimestampClockFrequency", I), ("TimestampClockReset", C), ("EventSelector", E),
    ("EventEnable", B), ("BufferOverflowEvent", I), ("EventsMissedEvent", I), ("ExposureEndEvent", I),
    ("ExposureStartEvent", I), ("RowNExposureEndEvent", I), ("RowNExposureStartEvent", I),
    ("CameraModel", S), ("CameraName", S), ("SerialNumber", S), ("FirmwareVersion", S), ("InterfaceType", S),
    ("CameraFamily", S), ("ControllerID", S), ("DriverVersion", S), ("MicrocodeVersion", S),
    ("SensorCooling", B), ("SensorTemperature", F), ("TargetSensorTemperature", F), ("TemperatureStatus", E),
    ("TemperatureControl", E), ("FanSpeed", E), ("ShutterMode", E), ("ElectronicShutteringMode", E), ("ReadoutTime", F),
    ("FrameInterval", F), ("PixelWidth", F), ("PixelHeight", F), ("SimplePreAmpGainControl", E), ("PreAmpGain", E),
    ("PreAmpGainChannel", E), ("PreAmpGainControl", E), ("PreAmpGainSelector", E), ("PixelReadoutRate", E),
    ("BitDepth", E), ("SensorReadoutMode", E), ("SensorType", E), ("ShutterOutputMode", E), ("PixelCorrection", E),
    ("ColourFilter", E), ("AOILayout", E), ("AuxiliaryOutSource", E), ("AuxOutSourceTwo", E), ("IOSelector", E),
    ("IOInvert", B), ("IOState", B), ("IODirection", B), ("AccumulateCount", I), ("AcquiredCount", I), ("Baseline", I),
    ("CameraMemory", I), ("ExposedPixelHeight", I), ("LineScanSpeed", F), ("RowReadTime", F),
    ("ExternalTriggerDelay", F), ("HeatSinkTemperature", F), ("CoolerPower", F), ("InputVoltage", F),
    ("CameraPresent", B), ("SpuriousNoiseFilter", B), ("StaticBlemishCorrection", B), ("Overlap", B),
    ("FastAOIFrameRateEnable", B), ("FullAOIControl", B), ("VerticallyCentreAOI", B), ("RollingShutterGlobalClear", B),
    ("AlternatingReadoutDirection", B), ("ScanSpeedControlEnable", B), ("SynchronousTriggering", B),
    ("MultitrackCount", I), ("MultitrackSelector", I), ("MultitrackStart", I), ("MultitrackEnd", I), ("MultitrackBinned", B),
    ("LUTIndex", I), ("LUTValue", I), ("MCPGain", I), ("MCPVoltage", I), ("MCPIntelligate", B), ("GateMode", E),
];

pub struct AndorDriver {
    lib: VendorLibrary<Api>,
}

impl AndorDriver {
    pub fn new() -> Self {
        AndorDriver { lib: VendorLibrary::new() }
    }

    fn api(&self) -> Result<Arc<Api>> {
        self.lib.get(|path| {
            let api = sys::load(path)?;
            // AT_InitialiseLibrary is idempotent; it is called once per loaded library.
            let r = unsafe { (api.InitialiseLibrary)() };
            if r != sys::AT_SUCCESS {
                return Err(vendor_error("AT_InitialiseLibrary", "", r));
            }
            Ok(api)
        })
    }
}

impl Default for AndorDriver {
    fn default() -> Self {
        Self::new()
    }
}

fn get_int(api: &Api, h: AtH, name: &str) -> Result<i64> {
    let mut v = 0i64;
    let r = unsafe { (api.GetInt)(h, wide(name).as_ptr(), &mut v) };
    if r != sys::AT_SUCCESS {
        return Err(vendor_error("AT_GetInt", name, r));
    }
    Ok(v)
}

impl Driver for AndorDriver {
    fn name(&self) -> &'static str {
        "andor_sdk3"
    }

    fn list(&self) -> Result<Vec<String>> {
        let api = self.api()?;
        let n = get_int(&api, sys::AT_HANDLE_SYSTEM, "DeviceCount")?;
        Ok((0..n).map(|i| i.to_string()).collect())
    }

    fn open(&self, id: &str) -> Result<Box<dyn Device>> {
        let api = self.api()?;
        let index: c_int = id.parse().map_err(|_| err!(NOT_FOUND, "andor_sdk3 camera ids are indices: 'andor_sdk3:0'; got '{id}'"))?;
        let n = get_int(&api, sys::AT_HANDLE_SYSTEM, "DeviceCount")?;
        if index < 0 || index as i64 >= n {
            bail!(NOT_FOUND, "no andor_sdk3 camera {index}: the SDK reports {n} (DeviceCount)");
        }
        let mut h: AtH = -1;
        let r = unsafe { (api.Open)(index, &mut h) };
        if r == 38 {
            bail!(BUSY, "andor_sdk3 camera {index} is already open (AT_Open returned 38 AT_ERR_DEVICEINUSE)");
        }
        if r != sys::AT_SUCCESS {
            return Err(vendor_error("AT_Open", "", r));
        }
        let mut cam = AndorCamera { api, h, index, pool: None, features: Vec::new(), overflows: Arc::new(AtomicU64::new(0)), registered: false, period_ticks: Arc::new(AtomicU64::new(0)) };
        for (name, kind) in CATALOGUE {
            if cam.is(sys_fn::IMPLEMENTED, name).unwrap_or(false) {
                cam.features.push((name, *kind));
            }
        }
        cam.register_overflow();
        Ok(Box::new(cam))
    }

    fn set_library_path(&self, path: Option<PathBuf>) -> Result<()> {
        self.lib.set_path(path);
        Ok(())
    }
}

mod sys_fn {
    pub(super) const IMPLEMENTED: u8 = 0;
    pub(super) const READABLE: u8 = 1;
    pub(super) const WRITABLE: u8 = 2;
    pub(super) const READ_ONLY: u8 = 3;
}

/// `BufferOverflowEvent` callback: counts events (ctx is the camera's counter).
unsafe extern "C" fn overflow_event(_h: AtH, _feature: *const AtWc, ctx: *mut c_void) -> c_int {
    (*(ctx as *const AtomicU64)).fetch_add(1, Ordering::AcqRel);
    0
}

/// SDK buffers, allocated (and faulted in) at setup, queued by the stream while it runs.
/// Held as raw allocations: the SDK writes into them behind Rust's back.
struct BufferPool {
    bufs: Vec<*mut u64>,
    words: usize,
    size: usize,
}

// SAFETY: plain heap blocks; the SDK and the one running stream are their only users.
unsafe impl Send for BufferPool {}
unsafe impl Sync for BufferPool {}

impl BufferPool {
    /// How many buffers to keep queued for frames of `size` bytes.
    fn count(size: usize) -> usize {
        ((256usize << 20) / size.max(1)).clamp(4, 32)
    }

    fn new(size: usize) -> BufferPool {
        let n = Self::count(size);
        let words = size.div_ceil(8);
        // Non-zero fill writes every page now rather than during the first frames.
        let bufs = (0..n).map(|_| Box::into_raw(vec![1u64; words].into_boxed_slice()) as *mut u64).collect();
        BufferPool { bufs, words, size }
    }
    fn ptr(&self, i: usize) -> *mut u8 {
        self.bufs[i] as *mut u8
    }
}

impl Drop for BufferPool {
    fn drop(&mut self) {
        for &p in &self.bufs {
            // SAFETY: allocated in `new` as a boxed slice of `words` u64.
            unsafe { drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, self.words))) };
        }
    }
}

pub struct AndorCamera {
    api: Arc<Api>,
    h: AtH,
    index: c_int,
    pool: Option<Arc<BufferPool>>,
    features: Vec<(&'static str, AttrKind)>,
    overflows: Arc<AtomicU64>,
    registered: bool,
    /// The frame period in timestamp ticks (f64 bits), shared with the running stream: a
    /// FrameRate or ExposureTime written while acquiring updates it (see `note_period`).
    period_ticks: Arc<AtomicU64>,
}

impl Drop for AndorCamera {
    fn drop(&mut self) {
        unsafe {
            if self.registered {
                // Switch the event off again (the camera keeps it otherwise), then stop
                // listening.
                let _ = self.set_enum("EventSelector", "BufferOverflowEvent").and_then(|_| self.set_bool("EventEnable", false));
                (self.api.UnregisterFeatureCallback)(self.h, wide("BufferOverflowEvent").as_ptr(), overflow_event, Arc::as_ptr(&self.overflows) as *mut c_void);
            }
            (self.api.Close)(self.h);
        }
    }
}

impl AndorCamera {
    /// A vendor error for a failed call; a write refused because the camera is acquiring
    /// (AT_ERR_NOTWRITABLE with CameraAcquiring true) is WRONG_STATE, as labcam's contract
    /// has it for every setting that cannot change while acquiring.
    fn chk(&self, func: &str, name: &str, r: c_int) -> Result<()> {
        if r == sys::AT_SUCCESS {
            return Ok(());
        }
        let e = vendor_error(func, name, r);
        if r == sys::AT_ERR_NOTWRITABLE && self.acquiring() {
            bail!(WRONG_STATE, "'{name}' cannot change while acquiring; stop first ({})", e.message);
        }
        Err(e)
    }

    /// Whether the camera is acquiring (the CameraAcquiring feature; false when unknown).
    fn acquiring(&self) -> bool {
        let mut v = 0;
        self.has("CameraAcquiring") && unsafe { (self.api.GetBool)(self.h, wide("CameraAcquiring").as_ptr(), &mut v) } == sys::AT_SUCCESS && v != 0
    }

    fn has(&self, name: &str) -> bool {
        self.features.iter().any(|f| f.0 == name)
    }

    fn is(&self, which: u8, name: &str) -> Result<bool> {
        let mut v = 0;
        let w = wide(name);
        let (f, r) = unsafe {
            match which {
                sys_fn::IMPLEMENTED => ("AT_IsImplemented", (self.api.IsImplemented)(self.h, w.as_ptr(), &mut v)),
                sys_fn::READABLE => ("AT_IsReadable", (self.api.IsReadable)(self.h, w.as_ptr(), &mut v)),
                sys_fn::READ_ONLY => ("AT_IsReadOnly", (self.api.IsReadOnly)(self.h, w.as_ptr(), &mut v)),
                _ => ("AT_IsWritable", (self.api.IsWritable)(self.h, w.as_ptr(), &mut v)),
            }
        };
        self.chk(f, name, r)?;
        Ok(v != 0)
    }

    fn int(&self, name: &str) -> Result<i64> {
        get_int(&self.api, self.h, name)
    }
    fn set_int(&self, name: &str, v: i64) -> Result<()> {
        self.chk("AT_SetInt", name, unsafe { (self.api.SetInt)(self.h, wide(name).as_ptr(), v) })
    }
    fn int_range(&self, name: &str) -> Result<(i64, i64)> {
        let (mut lo, mut hi) = (0, 0);
        let w = wide(name);
        self.chk("AT_GetIntMin", name, unsafe { (self.api.GetIntMin)(self.h, w.as_ptr(), &mut lo) })?;
        self.chk("AT_GetIntMax", name, unsafe { (self.api.GetIntMax)(self.h, w.as_ptr(), &mut hi) })?;
        Ok((lo, hi))
    }
    fn float(&self, name: &str) -> Result<f64> {
        let mut v = 0.0;
        self.chk("AT_GetFloat", name, unsafe { (self.api.GetFloat)(self.h, wide(name).as_ptr(), &mut v) })?;
        Ok(v)
    }
    fn set_float(&self, name: &str, v: f64) -> Result<()> {
        self.chk("AT_SetFloat", name, unsafe { (self.api.SetFloat)(self.h, wide(name).as_ptr(), v) })?;
        // ExposureTime and FrameRate may be written while acquiring, and an exposure
        // re-clamps FrameRate: the running stream must number frames with the new period.
        self.note_period();
        Ok(())
    }

    /// Publish the current frame period, in timestamp ticks, to `period_ticks`.
    fn note_period(&self) {
        if !self.has("TimestampClockFrequency") {
            return;
        }
        if let (Ok(hz), Ok(rate)) = (self.int("TimestampClockFrequency"), self.float("FrameRate")) {
            if rate > 0.0 {
                self.period_ticks.store((hz as f64 / rate).to_bits(), Ordering::Release);
            }
        }
    }
    fn float_range(&self, name: &str) -> Result<(f64, f64)> {
        let (mut lo, mut hi) = (0.0, 0.0);
        let w = wide(name);
        self.chk("AT_GetFloatMin", name, unsafe { (self.api.GetFloatMin)(self.h, w.as_ptr(), &mut lo) })?;
        self.chk("AT_GetFloatMax", name, unsafe { (self.api.GetFloatMax)(self.h, w.as_ptr(), &mut hi) })?;
        Ok((lo, hi))
    }
    fn boolean(&self, name: &str) -> Result<bool> {
        let mut v = 0;
        self.chk("AT_GetBool", name, unsafe { (self.api.GetBool)(self.h, wide(name).as_ptr(), &mut v) })?;
        Ok(v != 0)
    }
    fn set_bool(&self, name: &str, v: bool) -> Result<()> {
        self.chk("AT_SetBool", name, unsafe { (self.api.SetBool)(self.h, wide(name).as_ptr(), v as c_int) })
    }
    fn string(&self, name: &str) -> Result<String> {
        let w = wide(name);
        let mut len = 0;
        self.chk("AT_GetStringMaxLength", name, unsafe { (self.api.GetStringMaxLength)(self.h, w.as_ptr(), &mut len) })?;
        let mut buf = vec![0 as AtWc; len.max(1) as usize + 1];
        self.chk("AT_GetString", name, unsafe { (self.api.GetString)(self.h, w.as_ptr(), buf.as_mut_ptr(), buf.len() as c_int) })?;
        Ok(from_wide(&buf))
    }
    fn entries(&self, name: &str) -> Result<Vec<EnumEntry>> {
        let w = wide(name);
        let mut n = 0;
        self.chk("AT_GetEnumCount", name, unsafe { (self.api.GetEnumCount)(self.h, w.as_ptr(), &mut n) })?;
        let mut out = Vec::new();
        for i in 0..n {
            let mut imp = 0;
            self.chk("AT_IsEnumIndexImplemented", name, unsafe { (self.api.IsEnumIndexImplemented)(self.h, w.as_ptr(), i, &mut imp) })?;
            if imp == 0 {
                continue;
            }
            let mut av = 0;
            self.chk("AT_IsEnumIndexAvailable", name, unsafe { (self.api.IsEnumIndexAvailable)(self.h, w.as_ptr(), i, &mut av) })?;
            let mut buf = [0 as AtWc; 512];
            self.chk("AT_GetEnumStringByIndex", name, unsafe { (self.api.GetEnumStringByIndex)(self.h, w.as_ptr(), i, buf.as_mut_ptr(), 512) })?;
            out.push(EnumEntry { name: from_wide(&buf), available: av != 0 });
        }
        Ok(out)
    }
    fn enum_value(&self, name: &str) -> Result<String> {
        let w = wide(name);
        let mut i = 0;
        self.chk("AT_GetEnumIndex", name, unsafe { (self.api.GetEnumIndex)(self.h, w.as_ptr(), &mut i) })?;
        let mut buf = [0 as AtWc; 512];
        self.chk("AT_GetEnumStringByIndex", name, unsafe { (self.api.GetEnumStringByIndex)(self.h, w.as_ptr(), i, buf.as_mut_ptr(), 512) })?;
        Ok(from_wide(&buf))
    }
    fn set_enum(&self, name: &str, v: &str) -> Result<()> {
        self.chk("AT_SetEnumString", name, unsafe { (self.api.SetEnumString)(self.h, wide(name).as_ptr(), wide(v).as_ptr()) })
    }
    fn command(&self, name: &str) -> Result<()> {
        self.chk("AT_Command", name, unsafe { (self.api.Command)(self.h, wide(name).as_ptr()) })
    }

    fn register_overflow(&mut self) {
        if !self.has("BufferOverflowEvent") || !self.has("EventSelector") || !self.has("EventEnable") {
            return;
        }
        if self.set_enum("EventSelector", "BufferOverflowEvent").is_err() || self.set_bool("EventEnable", true).is_err() {
            return;
        }
        let ctx = Arc::as_ptr(&self.overflows) as *mut c_void;
        let r = unsafe { (self.api.RegisterFeatureCallback)(self.h, wide("BufferOverflowEvent").as_ptr(), overflow_event, ctx) };
        // The SDK calls the callback once at registration: that call is not an event.
        self.overflows.store(0, Ordering::Release);
        self.registered = r == sys::AT_SUCCESS;
    }

    /// The ring slot size when the SDK can write frames straight into the ring: its rows
    /// carry no padding and the encoding needs no unpacking, so a frame is already in
    /// labcam's layout at the start of the buffer (the metadata trailer follows it).
    fn in_place_slot(&self) -> Result<Option<usize>> {
        let enc = self.encoding()?;
        let Some((bpp, _)) = encoding_layout(&enc) else { return Ok(None) };
        let unpadded = self.int("AOIStride")? == self.int("AOIWidth")? * bpp;
        if enc == "Mono12Packed" || !unpadded {
            return Ok(None);
        }
        // Slots on cache-line boundaries (AT_QueueBuffer needs 8 bytes): whatever the trailer
        // size, every frame starts on a fresh line, which copies and the SDK's writes like.
        Ok(Some((self.int("ImageSizeBytes")? as usize).div_ceil(64) * 64))
    }

    /// Continuous cycle, metadata on, and a buffer pool of the current ImageSizeBytes.
    /// Returns whether metadata is on.
    fn prepare(&mut self) -> Result<bool> {
        if self.has("CycleMode") {
            self.set_enum("CycleMode", "Continuous")?;
        }
        let metadata = self.has("MetadataEnable") && self.set_bool("MetadataEnable", true).is_ok();
        if metadata {
            for f in ["MetadataTimestamp", "MetadataFrameInfo"] {
                if self.has(f) {
                    self.set_bool(f, true)?;
                }
            }
        }
        let size = self.int("ImageSizeBytes")? as usize;
        if self.in_place_slot()?.is_some() {
            // Frames go straight into the ring: no buffers of our own.
            self.pool = None;
        } else if self.pool.as_ref().map(|p| p.size) != Some(size) {
            self.pool = Some(Arc::new(BufferPool::new(size)));
        }
        Ok(metadata)
    }

    fn binning(&self) -> Result<(i64, i64)> {
        if self.has("AOIHBin") {
            return Ok((self.int("AOIHBin")?, self.int("AOIVBin")?));
        }
        if self.has("AOIBinning") {
            let v = self.enum_value("AOIBinning")?;
            let (a, b) = v.split_once('x').ok_or_else(|| err!(VENDOR, "AOIBinning value '{v}' is not HxV"))?;
            return Ok((a.parse().unwrap_or(1), b.parse().unwrap_or(1)));
        }
        Ok((1, 1))
    }

    fn encoding(&self) -> Result<String> {
        self.enum_value("PixelEncoding")
    }
}

/// Bytes per pixel as delivered (after unpacking) and significant bits.
fn encoding_layout(enc: &str) -> Option<(i64, i64)> {
    Some(match enc {
        "Mono12" | "Mono12Packed" => (2, 12),
        "Mono16" => (2, 16),
        "Mono32" => (4, 32),
        "Mono8" => (1, 8),
        _ => return None,
    })
}

const TRIGGERS: [(TriggerMode, &str); 5] = [
    (TriggerMode::Int, "Internal"),
    (TriggerMode::Ext, "External"),
    (TriggerMode::Software, "Software"),
    (TriggerMode::ExtStart, "External Start"),
    (TriggerMode::ExtExposure, "External Exposure"),
];

impl Device for AndorCamera {
    fn device_info(&mut self) -> Result<Vec<(String, String)>> {
        let s = |n: &str| if self.has(n) { self.string(n).unwrap_or_default() } else { String::new() };
        let mut sdk = vec![0 as AtWc; 256];
        unsafe { (self.api.GetString)(sys::AT_HANDLE_SYSTEM, wide("SoftwareVersion").as_ptr(), sdk.as_mut_ptr(), 256) };
        Ok(vec![
            ("backend".into(), "andor_sdk3".into()),
            ("vendor".into(), "Andor".into()),
            ("model".into(), s("CameraModel")),
            ("serial".into(), s("SerialNumber")),
            ("sdk_version".into(), from_wide(&sdk)),
            ("name".into(), s("CameraName")),
            ("firmware".into(), s("FirmwareVersion")),
            ("interface".into(), s("InterfaceType")),
            ("index".into(), self.index.to_string()),
            ("library".into(), self.api.path.clone()),
        ])
    }

    fn detector_size(&mut self) -> Result<(i64, i64)> {
        Ok((self.int("SensorWidth")?, self.int("SensorHeight")?))
    }

    fn roi_limits(&mut self) -> Result<RoiLimits> {
        let (hb, vb) = self.binning()?;
        let (sw, sh) = self.detector_size()?;
        let max_bin = |f: &str| -> i64 { if self.has(f) { self.int_range(f).map(|r| r.1).unwrap_or(1) } else { 1 } };
        // The maximum binning allowed by the current size is not the camera's: use the
        // full-sensor limits of a 1-pixel AOI as the SDK reports them for the sensor.
        let (mh, mv) = (max_bin("AOIHBin").max(hb).min(64), max_bin("AOIVBin").max(vb).min(64));
        let mask = |m: i64| if m >= 64 { u64::MAX } else { (1u64 << m) - 1 };
        let (wmin, _) = self.int_range("AOIWidth")?;
        let (hmin, _) = self.int_range("AOIHeight")?;
        Ok(RoiLimits {
            min_width: wmin * hb,
            max_width: sw,
            min_height: hmin * vb,
            max_height: sh,
            hstart_step: 1,
            vstart_step: 1,
            width_step: hb,
            height_step: vb,
            max_hbin: mh,
            max_vbin: mv,
            hbin_mask: mask(mh),
            vbin_mask: mask(mv),
        })
    }

    fn set_roi(&mut self, r: Roi) -> Result<Roi> {
        // §7: position 1, size minimum, binning, then size and position.
        self.set_int("AOILeft", 1)?;
        self.set_int("AOITop", 1)?;
        let (wmin, _) = self.int_range("AOIWidth")?;
        let (hmin, _) = self.int_range("AOIHeight")?;
        self.set_int("AOIWidth", wmin)?;
        self.set_int("AOIHeight", hmin)?;
        if self.has("AOIHBin") {
            for (f, b) in [("AOIHBin", r.hbin), ("AOIVBin", r.vbin)] {
                let (lo, hi) = self.int_range(f)?;
                if b < lo || b > hi {
                    bail!(INVALID_ARGUMENT, "{f} {b} out of the camera's range [{lo}, {hi}]");
                }
                self.set_int(f, b)?;
            }
        } else if self.has("AOIBinning") {
            let want = format!("{}x{}", r.hbin, r.vbin);
            let entries = self.entries("AOIBinning")?;
            if !entries.iter().any(|e| e.name == want && e.available) {
                bail!(INVALID_ARGUMENT, "binning {want} not offered by AOIBinning ({})", entries.iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join(", "));
            }
            self.set_enum("AOIBinning", &want)?;
        } else if r.hbin != 1 || r.vbin != 1 {
            bail!(INVALID_ARGUMENT, "this camera has no binning");
        }
        for (f, start, end, bin) in [("AOIWidth", r.hstart, r.hend, r.hbin), ("AOIHeight", r.vstart, r.vend, r.vbin)] {
            let (lo, hi) = self.int_range(f)?;
            let v = (end - start) / bin;
            if v < lo || v > hi {
                bail!(INVALID_ARGUMENT, "{f} {v} ({} px at binning {bin}) out of the camera's range [{lo}, {hi}]", end - start);
            }
            self.set_int(f, v)?;
        }
        for (f, start) in [("AOILeft", r.hstart), ("AOITop", r.vstart)] {
            let (lo, hi) = self.int_range(f)?;
            let v = start + 1;
            if v < lo || v > hi {
                bail!(INVALID_ARGUMENT, "{f} {v} out of the camera's range [{lo}, {hi}]");
            }
            self.set_int(f, v)?;
        }
        self.roi()
    }

    fn roi(&mut self) -> Result<Roi> {
        let (hb, vb) = self.binning()?;
        let (l, t) = (self.int("AOILeft")? - 1, self.int("AOITop")? - 1);
        let (w, h) = (self.int("AOIWidth")?, self.int("AOIHeight")?);
        Ok(Roi { hstart: l, hend: l + w * hb, vstart: t, vend: t + h * vb, hbin: hb, vbin: vb })
    }

    fn frame_format(&mut self) -> Result<FrameFormat> {
        let enc = self.encoding()?;
        let Some((bpp, bits)) = encoding_layout(&enc) else {
            bail!(NOT_SUPPORTED, "pixel encoding '{enc}' is not supported (Mono8, Mono12, Mono12Packed, Mono16, Mono32)");
        };
        Ok(FrameFormat::new(self.int("AOIWidth")?, self.int("AOIHeight")?, bpp, bits))
    }

    fn set_exposure(&mut self, seconds: f64) -> Result<f64> {
        let (lo, hi) = self.float_range("ExposureTime")?;
        if seconds < lo || seconds > hi {
            bail!(INVALID_ARGUMENT, "exposure {} s out of the camera's range [{lo}, {hi}] s", Num(seconds));
        }
        self.set_float("ExposureTime", seconds)?;
        self.float("ExposureTime")
    }

    fn exposure(&mut self) -> Result<f64> {
        self.float("ExposureTime")
    }

    fn set_frame_period(&mut self, seconds: f64) -> Result<f64> {
        let (lo, hi) = self.float_range("FrameRate")?;
        let rate = if seconds <= 0.0 { hi } else { (1.0 / seconds).min(hi) };
        if rate < lo {
            bail!(INVALID_ARGUMENT, "frame period {} s longer than the camera allows ({} s)", Num(seconds), 1.0 / lo);
        }
        self.set_float("FrameRate", rate)?;
        Ok(1.0 / self.float("FrameRate")?)
    }

    fn frame_timings(&mut self) -> Result<(f64, f64)> {
        Ok((self.float("ExposureTime")?, 1.0 / self.float("FrameRate")?))
    }

    fn set_trigger_mode(&mut self, mode: TriggerMode) -> Result<()> {
        let name = TRIGGERS.iter().find(|t| t.0 == mode).unwrap().1;
        let entries = self.entries("TriggerMode")?;
        if !entries.iter().any(|e| e.name == name && e.available) {
            bail!(NOT_SUPPORTED, "TriggerMode '{name}' is not available on this camera");
        }
        self.set_enum("TriggerMode", name)
    }

    fn trigger_mode(&mut self) -> Result<TriggerMode> {
        let v = self.enum_value("TriggerMode")?;
        TRIGGERS.iter().find(|t| t.1 == v).map(|t| t.0).ok_or_else(|| err!(NOT_SUPPORTED, "TriggerMode '{v}' has no labcam equivalent"))
    }

    fn send_software_trigger(&mut self) -> Result<()> {
        if self.enum_value("TriggerMode")? != "Software" {
            bail!(WRONG_STATE, "software trigger sent while TriggerMode is not Software");
        }
        self.command("SoftwareTrigger")
    }

    fn attr_names(&mut self) -> Result<Vec<String>> {
        Ok(self.features.iter().map(|f| f.0.to_string()).collect())
    }

    fn attr_info(&mut self, name: &str) -> Result<AttrInfo> {
        let Some(&(_, kind)) = self.features.iter().find(|f| f.0 == name) else {
            bail!(NOT_FOUND, "andor_sdk3 camera {} has no feature '{name}'", self.index);
        };
        let mut info = AttrInfo::of(kind, false);
        if kind != AttrKind::Command {
            info.readable = self.is(sys_fn::READABLE, name)? as i64;
            info.writable = self.is(sys_fn::WRITABLE, name)? as i64;
        } else {
            info.readable = 0;
            info.writable = 1;
        }
        // Clients tolerate errors from the limit functions (§6.2): limits stay unbounded.
        match kind {
            AttrKind::Int => {
                if let Ok((lo, hi)) = self.int_range(name) {
                    (info.int_min, info.int_max) = (lo, hi);
                }
            }
            AttrKind::Float => {
                if let Ok((lo, hi)) = self.float_range(name) {
                    (info.float_min, info.float_max) = (lo, hi);
                }
            }
            AttrKind::Enum => info.enum_count = self.entries(name)?.len() as i64,
            _ => {}
        }
        Ok(info)
    }

    fn attr_enum_entries(&mut self, name: &str) -> Result<Vec<EnumEntry>> {
        self.entries(name)
    }

    fn get_attr(&mut self, name: &str) -> Result<AttrValue> {
        let kind = self.attr_info(name)?.kind();
        Ok(match kind {
            AttrKind::Int => AttrValue::Int(self.int(name)?),
            AttrKind::Float => AttrValue::Float(self.float(name)?),
            AttrKind::Bool => AttrValue::Bool(self.boolean(name)?),
            AttrKind::Enum => AttrValue::Enum(self.enum_value(name)?),
            AttrKind::String => AttrValue::String(self.string(name)?),
            AttrKind::Command => bail!(ATTR_TYPE, "feature '{name}' is a command"),
        })
    }

    fn set_attr(&mut self, name: &str, value: AttrValue) -> Result<()> {
        let info = self.attr_info(name)?;
        if info.writable == 0 {
            if self.is(sys_fn::READ_ONLY, name)? {
                bail!(NOT_SUPPORTED, "feature '{name}' is read-only (AT_IsReadOnly)");
            }
            if self.acquiring() {
                bail!(WRONG_STATE, "feature '{name}' cannot change while acquiring (AT_IsWritable is false); stop first");
            }
            bail!(NOT_SUPPORTED, "feature '{name}' is not writable now (AT_IsWritable)");
        }
        match value {
            // Limits were checked by the core (AttrInfo::check_value).
            AttrValue::Int(v) => self.set_int(name, v),
            AttrValue::Float(v) => self.set_float(name, v),
            AttrValue::Bool(v) => self.set_bool(name, v),
            AttrValue::Enum(v) => self.set_enum(name, &v),
            AttrValue::String(v) => self.chk("AT_SetString", name, unsafe { (self.api.SetString)(self.h, wide(name).as_ptr(), wide(&v).as_ptr()) }),
        }
    }

    fn attr_command(&mut self, name: &str) -> Result<()> {
        self.command(name)
    }

    fn setup(&mut self, _nframes: usize) -> Result<()> {
        self.prepare()?;
        Ok(())
    }

    fn clear(&mut self) -> Result<()> {
        self.pool = None;
        Ok(())
    }

    fn ring_layout(&mut self) -> Result<Option<RingLayout>> {
        self.prepare()?;
        Ok(self.in_place_slot()?.map(|slot_bytes| RingLayout { slot_bytes, frame_offset: 0, check: None }))
    }

    fn start(&mut self) -> Result<Box<dyn Stream>> {
        let metadata = self.prepare()?;
        let enc = self.encoding()?;
        let fmt = self.frame_format()?;
        let size = self.int("ImageSizeBytes")? as usize;
        let stride = self.int("AOIStride")? as usize;
        let ts_hz = if self.has("TimestampClockFrequency") { self.int("TimestampClockFrequency")? as f64 } else { 0.0 };
        let internal = self.enum_value("TriggerMode")? == "Internal";
        let period_ticks = ts_hz / self.float("FrameRate")?;
        self.period_ticks.store(period_ticks.to_bits(), Ordering::Release);
        let pool = self.pool.clone();
        let in_place = if pool.is_none() { BufferPool::count(size) } else { 0 };
        let mut s = AndorStream {
            api: self.api.clone(),
            h: self.h,
            pool,
            size,
            image_size: size,
            stride,
            width: fmt.width as usize,
            height: fmt.height as usize,
            packed: enc == "Mono12Packed",
            out_bpp: fmt.bytes_per_pixel as usize,
            metadata,
            ts_hz,
            internal,
            period_ticks,
            shared_period: self.period_ticks.clone(),
            last_n: -1,
            overflows: self.overflows.clone(),
            overflow_seen: self.overflows.load(Ordering::Acquire),
            after_overflow: false,
            overflow_lost: 0,
            last_ts: None,
            pending_lost: 0,
            in_place,
            queued: std::collections::VecDeque::new(),
            needs_start: in_place > 0,
        };
        if in_place == 0 {
            s.queue_all()?;
            self.command("AcquisitionStart")?;
        }
        Ok(Box::new(s))
    }

    fn stop(&mut self) -> Result<()> {
        // The stream has stopped the acquisition and flushed its buffers when it ended.
        Ok(())
    }
}

struct AndorStream {
    api: Arc<Api>,
    h: AtH,
    /// Copy mode: our buffers (None in in-place mode).
    pool: Option<Arc<BufferPool>>,
    /// Bytes per queued buffer.
    size: usize,
    /// ImageSizeBytes: the frame and its metadata trailer.
    image_size: usize,
    /// Ring slots kept queued in in-place mode (0: copy mode through `pool`).
    in_place: usize,
    /// In-place: the slots queued, in order.
    queued: std::collections::VecDeque<usize>,
    /// In-place: AcquisitionStart waits until slots are queued.
    needs_start: bool,
    stride: usize,
    width: usize,
    height: usize,
    packed: bool,
    out_bpp: usize,
    metadata: bool,
    ts_hz: f64,
    internal: bool,
    period_ticks: f64,
    /// The camera's `period_ticks`: the current period, which may change while acquiring.
    shared_period: Arc<AtomicU64>,
    last_n: i64,
    overflows: Arc<AtomicU64>,
    overflow_seen: u64,
    after_overflow: bool,
    /// Frames lost to overflows not yet reported (take_lost).
    overflow_lost: u64,
    last_ts: Option<i64>,
    pending_lost: u64,
}

// SAFETY: the buffers are owned here and only handed to the SDK while this stream lives.
unsafe impl Send for AndorStream {}

impl Drop for AndorStream {
    fn drop(&mut self) {
        // Stop and flush before the buffers are freed: the SDK must never write into them
        // afterwards (AT_Flush drops every queued buffer, §11).
        unsafe {
            (self.api.Command)(self.h, wide("AcquisitionStop").as_ptr());
            (self.api.Flush)(self.h);
        }
    }
}

/// Find the timestamp block (CID 1) in an SDK3 metadata trailer, walking backwards from the
/// end; `None` when the trailer is malformed (lengths are checked, never trusted).
pub fn parse_timestamp(buf: &[u8]) -> Option<u64> {
    let mut end = buf.len();
    while end >= 8 {
        let len = u32::from_le_bytes(buf[end - 4..end].try_into().ok()?) as usize;
        let cid = u32::from_le_bytes(buf[end - 8..end - 4].try_into().ok()?);
        if len < 4 || len + 4 > end {
            return None;
        }
        let data_start = end - 4 - len;
        if cid == 1 && len == 12 {
            return Some(u64::from_le_bytes(buf[data_start..data_start + 8].try_into().ok()?));
        }
        if cid == 0 {
            return None;
        }
        end = data_start;
    }
    None
}

impl AndorStream {
    fn queue(&mut self, i: usize) -> Result<()> {
        let p = self.pool.as_ref().unwrap().ptr(i);
        let r = unsafe { (self.api.QueueBuffer)(self.h, p, self.size as c_int) };
        if r != sys::AT_SUCCESS {
            return Err(vendor_error("AT_QueueBuffer", "", r));
        }
        Ok(())
    }

    fn queue_all(&mut self) -> Result<()> {
        for i in 0..self.pool.as_ref().map(|p| p.bufs.len()).unwrap_or(0) {
            self.queue(i)?;
        }
        Ok(())
    }

    fn copy_image(&self, src: &[u8], dst: &mut [u8]) {
        let out_row = self.width * self.out_bpp;
        for j in 0..self.height {
            let s = &src[j * self.stride..];
            let d = &mut dst[j * out_row..(j + 1) * out_row];
            if self.packed {
                for i in 0..self.width {
                    let k = i / 2 * 3;
                    let v = if i % 2 == 0 { ((s[k] as u16) << 4) | (s[k + 1] as u16 & 0x0F) } else { ((s[k + 2] as u16) << 4) | (s[k + 1] as u16 >> 4) };
                    d[2 * i..2 * i + 2].copy_from_slice(&v.to_le_bytes());
                }
            } else {
                d.copy_from_slice(&s[..out_row]);
            }
        }
    }
}

impl AndorStream {
    /// Framestamp, timestamp and losses of the frame whose buffer (with trailer) is `bytes`.
    fn meta(&mut self, bytes: &[u8]) -> FrameMeta {
        let ts = if self.metadata { parse_timestamp(bytes).map(|t| t as i64) } else { None };
        // The period to number frames with. After a change (an exposure or rate written
        // while acquiring) frames taken at the old period may still be arriving (from the
        // SDK's queue, from camera memory): a longer period is used at once, a shorter one
        // from the first interval that shows it. Meanwhile gaps may be under-counted,
        // never invented.
        let target = f64::from_bits(self.shared_period.load(Ordering::Acquire));
        if target > self.period_ticks {
            self.period_ticks = target;
        } else if target < self.period_ticks {
            if let (Some(t), Some(l)) = (ts, self.last_ts) {
                if ((t - l) as f64 / target - 1.0).abs() < 0.25 {
                    self.period_ticks = target;
                }
            }
        }
        let period = self.period_ticks;
        // Framestamp: the previous one plus the number of nominal periods between the two
        // timestamps with the internal trigger (from consecutive frames, so a period that is
        // not a whole number of ticks never accumulates an error), else plus one.
        let nominal = self.internal && period > 0.0;
        let restarted = std::mem::take(&mut self.after_overflow);
        let step = match (ts, self.last_ts, nominal) {
            (Some(t), Some(l), true) if self.last_n >= 0 => ((t - l) as f64 / period).round() as i64,
            _ => 1,
        };
        // Across an overflow restart at least one frame was missed; it was reported at the
        // overflow (take_lost), the rest are reported now.
        let step = step.max(if restarted { 2 } else { 1 });
        let framestamp = if self.last_n < 0 { 0 } else { self.last_n + step };
        self.pending_lost += (step - if restarted { 2 } else { 1 }) as u64;
        self.last_ts = ts;
        self.last_n = framestamp;
        FrameMeta {
            framestamp,
            timestamp_ticks: ts.unwrap_or(-1),
            timestamp_hz: if ts.is_some() { self.ts_hz } else { 0.0 },
            flags: 0,
            lost_before: std::mem::take(&mut self.pending_lost),
        }
    }

    /// AT_WaitBuffer: Ok(Some(ptr)), Ok(None) on timeout or after an overflow restart
    /// (`restarted` tells which).
    fn wait(&mut self, timeout: Duration) -> Result<(Option<*mut u8>, bool)> {
        let mut p: *mut u8 = std::ptr::null_mut();
        let mut n: c_int = 0;
        let r = unsafe { (self.api.WaitBuffer)(self.h, &mut p, &mut n, timeout.as_millis() as u32) };
        match r {
            sys::AT_SUCCESS => {
                if n as usize != self.size {
                    bail!(VENDOR, "AT_WaitBuffer returned {n} bytes for a buffer queued with {}", self.size);
                }
                Ok((Some(p), false))
            }
            sys::AT_ERR_TIMEDOUT => Ok((None, false)),
            sys::AT_ERR_NODATA if self.needs_start => Ok((None, false)),
            sys::AT_ERR_NODATA => {
                // 11 comes at once when the camera is not acquiring. After a
                // BufferOverflowEvent that is the overflow's abort (should the SDK report it
                // as 11 rather than 100); otherwise the camera stopped on its own, and waiting
                // again would spin.
                let overflow_event = |s: &Self| s.overflows.load(Ordering::Acquire) != s.overflow_seen;
                const AFTER_EVENT: &str = "BufferOverflowEvent, then AT_WaitBuffer returned 11";
                if overflow_event(self) {
                    return self.overflowed(AFTER_EVENT);
                }
                let mut v = 1;
                let acquiring = unsafe { (self.api.GetBool)(self.h, wide("CameraAcquiring").as_ptr(), &mut v) };
                if acquiring == sys::AT_SUCCESS && v != 0 {
                    return Ok((None, false));
                }
                // The SDK may deliver the BufferOverflowEvent just after the abort: give it
                // 100 ms before calling the stop unexplained.
                let t = std::time::Instant::now();
                while t.elapsed() < Duration::from_millis(100) {
                    if overflow_event(self) {
                        return self.overflowed(AFTER_EVENT);
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
                let mut present = 1;
                let r = unsafe { (self.api.GetBool)(self.h, wide("CameraPresent").as_ptr(), &mut present) };
                if acquiring == sys::AT_ERR_CONNECTION || (r == sys::AT_SUCCESS && present == 0) {
                    bail!(DISCONNECTED, "the camera is gone (AT_WaitBuffer returned 11 (AT_ERR_NODATA), CameraPresent is false)");
                }
                bail!(VENDOR, "the camera stopped acquiring by itself (AT_WaitBuffer returned 11 (AT_ERR_NODATA) and CameraAcquiring is false)");
            }
            sys::AT_ERR_HARDWARE_OVERFLOW => self.overflowed("AT_ERR_HARDWARE_OVERFLOW"),
            r => Err(vendor_error("AT_WaitBuffer", "", r)),
        }
    }

    /// The camera's memory filled and it aborted the acquisition, losing at least the frame
    /// that did not fit: stop and flush, so the caller restarts; the rest are counted from
    /// the timestamp gap at the next frame.
    fn overflowed(&mut self, how: &str) -> Result<(Option<*mut u8>, bool)> {
        crate::log::warn(&format!("andor_sdk3: buffer overflow ({how}); restarting the acquisition"));
        self.overflow_seen = self.overflows.load(Ordering::Acquire);
        self.after_overflow = true;
        self.overflow_lost += 1;
        unsafe {
            (self.api.Command)(self.h, wide("AcquisitionStop").as_ptr());
            (self.api.Flush)(self.h);
        }
        Ok((None, true))
    }
}

impl AndorStream {
    /// In-place: AcquisitionStart once slots are queued (the SDK needs a buffer to start).
    fn start_if_queued(&mut self) -> Result<()> {
        if self.needs_start && !self.queued.is_empty() {
            let r = unsafe { (self.api.Command)(self.h, wide("AcquisitionStart").as_ptr()) };
            if r != sys::AT_SUCCESS {
                return Err(vendor_error("AT_Command", "AcquisitionStart", r));
            }
            self.needs_start = false;
        }
        Ok(())
    }
}

impl Stream for AndorStream {
    fn next_frame(&mut self, dst: &mut [u8], timeout: Duration) -> Result<Option<FrameMeta>> {
        let p = match self.wait(timeout)? {
            (Some(p), _) => p,
            (None, true) => {
                self.queue_all()?;
                let r = unsafe { (self.api.Command)(self.h, wide("AcquisitionStart").as_ptr()) };
                if r != sys::AT_SUCCESS {
                    return Err(vendor_error("AT_Command", "AcquisitionStart", r));
                }
                return Ok(None);
            }
            (None, false) => return Ok(None),
        };
        let pool = self.pool.clone().unwrap();
        let Some(i) = (0..pool.bufs.len()).find(|&i| pool.ptr(i) == p) else {
            bail!(VENDOR, "AT_WaitBuffer returned a buffer that was never queued ({p:?})");
        };
        // SAFETY: the buffer has `size` bytes; the SDK is done with it until re-queued.
        let bytes = unsafe { std::slice::from_raw_parts(p as *const u8, self.image_size) };
        self.copy_image(bytes, dst);
        let meta = self.meta(bytes);
        self.queue(i)?;
        Ok(Some(meta))
    }

    fn take_lost(&mut self) -> u64 {
        std::mem::take(&mut self.overflow_lost)
    }

    fn in_place(&self) -> usize {
        self.in_place
    }

    fn give_slot(&mut self, ptr: *mut u8, len: usize) -> Result<()> {
        self.size = len;
        let r = unsafe { (self.api.QueueBuffer)(self.h, ptr, len as c_int) };
        if r != sys::AT_SUCCESS {
            return Err(vendor_error("AT_QueueBuffer", "", r));
        }
        self.queued.push_back(ptr as usize);
        Ok(())
    }

    fn begin(&mut self) -> Result<()> {
        self.start_if_queued()
    }

    fn next_in_place(&mut self, timeout: Duration) -> Result<InPlaceEvent> {
        // After an overflow the SDK was flushed: start again once slots are queued.
        self.start_if_queued()?;
        match self.wait(timeout)? {
            (Some(p), _) => {
                if self.queued.pop_front() != Some(p as usize) {
                    bail!(VENDOR, "AT_WaitBuffer returned {p:?}, not the oldest queued buffer");
                }
                // SAFETY: the SDK filled `image_size` bytes of the slot.
                let bytes = unsafe { std::slice::from_raw_parts(p as *const u8, self.image_size) };
                let meta = self.meta(bytes);
                Ok(InPlaceEvent::Frame { ptr: p, meta })
            }
            (None, true) => {
                self.queued.clear();
                self.needs_start = true;
                Ok(InPlaceEvent::Flushed)
            }
            (None, false) => Ok(InPlaceEvent::Timeout),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_timestamp;

    #[test]
    fn metadata_trailer_parsing_checks_lengths() {
        // image (4 bytes) | CID 0 | LEN 8 | ts | CID 1 | LEN 12
        let mut b = vec![1u8, 2, 3, 4];
        b.extend(0u32.to_le_bytes());
        b.extend(8u32.to_le_bytes());
        b.extend(123456789u64.to_le_bytes());
        b.extend(1u32.to_le_bytes());
        b.extend(12u32.to_le_bytes());
        assert_eq!(parse_timestamp(&b), Some(123456789));
        let n = b.len();
        b[n - 4..].copy_from_slice(&9999u32.to_le_bytes());
        assert_eq!(parse_timestamp(&b), None, "an oversized LENGTH is rejected, not followed");
        b[n - 4..].copy_from_slice(&0u32.to_le_bytes());
        assert_eq!(parse_timestamp(&b), None);
    }
}
