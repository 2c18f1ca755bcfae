//! Frames/s delivered through labcam_read_chunk from the SDK3 emulator, as a ratio to the
//! rate at which the emulator alone fills queued buffers (a client doing nothing but
//! AT_WaitBuffer + AT_QueueBuffer), measured in the same run, with unpaced frames.
//!
//! cargo build --release -p atcore-emulator && cargo bench --bench andor_sdk3
//! (RING_MB, RING_MIN, CHUNK_KB, LAG_KB, ROUNDS, SMALL_N, ONLY=128x128|2560x2160 vary it.)
//!
//! The emulator's producer thread draws each frame with the CPU, so a frame it has just
//! written sits in that core's private L2 cache; a reader on the other core that copies it
//! then makes the producer's core answer a snoop for every cache line, which slows the
//! producer (a camera's DMA has no such core to slow). The reader therefore stays LAG_KB
//! behind the camera (default 2.5 × the L2 size), where the frames have moved out to the
//! shared L3. A second labcam run per round reads at the head, as soon as half a chunk is
//! ready, for comparison. The CPU each thread used per frame (from
//! `/proc/self/task/*/schedstat`) shows what each side costs.

use labcam::ffi::acquisition::*;
use labcam::ffi::consts::*;
use labcam::ffi::device::*;
use labcam::ffi::library::*;
use labcam::model::{FrameInfo, FramesStatus, Roi};
use std::ffi::{c_int, c_uint, CString};
use std::time::Instant;

/// CPU time (ns) of each thread of this process so far, from `/proc/self/task/*/schedstat`
/// (Linux; empty elsewhere).
fn thread_cpu() -> Vec<(u64, u64)> {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else { return Vec::new() };
    dir.filter_map(|e| {
        let e = e.ok()?;
        let tid = e.file_name().to_str()?.parse().ok()?;
        let ss = std::fs::read_to_string(e.path().join("schedstat")).ok()?;
        Some((tid, ss.split_whitespace().next()?.parse().ok()?))
    })
    .collect()
}

/// One measurement: frames/s, and CPU per frame (µs) of the emulator's producer and of every
/// other thread (the client, or labcam's acquisition thread and reader with the SDK calls
/// they make). The producer is the busiest thread: unpaced, it draws frames without pause;
/// `producer_busy` is the fraction of the time it was on a CPU.
#[derive(Clone, Copy, Default)]
struct Sample {
    rate: f64,
    producer_us: f64,
    others_us: f64,
    producer_busy: f64,
}

impl Sample {
    fn new(before: &[(u64, u64)], frames: usize, wall_s: f64) -> Sample {
        let deltas: Vec<u64> = thread_cpu().iter().map(|(t, c)| c - before.iter().find(|b| b.0 == *t).map_or(0, |b| b.1)).collect();
        let producer = deltas.iter().copied().max().unwrap_or(0);
        let per = |ns: u64| ns as f64 / 1e3 / frames as f64;
        Sample {
            rate: frames as f64 / wall_s,
            producer_us: per(producer),
            others_us: per(deltas.iter().sum::<u64>() - producer),
            producer_busy: producer as f64 / 1e9 / wall_s,
        }
    }
}

/// The size of one core's L2 cache (sysfs), 2 MiB when unknown.
fn l2_bytes() -> usize {
    (0..8)
        .find_map(|i| {
            let d = format!("/sys/devices/system/cpu/cpu0/cache/index{i}");
            let level = std::fs::read_to_string(format!("{d}/level")).ok()?;
            let kind = std::fs::read_to_string(format!("{d}/type")).ok()?;
            if level.trim() != "2" || kind.trim() == "Instruction" {
                return None;
            }
            let size = std::fs::read_to_string(format!("{d}/size")).ok()?;
            let size = size.trim();
            let (num, unit) = size.split_at(size.find(|c: char| !c.is_ascii_digit()).unwrap_or(size.len()));
            Some(num.parse::<usize>().ok()? << if unit == "M" { 20 } else if unit == "K" { 10 } else { 0 })
        })
        .unwrap_or(2 << 20)
}

#[cfg(windows)]
type AtWc = u16;
#[cfg(not(windows))]
type AtWc = i32;

fn w(s: &str) -> Vec<AtWc> {
    s.chars().map(|c| c as AtWc).chain(std::iter::once(0)).collect()
}

struct Emu {
    lib: libloading::Library,
}

impl Emu {
    unsafe fn f<T: Copy>(&self, name: &str) -> T {
        *self.lib.get::<T>(name.as_bytes()).unwrap()
    }
    /// Frames/s of the emulator alone for an AOI of `width × height` Mono16 with metadata,
    /// queueing `nbuf` buffers (one block, 64 bytes apart like labcam's slots).
    /// With `copy`, the client also copies each frame's pixels out once (into a buffer of
    /// 16 frames, reused) before queueing the buffer again: the least any reader of the
    /// pixels does.
    fn fill_rate(&self, width: i64, height: i64, frames: usize, copy: bool, nbuf: usize) -> Sample {
        unsafe {
            let init: unsafe extern "C" fn() -> c_int = self.f("AT_InitialiseLibrary");
            let open: unsafe extern "C" fn(c_int, *mut c_int) -> c_int = self.f("AT_Open");
            let close: unsafe extern "C" fn(c_int) -> c_int = self.f("AT_Close");
            let set_int: unsafe extern "C" fn(c_int, *const AtWc, i64) -> c_int = self.f("AT_SetInt");
            let get_int: unsafe extern "C" fn(c_int, *const AtWc, *mut i64) -> c_int = self.f("AT_GetInt");
            let set_bool: unsafe extern "C" fn(c_int, *const AtWc, c_int) -> c_int = self.f("AT_SetBool");
            let command: unsafe extern "C" fn(c_int, *const AtWc) -> c_int = self.f("AT_Command");
            let queue: unsafe extern "C" fn(c_int, *mut u8, c_int) -> c_int = self.f("AT_QueueBuffer");
            let wait: unsafe extern "C" fn(c_int, *mut *mut u8, *mut c_int, c_uint) -> c_int = self.f("AT_WaitBuffer");
            let flush: unsafe extern "C" fn(c_int) -> c_int = self.f("AT_Flush");
            assert_eq!(init(), 0);
            let mut h = 0;
            assert_eq!(open(0, &mut h), 0);
            for (k, v) in [("AOILeft", 1), ("AOITop", 1), ("AOIWidth", width), ("AOIHeight", height)] {
                assert_eq!(set_int(h, w(k).as_ptr(), v), 0, "{k}");
            }
            set_bool(h, w("MetadataEnable").as_ptr(), 1);
            let mut size = 0i64;
            get_int(h, w("ImageSizeBytes").as_ptr(), &mut size);
            let stride = (size as usize).div_ceil(64) * 64;
            let mut block = vec![1u64; nbuf * stride / 8];
            let base = block.as_mut_ptr() as *mut u8;
            for k in 0..nbuf {
                assert_eq!(queue(h, base.add(k * stride), size as c_int), 0);
            }
            let fb = (width * height * 2) as usize;
            let mut dst = vec![1u8; if copy { 16 * fb } else { 0 }];
            assert_eq!(command(h, w("AcquisitionStart").as_ptr()), 0);
            let cpu0 = thread_cpu();
            let t = Instant::now();
            for k in 0..frames {
                let mut p = std::ptr::null_mut();
                let mut n = 0;
                assert_eq!(wait(h, &mut p, &mut n, 5000), 0);
                if copy {
                    let d = &mut dst[(k % 16) * fb..(k % 16 + 1) * fb];
                    d.copy_from_slice(std::slice::from_raw_parts(p, fb));
                }
                assert_eq!(queue(h, p, n), 0);
            }
            let sample = Sample::new(&cpu0, frames, t.elapsed().as_secs_f64());
            command(h, w("AcquisitionStop").as_ptr());
            flush(h);
            close(h);
            sample
        }
    }
}

fn env(k: &str, default: usize) -> usize {
    std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// labcam's ring for frames of `fb` bytes: RING_MB MiB (16), at least RING_MIN frames (64).
fn ring_frames(fb: usize) -> usize {
    ((env("RING_MB", 16) << 20) / fb).clamp(env("RING_MIN", 64), 65536)
}

/// Frames/s through labcam_read_chunk, the reader staying `lag` frames behind the camera.
fn labcam_rate(width: i64, height: i64, frames: usize, lag: usize) -> (Sample, FramesStatus) {
    unsafe {
        let mut h = 0;
        assert_eq!(labcam_open(CString::new("andor_sdk3:0").unwrap().as_ptr(), &mut h), 0);
        let mut r = Roi::default();
        assert_eq!(labcam_set_roi(h, 0, width, 0, height, 1, 1, &mut r), 0);
        let fb = (width * height * 2) as usize;
        let ring = ring_frames(fb);
        assert_eq!(labcam_setup_acquisition(h, ring as i64), 0);
        // Chunks of CHUNK_KB KiB of frames (at least 8 frames, at most an eighth of the ring).
        let chunk = ((env("CHUNK_KB", 1024) << 10) / fb).max(8).min((ring / 8).max(1));
        let lag = lag.min(ring / 2);
        // Touch the destination once, so page faults are not measured.
        let mut dst = vec![1u8; chunk * fb];
        let mut infos = vec![FrameInfo::default(); chunk];
        let cpu0 = thread_cpu();
        assert_eq!(labcam_start(h), 0);
        let t = Instant::now();
        let mut got = 0;
        while got < frames {
            // Wake once per half chunk of frames past the lag, as a throughput-minded
            // reader does, and read the oldest.
            let want = (frames - got).min(chunk / 2).max(1) + lag;
            assert_eq!(labcam_wait(h, want as i64, 5.0), 0);
            let mut n = 0;
            let max = (frames - got).min(chunk);
            assert_eq!(labcam_read_chunk(h, dst.as_mut_ptr() as *mut _, dst.len() as u64, max as i64, 0, infos.as_mut_ptr(), &mut n), 0);
            got += n as usize;
        }
        let sample = Sample::new(&cpu0, got, t.elapsed().as_secs_f64());
        labcam_stop(h);
        let mut s = FramesStatus::default();
        labcam_get_frames_status(h, &mut s);
        labcam_close(h);
        (sample, s)
    }
}

fn median(v: impl IntoIterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = v.into_iter().collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// "median (min–max)" of per-round ratios.
fn spread(ratios: &[f64]) -> String {
    let min = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let max = ratios.iter().copied().fold(0.0, f64::max);
    format!("{:.3} (min {min:.3}, max {max:.3})", median(ratios.iter().copied()))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let path = dir.join(if cfg!(windows) { "atcore.dll" } else { "libatcore.so" });
    assert!(path.exists(), "{} missing: cargo build --release -p atcore-emulator", path.display());
    std::env::set_var("ATCORE_EMU_NO_PACING", "1");
    let emu = Emu { lib: unsafe { libloading::Library::new(&path).unwrap() } };
    let p = CString::new(path.to_str().unwrap()).unwrap();
    unsafe { labcam_set_backend_library(CString::new("andor_sdk3").unwrap().as_ptr(), p.as_ptr()) };
    let lag_bytes = env("LAG_KB", (l2_bytes() * 5 / 2) >> 10) << 10;
    println!(
        "andor_sdk3 backend vs the SDK3 emulator alone (unpaced, Mono16, metadata on), {}; ring {} MiB, reader {:.1} MiB behind the camera (L2 {:.1} MiB)",
        path.display(),
        env("RING_MB", 16),
        lag_bytes as f64 / (1 << 20) as f64,
        l2_bytes() as f64 / (1 << 20) as f64
    );
    // Each round measures every client in turn; medians over rounds are reported (shared
    // machine: single rounds vary by tens of percent).
    let rounds = env("ROUNDS", 11);
    let sizes = [(128i64, 128i64, env("SMALL_N", 100000)), (2560, 2160, 300)];
    let only = std::env::var("ONLY").unwrap_or_default();
    for (w, h, n) in sizes.into_iter().filter(|s| only.is_empty() || only == format!("{}x{}", s.0, s.1)) {
        let fb = (w * h * 2) as usize;
        let lag = lag_bytes / fb;
        // The reference clients queue 32 buffers (at most 256 MiB), as an SDK3 client does.
        let pool = ((256usize << 20) / fb).clamp(4, 32);
        let (mut alone, mut behind, mut head, mut copying) = (vec![], vec![], vec![], vec![]);
        let (mut lost, mut lost_head) = ((0, 0), (0, 0));
        for _ in 0..rounds {
            alone.push(emu.fill_rate(w, h, n, false, pool));
            let (l, s) = labcam_rate(w, h, n, lag);
            behind.push(l);
            lost = (lost.0 + s.lost_overwritten, lost.1 + s.lost_device);
            if lag > 0 {
                let (l, s) = labcam_rate(w, h, n, 0);
                head.push(l);
                lost_head = (lost_head.0 + s.lost_overwritten, lost_head.1 + s.lost_device);
            }
            copying.push(emu.fill_rate(w, h, n, true, pool));
        }
        let ratio = |a: &[Sample], b: &[Sample]| -> Vec<f64> { a.iter().zip(b).map(|(x, y)| x.rate / y.rate).collect() };
        let best = |v: &[Sample]| v.iter().map(|s| s.rate).fold(0.0, f64::max);
        let cpu = |v: &[Sample]| (median(v.iter().map(|s| s.producer_us)), median(v.iter().map(|s| s.others_us)));
        println!(
            "  {w}x{h}: median ratio {} over {rounds} rounds; best rates: emulator alone {:.0} frames/s, through labcam_read_chunk {:.0} frames/s; lost_overwritten {} lost_device {}",
            spread(&ratio(&behind, &alone)),
            best(&alone),
            best(&behind),
            lost.0,
            lost.1
        );
        if lag > 0 {
            println!("    reader at the head (no lag): median ratio {}; lost_overwritten {} lost_device {}", spread(&ratio(&head, &alone)), lost_head.0, lost_head.1);
        }
        println!("    against a client that also copies each frame out once: median ratio {}", spread(&ratio(&behind, &copying)));
        if alone[0].producer_us > 0.0 {
            let (pa, client) = cpu(&alone);
            let (pb, ours) = cpu(&behind);
            let (pc, _) = cpu(&copying);
            let pct = |x: f64| (x / pa - 1.0) * 100.0;
            let mut line = format!("    CPU per frame (medians, us): emulator's producer {pa:.2} alone, {pb:.2} ({:+.1} %) while labcam reads behind", pct(pb));
            if lag > 0 {
                let (ph, _) = cpu(&head);
                line += &format!(", {ph:.2} ({:+.1} %) at the head", pct(ph));
            }
            line += &format!(
                ", {pc:.2} ({:+.1} %) with the copying client; reference client {client:.2}, labcam's threads {ours:.2}; producer on a CPU {:.0} % of the time",
                pct(pc),
                median(alone.iter().chain(&behind).map(|s| s.producer_busy)) * 100.0
            );
            println!("{line}");
        }
    }
    let _ = LABCAM_OK;
}
