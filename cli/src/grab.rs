//! `labcam grab`: acquire N frames into a multi-page TIFF (BigTIFF past 4 GB).

use crate::api::*;
use indicatif::{ProgressBar, ProgressStyle};
use std::fs::File;
use std::io::{BufWriter, Seek, Write};
use std::sync::mpsc::sync_channel;
use std::time::Instant;
use tiff::encoder::{colortype, TiffEncoder, TiffKind};

pub struct GrabOptions {
    pub camera: String,
    pub n: u64,
    pub roi: Option<(i64, i64, i64, i64)>,
    pub bin: Option<(i64, i64)>,
    pub exposure: Option<f64>,
    pub period: Option<f64>,
    pub trigger: Option<i32>,
    pub buffer: Option<i64>,
    pub output: std::path::PathBuf,
    pub attrs: Vec<(String, String)>,
    pub timeout: f64,
    pub quiet: bool,
}

/// Summary of a finished grab.
pub struct Summary {
    pub frames: u64,
    pub seconds: f64,
    pub bytes: u64,
    pub status: FramesStatus,
}

/// A block of frames on its way to the TIFF writer.
struct Block {
    data: Vec<u8>,
    frames: usize,
}

/// Largest file a classic TIFF can address, with room for the directories.
const CLASSIC_TIFF_LIMIT: u64 = 4_000_000_000;

/// The most memory the ring takes unless `--buffer` says otherwise: a quarter of the
/// physical memory (at least 512 MiB), so that a recording whose output file is slower than
/// the camera still keeps every frame when it fits.
fn default_ring_bytes() -> u64 {
    #[cfg(unix)]
    {
        // SAFETY: sysconf has no preconditions.
        let (pages, size) = unsafe { (libc::sysconf(libc::_SC_PHYS_PAGES), libc::sysconf(libc::_SC_PAGESIZE)) };
        if pages > 0 && size > 0 {
            return (pages as u64 * size as u64 / 4).max(512 << 20);
        }
    }
    512 << 20
}

pub fn run(o: &GrabOptions) -> Result<Summary> {
    let cam = Camera::open(&o.camera)?;
    for (k, v) in &o.attrs {
        cam.set_attr_text(k, v)?;
    }
    if o.roi.is_some() || o.bin.is_some() {
        let cur = cam.roi()?;
        let (w, h) = cam.detector_size()?;
        let (hs, he, vs, ve) = o.roi.unwrap_or((0, w, 0, h));
        let (hb, vb) = o.bin.unwrap_or((cur.hbin, cur.vbin));
        cam.set_roi(Roi { hstart: hs, hend: he, vstart: vs, vend: ve, hbin: hb, vbin: vb })?;
    }
    if let Some(e) = o.exposure {
        cam.set_exposure(e)?;
    }
    if let Some(p) = o.period {
        cam.set_frame_period(p)?;
    }
    if let Some(t) = o.trigger {
        cam.set_trigger_mode(t)?;
    }
    let fmt = cam.frame_format()?;
    let fb = fmt.frame_bytes as usize;
    let Some(total_bytes) = o.n.checked_mul(fb as u64) else {
        return Err(ApiError { code: LABCAM_ERR_INVALID_ARGUMENT, name: "INVALID_ARGUMENT".into(), message: format!("{} frames of {fb} bytes exceed 2^64 bytes", o.n) });
    };
    let buffer = o.buffer.unwrap_or_else(|| (o.n as i64).clamp(2, (default_ring_bytes() / fb as u64).max(2) as i64));
    cam.setup(buffer)?;

    let (tx, rx) = sync_channel::<Block>(4);
    let (free_tx, free_rx) = sync_channel::<Vec<u8>>(8);
    let out = o.output.clone();
    let (w, h, bpp) = (fmt.width as u32, fmt.height as u32, fmt.bytes_per_pixel);
    let writer = std::thread::spawn(move || -> std::result::Result<(), String> {
        let file = File::create(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
        let file = BufWriter::with_capacity(8 << 20, file);
        let r = if total_bytes > CLASSIC_TIFF_LIMIT {
            write_pages(TiffEncoder::new_big(file).map_err(|e| e.to_string())?, rx, free_tx, w, h, bpp, fb)
        } else {
            write_pages(TiffEncoder::new(file).map_err(|e| e.to_string())?, rx, free_tx, w, h, bpp, fb)
        };
        r.map_err(|e| format!("writing {}: {e}", out.display()))
    });

    let pb = if o.quiet { ProgressBar::hidden() } else { ProgressBar::new(o.n) };
    pb.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} frames  {per_sec}  {elapsed_precise}  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let chunk_frames = ((16usize << 20) / fb).clamp(1, 1024);
    let software = cam.trigger_mode()? == LABCAM_TRIGGER_SOFTWARE;
    let t0 = Instant::now();
    // A sequence of n frames: the camera stops after them, so frames the writer has not
    // reached yet are never overwritten by frames nobody asked for.
    cam.start_sequence(o.n as i64)?;
    let mut got = 0u64;
    let mut result = Ok(());
    while got < o.n {
        if software {
            if let Err(e) = cam.software_trigger() {
                result = Err(e);
                break;
            }
        }
        if let Err(e) = cam.wait(1, o.timeout) {
            result = Err(e);
            break;
        }
        let want = chunk_frames.min((o.n - got) as usize);
        let mut buf = free_rx.try_recv().unwrap_or_default();
        buf.resize(want * fb, 0);
        match cam.read_chunk(&mut buf, want, false, None) {
            Ok(k) => {
                buf.truncate(k * fb);
                got += k as u64;
                pb.inc(k as u64);
                let s = cam.frames_status()?;
                if s.lost_overwritten + s.lost_device > 0 {
                    pb.set_message(format!("lost {} overwritten, {} at device", s.lost_overwritten, s.lost_device));
                }
                if tx.send(Block { data: buf, frames: k }).is_err() {
                    break; // the writer failed; its error is reported below
                }
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    let seconds = t0.elapsed().as_secs_f64();
    let _ = cam.stop();
    let status = cam.frames_status()?;
    drop(tx);
    pb.finish_and_clear();
    let written = writer.join().unwrap_or_else(|_| Err("the TIFF writer panicked".into()));
    result?;
    written.map_err(|m| ApiError { code: LABCAM_ERR_INVALID_ARGUMENT, name: "OUTPUT".into(), message: m })?;
    Ok(Summary { frames: got, seconds, bytes: got * fb as u64, status })
}

fn write_pages<W: Write + Seek, K: TiffKind>(
    mut enc: TiffEncoder<W, K>,
    rx: std::sync::mpsc::Receiver<Block>,
    free: std::sync::mpsc::SyncSender<Vec<u8>>,
    w: u32,
    h: u32,
    bpp: i64,
    fb: usize,
) -> tiff::TiffResult<()> {
    for block in rx {
        for k in 0..block.frames {
            let page = &block.data[k * fb..(k + 1) * fb];
            match bpp {
                1 => enc.write_image::<colortype::Gray8>(w, h, page)?,
                2 => {
                    let px: Vec<u16> = page.chunks_exact(2).map(|b| u16::from_ne_bytes([b[0], b[1]])).collect();
                    enc.write_image::<colortype::Gray16>(w, h, &px)?
                }
                _ => {
                    let px: Vec<u32> = page.chunks_exact(4).map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]])).collect();
                    enc.write_image::<colortype::Gray32>(w, h, &px)?
                }
            }
        }
        let _ = free.try_send(block.data);
    }
    Ok(())
}

pub fn print_summary(s: &Summary, out: &std::path::Path) {
    let fps = s.frames as f64 / s.seconds.max(1e-9);
    let mbs = s.bytes as f64 / 1e6 / s.seconds.max(1e-9);
    println!(
        "{} frames in {:.3} s -> {}: {:.1} fps, {:.1} MB/s, lost_overwritten {}, lost_device {}",
        s.frames,
        s.seconds,
        out.display(),
        fps,
        mbs,
        s.status.lost_overwritten,
        s.status.lost_device
    );
    if s.status.lost_overwritten > 0 {
        println!(
            "the ring ({} frames) filled up: frames arrived faster than they were written to {}; --buffer sets a larger ring",
            s.status.buffer_frames,
            out.display()
        );
    }
}

/// Parse a duration: `10ms`, `250us`, `1.5s`, `2e-3` (seconds), `100µs`, `1min`.
pub fn parse_duration(s: &str) -> std::result::Result<f64, String> {
    let s = s.trim();
    let split = s.find(|c: char| c.is_ascii_alphabetic() || c == 'µ').unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let v: f64 = num.trim().parse().map_err(|_| format!("'{s}' is not a duration (e.g. 10ms, 250us, 1.5s)"))?;
    let scale = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 1e-3,
        "us" | "µs" => 1e-6,
        "ns" => 1e-9,
        "min" => 60.0,
        u => return Err(format!("unknown time unit '{u}' in '{s}' (use s, ms, us, ns, min)")),
    };
    Ok(v * scale)
}

/// Parse `X0:X1,Y0:Y1` (sensor pixels, end excluded).
pub fn parse_roi(s: &str) -> std::result::Result<(i64, i64, i64, i64), String> {
    let bad = || format!("'{s}' is not a ROI; expected X0:X1,Y0:Y1 (e.g. 0:512,0:256)");
    let (x, y) = s.split_once(',').ok_or_else(bad)?;
    let (x0, x1) = x.split_once(':').ok_or_else(bad)?;
    let (y0, y1) = y.split_once(':').ok_or_else(bad)?;
    let p = |v: &str| v.trim().parse::<i64>().map_err(|_| bad());
    Ok((p(x0)?, p(x1)?, p(y0)?, p(y1)?))
}

/// Parse `H,V` or a single `N` (both axes).
pub fn parse_bin(s: &str) -> std::result::Result<(i64, i64), String> {
    let bad = || format!("'{s}' is not a binning; expected H,V or N (e.g. 2,2)");
    match s.split_once(',') {
        Some((a, b)) => Ok((a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?)),
        None => {
            let n = s.trim().parse().map_err(|_| bad())?;
            Ok((n, n))
        }
    }
}

pub fn parse_trigger(s: &str) -> std::result::Result<i32, String> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "int" | "internal" => LABCAM_TRIGGER_INT,
        "ext" | "external" => LABCAM_TRIGGER_EXT,
        "software" | "sw" => LABCAM_TRIGGER_SOFTWARE,
        "ext_start" => LABCAM_TRIGGER_EXT_START,
        "ext_exposure" => LABCAM_TRIGGER_EXT_EXPOSURE,
        _ => return Err(format!("unknown trigger '{s}' (int, ext, software, ext_start, ext_exposure)")),
    })
}
