//! One emulated camera: settings, setup, and the worker that writes frames into the
//! client's circular buffer.

use crate::params::*;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The pixel (x, y) (sensor coordinates of the bin's top-left pixel) of frame `nr`
/// (FrameNr, 1-based): `(x + 7·y + 13·nr) mod 65536`.
pub fn pixel(nr: i64, x: i64, y: i64) -> u16 {
    ((x + 7 * y + 13 * nr) & 0xFFFF) as u16
}

#[derive(Clone, Debug)]
pub struct Setup {
    /// s1, s2, sbin, p1, p2, pbin
    pub rgn: (u16, u16, u16, u16, u16, u16),
    pub mode: i32,
    pub exposure: u32,
    pub frame_bytes: usize,
    pub metadata: bool,
    pub width: usize,
    pub height: usize,
    /// CIRC_NONE 0, CIRC_OVERWRITE 1, CIRC_NO_OVERWRITE 2.
    pub buffer_mode: i16,
}

pub struct Settings {
    pub exp_res: i32,
    pub clear_mode: i32,
    pub fan: i32,
    pub speed: i16,
    pub gain: i16,
    pub temp_setpoint: i16,
    pub clear_cycles: u16,
    pub metadata: bool,
    pub setup: Option<Setup>,
}

/// Progress of a running acquisition, shared with the worker.
#[derive(Default)]
pub struct Progress {
    pub running: bool,
    pub failed: bool,
    /// Newest complete frame number (1-based; 0 = none yet). Skips numbers the camera dropped.
    pub frame_nr: i64,
    /// Frames written into the ring: frame k (0-based) is in slot k mod N.
    pub written: i64,
    pub timestamp_us: i64,
    pub sw_triggers: u64,
    /// Software triggers taken by the worker; a trigger that comes while one is pending or
    /// its exposure runs (`exposing`) is ignored (pl_exp_trigger's IGNORED).
    pub sw_taken: u64,
    pub exposing: bool,
    pub generation: u64,
    /// Oldest frame not yet unlocked (get_oldest_frame / unlock_oldest_frame).
    pub oldest: i64,
}

pub struct Acq {
    pub p: Mutex<Progress>,
    pub cv: Condvar,
    /// Registered callbacks by event (`PL_CALLBACK_BOF` 0, `EOF` 1, `CHECK_CAMS` 2,
    /// `CAM_REMOVED` 3): (function, context). The worker calls them holding this lock, so
    /// `pl_cam_deregister_callback` returns only once a call in progress has ended.
    pub callbacks: Mutex<[Option<(usize, usize)>; 4]>,
}

/// `void (*)(FRAME_INFO*, void* ctx)` (`pl_cam_register_callback_ex3`).
pub type Callback = unsafe extern "C" fn(*mut crate::FRAME_INFO, *mut std::ffi::c_void);

impl Acq {
    /// Call the callback registered for `event`, if any, on this (the worker's) thread.
    fn fire(&self, event: usize, info: crate::FRAME_INFO) {
        let cbs = self.callbacks.lock().unwrap();
        if let Some((f, ctx)) = cbs[event] {
            let mut info = info;
            // SAFETY: registered by the client with this signature; the client keeps `ctx`
            // valid until it deregisters, which waits for this call (the lock is held).
            unsafe { std::mem::transmute::<usize, Callback>(f)(&mut info, ctx as *mut std::ffi::c_void) };
        }
    }
}

pub struct Cam {
    pub index: i16,
    pub s: Settings,
    pub acq: Arc<Acq>,
    pub ring: usize,
    pub ring_frames: usize,
    pub connected: bool,
    pub worker: Option<std::thread::JoinHandle<()>>,
}

fn env_num<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

impl Cam {
    pub fn new(index: i16) -> Cam {
        Cam {
            index,
            s: Settings { exp_res: 0, clear_mode: 1, fan: 0, speed: 0, gain: 1, temp_setpoint: -1000, clear_cycles: 2, metadata: false, setup: None },
            acq: Arc::new(Acq { p: Mutex::new(Progress::default()), cv: Condvar::new(), callbacks: Mutex::new([None; 4]) }),
            ring: 0,
            ring_frames: 0,
            connected: true,
            worker: None,
        }
    }

    pub fn acquiring(&self) -> bool {
        self.acq.p.lock().unwrap().running
    }

    /// Readout time in µs for the current setup: 10 µs per sensor row read.
    pub fn readout_us(&self) -> u32 {
        self.s.setup.as_ref().map(|x| 20 + 10 * (x.rgn.4 as u32 - x.rgn.3 as u32 + 1)).unwrap_or(0)
    }

    /// `pl_exp_setup_cont`: validate the region and mode, compute the frame size.
    pub fn setup(&mut self, rgn: (u16, u16, u16, u16, u16, u16), mode: i32, exposure: u32, buffer_mode: i16) -> Result<usize, i16> {
        if self.acquiring() {
            return Err(ERR_BUSY);
        }
        let (s1, s2, sbin, p1, p2, pbin) = rgn;
        if !BINNINGS.contains(&(sbin as i32)) || sbin != pbin {
            return Err(ERR_BINNING_INVALID);
        }
        if s2 < s1 || p2 < p1 || s2 >= SENSOR || p2 >= SENSOR || (s2 - s1 + 1) % sbin != 0 || (p2 - p1 + 1) % pbin != 0 {
            return Err(ERR_REGION_INVALID);
        }
        let classic = mode < 0x100;
        if !exp_modes().iter().any(|(m, _)| *m == trigger_of(mode)) || (!classic && !EXPOSE_OUT.iter().any(|(m, _)| *m == mode & 0xFF)) {
            return Err(ERR_BAD_ARGUMENT);
        }
        let (lo, hi) = exposure_limits(self.s.exp_res);
        if (exposure as i64) < lo || exposure as i64 > hi {
            return Err(ERR_OUT_OF_RANGE);
        }
        let (w, h) = (((s2 - s1 + 1) / sbin) as usize, ((p2 - p1 + 1) / pbin) as usize);
        let md = self.s.metadata;
        // PVCAM_EMU_EXTENDED_MD=N: N bytes of extended frame metadata after the frame header.
        let ext = if md { env_num::<usize>("PVCAM_EMU_EXTENDED_MD").unwrap_or(0).min(u16::MAX as usize) } else { 0 };
        let frame_bytes = w * h * 2 + if md { 80 + ext } else { 0 };
        self.s.setup = Some(Setup { rgn, mode, exposure, frame_bytes, metadata: md, width: w, height: h, buffer_mode });
        Ok(frame_bytes)
    }

    /// `pl_exp_start_cont`: start writing frames into `buf` (`size` bytes).
    pub fn start(&mut self, buf: usize, size: usize) -> Result<(), i16> {
        let Some(setup) = self.s.setup.clone() else { return Err(ERR_SETUP_REQUIRED) };
        if self.acquiring() {
            return Err(ERR_BUSY);
        }
        if buf == 0 || size == 0 || !size.is_multiple_of(setup.frame_bytes) {
            return Err(ERR_BAD_BUFFER);
        }
        if let Some(max) = env_num::<usize>("PVCAM_EMU_MAX_BUFFER") {
            if size > max {
                return Err(ERR_DDI_IOCTL_FAILED);
            }
        }
        self.stop();
        self.ring = buf;
        self.ring_frames = size / setup.frame_bytes;
        let gen = {
            let mut p = self.acq.p.lock().unwrap();
            *p = Progress { running: true, generation: p.generation + 1, oldest: 1, ..Default::default() };
            p.generation
        };
        let acq = self.acq.clone();
        let res_us = match self.s.exp_res {
            1 => 1.0,
            2 => 1e6,
            _ => 1e3,
        };
        let period = Duration::from_secs_f64((setup.exposure as f64 * res_us + self.readout_us() as f64) * 1e-6);
        let exposure_ps = (setup.exposure as f64 * res_us * 1e6) as u64;
        let w = Worker {
            acq,
            gen,
            ring: buf,
            n: self.ring_frames,
            setup,
            period,
            exposure_ps,
            pacing: std::env::var("PVCAM_EMU_NO_PACING").map(|v| v != "1").unwrap_or(true),
            disconnect_after: env_num("PVCAM_EMU_DISCONNECT_AFTER"),
            drop_every: env_num("PVCAM_EMU_DROP_EVERY").unwrap_or(0),
            burst: env_num("PVCAM_EMU_BURST").unwrap_or(0),
            hcam: self.index,
        };
        self.worker = Some(std::thread::spawn(move || w.run()));
        Ok(())
    }

    /// Stop the worker before returning: no ring write happens afterwards.
    pub fn stop(&mut self) {
        if let Some(t) = self.halt() {
            let _ = t.join();
        }
    }

    /// Tell the worker to stop; joining it is the caller's (who must not hold the library's
    /// lock meanwhile: a callback in progress may be calling into the library).
    pub fn halt(&mut self) -> Option<std::thread::JoinHandle<()>> {
        {
            let mut p = self.acq.p.lock().unwrap();
            p.running = false;
            p.generation += 1;
        }
        self.acq.cv.notify_all();
        self.worker.take()
    }
}

struct Worker {
    acq: Arc<Acq>,
    gen: u64,
    ring: usize,
    n: usize,
    setup: Setup,
    period: Duration,
    exposure_ps: u64,
    pacing: bool,
    disconnect_after: Option<i64>,
    drop_every: i64,
    burst: i64,
    hcam: i16,
}

impl Worker {
    fn run(self) {
        let t0 = Instant::now();
        // Classic modes behave as their extended counterparts: TIMED as internal, STROBED
        // (each exposure on an edge) as EDGE, BULB (exposure while the input is high) waits
        // for edges too, TRIGGER_FIRST as TRIG_FIRST.
        let trigger = match trigger_of(self.setup.mode) {
            0 => 0x700,
            1 | 2 => 0x900,
            3 => 0x800,
            t => t,
        };
        let mut consumed = 0u64;
        let mut nr = 0i64; // device frame number
        let mut written = 0i64;
        loop {
            {
                let mut p = self.acq.p.lock().unwrap();
                loop {
                    if p.generation != self.gen || !p.running {
                        return;
                    }
                    match trigger {
                        0xC00 => {
                            if p.sw_triggers > consumed {
                                consumed += 1;
                                p.sw_taken = consumed;
                                p.exposing = true;
                                // The exposure (and readout) the trigger started, during which
                                // further triggers are ignored.
                                if self.pacing {
                                    let due = Instant::now() + self.period;
                                    while Instant::now() < due && p.generation == self.gen && p.running {
                                        p = self.acq.cv.wait_timeout(p, due.saturating_duration_since(Instant::now())).unwrap().0;
                                    }
                                    if p.generation != self.gen || !p.running {
                                        return;
                                    }
                                }
                                break;
                            }
                            p = self.acq.cv.wait(p).unwrap();
                        }
                        // No edges arrive in the emulator: edge-triggered frames never come,
                        // nor does a trigger-first acquisition start.
                        0x900 | 0x800 => p = self.acq.cv.wait(p).unwrap(),
                        _ => {
                            if !self.pacing && self.setup.buffer_mode == 2 && p.written - p.oldest + 1 >= self.n as i64 {
                                // Unpaced into a CIRC_NO_OVERWRITE buffer: wait for the client
                                // to unlock the frame in the slot (a benchmark aid; a real
                                // camera overruns instead).
                                p = self.acq.cv.wait(p).unwrap();
                                continue;
                            }
                            if !self.pacing || nr < self.burst {
                                break;
                            }
                            let due = t0 + self.period.mul_f64((nr + 1) as f64);
                            let now = Instant::now();
                            if now >= due {
                                break;
                            }
                            p = self.acq.cv.wait_timeout(p, due - now).unwrap().0;
                        }
                    }
                }
                if self.disconnect_after.is_some_and(|d| nr >= d) {
                    p.running = false;
                    p.failed = true;
                    drop(p);
                    self.acq.cv.notify_all();
                    self.acq.fire(3, self.info(0, 0));
                    return;
                }
            }
            nr += 1;
            if self.drop_every > 0 && nr % self.drop_every == 0 {
                continue; // a frame the camera skipped: FrameNr jumps
            }
            let ts_us = (self.period.as_secs_f64() * 1e6 * nr as f64) as i64;
            self.acq.fire(0, self.info(nr, ts_us));
            let slot = written as usize % self.n;
            // SAFETY: the client's ring holds n frames of frame_bytes; it stays allocated until
            // abort returns, and abort joins this thread first.
            let buf = unsafe { std::slice::from_raw_parts_mut((self.ring + slot * self.setup.frame_bytes) as *mut u8, self.setup.frame_bytes) };
            self.write(nr, ts_us, buf);
            let mut p = self.acq.p.lock().unwrap();
            if p.generation != self.gen {
                return;
            }
            p.exposing = false;
            written += 1;
            p.frame_nr = nr;
            p.written = written;
            p.timestamp_us = ts_us;
            drop(p);
            self.acq.cv.notify_all();
            self.acq.fire(1, self.info(nr, ts_us));
        }
    }

    /// The FRAME_INFO handed to callbacks (timestamps in PVCAM's 0.1 ms units, as
    /// `pl_exp_get_latest_frame_ex` gives them).
    fn info(&self, nr: i64, ts_us: i64) -> crate::FRAME_INFO {
        crate::FRAME_INFO {
            guid: crate::FRAME_INFO_GUID,
            h_cam: self.hcam,
            frame_nr: nr as i32,
            time_stamp: ts_us / 100,
            readout_time: 0,
            time_stamp_bof: ts_us / 100,
        }
    }

    fn write(&self, nr: i64, ts_us: i64, buf: &mut [u8]) {
        let s = &self.setup;
        let (s1, _, sbin, p1, _, pbin) = s.rgn;
        let mut o = 0;
        if s.metadata {
            // md_frame_header v3 (48 B) then md_frame_roi_header (32 B), little-endian, packed.
            let ext = s.frame_bytes - s.width * s.height * 2 - 80;
            buf[..80 + ext].fill(0);
            buf[0..4].copy_from_slice(&5328208u32.to_le_bytes());
            buf[4] = 3;
            buf[5..9].copy_from_slice(&(nr as u32).to_le_bytes());
            buf[9..11].copy_from_slice(&1u16.to_le_bytes());
            let eof_ps = ts_us as u64 * 1_000_000;
            let bof_ps = eof_ps.saturating_sub(self.period.as_nanos() as u64 * 1000);
            buf[11..19].copy_from_slice(&bof_ps.to_le_bytes());
            buf[19..27].copy_from_slice(&eof_ps.to_le_bytes());
            buf[27..35].copy_from_slice(&self.exposure_ps.to_le_bytes());
            buf[35] = 16;
            buf[38..40].copy_from_slice(&(ext as u16).to_le_bytes());
            let r = &mut buf[48 + ext..80 + ext];
            r[0..2].copy_from_slice(&1u16.to_le_bytes());
            for (k, v) in [s.rgn.0, s.rgn.1, s.rgn.2, s.rgn.3, s.rgn.4, s.rgn.5].iter().enumerate() {
                r[10 + 2 * k..12 + 2 * k].copy_from_slice(&v.to_le_bytes());
            }
            r[25..29].copy_from_slice(&((s.width * s.height * 2) as u32).to_le_bytes());
            o = 80 + ext;
        }
        for j in 0..s.height {
            let y = p1 as i64 + (j as i64) * pbin as i64;
            let row = &mut buf[o + j * s.width * 2..o + (j + 1) * s.width * 2];
            for i in 0..s.width {
                let x = s1 as i64 + (i as i64) * sbin as i64;
                row[2 * i..2 * i + 2].copy_from_slice(&pixel(nr, x, y).to_le_bytes());
            }
        }
    }
}
