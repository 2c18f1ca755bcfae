//! One open camera: the state machine, the ring, the acquisition thread and reading.
//!
//! Locking: `ctl` serialises every call on the camera (it owns the backend `Device`);
//! `shared.st` guards the ring and is held only briefly, never while copying frames or
//! waiting for the backend. `wait` takes only `shared.st`, so `stop`, `close`,
//! `cancel_wait` and status queries never wait behind it.

use crate::backend::{Device, FrameMeta, InPlaceEvent, RingLayout, Stream, WHOLE_RING};
use crate::error::{Error, Num, Result, Status};
use crate::image::{self, Transform};
use crate::model::*;
use crate::ring::Ring;
use parking_lot::{Condvar, Mutex, MutexGuard};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long the acquisition thread waits for a frame before checking for stop.
const POLL: Duration = Duration::from_millis(20);
/// Ring size used by `start`, `snap` and `grab` when nothing was set up.
pub(crate) const DEFAULT_BUFFER_FRAMES: usize = 100;

struct Control {
    dev: Option<Box<dyn Device>>,
    indexing: Indexing,
    native: Indexing,
    attr_names: Vec<String>,
    thread: Option<JoinHandle<()>>,
    /// The ROI the ring was set up with: after a disconnect it is still the ROI of the
    /// frames kept, when the camera can no longer be asked.
    ring_roi: Option<Roi>,
}

struct RingState {
    ring: Option<Ring>,
    /// Why the acquisition faulted (DISCONNECTED, INTERNAL, VENDOR ...).
    fault: Option<Error>,
    /// Incremented by stop, close and cancel_wait: pending waits return ABORTED.
    cancel_gen: u64,
    /// Waiters in `wait`, and the smallest frame count any of them waits for: the
    /// acquisition thread wakes them only when that many frames are unread.
    waiters: u32,
    min_wait: usize,
}

struct Shared {
    st: Mutex<RingState>,
    cv: Condvar,
    state: AtomicI32,
    stop: AtomicBool,
    /// The acquisition thread ends after this many frames (grab); u64::MAX: no limit.
    limit: AtomicU64,
    /// The acquisition thread has ended by itself (its `limit` frames are in).
    ended: AtomicBool,
}

pub struct Camera {
    pub id: String,
    ctl: Mutex<Control>,
    shared: Arc<Shared>,
    /// The message of the last failed call on this camera.
    pub last_error: Mutex<String>,
}

fn now_ns() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as i64).unwrap_or(0)
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".into()
    }
}

impl Camera {
    /// Open `camera_id` (`"sim"`, `"sim:1"`, `"aravis:127.0.0.1"`).
    pub fn open(camera_id: &str) -> Result<Camera> {
        let (backend, id) = match camera_id.split_once(':') {
            Some((b, i)) => (b, i),
            None => (camera_id, ""),
        };
        if backend.is_empty() {
            bail!(INVALID_ARGUMENT, "empty camera id; expected 'backend' or 'backend:id' (e.g. 'sim')");
        }
        if camera_id.ends_with(':') {
            bail!(INVALID_ARGUMENT, "camera id '{camera_id}' has nothing after ':'; expected 'backend' or 'backend:id' (e.g. 'sim' or 'sim:1')");
        }
        let Some(driver) = crate::backends::driver(backend) else {
            let names: Vec<_> = crate::backends::drivers().iter().map(|d| d.name()).collect();
            bail!(NOT_FOUND, "unknown backend '{backend}' in camera id '{camera_id}' (backends: {})", names.join(", "));
        };
        let mut dev = driver.open(id)?;
        let native = dev.native_indexing();
        let attr_names = dev.attr_names()?;
        crate::log::info(&format!("opened {camera_id}"));
        Ok(Camera {
            id: camera_id.to_string(),
            ctl: Mutex::new(Control { dev: Some(dev), indexing: native, native, attr_names, thread: None, ring_roi: None }),
            shared: Arc::new(Shared {
                st: Mutex::new(RingState { ring: None, fault: None, cancel_gen: 0, waiters: 0, min_wait: usize::MAX }),
                cv: Condvar::new(),
                state: AtomicI32::new(AcqState::Open as i32),
                stop: AtomicBool::new(false),
                limit: AtomicU64::new(u64::MAX),
                ended: AtomicBool::new(false),
            }),
            last_error: Mutex::new(String::new()),
        })
    }

    pub fn state(&self) -> AcqState {
        AcqState::from_i32(self.shared.state.load(Ordering::Acquire))
    }

    fn set_state(&self, s: AcqState) {
        self.shared.state.store(s as i32, Ordering::Release);
    }

    fn ctl(&self) -> Result<(MutexGuard<'_, Control>,)> {
        let c = self.ctl.lock();
        if c.dev.is_none() {
            bail!(INVALID_HANDLE, "camera '{}' is closed", self.id);
        }
        Ok((c,))
    }

    /// Run `f` on the backend device, with the camera lock held.
    fn with_dev<T>(&self, f: impl FnOnce(&mut dyn Device) -> Result<T>) -> Result<T> {
        let (mut c,) = self.ctl()?;
        if self.state() == AcqState::Fault {
            return Err(self.fault_error());
        }
        let r = f(c.dev.as_deref_mut().unwrap());
        self.note_disconnect(r)
    }

    /// A device call that finds the camera gone puts the camera in FAULT (as a disconnect
    /// seen by the acquisition thread does), whatever the state: later calls say so at once
    /// instead of each timing out on the camera, and the frames stay readable.
    fn note_disconnect<T>(&self, r: Result<T>) -> Result<T> {
        if let Err(e) = &r {
            if e.status == Status::DISCONNECTED && self.state() != AcqState::Fault {
                // (A running acquisition thread meets the same and ends; stop or close
                // joins it.)
                let mut st = self.shared.st.lock();
                if st.fault.is_none() {
                    st.fault = Some(e.clone());
                }
                drop(st);
                self.set_state(AcqState::Fault);
                self.shared.cv.notify_all();
                crate::log::warn(&format!("{}: camera disconnected: {}", self.id, e.message));
            }
        }
        r
    }

    /// WRONG_STATE once a sequence (labcam_start_sequence) has ended: the camera is idle but
    /// the acquisition is RUNNING until labcam_stop, and its settings stay locked as while
    /// the camera acquired (the frames in the ring were taken with them).
    fn check_sequence_not_ended(&self) -> Result<()> {
        if self.state() != AcqState::Running {
            return Ok(());
        }
        if self.shared.st.lock().ring.as_ref().is_some_and(|r| sequence_over(&self.shared, r)) {
            bail!(WRONG_STATE, "the sequence of {} frames has ended; call labcam_stop before changing settings or triggering", self.shared.limit.load(Ordering::Acquire));
        }
        Ok(())
    }

    fn fault_error(&self) -> Error {
        let st = self.shared.st.lock();
        st.fault.clone().unwrap_or_else(|| err!(DISCONNECTED, "camera '{}' is disconnected", self.id))
    }

    // ---- lifetime ------------------------------------------------------------------

    /// Stop, clear and release the device. Pending waits return ABORTED. Idempotent.
    pub fn close(&self) {
        {
            let mut st = self.shared.st.lock();
            st.cancel_gen += 1;
        }
        self.shared.cv.notify_all();
        let mut c = self.ctl.lock();
        self.stop_thread(&mut c);
        if let Some(mut dev) = c.dev.take() {
            if self.state() == AcqState::Running {
                let _ = dev.stop();
            }
            let _ = dev.clear();
            drop(dev);
        }
        self.shared.st.lock().ring = None;
        crate::log::info(&format!("closed {}", self.id));
    }

    pub fn device_info(&self) -> Result<String> {
        let pairs = self.with_dev(|d| d.device_info())?;
        let mut s = String::new();
        for (k, v) in pairs {
            s.push_str(&k);
            s.push('=');
            s.push_str(&v.replace('\n', " "));
            s.push('\n');
        }
        Ok(s)
    }

    // ---- geometry ------------------------------------------------------------------

    pub fn detector_size(&self) -> Result<(i64, i64)> {
        self.with_dev(|d| d.detector_size())
    }

    pub fn roi_limits(&self) -> Result<RoiLimits> {
        self.with_dev(|d| d.roi_limits())
    }

    /// The ROI. After a disconnect (FAULT) it is the ROI of the frames kept in the ring.
    pub fn roi(&self) -> Result<Roi> {
        if self.state() == AcqState::Fault {
            let c = self.ctl.lock();
            if let (Some(r), true) = (c.ring_roi, self.shared.st.lock().ring.is_some()) {
                return Ok(r);
            }
        }
        self.with_dev(|d| d.roi())
    }

    /// Check the request against the sensor, apply it (rounded by the camera) and clear the
    /// acquisition when set up with another frame size.
    pub fn set_roi(&self, r: Roi) -> Result<Roi> {
        let (mut c,) = self.ctl()?;
        self.check_geometry_change(&c, "the ROI")?;
        let dev = c.dev.as_deref_mut().unwrap();
        let (w, h) = dev.detector_size()?;
        if r.hbin < 1 || r.vbin < 1 {
            bail!(INVALID_ARGUMENT, "binning {}x{} invalid: must be >= 1", r.hbin, r.vbin);
        }
        if r.hstart < 0 || r.hend > w || r.hstart >= r.hend {
            bail!(INVALID_ARGUMENT, "horizontal ROI [{}, {}) outside the sensor [0, {}) or empty", r.hstart, r.hend, w);
        }
        if r.vstart < 0 || r.vend > h || r.vstart >= r.vend {
            bail!(INVALID_ARGUMENT, "vertical ROI [{}, {}) outside the sensor [0, {}) or empty", r.vstart, r.vend, h);
        }
        // Cameras take a ROI as several features written in turn (Andor's AOI features,
        // GenICam's offsets, binning and size): one refused half way is undone by applying
        // the previous ROI again, so a failed call changes nothing.
        let prev = dev.roi()?;
        let applied = match dev.set_roi(r) {
            Ok(a) => a,
            Err(e) => {
                if e.status != Status::DISCONNECTED {
                    if let Err(back) = dev.set_roi(prev) {
                        crate::log::warn(&format!("{}: putting the ROI {prev:?} back after a refused one failed: {}", self.id, back.message));
                    }
                }
                return self.note_disconnect(Err(e));
            }
        };
        self.after_settings_change(&mut c)?;
        Ok(applied)
    }

    fn check_geometry_change(&self, _c: &Control, what: &str) -> Result<()> {
        match self.state() {
            AcqState::Running => bail!(WRONG_STATE, "cannot change {what} while acquiring; stop first"),
            AcqState::Fault => Err(self.fault_error()),
            _ => Ok(()),
        }
    }

    /// After a setting changed: a set-up ring whose frame size no longer matches is cleared.
    fn after_settings_change(&self, c: &mut Control) -> Result<()> {
        if self.state() != AcqState::SetUp {
            return Ok(());
        }
        let fmt = c.dev.as_deref_mut().unwrap().frame_format()?;
        self.clear_if_other_format(c, fmt)
    }

    /// Clear the set-up ring when its frames are not of format `fmt`.
    fn clear_if_other_format(&self, c: &mut Control, fmt: FrameFormat) -> Result<()> {
        let same = self.shared.st.lock().ring.as_ref().map(|r| r.format == fmt).unwrap_or(false);
        if !same {
            self.clear_locked(c)?;
        }
        Ok(())
    }

    /// The frame layout. After a disconnect (FAULT) it is the layout of the frames kept in
    /// the ring, so they stay readable by callers that size buffers from it.
    pub fn frame_format(&self) -> Result<FrameFormat> {
        if self.state() == AcqState::Fault {
            if let Some(r) = self.shared.st.lock().ring.as_ref() {
                return Ok(r.format);
            }
        }
        self.with_dev(|d| d.frame_format())
    }

    /// `(rows, cols)` of frames as read with the current indexing.
    pub fn data_dimensions(&self) -> Result<(i64, i64)> {
        let (mut c,) = self.ctl()?;
        let idx = c.indexing;
        let f = c.dev.as_deref_mut().unwrap().frame_format()?;
        Ok(image::dimensions(f.width, f.height, idx))
    }

    pub fn set_indexing(&self, i: Indexing) -> Result<()> {
        let (mut c,) = self.ctl()?;
        c.indexing = i;
        Ok(())
    }

    pub fn indexing(&self) -> Result<Indexing> {
        Ok(self.ctl()?.0.indexing)
    }

    // ---- timing and trigger ----------------------------------------------------------

    pub fn set_exposure(&self, s: f64) -> Result<f64> {
        if !s.is_finite() {
            bail!(INVALID_ARGUMENT, "exposure {} is not a finite number of seconds", Num(s));
        }
        self.with_dev(|d| {
            self.check_sequence_not_ended()?;
            d.set_exposure(s)
        })
    }
    pub fn exposure(&self) -> Result<f64> {
        self.with_dev(|d| d.exposure())
    }
    pub fn set_frame_period(&self, s: f64) -> Result<f64> {
        if !s.is_finite() || s < 0.0 {
            bail!(INVALID_ARGUMENT, "frame period {} invalid: must be a finite number of seconds >= 0", Num(s));
        }
        self.with_dev(|d| {
            self.check_sequence_not_ended()?;
            d.set_frame_period(s)
        })
    }
    pub fn frame_timings(&self) -> Result<(f64, f64)> {
        self.with_dev(|d| d.frame_timings())
    }
    /// WRONG_STATE while acquiring, for every backend (Andor SDK3 and PVCAM cannot change it
    /// then, and a GenICam camera would switch between its selector writes).
    pub fn set_trigger_mode(&self, m: TriggerMode) -> Result<()> {
        self.with_dev(|d| {
            // Under the control lock: no start can come between the check and the write.
            if self.state() == AcqState::Running {
                bail!(WRONG_STATE, "cannot change the trigger mode while acquiring; stop first");
            }
            d.set_trigger_mode(m)
        })
    }
    pub fn trigger_mode(&self) -> Result<TriggerMode> {
        self.with_dev(|d| d.trigger_mode())
    }
    pub fn send_software_trigger(&self) -> Result<()> {
        if self.state() != AcqState::Running && self.state() != AcqState::Fault {
            bail!(WRONG_STATE, "software trigger needs a running acquisition (state {})", self.state().name());
        }
        self.with_dev(|d| {
            self.check_sequence_not_ended()?;
            d.send_software_trigger()
        })
    }

    // ---- acquisition ----------------------------------------------------------------

    /// Allocate the ring for `nframes` frames of the current format. Allowed when OPEN or
    /// SET_UP (an existing ring of the same size and format is kept).
    pub fn setup(&self, nframes: usize) -> Result<()> {
        let (mut c,) = self.ctl()?;
        self.setup_locked(&mut c, nframes)
    }

    fn setup_locked(&self, c: &mut Control, nframes: usize) -> Result<()> {
        match self.state() {
            AcqState::Running => bail!(WRONG_STATE, "cannot set up while acquiring; stop first"),
            AcqState::Fault => return Err(self.fault_error()),
            _ => {}
        }
        if nframes == 0 {
            bail!(INVALID_ARGUMENT, "nframes must be >= 1");
        }
        let dev = c.dev.as_deref_mut().unwrap();
        let fmt = dev.frame_format()?;
        {
            let st = self.shared.st.lock();
            if let Some(r) = &st.ring {
                if r.is_pinned() {
                    bail!(BUSY, "a chunk is locked; unlock it before setting up again");
                }
                if r.nslots == nframes && r.format == fmt && self.state() == AcqState::SetUp {
                    return Ok(());
                }
            }
        }
        if self.state() == AcqState::SetUp {
            self.clear_locked(c)?;
        }
        let dev = c.dev.as_deref_mut().unwrap();
        dev.setup(nframes)?;
        let ring = dev.ring_layout().and_then(|l| {
            let l = l.unwrap_or(RingLayout { slot_bytes: 0, frame_offset: 0, check: None });
            let mut r = Ring::new(nframes, fmt, l.slot_bytes, l.frame_offset)?;
            r.set_check(l.check);
            Ok(r)
        });
        let ring = match ring {
            Ok(r) => r,
            Err(e) => {
                let _ = dev.clear();
                return Err(e);
            }
        };
        self.shared.st.lock().ring = Some(ring);
        c.ring_roi = c.dev.as_deref_mut().unwrap().roi().ok();
        self.set_state(AcqState::SetUp);
        Ok(())
    }

    /// Release the ring (frames in it are gone). SET_UP -> OPEN; OPEN: no-op is refused.
    pub fn clear(&self) -> Result<()> {
        let (mut c,) = self.ctl()?;
        match self.state() {
            AcqState::SetUp => self.clear_locked(&mut c),
            AcqState::Open => bail!(WRONG_STATE, "no acquisition is set up"),
            AcqState::Running => bail!(WRONG_STATE, "cannot clear while acquiring; stop first"),
            AcqState::Fault => Err(self.fault_error()),
        }
    }

    fn clear_locked(&self, c: &mut Control) -> Result<()> {
        {
            let st = self.shared.st.lock();
            if st.ring.as_ref().map(|r| r.is_pinned()).unwrap_or(false) {
                bail!(BUSY, "a chunk is locked; unlock it before clearing");
            }
        }
        c.dev.as_deref_mut().unwrap().clear()?;
        self.shared.st.lock().ring = None;
        self.set_state(AcqState::Open);
        Ok(())
    }

    /// Start acquiring (setting up a default ring first when OPEN). Frames of a previous run
    /// are discarded.
    pub fn start(&self) -> Result<()> {
        self.start_limited(u64::MAX)
    }

    /// Start, ending the acquisition once `limit` frames are kept (read or unread): frames
    /// given up because the ring was full (`lost_overwritten`) do not count, so `limit`
    /// frames can always be read. The device may produce more; they are ignored, as if
    /// acquired after the acquisition. The state stays RUNNING until `stop`.
    pub fn start_limited(&self, limit: u64) -> Result<()> {
        let (mut c,) = self.ctl()?;
        match self.state() {
            AcqState::Running => bail!(WRONG_STATE, "already acquiring"),
            AcqState::Fault => return Err(self.fault_error()),
            AcqState::Open => self.setup_locked(&mut c, DEFAULT_BUFFER_FRAMES)?,
            AcqState::SetUp => {}
        }
        {
            let mut st = self.shared.st.lock();
            let ring = st.ring.as_mut().unwrap();
            if ring.is_pinned() {
                bail!(BUSY, "a chunk is locked; unlock it before starting");
            }
        }
        let dev = c.dev.as_deref_mut().unwrap();
        // The frame format (and an in-place device's slot layout) must still fit the ring:
        // attributes may have changed them.
        let fmt = dev.frame_format()?;
        let layout = dev.ring_layout()?;
        let fits = {
            let st = self.shared.st.lock();
            let r = st.ring.as_ref().unwrap();
            r.format == fmt
                && match layout {
                    None => r.frame_offset() == 0 && r.slot_bytes() == r.frame_bytes(),
                    Some(l) => r.frame_offset() == l.frame_offset && r.slot_bytes() == l.slot_bytes.max(l.frame_offset + r.frame_bytes()),
                }
        };
        if !fits {
            let n = self.shared.st.lock().ring.as_ref().unwrap().nslots;
            self.clear_locked(&mut c)?;
            self.setup_locked(&mut c, n)?;
        } else {
            self.shared.st.lock().ring.as_mut().unwrap().set_check(layout.and_then(|l| l.check));
        }
        let started = c.dev.as_deref_mut().unwrap().start();
        let mut stream = self.note_disconnect(started)?;
        // Only now are the previous run's frames given up: a start that fails before the
        // camera started (a pixel format labcam cannot read, a camera gone) leaves them
        // readable.
        {
            let mut st = self.shared.st.lock();
            st.ring.as_mut().unwrap().reset();
            st.fault = None;
        }
        if stream.in_place() > 0 {
            let begun = (|| {
                let attached = {
                    let st = self.shared.st.lock();
                    let r = st.ring.as_ref().unwrap();
                    stream.attach_ring(r.slot_ptr(0), r.nslots, r.slot_bytes())
                };
                attached?;
                let ahead = stream.in_place();
                if ahead == 0 {
                    // The device could not take the ring and copies frames instead: slots
                    // hold no device record to check.
                    self.shared.st.lock().ring.as_mut().unwrap().set_check(None);
                    return Ok(());
                }
                // The first slots are given here, and the device started on them, so that
                // when labcam_start returns the camera is acquiring (its settings locked as
                // the vendor's SDK locks them) and a failure to start is labcam_start's error.
                give_ahead(&self.shared, stream.as_mut(), ahead, limit, &mut Vec::new())?;
                stream.begin()
            })();
            if let Err(e) = begun {
                drop(stream);
                if let Some(ring) = self.shared.st.lock().ring.as_mut() {
                    ring.unreserve_all();
                }
                let _ = c.dev.as_deref_mut().unwrap().stop();
                return Err(e);
            }
        }
        self.shared.stop.store(false, Ordering::Release);
        self.shared.limit.store(limit, Ordering::Release);
        self.shared.ended.store(false, Ordering::Release);
        self.set_state(AcqState::Running);
        let shared = self.shared.clone();
        let name = format!("labcam-acq-{}", self.id);
        let spawned = std::thread::Builder::new().name(name).spawn(move || acquisition_loop(shared, stream));
        match spawned {
            Ok(t) => c.thread = Some(t),
            Err(e) => {
                let _ = c.dev.as_deref_mut().unwrap().stop();
                self.set_state(AcqState::SetUp);
                bail!(INTERNAL, "cannot spawn the acquisition thread: {e}");
            }
        }
        crate::log::info(&format!("{}: acquisition started", self.id));
        Ok(())
    }

    /// Stop acquiring; frames stay readable. Pending waits return ABORTED. In FAULT, ends the
    /// acquisition thread and keeps FAULT.
    pub fn stop(&self) -> Result<()> {
        let (mut c,) = self.ctl()?;
        match self.state() {
            AcqState::Running => {
                self.stop_thread(&mut c);
                self.set_state(AcqState::SetUp);
                let r = c.dev.as_deref_mut().unwrap().stop();
                self.note_disconnect(r)?;
                crate::log::info(&format!("{}: acquisition stopped", self.id));
                Ok(())
            }
            AcqState::Fault => {
                self.stop_thread(&mut c);
                let _ = c.dev.as_deref_mut().unwrap().stop();
                // A camera that is still there (the fault was a vendor error, a panic, a
                // locked chunk overwritten) can start again: SET_UP, frames kept. After a
                // disconnect the state stays FAULT: only close helps.
                let mut st = self.shared.st.lock();
                let gone = st.fault.as_ref().is_none_or(|e| e.status == Status::DISCONNECTED);
                if !gone {
                    st.fault = None;
                    drop(st);
                    self.set_state(AcqState::SetUp);
                    crate::log::info(&format!("{}: acquisition stopped after a fault; set up again", self.id));
                }
                Ok(())
            }
            s => bail!(WRONG_STATE, "not acquiring (state {})", s.name()),
        }
    }

    fn stop_thread(&self, c: &mut Control) {
        self.shared.stop.store(true, Ordering::Release);
        {
            let mut st = self.shared.st.lock();
            st.cancel_gen += 1;
        }
        self.shared.cv.notify_all();
        if let Some(t) = c.thread.take() {
            let _ = t.join();
        }
    }

    /// Wait until at least `n` unread frames exist. `timeout` None waits for ever.
    pub fn wait(&self, n: usize, timeout: Option<Duration>) -> Result<()> {
        if n == 0 {
            bail!(INVALID_ARGUMENT, "nframes must be >= 1");
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut st = self.shared.st.lock();
        let gen = st.cancel_gen;
        st.waiters += 1;
        st.min_wait = st.min_wait.min(n);
        let r = self.wait_locked(&mut st, n, gen, deadline, timeout);
        st.waiters -= 1;
        if st.waiters == 0 {
            st.min_wait = usize::MAX;
        }
        r
    }

    fn wait_locked(&self, st: &mut MutexGuard<'_, RingState>, n: usize, gen: u64, deadline: Option<Instant>, timeout: Option<Duration>) -> Result<()> {
        loop {
            let Some(ring) = st.ring.as_ref() else {
                if self.state() == AcqState::Fault {
                    return Err(st.fault.clone().unwrap_or_else(|| err!(DISCONNECTED, "camera disconnected")));
                }
                bail!(WRONG_STATE, "no acquisition is set up");
            };
            if n > ring.nslots {
                bail!(INVALID_ARGUMENT, "cannot wait for {n} frames: the ring holds {}", ring.nslots);
            }
            if ring.unread() >= n {
                return Ok(());
            }
            if st.cancel_gen != gen {
                bail!(ABORTED, "wait aborted by stop, close or cancel_wait ({} of {n} frames unread)", ring.unread());
            }
            match self.state() {
                AcqState::Running if sequence_over(&self.shared, ring) => {
                    bail!(WRONG_STATE, "the acquisition ended after its {} frames and only {} of {n} frames are unread", self.shared.limit.load(Ordering::Acquire), ring.unread())
                }
                AcqState::Running => {}
                AcqState::Fault => {
                    return Err(st.fault.clone().unwrap_or_else(|| err!(DISCONNECTED, "camera disconnected")));
                }
                s => bail!(WRONG_STATE, "acquisition not running (state {}) and only {} of {n} frames unread", s.name(), ring.unread()),
            }
            match deadline {
                Some(d) => {
                    if self.shared.cv.wait_until(st, d).timed_out() {
                        let u = st.ring.as_ref().map(|r| r.unread()).unwrap_or(0);
                        if u >= n {
                            return Ok(());
                        }
                        bail!(TIMEOUT, "{u} of {n} frames unread after {:.3} s", timeout.unwrap().as_secs_f64());
                    }
                }
                None => self.shared.cv.wait(st),
            }
        }
    }

    /// Make pending and concurrent waits return ABORTED.
    pub fn cancel_wait(&self) {
        self.shared.st.lock().cancel_gen += 1;
        self.shared.cv.notify_all();
    }

    pub fn frames_status(&self) -> Result<FramesStatus> {
        let st = self.shared.st.lock();
        // Before setup: no frame yet, so last_index is -1 as for an empty ring.
        Ok(st.ring.as_ref().map(|r| r.status()).unwrap_or(FramesStatus { last_index: -1, ..Default::default() }))
    }

    // ---- reading ------------------------------------------------------------------

    /// Copy up to `max_frames` oldest unread frames into `dst` (frame after frame, each in the
    /// current indexing) and their infos into `infos` (if given, at least `max_frames` long).
    /// Returns the number copied (0 when none is unread). `peek` leaves them unread.
    pub fn read_chunk(&self, dst: &mut [u8], max_frames: usize, peek: bool, infos: Option<&mut [FrameInfo]>) -> Result<usize> {
        let (c,) = self.ctl()?;
        let t = Transform::new(c.native, c.indexing);
        let mut st = self.shared.st.lock();
        let Some(ring) = st.ring.as_mut() else { bail!(WRONG_STATE, "no acquisition is set up") };
        if ring.is_pinned() && !peek {
            bail!(BUSY, "a chunk is locked; unlock it before reading (or read with PEEK)");
        }
        if ring.unread() == 0 || max_frames == 0 {
            return Ok(0);
        }
        let fb = ring.frame_bytes();
        if dst.len() < fb {
            bail!(BUFFER_TOO_SMALL, "destination has {} bytes; one frame needs {fb}", dst.len());
        }
        let (first, k) = ring.pin_oldest(max_frames.min(dst.len() / fb), false);
        let n = ring.nslots;
        let fmt = ring.format;
        let mut infos = infos;
        if let Some(infos) = infos.as_deref_mut() {
            for (i, out) in infos.iter_mut().take(k).enumerate() {
                *out = *ring.info((first + i) % n);
            }
        }
        let ptrs = (ring.frame_ptr(first), ring.frame_ptr(0));
        let sb = ring.slot_bytes();
        drop(st);
        // Copy outside the lock; the pinned slots cannot be overwritten.
        let first_run = k.min(n - first);
        // SAFETY: the pinned slots [first, first+first_run) and [0, k-first_run) are inside the
        // ring, stay allocated (clear/close need the camera lock we hold) and are not written.
        unsafe {
            if sb == fb {
                let a = std::slice::from_raw_parts(ptrs.0, first_run * fb);
                let b = std::slice::from_raw_parts(ptrs.1, (k - first_run) * fb);
                copy_frames(a, &mut dst[..first_run * fb], fb, &fmt, t);
                copy_frames(b, &mut dst[first_run * fb..k * fb], fb, &fmt, t);
            } else {
                // Slots carry a device header or trailer: copy frame by frame.
                for i in 0..k {
                    let p = if i < first_run { ptrs.0.add(i * sb) } else { ptrs.1.add((i - first_run) * sb) };
                    copy_frames(std::slice::from_raw_parts(p, fb), &mut dst[i * fb..(i + 1) * fb], fb, &fmt, t);
                }
            }
        }
        // A camera that cannot be held back (PVCAM) may have written over the oldest of them
        // before or while they were copied: those are dropped (lost_overwritten).
        let mut st = self.shared.st.lock();
        let ring = st.ring.as_mut().unwrap();
        let stale = ring.stale_prefix(k);
        if stale > 0 && ring.is_chunk_locked() {
            ring.unpin(k, false);
            bail!(BUSY, "the camera overwrote frames of the locked chunk while they were read");
        }
        ring.unpin(0, false);
        ring.drop_oldest(stale);
        if !peek {
            ring.unpin(k - stale, true);
        }
        drop(st);
        if stale > 0 {
            dst.copy_within(stale * fb..k * fb, 0);
            if let Some(infos) = infos {
                infos.copy_within(stale..k, 0);
            }
        }
        Ok(k - stale)
    }

    /// Copy the newest unread frame into `dst`; it and every older unread frame become read.
    /// `NOT_FOUND` when no unread frame exists.
    pub fn read_newest(&self, dst: &mut [u8]) -> Result<FrameInfo> {
        let (c,) = self.ctl()?;
        let t = Transform::new(c.native, c.indexing);
        let mut st = self.shared.st.lock();
        let Some(ring) = st.ring.as_mut() else { bail!(WRONG_STATE, "no acquisition is set up") };
        if ring.is_pinned() {
            bail!(BUSY, "a chunk is locked; unlock it before reading");
        }
        let fb = ring.frame_bytes();
        if dst.len() < fb {
            bail!(BUFFER_TOO_SMALL, "destination has {} bytes; one frame needs {fb}", dst.len());
        }
        let Some((slot, k)) = ring.pin_newest() else {
            bail!(NOT_FOUND, "no unread frame ({} acquired so far)", ring.status().acquired);
        };
        let info = *ring.info(slot);
        let fmt = ring.format;
        let p = ring.frame_ptr(slot);
        drop(st);
        // SAFETY: as in read_chunk.
        unsafe { copy_frames(std::slice::from_raw_parts(p, fb), &mut dst[..fb], fb, &fmt, t) };
        let mut st = self.shared.st.lock();
        let ring = st.ring.as_mut().unwrap();
        if ring.stale_prefix(k) == k {
            // The camera (PVCAM) went over the newest frame too: every unread frame is gone.
            ring.unpin(0, false);
            ring.drop_oldest(k);
            bail!(NOT_FOUND, "no unread frame: the camera overwrote the {k} unread frames before they were read (counted in lost_overwritten)");
        }
        ring.unpin(k, true);
        Ok(info)
    }

    /// Pin up to `max_frames` contiguous unread frames and return where they are. A chunk of
    /// 0 frames (id 0) is returned when none is unread.
    pub fn lock_chunk(&self, max_frames: usize) -> Result<Chunk> {
        let (c,) = self.ctl()?;
        let mut st = self.shared.st.lock();
        let Some(ring) = st.ring.as_mut() else { bail!(WRONG_STATE, "no acquisition is set up") };
        if ring.is_pinned() {
            bail!(BUSY, "a chunk is already locked; unlock it first");
        }
        // Frames a camera that cannot be held back (PVCAM) has already written over are
        // dropped (lost_overwritten) rather than handed out.
        loop {
            let want = ring.unread().min(max_frames);
            let stale = ring.stale_prefix(want);
            ring.drop_oldest(stale);
            if stale < want || stale == 0 {
                break;
            }
        }
        let (first, k) = ring.pin_oldest(max_frames, true);
        let fmt = ring.format;
        let (rows, cols) = image::dimensions(fmt.width, fmt.height, c.native);
        let mut chunk = Chunk {
            data: ring.frame_ptr(first) as u64,
            infos: ring.infos_ptr(first) as u64,
            chunk_id: 0,
            n_frames: k as i64,
            frame_bytes: fmt.frame_bytes,
            first_index: if k > 0 { ring.info(first).index } else { ring.status().acquired },
            rows,
            cols,
            indexing: c.native as i64,
            slot_bytes: ring.slot_bytes() as i64,
        };
        if k > 0 {
            chunk.chunk_id = ring.lock_chunk(k);
        } else {
            ring.unpin(0, false);
        }
        Ok(chunk)
    }

    /// Release a locked chunk; its frames become read. Chunk id 0 (an empty chunk) is a no-op.
    pub fn unlock_chunk(&self, id: u64) -> Result<()> {
        let _c = self.ctl()?;
        if id == 0 {
            return Ok(());
        }
        let mut st = self.shared.st.lock();
        let Some(ring) = st.ring.as_mut() else { bail!(INVALID_ARGUMENT, "chunk {id} is not locked (no acquisition is set up)") };
        ring.unlock_chunk(id)
    }

    /// Acquire `n` frames into `dst` and stop: sets up when needed, starts, reads frames as
    /// they arrive, stops. Not allowed while running.
    pub fn grab(&self, n: usize, dst: &mut [u8], timeout: Option<Duration>, mut infos: Option<&mut [FrameInfo]>) -> Result<usize> {
        if n == 0 {
            bail!(INVALID_ARGUMENT, "nframes must be >= 1");
        }
        {
            let (mut c,) = self.ctl()?;
            let fmt = match self.state() {
                AcqState::Running => bail!(WRONG_STATE, "cannot grab while acquiring; stop first"),
                AcqState::Fault => return Err(self.fault_error()),
                _ => c.dev.as_deref_mut().unwrap().frame_format()?,
            };
            let fb = fmt.frame_bytes as usize;
            let need = fb.saturating_mul(n);
            if dst.len() < need {
                bail!(BUFFER_TOO_SMALL, "destination has {} bytes; {n} frames need {need}", dst.len());
            }
            if self.state() == AcqState::Open {
                // Room for all n frames when they fit in 256 MiB; else frames are read while
                // they arrive.
                let cap = ((256usize << 20) / fb.max(1)).max(2);
                self.setup_locked(&mut c, n.clamp(2, cap))?;
            }
        }
        self.start_limited(n as u64)?;
        let result = (|| {
            let mut got = 0;
            let fb = self.frame_format()?.frame_bytes as usize;
            while got < n {
                self.wait(1, timeout)?;
                let inf = infos.as_deref_mut().map(|i| &mut i[got..n]);
                got += self.read_chunk(&mut dst[got * fb..n * fb], n - got, false, inf)?;
            }
            Ok(got)
        })();
        let stopped = if self.state() == AcqState::Running { self.stop() } else { Ok(()) };
        let got = result?;
        stopped?;
        Ok(got)
    }

    // ---- attributes ----------------------------------------------------------------

    pub fn attr_count(&self) -> Result<usize> {
        let (mut c,) = self.ctl()?;
        let names = c.dev.as_deref_mut().unwrap().attr_names()?;
        c.attr_names = names;
        Ok(c.attr_names.len())
    }

    pub fn attr_name(&self, index: usize) -> Result<String> {
        let (c,) = self.ctl()?;
        c.attr_names.get(index).cloned().ok_or_else(|| {
            err!(INVALID_ARGUMENT, "attribute index {index} out of range (the camera has {})", c.attr_names.len())
        })
    }

    pub fn attr_info(&self, name: &str) -> Result<AttrInfo> {
        self.with_dev(|d| d.attr_info(name))
    }

    pub fn attr_enum_entries(&self, name: &str) -> Result<Vec<EnumEntry>> {
        self.with_dev(|d| {
            let info = d.attr_info(name)?;
            if info.kind() != AttrKind::Enum {
                bail!(ATTR_TYPE, "attribute '{name}' is {}, not an ENUM", info.kind().with_article());
            }
            d.attr_enum_entries(name)
        })
    }

    /// Read an attribute, checking it has the expected kind (enum reads as INT give the
    /// entry's index, as STRING its name).
    pub fn get_attr(&self, name: &str, want: AttrKind) -> Result<AttrValue> {
        self.with_dev(|d| {
            let info = d.attr_info(name)?;
            let kind = info.kind();
            let enum_ok = kind == AttrKind::Enum && matches!(want, AttrKind::Int | AttrKind::String);
            if kind != want && !enum_ok {
                bail!(ATTR_TYPE, "attribute '{name}' is {}, not {}", kind.with_article(), want.with_article());
            }
            if info.implemented == 0 {
                bail!(NOT_SUPPORTED, "attribute '{name}' is not implemented by this camera");
            }
            if info.readable == 0 {
                bail!(NOT_SUPPORTED, "attribute '{name}' is not readable now");
            }
            let v = d.get_attr(name)?;
            match (want, v) {
                (AttrKind::Int, AttrValue::Enum(s)) => {
                    let entries = d.attr_enum_entries(name)?;
                    let i = entries.iter().position(|e| e.name == s).ok_or_else(|| {
                        err!(INTERNAL, "enum attribute '{name}' has value '{s}' which is not among its entries")
                    })?;
                    Ok(AttrValue::Int(i as i64))
                }
                (AttrKind::String, AttrValue::Enum(s)) => Ok(AttrValue::String(s)),
                (_, v) => Ok(v),
            }
        })
    }

    /// Write an attribute of the expected kind (INT on an enum selects an entry by index,
    /// STRING by name). A set-up acquisition whose frame size changes is cleared.
    pub fn set_attr(&self, name: &str, value: AttrValue) -> Result<()> {
        let (mut c,) = self.ctl()?;
        if self.state() == AcqState::Fault {
            return Err(self.fault_error());
        }
        self.check_sequence_not_ended()?;
        let d = c.dev.as_deref_mut().unwrap();
        let info = d.attr_info(name)?;
        let kind = info.kind();
        let value = match (kind, value) {
            (AttrKind::Int, v @ AttrValue::Int(_))
            | (AttrKind::Float, v @ AttrValue::Float(_))
            | (AttrKind::Bool, v @ AttrValue::Bool(_))
            | (AttrKind::String, v @ AttrValue::String(_)) => v,
            (AttrKind::Enum, AttrValue::String(s)) => {
                let entries = d.attr_enum_entries(name)?;
                match entries.iter().find(|e| e.name == s) {
                    None => bail!(NOT_FOUND, "'{s}' is not a value of enum attribute '{name}' (values: {})", entries.iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join(", ")),
                    Some(e) if !e.available => bail!(NOT_SUPPORTED, "value '{s}' of '{name}' is not available now"),
                    Some(_) => AttrValue::Enum(s),
                }
            }
            (AttrKind::Enum, AttrValue::Int(i)) => {
                let entries = d.attr_enum_entries(name)?;
                match usize::try_from(i).ok().and_then(|i| entries.get(i)) {
                    None => bail!(INVALID_ARGUMENT, "enum index {i} out of range for '{name}' ({} values)", entries.len()),
                    Some(e) if !e.available => bail!(NOT_SUPPORTED, "value '{}' of '{name}' is not available now", e.name),
                    Some(e) => AttrValue::Enum(e.name.clone()),
                }
            }
            (k, v) => {
                let got = match v {
                    AttrValue::Int(_) => "an INT",
                    AttrValue::Float(_) => "a FLOAT",
                    AttrValue::Bool(_) => "a BOOL",
                    AttrValue::Enum(_) => "an ENUM",
                    AttrValue::String(_) => "a STRING",
                };
                bail!(ATTR_TYPE, "attribute '{name}' is {}, not {got}", k.with_article());
            }
        };
        if info.implemented == 0 {
            bail!(NOT_SUPPORTED, "attribute '{name}' is not implemented by this camera");
        }
        if info.writable != 0 {
            // A write the camera refuses gets the backend's own reason (read-only, or not
            // while acquiring); limits are checked here once for every backend.
            info.check_value(name, &value)?;
        }
        // The value before, to put back if the camera ends up in a frame format labcam
        // cannot deliver (a colour PixelFormat, say): a refused write changes nothing.
        let before = if info.readable != 0 { d.get_attr(name).ok() } else { None };
        self.note_disconnect(d.set_attr(name, value))?;
        let fmt = d.frame_format();
        if let Err(e) = &fmt {
            if e.status == Status::NOT_SUPPORTED {
                if let Some(b) = before {
                    if let Err(back) = d.set_attr(name, b) {
                        crate::log::warn(&format!("{}: putting '{name}' back failed: {}", self.id, back.message));
                    }
                }
                return Err(Error::new(e.status, format!("'{name}' refused: {}", e.message)));
            }
        }
        // (The format just read serves after_settings_change's check too.)
        if self.state() != AcqState::SetUp {
            return Ok(());
        }
        self.clear_if_other_format(&mut c, fmt?)
    }

    /// Run a COMMAND attribute. The commands that start and stop a camera (GenICam SFNC's
    /// and Andor SDK3's AcquisitionStart, AcquisitionStop, AcquisitionAbort) are labcam's
    /// own: run behind its back they leave the camera acquiring without labcam, or fault the
    /// acquisition. They give NOT_SUPPORTED, pointing at labcam_start/labcam_stop.
    pub fn attr_command(&self, name: &str) -> Result<()> {
        self.with_dev(|d| {
            let info = d.attr_info(name)?;
            if info.kind() != AttrKind::Command {
                bail!(ATTR_TYPE, "attribute '{name}' is {}, not a COMMAND", info.kind().with_article());
            }
            if matches!(name, "AcquisitionStart" | "AcquisitionStop" | "AcquisitionAbort") {
                bail!(NOT_SUPPORTED, "'{name}' is run by labcam itself: use labcam_start, labcam_start_sequence and labcam_stop");
            }
            self.check_sequence_not_ended()?;
            d.attr_command(name)
        })
    }
}

impl Drop for Camera {
    fn drop(&mut self) {
        self.close();
    }
}

/// Copy whole frames from `src` to `dst` applying the indexing transform.
fn copy_frames(src: &[u8], dst: &mut [u8], fb: usize, fmt: &FrameFormat, t: Transform) {
    if t.is_identity() {
        dst.copy_from_slice(src);
        return;
    }
    let (w, h, bpp) = (fmt.width as usize, fmt.height as usize, fmt.bytes_per_pixel as usize);
    for (s, d) in src.chunks_exact(fb).zip(dst.chunks_exact_mut(fb)) {
        image::copy_frame(s, d, w, h, bpp, t);
    }
}

/// Record a fault: the acquisition ends, waiters learn why.
fn fault(shared: &Shared, e: Error) {
    crate::log::error(&format!("acquisition fault: {e}"));
    let mut st = shared.st.lock();
    st.fault = Some(e);
    shared.state.store(AcqState::Fault as i32, Ordering::Release);
    drop(st);
    shared.cv.notify_all();
}

/// Count device losses the stream reports outside any frame.
fn take_lost(shared: &Shared, stream: &mut dyn Stream) {
    let n = catch_unwind(AssertUnwindSafe(|| stream.take_lost())).unwrap_or(0);
    if n > 0 {
        if let Some(ring) = shared.st.lock().ring.as_mut() {
            ring.add_lost_device(n);
        }
    }
}

/// The ring's record of a frame the backend delivered.
fn frame_info(meta: &FrameMeta) -> FrameInfo {
    FrameInfo {
        index: 0,
        framestamp: meta.framestamp,
        timestamp_ticks: meta.timestamp_ticks,
        timestamp_hz: meta.timestamp_hz,
        host_time_ns: now_ns(),
        flags: meta.flags,
    }
}

/// A sequence (a `limit` on the acquisition) has all its frames: its last frame is kept,
/// or the acquisition thread ended after it (frames may be given up afterwards, as a camera
/// that writes into the ring itself may do).
fn sequence_over(shared: &Shared, ring: &Ring) -> bool {
    let limit = shared.limit.load(Ordering::Acquire);
    limit != u64::MAX && (ring.kept() >= limit || shared.ended.load(Ordering::Acquire))
}

/// In-place mode: keep up to `ahead` slots (at most half the ring, or every free slot for a
/// device whose circular buffer is the ring) with the device, giving up the oldest unread
/// frame only when the device would otherwise hold fewer than its margin. `Ok(false)` when
/// the acquisition is over (ring cleared, or `limit` frames kept).
fn give_ahead(shared: &Shared, stream: &mut dyn Stream, ahead: usize, limit: u64, give: &mut Vec<*mut u8>) -> Result<bool> {
    let margin = stream.in_place_margin().max(1);
    let len = {
        let mut st = shared.st.lock();
        let Some(ring) = st.ring.as_mut() else { return Ok(false) };
        if ring.kept() >= limit {
            return Ok(false);
        }
        let want = if ahead == WHOLE_RING { ring.nslots } else { ahead.min(ring.nslots / 2).max(1) };
        while ring.reserved() < want {
            match ring.reserve_ahead(ring.reserved() < margin) {
                Some(slot) => give.push(ring.slot_ptr(slot)),
                None => break,
            }
        }
        ring.slot_bytes()
    };
    for p in give.drain(..) {
        stream.give_slot(p, len)?;
    }
    Ok(true)
}

/// The acquisition thread for in-place streams: hands ring slots to the device ahead of
/// time and publishes them as the device fills them.
fn in_place_loop(shared: Arc<Shared>, mut stream: Box<dyn Stream>, ahead: usize) {
    let limit = shared.limit.load(Ordering::Acquire);
    let mut give: Vec<*mut u8> = Vec::new();
    loop {
        if shared.stop.load(Ordering::Acquire) {
            return;
        }
        match give_ahead(&shared, stream.as_mut(), ahead, limit, &mut give) {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => return fault(&shared, e),
        }
        let r = catch_unwind(AssertUnwindSafe(|| stream.next_in_place(POLL)));
        take_lost(&shared, stream.as_mut());
        match r {
            Ok(Ok(InPlaceEvent::Timeout)) => {}
            Ok(Ok(InPlaceEvent::Flushed)) => {
                if let Some(ring) = shared.st.lock().ring.as_mut() {
                    ring.unreserve_all();
                }
            }
            Ok(Ok(InPlaceEvent::Lapped { next_slot })) => {
                // A read in progress finishes first (it drops what the camera overwrote).
                let held = wait_for_reads(&shared, |ring| {
                    if ring.is_pinned() {
                        return false;
                    }
                    ring.resync(next_slot);
                    true
                });
                match held {
                    Some(true) => {}
                    Some(false) => return fault(&shared, err!(BUSY, "the camera overwrote the locked chunk (it went round the whole ring while the chunk was held): its frames may be corrupt")),
                    None => return,
                }
            }
            Ok(Ok(InPlaceEvent::Frame { ptr, meta })) => {
                let mut st = shared.st.lock();
                if ahead == WHOLE_RING && st.ring.as_ref().is_some_and(|r| r.reserved() == 0) {
                    // A camera that cannot be held back (PVCAM) wrote a slot before it was handed
                    // over: the next free one (a reader freed it meanwhile), or that of the
                    // oldest unread frame, which is then lost. A read in progress finishes
                    // first; over a locked chunk, the acquisition faults.
                    drop(st);
                    let r = wait_for_reads(&shared, |ring| ring.reserved() > 0 || ring.reserve_ahead(true).is_some());
                    match r {
                        Some(true) => {}
                        Some(false) => return fault(&shared, err!(BUSY, "the camera overwrote frames of a locked chunk (held for longer than the camera takes to fill the rest of the ring): they may be corrupt")),
                        None => return,
                    }
                    st = shared.st.lock();
                }
                let mut wake = false;
                if let Some(ring) = st.ring.as_mut() {
                    if ring.oldest_reserved().map(|s| ring.slot_ptr(s)) != Some(ptr) {
                        drop(st);
                        return fault(&shared, err!(VENDOR, "the device returned a buffer out of order ({ptr:?})"));
                    }
                    ring.publish_reserved(frame_info(&meta), meta.lost_before);
                    wake = ring.unread() >= st.min_wait;
                }
                drop(st);
                if wake {
                    shared.cv.notify_all();
                }
            }
            Ok(Err(e)) => return fault(&shared, e),
            Err(p) => return fault(&shared, Error::new(Status::INTERNAL, format!("the backend panicked while acquiring: {}", panic_message(p.as_ref())))),
        }
    }
}

/// Run `f` on the ring once no read is in progress (reads pin frames briefly; a locked
/// chunk is not waited for): `Some(f's result)`, `None` when the acquisition is stopping or
/// the ring is gone.
fn wait_for_reads(shared: &Shared, mut f: impl FnMut(&mut Ring) -> bool) -> Option<bool> {
    loop {
        {
            let mut st = shared.st.lock();
            let ring = st.ring.as_mut()?;
            if ring.is_chunk_locked() || !ring.is_pinned() {
                return Some(f(ring));
            }
        }
        if shared.stop.load(Ordering::Acquire) {
            return None;
        }
        std::thread::sleep(Duration::from_micros(20));
    }
}

/// The acquisition thread: moves frames from the backend stream into the ring.
fn acquisition_loop(shared: Arc<Shared>, stream: Box<dyn Stream>) {
    let ahead = stream.in_place();
    if ahead > 0 {
        in_place_loop(shared.clone(), stream, ahead);
        // The stream is gone (its device flushed): no slot is held any more.
        if let Some(ring) = shared.st.lock().ring.as_mut() {
            ring.unreserve_all();
        }
    } else {
        copy_loop(&shared, stream);
    }
    // Waiters for frames that will not come (the acquisition ended after its frames) learn
    // it now.
    let _st = shared.st.lock();
    shared.ended.store(true, Ordering::Release);
    shared.cv.notify_all();
}

fn copy_loop(shared: &Arc<Shared>, mut stream: Box<dyn Stream>) {
    let limit = shared.limit.load(Ordering::Acquire);
    loop {
        if shared.stop.load(Ordering::Acquire) {
            return;
        }
        let (target, ptr, fb) = {
            let st = shared.st.lock();
            let Some(ring) = st.ring.as_ref() else { return };
            if ring.kept() >= limit {
                return;
            }
            let t = ring.reserve();
            (t, ring.target_ptr(t), ring.frame_bytes())
        };
        // SAFETY: the target is a free slot or the scratch buffer; only this thread writes
        // it, and the ring outlives the thread (stop joins it before clear/close).
        let dst = unsafe { std::slice::from_raw_parts_mut(ptr, fb) };
        let r = catch_unwind(AssertUnwindSafe(|| stream.next_frame(dst, POLL)));
        take_lost(shared, stream.as_mut());
        let fault = match r {
            Ok(Ok(None)) => continue,
            Ok(Ok(Some(meta))) => {
                let info = frame_info(&meta);
                let mut st = shared.st.lock();
                let mut wake = false;
                if let Some(ring) = st.ring.as_mut() {
                    ring.publish(target, info, meta.lost_before);
                    wake = ring.unread() >= st.min_wait;
                }
                drop(st);
                if wake {
                    shared.cv.notify_all();
                }
                continue;
            }
            Ok(Err(e)) => e,
            Err(p) => Error::new(Status::INTERNAL, format!("the backend panicked while acquiring: {}", panic_message(p.as_ref()))),
        };
        return self::fault(shared, fault);
    }
}
