//! `labcam bench`: the core's performance figures, measured in one run through the C ABI.
//! Figures are printed as rates and as ratios to a reference measured in the same run
//! (memcpy of the same bytes), since the machines are shared and noisy.

use crate::api::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Heap allocations made by the whole process (counted by the CLI's global allocator).
pub static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

pub struct BenchOptions {
    pub rate: f64,
    pub seconds: f64,
}

fn now_ns() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as i64).unwrap_or(0)
}

fn sim(w: i64, h: i64) -> Result<Camera> {
    let cam = Camera::open("sim")?;
    cam.set_roi(Roi { hstart: 0, hend: w, vstart: 0, vend: h, hbin: 1, vbin: 1 })?;
    cam.set_exposure(1e-5)?;
    Ok(cam)
}

pub fn run(o: &BenchOptions) -> Result<()> {
    let (a, b, c) = version();
    println!("labcam {a}.{b}.{c} benchmark (sim camera, through the C ABI)");
    small_frames(o)?;
    copy_rate()?;
    lock_cost()?;
    wake_latency()?;
    setup_time()?;
    Ok(())
}

/// 64x64 u16 frames at a fixed high rate, read in chunks: delivered frames/s, losses and
/// heap allocations per frame in steady state.
fn small_frames(o: &BenchOptions) -> Result<()> {
    let cam = sim(64, 64)?;
    cam.set_attr_float("BenchmarkFrameRate", o.rate)?;
    let fb = cam.frame_format()?.frame_bytes as usize;
    let ring = 16384;
    cam.setup(ring)?;
    let chunk = 4096usize;
    let mut dst = vec![0u8; chunk * fb];
    let mut infos = vec![FrameInfo::default(); chunk];
    let target = (o.rate * o.seconds) as u64;
    let warmup = target / 10;
    let mut read = 0u64;
    let mut allocs_at_warmup = 0;
    let mut t_warm = Instant::now();
    let mut next_index = 0i64;
    let mut order_ok = true;
    cam.start()?;
    let t0 = Instant::now();
    while read < target {
        cam.wait((target - read).min(256) as i64, 5.0)?;
        let n = cam.read_chunk(&mut dst, chunk, false, Some(&mut infos))?;
        for i in &infos[..n] {
            order_ok &= i.index >= next_index;
            next_index = i.index + 1;
        }
        if read < warmup && read + n as u64 >= warmup {
            allocs_at_warmup = ALLOCATIONS.load(Ordering::Relaxed);
            t_warm = Instant::now();
        }
        read += n as u64;
    }
    let allocs = ALLOCATIONS.load(Ordering::Relaxed) - allocs_at_warmup;
    let steady_frames = read - warmup;
    let dt = t0.elapsed().as_secs_f64();
    let _ = t_warm;
    cam.stop()?;
    let s = cam.frames_status()?;
    println!("\n[1] 64x64 u16 frames, sim at {:.0} frames/s, read_chunk up to {chunk} frames", o.rate);
    println!("    delivered {read} frames in {dt:.3} s = {:.0} frames/s ({:.3} of the camera rate)", read as f64 / dt, read as f64 / dt / o.rate);
    println!("    lost_overwritten {}  lost_device {}  indices increasing: {}", s.lost_overwritten, s.lost_device, if order_ok { "yes" } else { "NO" });
    println!("    heap allocations in steady state: {allocs} for {steady_frames} frames = {:.4} per frame", allocs as f64 / steady_frames as f64);
    Ok(())
}

/// read_chunk copy rate for 2048x2048 u16 frames against memcpy of the same bytes.
fn copy_rate() -> Result<()> {
    let cam = sim(2048, 2048)?;
    cam.set_attr_bool("RealTimePacing", false)?;
    let fb = cam.frame_format()?.frame_bytes as usize;
    let n = 16usize;
    cam.setup(n as i64)?;
    cam.start()?;
    cam.wait(n as i64, 30.0)?;
    cam.stop()?;
    let mut dst = vec![1u8; n * fb];
    let src = vec![2u8; n * fb];
    let reps = 8;
    let (mut t_read, mut t_copy) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..reps {
        let t = Instant::now();
        let k = cam.read_chunk(&mut dst, n, true, None)?;
        t_read += t.elapsed();
        assert_eq!(k, n);
        let t = Instant::now();
        dst.copy_from_slice(std::hint::black_box(&src));
        t_copy += t.elapsed();
        std::hint::black_box(&dst);
    }
    let bytes = (reps * n * fb) as f64;
    let r = bytes / t_read.as_secs_f64() / 1e9;
    let m = bytes / t_copy.as_secs_f64() / 1e9;
    println!("\n[2] read_chunk of {n} frames of 2048x2048 u16 ({:.0} MiB) vs memcpy of the same bytes", (n * fb) as f64 / 1048576.0);
    println!("    read_chunk {r:.2} GB/s, memcpy {m:.2} GB/s, ratio {:.3}", r / m);
    Ok(())
}

/// lock_chunk + unlock_chunk cost per call pair, for small and large frames.
fn lock_cost() -> Result<()> {
    println!("\n[3] lock_chunk + unlock_chunk (1 frame each), per call pair");
    for (w, h, ring, rounds) in [(64i64, 64i64, 16384i64, 1), (2048, 2048, 32, 8)] {
        let cam = sim(w, h)?;
        cam.set_attr_bool("RealTimePacing", false)?;
        cam.setup(ring)?;
        let mut total = Duration::ZERO;
        let mut pairs = 0u64;
        for _ in 0..rounds {
            cam.start()?;
            cam.wait(ring, 30.0)?;
            cam.stop()?;
            let unread = cam.frames_status()?.unread;
            let t = Instant::now();
            for _ in 0..unread {
                let c = cam.lock_chunk(1)?;
                cam.unlock_chunk(c.chunk_id)?;
            }
            total += t.elapsed();
            pairs += unread as u64;
        }
        println!("    {w}x{h}: {:.3} us per pair over {pairs} pairs", total.as_secs_f64() * 1e6 / pairs as f64);
    }
    Ok(())
}

/// Time from a frame being published (its host_time_ns) to labcam_wait returning.
fn wake_latency() -> Result<()> {
    let cam = sim(64, 64)?;
    cam.set_attr_float("BenchmarkFrameRate", 2000.0)?;
    let fb = cam.frame_format()?.frame_bytes as usize;
    cam.setup(64)?;
    let mut dst = vec![0u8; fb];
    let mut info = [FrameInfo::default()];
    let n = 3000;
    let mut lat = Vec::with_capacity(n);
    cam.start()?;
    while lat.len() < n {
        cam.wait(1, 5.0)?;
        let woke = now_ns();
        let k = cam.read_chunk(&mut dst, 1, false, Some(&mut info))?;
        if k == 1 && cam.frames_status()?.unread == 0 {
            // Only frames that arrived while we were waiting measure the wake-up.
            lat.push((woke - info[0].host_time_ns) as f64 / 1e3);
        }
    }
    cam.stop()?;
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let p = |q: f64| lat[((lat.len() - 1) as f64 * q) as usize];
    println!("\n[4] wake latency, frame published -> labcam_wait returns ({n} frames at 2 kHz)");
    println!("    p50 {:.1} us, p99 {:.1} us, max {:.1} us", p(0.5), p(0.99), p(1.0));
    Ok(())
}

/// setup_acquisition of a 1 GiB ring (allocation and faulting in every page).
fn setup_time() -> Result<()> {
    let cam = sim(2048, 2048)?;
    let fb = cam.frame_format()?.frame_bytes;
    let n = (1i64 << 30) / fb;
    let t = Instant::now();
    cam.setup(n)?;
    let first = t.elapsed().as_secs_f64();
    cam.clear()?;
    let t = Instant::now();
    cam.setup(n)?;
    let second = t.elapsed().as_secs_f64();
    let t = Instant::now();
    cam.setup(n)?;
    let same = t.elapsed().as_secs_f64();
    cam.clear()?;
    println!("\n[5] setup_acquisition of a 1 GiB ring ({n} frames of 2048x2048 u16), pages faulted in");
    println!("    first {first:.3} s, after clear {second:.3} s, again with the same size (kept) {:.6} s", same);
    Ok(())
}
