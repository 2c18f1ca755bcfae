//! `labcam`: list, inspect and grab from scientific cameras through labcam's C ABI.

mod api;
mod bench;
mod grab;

use api::*;
use clap::{Parser, Subcommand};
use std::alloc::{GlobalAlloc, Layout, System};
use std::process::ExitCode;
use std::sync::atomic::Ordering;

/// Counts heap allocations for `labcam bench`.
struct CountingAlloc;

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        bench::ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.alloc(l)
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        bench::ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.alloc_zeroed(l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        bench::ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.realloc(p, l, n)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

#[derive(Parser)]
#[command(name = "labcam", version, about = "Control scientific cameras through labcam (sim, aravis, andor_sdk3, pvcam, ...)")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// List cameras (of one backend, or of every backend whose library loads)
    List { backend: Option<String> },
    /// List the compiled-in backends
    Backends,
    /// Device information, sensor, ROI, timings and trigger of a camera
    Info { camera: String },
    /// Table of every attribute: kind, access, value, limits
    Attrs { camera: String },
    /// Print an attribute's value
    Get { camera: String, attr: String },
    /// Set an attribute (a COMMAND attribute is run; VALUE is then optional)
    Set { camera: String, attr: String, value: Option<String> },
    /// Acquire N frames into a multi-page TIFF (BigTIFF past 4 GB)
    Grab {
        camera: String,
        /// Number of frames (at least 1)
        #[arg(short = 'n', long = "frames", value_parser = clap::value_parser!(u64).range(1..=i64::MAX as u64))]
        n: u64,
        /// ROI in sensor pixels, end excluded: X0:X1,Y0:Y1
        #[arg(long, value_parser = grab::parse_roi)]
        roi: Option<(i64, i64, i64, i64)>,
        /// Binning H,V (or N for both)
        #[arg(long, value_parser = grab::parse_bin)]
        bin: Option<(i64, i64)>,
        /// Exposure (10ms, 250us, 0.5s)
        #[arg(long, value_parser = grab::parse_duration)]
        exposure: Option<f64>,
        /// Frame period (20ms; 0 = fastest)
        #[arg(long, value_parser = grab::parse_duration)]
        period: Option<f64>,
        /// Trigger mode: int, ext, software
        #[arg(long, value_parser = grab::parse_trigger)]
        trigger: Option<i32>,
        /// Ring buffer size in frames (default: N, up to a quarter of the physical memory)
        #[arg(long)]
        buffer: Option<i64>,
        /// Set attributes first: --attr NAME=VALUE (repeatable)
        #[arg(long = "attr", value_parser = parse_kv)]
        attrs: Vec<(String, String)>,
        /// Seconds to wait for each frame
        #[arg(long, default_value_t = 10.0)]
        timeout: f64,
        /// No progress bar
        #[arg(short, long)]
        quiet: bool,
        /// Output file (.tif)
        #[arg(short = 'o', long)]
        output: std::path::PathBuf,
    },
    /// Measure the core's performance on the simulated camera
    Bench {
        /// Frame rate of the simulated camera for the throughput test (frames/s)
        #[arg(long, default_value_t = 500_000.0)]
        rate: f64,
        /// Duration of the throughput test in seconds
        #[arg(long, default_value_t = 2.0)]
        seconds: f64,
    },
}

fn parse_kv(s: &str) -> std::result::Result<(String, String), String> {
    s.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())).ok_or_else(|| format!("'{s}' is not NAME=VALUE"))
}

fn main() -> ExitCode {
    // Behave like other command-line tools when the reader goes away (`labcam attrs | head`):
    // end quietly on SIGPIPE instead of failing to print.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match run(cli.cmd) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Library messages already read "function: STATUS: details".
            if e.message.contains(&e.name) {
                eprintln!("error: {}", e.message);
            } else {
                eprintln!("error: {}: {}", e.name, e.message);
            }
            ExitCode::FAILURE
        }
    }
}

fn run(cmd: Cmd) -> api::Result<()> {
    match cmd {
        Cmd::List { backend } => {
            for c in list_cameras(backend.as_deref())? {
                println!("{c}");
            }
        }
        Cmd::Backends => {
            for b in list_backends()? {
                println!("{b}");
            }
        }
        Cmd::Info { camera } => info(&camera)?,
        Cmd::Attrs { camera } => attrs(&camera)?,
        Cmd::Get { camera, attr } => {
            let cam = Camera::open(&camera)?;
            println!("{}", cam.get_attr_text(&attr)?);
        }
        Cmd::Set { camera, attr, value } => {
            let cam = Camera::open(&camera)?;
            let info = cam.attr_info(&attr)?;
            let value = match (value, info.kind as i32) {
                (Some(v), _) => v,
                (None, LABCAM_ATTR_COMMAND) => String::new(),
                (None, _) => {
                    return Err(ApiError { code: LABCAM_ERR_INVALID_ARGUMENT, name: "INVALID_ARGUMENT".into(), message: format!("attribute '{attr}' is a {}: give a VALUE", kind_name(info.kind)) })
                }
            };
            cam.set_attr_text(&attr, &value)?;
            if info.kind as i32 != LABCAM_ATTR_COMMAND {
                println!("{attr} = {}", cam.get_attr_text(&attr)?);
            }
        }
        Cmd::Grab { camera, n, roi, bin, exposure, period, trigger, buffer, attrs, timeout, quiet, output } => {
            let o = grab::GrabOptions { camera, n, roi, bin, exposure, period, trigger, buffer, output, attrs, timeout, quiet };
            let s = grab::run(&o)?;
            grab::print_summary(&s, &o.output);
        }
        Cmd::Bench { rate, seconds } => bench::run(&bench::BenchOptions { rate, seconds })?,
    }
    Ok(())
}

fn info(camera: &str) -> api::Result<()> {
    let cam = Camera::open(camera)?;
    print!("{}", cam.device_info()?);
    let (w, h) = cam.detector_size()?;
    println!("detector={w}x{h}");
    let r = cam.roi()?;
    println!("roi={}:{},{}:{} bin={},{}", r.hstart, r.hend, r.vstart, r.vend, r.hbin, r.vbin);
    let l = cam.roi_limits()?;
    println!(
        "roi_limits=width {}..{} step {}, height {}..{} step {}, position steps {}x{}, max binning {}x{}",
        l.min_width, l.max_width, l.width_step, l.min_height, l.max_height, l.height_step, l.hstart_step, l.vstart_step, l.max_hbin, l.max_vbin
    );
    let f = cam.frame_format()?;
    println!("frame={}x{} {} bytes/pixel ({} bits), {} bytes", f.width, f.height, f.bytes_per_pixel, f.bits_per_pixel, f.frame_bytes);
    let (e, p) = cam.frame_timings()?;
    println!("exposure={e} s\nframe_period={p} s");
    let t = cam.trigger_mode()?;
    let tn = ["int", "ext", "software", "ext_start", "ext_exposure"].get(t as usize).copied().unwrap_or("?");
    println!("trigger={tn}");
    Ok(())
}

fn attrs(camera: &str) -> api::Result<()> {
    let cam = Camera::open(camera)?;
    let names = cam.attr_names()?;
    let width = names.iter().map(|n| n.len()).max().unwrap_or(4).max(4);
    println!("{:<width$}  {:<7}  {:<6}  {:<24}  LIMITS", "NAME", "KIND", "ACCESS", "VALUE");
    for name in names {
        let info = match cam.attr_info(&name) {
            Ok(i) => i,
            Err(e) => {
                println!("{name:<width$}  ?        ?       ({})", e.name);
                continue;
            }
        };
        let access = format!(
            "{}{}{}",
            if info.readable != 0 { "R" } else { "-" },
            if info.writable != 0 { "W" } else { "-" },
            if info.implemented != 0 { "" } else { " n/i" }
        );
        let value = if info.readable != 0 && info.implemented != 0 {
            cam.get_attr_text(&name).unwrap_or_else(|e| format!("({})", e.name))
        } else {
            String::new()
        };
        let limits = match info.kind as i32 {
            LABCAM_ATTR_INT if info.int_min != i64::MIN || info.int_max != i64::MAX => {
                format!("[{}, {}] step {}", info.int_min, info.int_max, info.int_step)
            }
            LABCAM_ATTR_FLOAT if info.float_min.is_finite() || info.float_max.is_finite() => format!("[{}, {}]", info.float_min, info.float_max),
            LABCAM_ATTR_ENUM => cam.attr_enum_values(&name, info.enum_count).map(|v| v.join(" | ")).unwrap_or_default(),
            _ => String::new(),
        };
        let mut value = value.replace('\n', " ");
        if value.chars().count() > 24 {
            value = value.chars().take(21).collect::<String>() + "...";
        }
        println!("{name:<width$}  {:<7}  {access:<6}  {value:<24}  {limits}", kind_name(info.kind));
    }
    Ok(())
}
