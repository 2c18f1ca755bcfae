//! Frames/s delivered through labcam_read_chunk from the SDK3 emulator, as a ratio to the
//! rate at which the emulator alone fills queued buffers (a client doing nothing but
//! AT_WaitBuffer + AT_QueueBuffer), measured in the same run, with unpaced frames.
//!
//! cargo build --release -p atcore-emulator && cargo bench --bench andor_sdk3
//! (RING_MB, RING_MIN, CHUNK_KB, ROUNDS, SMALL_N, ONLY=128x128|2560x2160, VERBOSE=1 vary it.)

use labcam::ffi::acquisition::*;
use labcam::ffi::consts::*;
use labcam::ffi::device::*;
use labcam::ffi::library::*;
use labcam::model::{FrameInfo, FramesStatus, Roi};
use std::ffi::{c_int, c_uint, CString};
use std::time::Instant;

/// CPU time (ns) of each thread of this process so far, from `/proc/self/task/*/schedstat`
/// (Linux; empty elsewhere). Used to tell whether the emulator's producer thread ever waits
/// or is kept off its CPU, and what each side costs per frame.
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

/// CPU per frame (µs) over a measurement from `before` to now: (the emulator's producer,
/// every other thread of the process). The producer is the busiest thread: unpaced, it
/// draws frames without pause.
fn cpu_per_frame(before: &[(u64, u64)], frames: usize, wall_s: f64) -> Option<(f64, f64, f64)> {
    let deltas: Vec<u64> = thread_cpu().iter().map(|(t, c)| c - before.iter().find(|b| b.0 == *t).map(|b| b.1).unwrap_or(0)).collect();
    let producer = *deltas.iter().max()?;
    let rest: u64 = deltas.iter().sum::<u64>() - producer;
    let per = |ns: u64| ns as f64 / 1e3 / frames as f64;
    Some((per(producer), per(rest), producer as f64 / 1e9 / wall_s))
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
    /// Frames/s of the emulator alone for an AOI of `width × height` Mono16 with metadata.
    /// With `copy`, the client also copies each frame's pixels out once (into a buffer of
    /// 16 frames, reused) before queueing the buffer again: the least any reader of the
    /// pixels does.
    fn fill_rate(&self, width: i64, height: i64, frames: usize, copy: bool) -> (f64, Option<(f64, f64, f64)>) {
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
            let nbuf = ((256usize << 20) / size as usize).clamp(4, 32);
            let mut bufs: Vec<Vec<u64>> = (0..nbuf).map(|_| vec![1u64; (size as usize).div_ceil(8)]).collect();
            for b in &mut bufs {
                assert_eq!(queue(h, b.as_mut_ptr() as *mut u8, size as c_int), 0);
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
            let wall = t.elapsed().as_secs_f64();
            let cpu = cpu_per_frame(&cpu0, frames, wall);
            command(h, w("AcquisitionStop").as_ptr());
            flush(h);
            close(h);
            (frames as f64 / wall, cpu)
        }
    }
}

fn labcam_rate(width: i64, height: i64, frames: usize) -> (f64, FramesStatus, Option<(f64, f64, f64)>) {
    unsafe {
        let mut h = 0;
        assert_eq!(labcam_open(CString::new("andor_sdk3:0").unwrap().as_ptr(), &mut h), 0);
        let mut r = Roi::default();
        assert_eq!(labcam_set_roi(h, 0, width, 0, height, 1, 1, &mut r), 0);
        let fb = (width * height * 2) as usize;
        // A ring of RING_MB MiB (at least 64 frames), read in chunks of CHUNK_KB KiB of
        // frames (at least 8 frames, at most an eighth of the ring), the reader waking for
        // half a chunk.
        let env = |k: &str, d: usize| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
        let ring = ((env("RING_MB", 8) << 20) / fb).clamp(env("RING_MIN", 64), 65536);
        assert_eq!(labcam_setup_acquisition(h, ring as i64), 0);
        let chunk = ((env("CHUNK_KB", 1024) << 10) / fb).clamp(8, ring / 8);
        // Touch the destination once, so page faults are not measured.
        let mut dst = vec![1u8; chunk * fb];
        let mut infos = vec![FrameInfo::default(); chunk];
        let cpu0 = thread_cpu();
        assert_eq!(labcam_start(h), 0);
        let t = Instant::now();
        let mut got = 0;
        while got < frames {
            // Wake once per batch of frames, as a throughput-minded reader does.
            let batch = (frames - got).min(chunk / 2).max(1);
            assert_eq!(labcam_wait(h, batch as i64, 5.0), 0);
            let mut n = 0;
            assert_eq!(labcam_read_chunk(h, dst.as_mut_ptr() as *mut _, dst.len() as u64, chunk as i64, 0, infos.as_mut_ptr(), &mut n), 0);
            got += n as usize;
        }
        let wall = t.elapsed().as_secs_f64();
        let cpu = cpu_per_frame(&cpu0, got, wall);
        labcam_stop(h);
        let mut s = FramesStatus::default();
        labcam_get_frames_status(h, &mut s);
        labcam_close(h);
        (got as f64 / wall, s, cpu)
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
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
    println!("andor_sdk3 backend vs the SDK3 emulator alone (unpaced, Mono16, metadata on), {}", path.display());
    // Rounds alternate the two measurements; the median ratio is reported (shared machine).
    let rounds = std::env::var("ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(11);
    let sizes = [(128i64, 128i64, std::env::var("SMALL_N").ok().and_then(|v| v.parse().ok()).unwrap_or(100000usize)), (2560, 2160, 300)];
    let only = std::env::var("ONLY").unwrap_or_default();
    for (w, h, n) in sizes.into_iter().filter(|s| only.is_empty() || only == format!("{}x{}", s.0, s.1)) {
        let mut ratios = Vec::new();
        let mut copying = Vec::new();
        let mut lost = (0, 0);
        let (mut e_best, mut l_best) = (0f64, 0f64);
        // CPU per frame (µs): the producer alone and with labcam, the reference client, and
        // labcam's threads (acquisition thread, reader, and the SDK calls they make).
        let (mut prod_alone, mut prod_labcam, mut client, mut ours, mut busy) = (vec![], vec![], vec![], vec![], vec![]);
        for _ in 0..rounds {
            let (e, ce) = emu.fill_rate(w, h, n, false);
            let (l, s, cl) = labcam_rate(w, h, n);
            ratios.push(l / e);
            copying.push(l / emu.fill_rate(w, h, n, true).0);
            e_best = e_best.max(e);
            l_best = l_best.max(l);
            lost.0 += s.lost_overwritten;
            lost.1 += s.lost_device;
            if let (Some(a), Some(b)) = (ce, cl) {
                prod_alone.push(a.0);
                client.push(a.1);
                prod_labcam.push(b.0);
                ours.push(b.1);
                busy.push(a.2.min(b.2));
            }
        }
        if std::env::var("VERBOSE").is_ok() {
            eprintln!("{ratios:.3?}");
        }
        println!(
            "  {w}x{h}: median ratio {:.3} over {rounds} rounds (min {:.3}, max {:.3}); best rates: emulator alone {e_best:.0} frames/s, through labcam_read_chunk {l_best:.0} frames/s; lost_overwritten {} lost_device {}",
            median(&mut ratios),
            ratios[0],
            ratios[rounds - 1],
            lost.0,
            lost.1
        );
        println!("    against a client that also copies each frame out once: median ratio {:.3} (min {:.3}, max {:.3})", median(&mut copying), copying[0], copying[rounds - 1]);
        if !busy.is_empty() {
            println!(
                "    CPU per frame (medians): emulator's producer {:.2} us alone, {:.2} us while labcam reads ({:+.1} %); reference client {:.2} us, labcam's threads {:.2} us; producer on its CPU at least {:.0} % of the time",
                median(&mut prod_alone),
                median(&mut prod_labcam),
                (median(&mut prod_labcam) / median(&mut prod_alone) - 1.0) * 100.0,
                median(&mut client),
                median(&mut ours),
                median(&mut busy) * 100.0
            );
        }
    }
    let _ = LABCAM_OK;
}
