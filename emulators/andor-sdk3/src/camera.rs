//! One emulated camera: settings, the buffer queue, the frame producer thread.

use crate::{code, wide, AtH, AtWc, FeatureCallback};
use std::collections::VecDeque;
use std::ffi::{c_int, c_uint};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub const SENSOR_W: i64 = 2560;
pub const SENSOR_H: i64 = 2160;
/// Timestamp clock: 100 MHz *(inferred; Zyla-like)*.
pub const TS_HZ: i64 = 100_000_000;
/// Readout time per sensor row read, in seconds.
pub const ROW_TIME: f64 = 10e-6;

pub const ENCODINGS: [&str; 4] = ["Mono12", "Mono12Packed", "Mono16", "Mono32"];
pub const GAIN_MODES: [&str; 3] = ["12-bit (high well capacity)", "12-bit (low noise)", "16-bit (low noise & high well capacity)"];
pub const TRIGGERS: [&str; 5] = ["Internal", "Software", "External", "External Start", "External Exposure"];
pub const CYCLES: [&str; 2] = ["Fixed", "Continuous"];
/// EventSelector's values (andor_sdk3.md §6.1); only BufferOverflowEvent is ever raised.
pub const EVENTS: [&str; 6] = ["ExposureEndEvent", "ExposureStartEvent", "RowNExposureEndEvent", "RowNExposureStartEvent", "EventsMissedEvent", "BufferOverflowEvent"];
/// Index of BufferOverflowEvent in EVENTS.
pub const BUFFER_OVERFLOW_EVENT: usize = 5;
pub const SHUTTERING: [&str; 2] = ["Rolling", "Global"];
/// ShutterMode (the mechanical shutter, §6.1).
pub const SHUTTER_MODES: [&str; 3] = ["Open", "Closed", "Auto"];

/// The value of sensor pixel (x, y) (0-based) in frame `n` before it is cut to the
/// encoding's width: `x + 3*y + 11*n`. Mono12 and Mono12Packed keep it mod 4096, Mono16 mod
/// 65536, Mono32 mod 2^32. A binned pixel takes the value of its bin's top-left pixel.
pub fn pixel(n: i64, x: i64, y: i64) -> u64 {
    (x + 3 * y + 11 * n) as u64
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub left: i64,
    pub top: i64,
    pub width: i64,
    pub height: i64,
    pub hbin: i64,
    pub vbin: i64,
    pub encoding: usize,
    pub gain_mode: usize,
    pub exposure: f64,
    pub frame_rate: f64,
    pub trigger: usize,
    pub cycle: usize,
    pub frame_count: i64,
    pub md_enable: bool,
    pub md_timestamp: bool,
    pub md_frameinfo: bool,
    pub event_selector: usize,
    pub event_enable: [bool; 6],
    pub cooling: bool,
    pub target_temp: f64,
    pub shuttering: usize,
    pub shutter_mode: usize,
}

impl Settings {
    /// Bytes of pixel data in one row, before padding.
    pub fn row_bytes(&self) -> i64 {
        match self.encoding {
            1 => self.width / 2 * 3 + (self.width % 2) * 2,
            3 => self.width * 4,
            _ => self.width * 2,
        }
    }
    /// Rows are padded to a multiple of 8 bytes.
    pub fn stride(&self) -> i64 {
        (self.row_bytes() + 7) / 8 * 8
    }
    pub fn bytes_per_pixel(&self) -> f64 {
        [2.0, 1.5, 2.0, 4.0][self.encoding]
    }
    pub fn image_size_bytes(&self) -> i64 {
        let mut s = self.height * self.stride();
        if self.md_enable {
            s += 8; // the image block's CID and LENGTH
            if self.md_timestamp {
                s += 16;
            }
            if self.md_frameinfo {
                s += 16;
            }
        }
        s
    }
    pub fn readout_time(&self) -> f64 {
        10e-6 + ROW_TIME * (self.height * self.vbin) as f64
    }
    pub fn frame_rate_max(&self) -> f64 {
        1.0 / (self.exposure + self.readout_time())
    }
    pub fn encoding_available(&self, i: usize) -> bool {
        if self.gain_mode == 2 {
            i == 2 || i == 3
        } else {
            i != 2
        }
    }
}

/// What an acquisition was started with.
#[derive(Clone, Debug)]
struct Acq {
    s: Settings,
    stride: usize,
    size: usize,
    pacing: bool,
    disconnect_after: Option<i64>,
    stop_after: Option<i64>,
    overflow_after: Option<i64>,
    /// What the wait after an overflow returns: 100 (default) or 11.
    overflow_code: c_int,
    memory: usize,
    external_hz: f64,
}

pub struct St {
    pub s: Settings,
    pub acquiring: bool,
    pub connected: bool,
    overflowed: bool,
    queue: VecDeque<(usize, c_int)>,
    filled: VecDeque<(usize, c_int)>,
    /// Frames waiting in on-camera memory for a queued buffer: (frame number, ticks).
    memory: VecDeque<(i64, i64)>,
    /// The producer is writing a frame into a popped buffer outside the lock (as a camera's
    /// DMA does not block the SDK's calls); flush, stop and close wait for it to finish.
    drawing: bool,
    acq: Option<Acq>,
    generation: u64,
    sw_triggers: u64,
    clock_origin: Instant,
    callbacks: Vec<(String, FeatureCallback, usize, Vec<AtWc>)>,
}

impl St {
    pub fn timestamp_clock(&self) -> i64 {
        (self.clock_origin.elapsed().as_secs_f64() * TS_HZ as f64) as i64
    }
    pub fn reset_clock(&mut self) {
        self.clock_origin = Instant::now();
    }
}

pub struct Cam {
    pub index: c_int,
    pub handle: AtH,
    st: Mutex<St>,
    cv: Condvar,
}

fn env_num<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

impl Cam {
    pub fn new(index: c_int, handle: AtH) -> Arc<Cam> {
        let s = Settings {
            left: 1,
            top: 1,
            width: SENSOR_W,
            height: SENSOR_H,
            hbin: 1,
            vbin: 1,
            encoding: 2,
            gain_mode: 2,
            exposure: 0.01,
            frame_rate: 0.0,
            trigger: 0,
            cycle: 1,
            frame_count: 1,
            md_enable: false,
            md_timestamp: true,
            md_frameinfo: true,
            event_selector: 0,
            event_enable: [false; 6],
            cooling: false,
            target_temp: 0.0,
            shuttering: 0,
            shutter_mode: 2,
        };
        let mut s = s;
        s.frame_rate = s.frame_rate_max();
        Arc::new(Cam {
            index,
            handle,
            st: Mutex::new(St {
                s,
                acquiring: false,
                connected: true,
                overflowed: false,
                queue: VecDeque::new(),
                filled: VecDeque::new(),
                memory: VecDeque::new(),
                drawing: false,
                acq: None,
                generation: 0,
                sw_triggers: 0,
                clock_origin: Instant::now(),
                callbacks: Vec::new(),
            }),
            cv: Condvar::new(),
        })
    }

    pub fn lock(&self) -> MutexGuard<'_, St> {
        self.st.lock().unwrap()
    }

    /// The lock, once no frame is being written outside it: after this, no buffer the
    /// client queued is written until the lock is released.
    fn lock_idle(&self) -> MutexGuard<'_, St> {
        let mut st = self.lock();
        while st.drawing {
            st = self.cv.wait(st).unwrap();
        }
        st
    }

    pub fn shutdown(&self) {
        let mut st = self.lock_idle();
        st.acquiring = false;
        st.generation += 1;
        st.queue.clear();
        st.filled.clear();
        drop(st);
        self.cv.notify_all();
    }

    pub fn register(&self, name: &str, cb: FeatureCallback, ctx: usize) -> c_int {
        let w = wide(name);
        let f = cb.unwrap();
        self.lock().callbacks.push((name.to_string(), cb, ctx, w.clone()));
        // The SDK calls the callback once, synchronously, at registration.
        unsafe { f(self.handle, w.as_ptr(), ctx as *mut std::ffi::c_void) };
        code::SUCCESS
    }

    pub fn unregister(&self, name: &str, cb: FeatureCallback, ctx: usize) -> c_int {
        let mut st = self.lock();
        let before = st.callbacks.len();
        let key = cb.map(|f| f as usize);
        st.callbacks.retain(|(n, c, x, _)| !(n == name && c.map(|f| f as usize) == key && *x == ctx));
        if st.callbacks.len() == before {
            return code::NOTIMPLEMENTED;
        }
        code::SUCCESS
    }

    /// Fire the callbacks of `name` (outside the lock).
    fn fire(&self, name: &str) {
        let cbs: Vec<_> = self.lock().callbacks.iter().filter(|c| c.0 == name).map(|c| (c.1, c.2, c.3.clone())).collect();
        for (cb, ctx, w) in cbs {
            if let Some(f) = cb {
                unsafe { f(self.handle, w.as_ptr(), ctx as *mut std::ffi::c_void) };
            }
        }
    }

    pub fn queue(&self, ptr: usize, size: c_int) -> c_int {
        let mut st = self.lock();
        if !st.connected {
            return code::CONNECTION;
        }
        if !ptr.is_multiple_of(8) {
            return code::INVALIDALIGNMENT;
        }
        if (size as i64) < st.s.image_size_bytes() {
            return code::INVALIDSIZE;
        }
        st.queue.push_back((ptr, size));
        if !st.drawing {
            // (Otherwise the producer fills the waiting frames in order when it is done.)
            Self::fill(&mut st);
        }
        drop(st);
        self.cv.notify_all();
        code::SUCCESS
    }

    pub fn wait(&self, timeout_ms: c_uint) -> Result<(usize, c_int), c_int> {
        let deadline = (timeout_ms != crate::AT_INFINITE).then(|| Instant::now() + Duration::from_millis(timeout_ms as u64));
        let mut st = self.lock();
        loop {
            if let Some(b) = st.filled.pop_front() {
                return Ok(b);
            }
            if !st.connected {
                return Err(if st.queue.is_empty() { code::NODATA } else { code::CONNECTION });
            }
            if st.overflowed {
                // Once, at the next wait (andor_sdk3.md §13); then 11 like any stopped camera.
                st.overflowed = false;
                return Err(code::HARDWARE_OVERFLOW);
            }
            if !st.acquiring {
                return Err(code::NODATA);
            }
            match deadline {
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Err(code::TIMEDOUT);
                    }
                    st = self.cv.wait_timeout(st, d - now).unwrap().0;
                }
                None => st = self.cv.wait(st).unwrap(),
            }
        }
    }

    pub fn flush(&self) {
        let mut st = self.lock_idle();
        st.queue.clear();
        st.filled.clear();
        st.memory.clear();
        st.overflowed = false;
    }

    pub fn software_trigger(&self) -> c_int {
        let mut st = self.lock();
        if !st.acquiring || st.s.trigger != 1 {
            return code::NOTWRITABLE;
        }
        st.sw_triggers += 1;
        drop(st);
        self.cv.notify_all();
        code::SUCCESS
    }

    pub fn start(self: &Arc<Self>) -> c_int {
        let mut st = self.lock();
        if st.acquiring {
            return code::NOTWRITABLE;
        }
        let s = st.s.clone();
        // Buffers queued before the AOI, encoding or metadata grew the image are too small
        // now: refused here, never written past.
        if st.queue.iter().any(|&(_, size)| (size as i64) < s.image_size_bytes()) {
            return code::INVALIDSIZE;
        }
        let acq = Acq {
            stride: s.stride() as usize,
            size: s.image_size_bytes() as usize,
            pacing: std::env::var("ATCORE_EMU_NO_PACING").map(|v| v != "1").unwrap_or(true),
            disconnect_after: env_num("ATCORE_EMU_DISCONNECT_AFTER"),
            stop_after: env_num("ATCORE_EMU_STOP_AFTER"),
            overflow_after: env_num("ATCORE_EMU_OVERFLOW_AFTER"),
            overflow_code: env_num("ATCORE_EMU_OVERFLOW_CODE").unwrap_or(code::HARDWARE_OVERFLOW),
            memory: env_num("ATCORE_EMU_CAMERA_MEMORY").unwrap_or(64),
            external_hz: env_num("ATCORE_EMU_EXTERNAL_HZ").unwrap_or(0.0),
            s,
        };
        st.acq = Some(acq);
        st.acquiring = true;
        st.overflowed = false;
        st.memory.clear();
        st.sw_triggers = 0;
        st.generation += 1;
        let gen = st.generation;
        drop(st);
        let me = self.clone();
        std::thread::spawn(move || me.produce(gen));
        code::SUCCESS
    }

    pub fn stop(&self) -> c_int {
        let mut st = self.lock_idle();
        if !st.acquiring {
            return code::NOTWRITABLE;
        }
        st.acquiring = false;
        st.generation += 1;
        drop(st);
        self.cv.notify_all();
        code::SUCCESS
    }

    /// The frame producer: one frame per period (or trigger), into on-camera memory, then
    /// into queued buffers in FIFO order.
    fn produce(self: Arc<Self>, gen: u64) {
        let acq = self.lock().acq.clone().unwrap();
        let t0 = Instant::now();
        // Internal trigger: frame n ends at the sum of the periods before it, and carries
        // that time as its timestamp. The period is FrameRate's current value, so a rate
        // (or exposure) written while acquiring takes effect from the next frame.
        let mut next_s = 0.0f64;
        let mut ts_f = self.lock().timestamp_clock() as f64;
        let mut consumed = 0u64;
        let mut n = 0i64;
        loop {
            // Wait for the next frame's exposure to end.
            let mut st = self.lock();
            let internal_period = 1.0 / st.s.frame_rate;
            let edge_period = match acq.s.trigger {
                0 | 3 => Some(internal_period),
                2 | 4 if acq.external_hz > 0.0 => Some(1.0 / acq.external_hz),
                _ => None,
            };
            loop {
                if st.generation != gen || !st.acquiring {
                    return;
                }
                match edge_period {
                    Some(p) => {
                        if !acq.pacing {
                            // Unpaced: a frame as soon as a buffer is queued for it, so the
                            // rate is the client's, and the camera memory never fills.
                            if st.queue.is_empty() {
                                st = self.cv.wait(st).unwrap();
                                continue;
                            }
                            break;
                        }
                        let due = t0 + Duration::from_secs_f64(if edge_period == Some(internal_period) { next_s + p } else { p * (n + 1) as f64 });
                        let now = Instant::now();
                        if now >= due {
                            break;
                        }
                        st = self.cv.wait_timeout(st, due - now).unwrap().0;
                    }
                    None if acq.s.trigger == 1 => {
                        if st.sw_triggers > consumed {
                            consumed += 1;
                            break;
                        }
                        st = self.cv.wait(st).unwrap();
                    }
                    None => st = self.cv.wait(st).unwrap(),
                }
            }
            if acq.disconnect_after.is_some_and(|d| n >= d) {
                st.connected = false;
                st.acquiring = false;
                drop(st);
                self.cv.notify_all();
                return;
            }
            if acq.stop_after.is_some_and(|d| n >= d) {
                st.acquiring = false;
                drop(st);
                self.cv.notify_all();
                return;
            }
            // Timestamps: nominal with the internal trigger; the time of the trigger edge
            // (now) otherwise.
            let ts = if matches!(acq.s.trigger, 0 | 3) { ts_f.round() as i64 } else { st.timestamp_clock() };
            next_s += internal_period;
            // A whole number of clock ticks per frame, as a clocked camera counts them: at a
            // FrameRate whose period is not a whole number of ticks the timestamps run a
            // fraction of a tick per frame short of FrameRate's nominal times.
            ts_f += (internal_period * TS_HZ as f64).floor();
            st.memory.push_back((n, ts));
            n += 1;
            let overflow = acq.overflow_after.is_some_and(|o| n > o) || st.memory.len() > acq.memory;
            if !overflow {
                st = self.fill_unlocked(st);
            }
            let fixed_done = acq.s.cycle == 0 && n >= acq.s.frame_count;
            if overflow {
                // The event first, then the abort: a wait sees the abort after the event
                // was delivered.
                let fire = st.s.event_enable[BUFFER_OVERFLOW_EVENT];
                drop(st);
                if fire {
                    self.fire("BufferOverflowEvent");
                }
                let mut st = self.lock();
                if st.generation == gen && st.acquiring {
                    st.overflowed = acq.overflow_code == code::HARDWARE_OVERFLOW;
                    st.acquiring = false;
                }
                drop(st);
                self.cv.notify_all();
                return;
            }
            if fixed_done {
                st.acquiring = false;
            }
            drop(st);
            self.cv.notify_all();
            if fixed_done {
                return;
            }
        }
    }

    /// The producer's `fill`: each frame is written with the lock released (the client's
    /// calls go on meanwhile), `drawing` set.
    fn fill_unlocked<'a>(&'a self, mut st: MutexGuard<'a, St>) -> MutexGuard<'a, St> {
        let Some(acq) = st.acq.clone() else { return st };
        while !st.drawing && !st.memory.is_empty() && !st.queue.is_empty() {
            let (n, ts) = st.memory.pop_front().unwrap();
            let (ptr, size) = st.queue.pop_front().unwrap();
            st.drawing = true;
            drop(st);
            // SAFETY: the client queued `size` >= ImageSizeBytes writable bytes at ptr, and
            // may not free it before AT_Flush, which waits while `drawing`.
            let buf = unsafe { std::slice::from_raw_parts_mut(ptr as *mut u8, acq.size) };
            write_frame(&acq, n, ts, buf);
            st = self.lock();
            st.drawing = false;
            st.filled.push_back((ptr, size));
            self.cv.notify_all();
        }
        st
    }

    /// Move frames from on-camera memory into queued buffers, in queue order.
    fn fill(st: &mut St) {
        let Some(acq) = st.acq.clone() else { return };
        while !st.memory.is_empty() && !st.queue.is_empty() {
            let (n, ts) = st.memory.pop_front().unwrap();
            let (ptr, size) = st.queue.pop_front().unwrap();
            // SAFETY: the client queued `size` >= ImageSizeBytes writable bytes at ptr.
            let buf = unsafe { std::slice::from_raw_parts_mut(ptr as *mut u8, acq.size) };
            write_frame(&acq, n, ts, buf);
            st.filled.push_back((ptr, size));
        }
    }
}

fn write_frame(acq: &Acq, n: i64, ts: i64, buf: &mut [u8]) {
    let s = &acq.s;
    let (w, h) = (s.width as usize, s.height as usize);
    for j in 0..h {
        let row = &mut buf[j * acq.stride..(j + 1) * acq.stride];
        let y = (s.top - 1) + j as i64 * s.vbin;
        let px = |i: usize| pixel(n, (s.left - 1) + i as i64 * s.hbin, y);
        match s.encoding {
            0 => (0..w).for_each(|i| row[2 * i..2 * i + 2].copy_from_slice(&((px(i) % 4096) as u16).to_le_bytes())),
            2 => (0..w).for_each(|i| row[2 * i..2 * i + 2].copy_from_slice(&((px(i) % 65536) as u16).to_le_bytes())),
            3 => (0..w).for_each(|i| row[4 * i..4 * i + 4].copy_from_slice(&(px(i) as u32).to_le_bytes())),
            _ => {
                for k in 0..w.div_ceil(2) {
                    let a = (px(2 * k) % 4096) as u16;
                    let b = if 2 * k + 1 < w { (px(2 * k + 1) % 4096) as u16 } else { 0 };
                    let o = 3 * k;
                    row[o] = (a >> 4) as u8;
                    row[o + 1] = ((a & 0x0F) | ((b & 0x0F) << 4)) as u8;
                    if 2 * k + 1 < w {
                        row[o + 2] = (b >> 4) as u8;
                    }
                }
            }
        }
        for b in &mut row[s.row_bytes() as usize..] {
            *b = 0;
        }
    }
    if !s.md_enable {
        return;
    }
    // Trailer: [image][CID 0][LEN], then [ticks u64][CID 1][LEN 12], then [FrameInfo][CID 7][LEN 12].
    let mut o = h * acq.stride;
    let mut put = |b: &[u8], o: &mut usize| {
        buf[*o..*o + b.len()].copy_from_slice(b);
        *o += b.len();
    };
    put(&0u32.to_le_bytes(), &mut o);
    put(&((h * acq.stride + 4) as u32).to_le_bytes(), &mut o);
    if s.md_timestamp {
        put(&(ts as u64).to_le_bytes(), &mut o);
        put(&1u32.to_le_bytes(), &mut o);
        put(&12u32.to_le_bytes(), &mut o);
    }
    if s.md_frameinfo {
        put(&(acq.stride as u16).to_le_bytes(), &mut o);
        put(&[s.encoding as u8, 0], &mut o);
        put(&(s.width as u16).to_le_bytes(), &mut o);
        put(&(s.height as u16).to_le_bytes(), &mut o);
        put(&7u32.to_le_bytes(), &mut o);
        put(&12u32.to_le_bytes(), &mut o);
    }
}
