//! `sim`: the built-in simulated camera, the default.
//!
//! A 2048×2048 sensor with 16-bit pixels (or 8-bit with `PixelFormat=Mono8`).
//!
//! * ROI: binning 1, 2 or 4 per axis. Horizontal position and width step `4*hbin` sensor
//!   pixels, vertical `2*vbin`; minimum width `16*hbin`, minimum height `4*vbin`. Requests are
//!   rounded down to the steps (start first, then size); a ROI smaller than the minimum after
//!   rounding gives `INVALID_ARGUMENT`.
//! * Timing: exposure 10 µs–10 s. Readout time `10 µs + 5 µs × output rows`; the frame
//!   period is `max(requested, exposure + readout)` (0 requests the fastest).
//! * Triggers: INT (internal timer), EXT (one frame per `ExternalTriggerPulse` command, the
//!   simulated input edge), SOFTWARE (one frame per software trigger).
//! * Pixels: the output pixel at column `i`, row `j` of frame with framestamp `n` is
//!   `(x + 2053*y + 7919*n) mod 65536` where `x = hstart + i*hbin`, `y = vstart + j*vbin` are
//!   the sensor coordinates of the bin's top-left pixel (Mono8: the low 8 bits). See
//!   [`pixel_value`].
//! * Framestamps count device frames from 0 at start; timestamps are µs since the start of
//!   acquisition (or since `TimestampReset`), `timestamp_hz = 1e6`.
//! * Fault injection attributes: `FaultDisconnectAfter` (frames, -1 off), `FaultDropEvery`
//!   (drop every Kth device frame, 0 off), `FaultPanic` (command: panics inside the call),
//!   `FaultPanicAfter` (the acquisition panics after N frames, -1 off), `FaultSetupDelay`
//!   (seconds added to setup).
//! * `RealTimePacing` (default true): false produces frames as fast as possible, ignoring
//!   the frame period. `BenchmarkFrameRate` (Hz, 0 = off): frames exactly `1/rate` apart
//!   whatever the exposure and readout, spin-paced (an ideal fast camera for benchmarks).
//!
//! Every `labcam_open("sim")` creates an independent simulated camera; `sim:N` for
//! N = 0..=15 gives it serial `SIM-0000N`.

use crate::error::Num;
use crate::backend::{Device, Driver, FrameMeta, Stream};
use crate::error::Result;
use crate::model::*;
use parking_lot::{Condvar, Mutex};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) const SENSOR_WIDTH: i64 = 2048;
pub(crate) const SENSOR_HEIGHT: i64 = 2048;
const EXPOSURE_MIN: f64 = 10e-6;
const EXPOSURE_MAX: f64 = 10.0;
const READOUT_BASE: f64 = 10e-6;
const ROW_TIME: f64 = 5e-6;
const MAX_CAMERAS: u32 = 16;

/// The value of sensor pixel `(x, y)` in the frame with framestamp `n` (16-bit format).
pub fn pixel_value(n: i64, x: i64, y: i64) -> u16 {
    (x.wrapping_add(y.wrapping_mul(2053)).wrapping_add(n.wrapping_mul(7919)) & 0xFFFF) as u16
}

pub struct SimDriver;

impl Driver for SimDriver {
    fn name(&self) -> &'static str {
        "sim"
    }
    fn list(&self) -> Result<Vec<String>> {
        Ok(vec!["0".into(), "1".into()])
    }
    fn open(&self, id: &str) -> Result<Box<dyn Device>> {
        let index = if id.is_empty() {
            0
        } else {
            match id.parse::<u32>() {
                Ok(i) if i < MAX_CAMERAS => i,
                _ => bail!(NOT_FOUND, "no simulated camera 'sim:{id}' (valid: sim, sim:0 .. sim:{})", MAX_CAMERAS - 1),
            }
        };
        Ok(Box::new(SimCamera::new(index)))
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum PixelFormat {
    Mono16,
    Mono8,
}

#[derive(Clone, Debug)]
struct Settings {
    roi: Roi,
    exposure: f64,
    period_requested: f64,
    trigger: TriggerMode,
    pixel: PixelFormat,
    gain: usize,
    black_level: i64,
    temperature_setpoint: f64,
    name: String,
    pacing: bool,
    bench_rate: f64,
    disconnect_after: i64,
    drop_every: i64,
    panic_after: i64,
    setup_delay: f64,
}

/// Shared between the camera and its running stream: trigger edges.
struct Triggers {
    pending: Mutex<u64>,
    cv: Condvar,
}

pub struct SimCamera {
    index: u32,
    s: Settings,
    triggers: Arc<Triggers>,
    running: bool,
    clock_origin: Arc<Mutex<Instant>>,
}

const GAINS: [&str; 3] = ["Low", "Medium", "High"];
const PIXEL_FORMATS: [&str; 2] = ["Mono16", "Mono8"];
const TRIGGERS: [&str; 3] = ["Internal", "External", "Software"];

/// (name, kind, writable)
const ATTRS: &[(&str, AttrKind, bool)] = &[
    ("Exposure", AttrKind::Float, true),
    ("FramePeriod", AttrKind::Float, true),
    ("ReadoutTime", AttrKind::Float, false),
    ("TriggerMode", AttrKind::Enum, true),
    ("PixelFormat", AttrKind::Enum, true),
    ("BitDepth", AttrKind::Int, false),
    ("Gain", AttrKind::Enum, true),
    ("BlackLevel", AttrKind::Int, true),
    ("SensorTemperature", AttrKind::Float, false),
    ("TemperatureSetpoint", AttrKind::Float, true),
    ("SerialNumber", AttrKind::String, false),
    ("DeviceUserName", AttrKind::String, true),
    ("RealTimePacing", AttrKind::Bool, true),
    ("BenchmarkFrameRate", AttrKind::Float, true),
    ("TimestampReset", AttrKind::Command, true),
    ("ExternalTriggerPulse", AttrKind::Command, true),
    ("FaultDisconnectAfter", AttrKind::Int, true),
    ("FaultDropEvery", AttrKind::Int, true),
    ("FaultPanic", AttrKind::Command, true),
    ("FaultPanicAfter", AttrKind::Int, true),
    ("FaultSetupDelay", AttrKind::Float, true),
];

impl SimCamera {
    pub fn new(index: u32) -> Self {
        SimCamera {
            index,
            s: Settings {
                roi: Roi { hstart: 0, hend: SENSOR_WIDTH, vstart: 0, vend: SENSOR_HEIGHT, hbin: 1, vbin: 1 },
                exposure: 0.01,
                period_requested: 0.0,
                trigger: TriggerMode::Int,
                pixel: PixelFormat::Mono16,
                gain: 1,
                black_level: 100,
                temperature_setpoint: -20.0,
                name: String::new(),
                pacing: true,
                bench_rate: 0.0,
                disconnect_after: -1,
                drop_every: 0,
                panic_after: -1,
                setup_delay: 0.0,
            },
            triggers: Arc::new(Triggers { pending: Mutex::new(0), cv: Condvar::new() }),
            running: false,
            clock_origin: Arc::new(Mutex::new(Instant::now())),
        }
    }

    fn readout_time(&self) -> f64 {
        READOUT_BASE + ROW_TIME * self.s.roi.height() as f64
    }

    fn period(&self) -> f64 {
        self.s.period_requested.max(self.s.exposure + self.readout_time())
    }

    fn serial(&self) -> String {
        format!("SIM-{:05}", self.index)
    }

    fn check_not_running(&self, what: &str) -> Result<()> {
        if self.running {
            bail!(WRONG_STATE, "{what} cannot change while the simulated camera is acquiring; stop first");
        }
        Ok(())
    }

    fn limits_for(hbin: i64, vbin: i64) -> RoiLimits {
        RoiLimits {
            min_width: 16 * hbin,
            max_width: SENSOR_WIDTH,
            min_height: 4 * vbin,
            max_height: SENSOR_HEIGHT,
            hstart_step: 4 * hbin,
            vstart_step: 2 * vbin,
            width_step: 4 * hbin,
            height_step: 2 * vbin,
            max_hbin: 4,
            max_vbin: 4,
            hbin_mask: 0b1011,
            vbin_mask: 0b1011,
        }
    }

    fn enum_entries(name: &str) -> Option<&'static [&'static str]> {
        match name {
            "Gain" => Some(&GAINS),
            "PixelFormat" => Some(&PIXEL_FORMATS),
            "TriggerMode" => Some(&TRIGGERS),
            _ => None,
        }
    }
}

impl Device for SimCamera {
    fn device_info(&mut self) -> Result<Vec<(String, String)>> {
        Ok(vec![
            ("backend".into(), "sim".into()),
            ("vendor".into(), "labcam".into()),
            ("model".into(), "Simulated sCMOS 2048x2048".into()),
            ("serial".into(), self.serial()),
            ("sdk_version".into(), env!("CARGO_PKG_VERSION").into()),
        ])
    }

    fn detector_size(&mut self) -> Result<(i64, i64)> {
        Ok((SENSOR_WIDTH, SENSOR_HEIGHT))
    }

    fn roi_limits(&mut self) -> Result<RoiLimits> {
        Ok(Self::limits_for(self.s.roi.hbin, self.s.roi.vbin))
    }

    fn set_roi(&mut self, r: Roi) -> Result<Roi> {
        self.check_not_running("the ROI")?;
        for (axis, b) in [("horizontal", r.hbin), ("vertical", r.vbin)] {
            if ![1, 2, 4].contains(&b) {
                bail!(INVALID_ARGUMENT, "{axis} binning {b} not supported (valid: 1, 2, 4)");
            }
        }
        let lim = Self::limits_for(r.hbin, r.vbin);
        let hstart = r.hstart / lim.hstart_step * lim.hstart_step;
        let width = (r.hend - r.hstart) / lim.width_step * lim.width_step;
        let vstart = r.vstart / lim.vstart_step * lim.vstart_step;
        let height = (r.vend - r.vstart) / lim.height_step * lim.height_step;
        if width < lim.min_width {
            bail!(INVALID_ARGUMENT, "ROI width {} px (after rounding to the {} px step) is below the minimum {} px at horizontal binning {}", width, lim.width_step, lim.min_width, r.hbin);
        }
        if height < lim.min_height {
            bail!(INVALID_ARGUMENT, "ROI height {} px (after rounding to the {} px step) is below the minimum {} px at vertical binning {}", height, lim.height_step, lim.min_height, r.vbin);
        }
        self.s.roi = Roi { hstart, hend: hstart + width, vstart, vend: vstart + height, hbin: r.hbin, vbin: r.vbin };
        Ok(self.s.roi)
    }

    fn roi(&mut self) -> Result<Roi> {
        Ok(self.s.roi)
    }

    fn frame_format(&mut self) -> Result<FrameFormat> {
        let (bpp, bits) = match self.s.pixel {
            PixelFormat::Mono16 => (2, 16),
            PixelFormat::Mono8 => (1, 8),
        };
        Ok(FrameFormat::new(self.s.roi.width(), self.s.roi.height(), bpp, bits))
    }

    fn set_exposure(&mut self, seconds: f64) -> Result<f64> {
        if !(EXPOSURE_MIN..=EXPOSURE_MAX).contains(&seconds) {
            bail!(INVALID_ARGUMENT, "exposure {} s out of range [{EXPOSURE_MIN}, {EXPOSURE_MAX}] s", Num(seconds));
        }
        self.check_not_running("the exposure")?;
        self.s.exposure = seconds;
        Ok(seconds)
    }

    fn exposure(&mut self) -> Result<f64> {
        Ok(self.s.exposure)
    }

    fn set_frame_period(&mut self, seconds: f64) -> Result<f64> {
        if !(0.0..=1000.0).contains(&seconds) {
            bail!(INVALID_ARGUMENT, "frame period {} s out of range [0, 1000] s", Num(seconds));
        }
        self.check_not_running("the frame period")?;
        self.s.period_requested = seconds;
        Ok(self.period())
    }

    fn frame_timings(&mut self) -> Result<(f64, f64)> {
        Ok((self.s.exposure, self.period()))
    }

    fn set_trigger_mode(&mut self, mode: TriggerMode) -> Result<()> {
        match mode {
            TriggerMode::Int | TriggerMode::Ext | TriggerMode::Software => {}
            m => bail!(NOT_SUPPORTED, "the simulated camera has no {} trigger (supported: INT, EXT, SOFTWARE)", m.name()),
        }
        self.check_not_running("the trigger mode")?;
        self.s.trigger = mode;
        Ok(())
    }

    fn trigger_mode(&mut self) -> Result<TriggerMode> {
        Ok(self.s.trigger)
    }

    fn send_software_trigger(&mut self) -> Result<()> {
        if self.s.trigger != TriggerMode::Software {
            bail!(WRONG_STATE, "software trigger sent while the trigger mode is {}; set SOFTWARE first", self.s.trigger.name());
        }
        if !self.running {
            bail!(WRONG_STATE, "software trigger sent while the acquisition is not running");
        }
        *self.triggers.pending.lock() += 1;
        self.triggers.cv.notify_all();
        Ok(())
    }

    fn attr_names(&mut self) -> Result<Vec<String>> {
        Ok(ATTRS.iter().map(|a| a.0.to_string()).collect())
    }

    fn attr_info(&mut self, name: &str) -> Result<AttrInfo> {
        let Some(&(_, kind, writable)) = ATTRS.iter().find(|a| a.0 == name) else {
            bail!(NOT_FOUND, "the simulated camera has no attribute '{name}'");
        };
        let mut info = AttrInfo::of(kind, writable);
        // Settings that shape the acquisition are read-only while it runs.
        let acq_bound = matches!(name, "Exposure" | "FramePeriod" | "TriggerMode" | "PixelFormat" | "RealTimePacing" | "BenchmarkFrameRate");
        if acq_bound && self.running {
            info.writable = 0;
        }
        match name {
            "Exposure" => (info.float_min, info.float_max) = (EXPOSURE_MIN, EXPOSURE_MAX),
            "FramePeriod" => (info.float_min, info.float_max) = (self.s.exposure + self.readout_time(), 1000.0),
            "TemperatureSetpoint" => (info.float_min, info.float_max) = (-40.0, 20.0),
            "BlackLevel" => (info.int_min, info.int_max, info.int_step) = (0, 1000, 10),
            "BitDepth" => (info.int_min, info.int_max) = (8, 16),
            "FaultDisconnectAfter" | "FaultPanicAfter" => (info.int_min, info.int_max) = (-1, i64::MAX),
            "FaultDropEvery" => (info.int_min, info.int_max) = (0, i64::MAX),
            "FaultSetupDelay" => (info.float_min, info.float_max) = (0.0, 60.0),
            "BenchmarkFrameRate" => (info.float_min, info.float_max) = (0.0, 1e8),
            _ => {}
        }
        if let Some(e) = Self::enum_entries(name) {
            info.enum_count = e.len() as i64;
        }
        Ok(info)
    }

    fn attr_enum_entries(&mut self, name: &str) -> Result<Vec<EnumEntry>> {
        let Some(entries) = Self::enum_entries(name) else {
            self.attr_info(name)?;
            bail!(ATTR_TYPE, "attribute '{name}' is not an enum");
        };
        Ok(entries.iter().map(|e| EnumEntry { name: e.to_string(), available: true }).collect())
    }

    fn get_attr(&mut self, name: &str) -> Result<AttrValue> {
        let s = &self.s;
        Ok(match name {
            "Exposure" => AttrValue::Float(s.exposure),
            "FramePeriod" => AttrValue::Float(self.period()),
            "ReadoutTime" => AttrValue::Float(self.readout_time()),
            "TriggerMode" => AttrValue::Enum(TRIGGERS[s.trigger as usize].into()),
            "PixelFormat" => AttrValue::Enum(PIXEL_FORMATS[s.pixel as usize].into()),
            "BitDepth" => AttrValue::Int(if s.pixel == PixelFormat::Mono8 { 8 } else { 16 }),
            "Gain" => AttrValue::Enum(GAINS[s.gain].into()),
            "BlackLevel" => AttrValue::Int(s.black_level),
            "SensorTemperature" => AttrValue::Float(s.temperature_setpoint + 0.25),
            "TemperatureSetpoint" => AttrValue::Float(s.temperature_setpoint),
            "SerialNumber" => AttrValue::String(self.serial()),
            "DeviceUserName" => AttrValue::String(s.name.clone()),
            "RealTimePacing" => AttrValue::Bool(s.pacing),
            "BenchmarkFrameRate" => AttrValue::Float(s.bench_rate),
            "FaultDisconnectAfter" => AttrValue::Int(s.disconnect_after),
            "FaultDropEvery" => AttrValue::Int(s.drop_every),
            "FaultPanicAfter" => AttrValue::Int(s.panic_after),
            "FaultSetupDelay" => AttrValue::Float(s.setup_delay),
            _ => {
                let info = self.attr_info(name)?;
                bail!(NOT_SUPPORTED, "attribute '{name}' is a {} and has no value", info.kind().name());
            }
        })
    }

    fn set_attr(&mut self, name: &str, value: AttrValue) -> Result<()> {
        let info = self.attr_info(name)?;
        if info.writable == 0 {
            let read_only = ATTRS.iter().any(|a| a.0 == name && !a.2);
            if self.running && !read_only {
                bail!(WRONG_STATE, "attribute '{name}' cannot change while acquiring");
            }
            bail!(NOT_SUPPORTED, "attribute '{name}' is read-only");
        }
        let enum_index = |v: &str| -> Result<usize> {
            let entries = Self::enum_entries(name).unwrap_or(&[]);
            entries.iter().position(|e| *e == v).ok_or_else(|| {
                err!(NOT_FOUND, "'{v}' is not a value of enum attribute '{name}' (values: {})", entries.join(", "))
            })
        };
        // Limits were checked by the core (AttrInfo::check_value).
        match (name, value) {
            ("Exposure", AttrValue::Float(v)) => {
                self.set_exposure(v)?;
            }
            ("FramePeriod", AttrValue::Float(v)) => {
                self.set_frame_period(v)?;
            }
            ("TriggerMode", AttrValue::Enum(v)) => {
                let m = [TriggerMode::Int, TriggerMode::Ext, TriggerMode::Software][enum_index(&v)?];
                self.set_trigger_mode(m)?;
            }
            ("PixelFormat", AttrValue::Enum(v)) => {
                self.s.pixel = [PixelFormat::Mono16, PixelFormat::Mono8][enum_index(&v)?];
            }
            ("Gain", AttrValue::Enum(v)) => self.s.gain = enum_index(&v)?,
            ("BlackLevel", AttrValue::Int(v)) => self.s.black_level = v,
            ("TemperatureSetpoint", AttrValue::Float(v)) => self.s.temperature_setpoint = v,
            ("DeviceUserName", AttrValue::String(v)) => {
                if v.len() > 64 {
                    bail!(INVALID_ARGUMENT, "DeviceUserName is {} bytes long; at most 64", v.len());
                }
                self.s.name = v;
            }
            ("RealTimePacing", AttrValue::Bool(v)) => self.s.pacing = v,
            ("BenchmarkFrameRate", AttrValue::Float(v)) => self.s.bench_rate = v,
            ("FaultDisconnectAfter", AttrValue::Int(v)) => self.s.disconnect_after = v,
            ("FaultDropEvery", AttrValue::Int(v)) => self.s.drop_every = v,
            ("FaultPanicAfter", AttrValue::Int(v)) => self.s.panic_after = v,
            ("FaultSetupDelay", AttrValue::Float(v)) => self.s.setup_delay = v,
            (_, v) => bail!(ATTR_TYPE, "attribute '{name}' is a {}; got {:?}", info.kind().name(), v),
        }
        Ok(())
    }

    fn attr_command(&mut self, name: &str) -> Result<()> {
        match name {
            "TimestampReset" => {
                *self.clock_origin.lock() = Instant::now();
                Ok(())
            }
            "ExternalTriggerPulse" => {
                if self.running && self.s.trigger == TriggerMode::Ext {
                    *self.triggers.pending.lock() += 1;
                    self.triggers.cv.notify_all();
                }
                Ok(())
            }
            "FaultPanic" => panic!("FaultPanic: panic injected into the simulated camera"),
            _ => {
                let info = self.attr_info(name)?;
                bail!(ATTR_TYPE, "attribute '{name}' is {}, not a COMMAND", info.kind().with_article());
            }
        }
    }

    fn setup(&mut self, _nframes: usize) -> Result<()> {
        if self.s.setup_delay > 0.0 {
            std::thread::sleep(Duration::from_secs_f64(self.s.setup_delay));
        }
        Ok(())
    }

    fn clear(&mut self) -> Result<()> {
        Ok(())
    }

    fn start(&mut self) -> Result<Box<dyn Stream>> {
        *self.triggers.pending.lock() = 0;
        *self.clock_origin.lock() = Instant::now();
        self.running = true;
        let fmt = self.frame_format()?;
        Ok(Box::new(SimStream {
            s: self.s.clone(),
            period: Duration::from_secs_f64(self.period()),
            row_bytes: (fmt.width * fmt.bytes_per_pixel) as usize,
            t0: Instant::now(),
            clock_origin: self.clock_origin.clone(),
            triggers: self.triggers.clone(),
            consumed_triggers: 0,
            device_frames: 0,
            delivered: 0,
            skipped: 0,
        }))
    }

    fn stop(&mut self) -> Result<()> {
        self.running = false;
        Ok(())
    }
}

struct SimStream {
    s: Settings,
    period: Duration,
    row_bytes: usize,
    t0: Instant,
    clock_origin: Arc<Mutex<Instant>>,
    triggers: Arc<Triggers>,
    consumed_triggers: u64,
    /// Frames the simulated device produced (framestamp of the next one).
    device_frames: i64,
    /// Frames handed to the core.
    delivered: i64,
    /// Device frames dropped (FaultDropEvery) since the last delivered frame.
    skipped: u64,
}

impl SimStream {
    /// Wait for the next exposure to end; false on timeout.
    fn wait_exposure(&mut self, timeout: Duration) -> bool {
        match self.s.trigger {
            TriggerMode::Int => {
                if self.s.bench_rate > 0.0 {
                    // An ideal fast camera: frames exactly 1/rate apart, spin-paced.
                    let due = self.t0 + Duration::from_secs_f64((self.device_frames as f64 + 1.0) / self.s.bench_rate);
                    let limit = Instant::now() + timeout;
                    loop {
                        let now = Instant::now();
                        if now >= due {
                            return true;
                        }
                        if now >= limit {
                            return false;
                        }
                        if due - now > Duration::from_micros(200) {
                            std::thread::sleep((due - now - Duration::from_micros(100)).min(timeout));
                        } else {
                            std::hint::spin_loop();
                        }
                    }
                }
                if !self.s.pacing {
                    return true;
                }
                let due = self.t0 + self.period.mul_f64(self.device_frames as f64 + 1.0);
                let now = Instant::now();
                if due > now {
                    if due - now > timeout {
                        std::thread::sleep(timeout);
                        return false;
                    }
                    std::thread::sleep(due - now);
                }
                true
            }
            _ => {
                let deadline = Instant::now() + timeout;
                let mut pending = self.triggers.pending.lock();
                while *pending <= self.consumed_triggers {
                    if self.triggers.cv.wait_until(&mut pending, deadline).timed_out() {
                        return false;
                    }
                }
                self.consumed_triggers += 1;
                drop(pending);
                // The exposure follows the edge.
                if self.s.pacing {
                    std::thread::sleep(Duration::from_secs_f64(self.s.exposure));
                }
                true
            }
        }
    }

    fn draw(&self, n: i64, dst: &mut [u8]) {
        let r = self.s.roi;
        let (w, h) = (r.width(), r.height());
        for j in 0..h {
            let y = r.vstart + j * r.vbin;
            let base = pixel_value(n, r.hstart, y);
            let step = r.hbin as u16;
            let row = &mut dst[j as usize * self.row_bytes..(j as usize + 1) * self.row_bytes];
            match self.s.pixel {
                PixelFormat::Mono16 => {
                    // SAFETY: u16 has no invalid bit patterns; align_to_mut only reinterprets
                    // the aligned middle part.
                    let (pre, mid, post) = unsafe { row.align_to_mut::<u16>() };
                    if pre.is_empty() && post.is_empty() {
                        let mut v = base;
                        for p in mid.iter_mut() {
                            *p = v;
                            v = v.wrapping_add(step);
                        }
                    } else {
                        for i in 0..w as usize {
                            let v = base.wrapping_add(step.wrapping_mul(i as u16));
                            row[2 * i..2 * i + 2].copy_from_slice(&v.to_ne_bytes());
                        }
                    }
                }
                PixelFormat::Mono8 => {
                    let mut v = base;
                    for p in row.iter_mut() {
                        *p = v as u8;
                        v = v.wrapping_add(step);
                    }
                }
            }
        }
    }
}

impl Stream for SimStream {
    fn next_frame(&mut self, dst: &mut [u8], timeout: Duration) -> Result<Option<FrameMeta>> {
        loop {
            if self.s.disconnect_after >= 0 && self.delivered >= self.s.disconnect_after {
                bail!(DISCONNECTED, "simulated camera disconnected after {} frames (FaultDisconnectAfter)", self.delivered);
            }
            if self.s.panic_after >= 0 && self.delivered >= self.s.panic_after {
                panic!("FaultPanicAfter: panic injected into the simulated acquisition after {} frames", self.delivered);
            }
            if !self.wait_exposure(timeout) {
                return Ok(None);
            }
            let n = self.device_frames;
            self.device_frames += 1;
            if self.s.drop_every > 0 && (n + 1) % self.s.drop_every == 0 {
                self.skipped += 1;
                continue;
            }
            self.draw(n, dst);
            self.delivered += 1;
            let ticks = self.clock_origin.lock().elapsed().as_micros() as i64;
            return Ok(Some(FrameMeta {
                framestamp: n,
                timestamp_ticks: ticks,
                timestamp_hz: 1e6,
                flags: 0,
                lost_before: std::mem::take(&mut self.skipped),
            }));
        }
    }
}
