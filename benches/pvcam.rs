//! Frames/s delivered through labcam_read_chunk from the PVCAM emulator, as a ratio to the
//! rate at which the emulator fills its circular buffer for a client that unlocks each
//! frame as soon as it sees it and touches no pixel, measured in alternating rounds of one
//! run. The emulator runs unpaced into a CIRC_NO_OVERWRITE buffer: it writes a frame as
//! soon as the slot's previous frame is unlocked, so the rate is the client's.
//!
//! cargo build --release -p pvcam-emulator && cargo bench --bench pvcam
//! (RING_MB, CHUNK_DIV, ROUNDS, ONLY=128x128|1200x1200, VERBOSE=1 vary it.)

use labcam::ffi::acquisition::*;
use labcam::ffi::device::*;
use labcam::ffi::library::*;
use labcam::model::{FrameInfo, FramesStatus, Roi};
use std::ffi::{c_char, c_void, CString};
use std::time::Instant;

#[repr(C)]
#[derive(Default)]
struct Rgn {
    s1: u16,
    s2: u16,
    sbin: u16,
    p1: u16,
    p2: u16,
    pbin: u16,
}

#[repr(C)]
#[derive(Default)]
struct PvFrameInfo {
    guid: [u32; 4],
    h_cam: i16,
    frame_nr: i32,
    time_stamp: i64,
    readout_time: i32,
    time_stamp_bof: i64,
}

struct Emu {
    lib: libloading::Library,
}

impl Emu {
    unsafe fn f<T: Copy>(&self, name: &str) -> T {
        *self.lib.get::<T>(name.as_bytes()).unwrap()
    }

    /// Frames/s the emulator writes into a CIRC_NO_OVERWRITE ring of `w × h` pixels
    /// (metadata on) for a client that unlocks each frame as soon as it sees it, touching no
    /// pixel (`pl_exp_get_oldest_frame` + `pl_exp_unlock_oldest_frame`).
    fn fill_rate(&self, w: u16, h: u16, frames: i64) -> f64 {
        unsafe {
            let get_name: unsafe extern "C" fn(i16, *mut c_char) -> u16 = self.f("pl_cam_get_name");
            let open: unsafe extern "C" fn(*const c_char, *mut i16, i16) -> u16 = self.f("pl_cam_open");
            let close: unsafe extern "C" fn(i16) -> u16 = self.f("pl_cam_close");
            let set_param: unsafe extern "C" fn(i16, u32, *mut c_void) -> u16 = self.f("pl_set_param");
            let setup: unsafe extern "C" fn(i16, u16, *const Rgn, i16, u32, *mut u32, i16) -> u16 = self.f("pl_exp_setup_cont");
            let start: unsafe extern "C" fn(i16, *mut c_void, u32) -> u16 = self.f("pl_exp_start_cont");
            let status: unsafe extern "C" fn(i16, *mut i16, *mut u32, *mut u32, *mut PvFrameInfo) -> u16 = self.f("pl_exp_check_cont_status_ex");
            let oldest: unsafe extern "C" fn(i16, *mut *mut c_void) -> u16 = self.f("pl_exp_get_oldest_frame");
            let unlock: unsafe extern "C" fn(i16) -> u16 = self.f("pl_exp_unlock_oldest_frame");
            let abort: unsafe extern "C" fn(i16, i16) -> u16 = self.f("pl_exp_abort");
            let mut name = [0 as c_char; 64];
            assert_eq!(get_name(0, name.as_mut_ptr()), 1);
            let mut hc = 0i16;
            assert_eq!(open(name.as_ptr(), &mut hc, 0), 1);
            let mut one = 1u16;
            set_param(hc, 0x0B0300A8, &mut one as *mut u16 as *mut c_void);
            let rgn = Rgn { s1: 0, s2: w - 1, sbin: 1, p1: 0, p2: h - 1, pbin: 1 };
            let mut fb = 0u32;
            assert_eq!(setup(hc, 1, &rgn, 0x700, 10, &mut fb, 2), 1);
            let n = ring_frames(fb as usize);
            let mut ring = vec![1u8; n * fb as usize];
            assert_eq!(start(hc, ring.as_mut_ptr() as *mut c_void, (n * fb as usize) as u32), 1);
            let t = Instant::now();
            let mut seen = 0i64;
            while seen < frames {
                let (mut st, mut bytes, mut cnt) = (0i16, 0u32, 0u32);
                let mut fi = PvFrameInfo::default();
                status(hc, &mut st, &mut bytes, &mut cnt, &mut fi);
                let written = cnt as i64 * n as i64 + (bytes / fb) as i64;
                if written == seen {
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
                while seen < written {
                    let mut p = std::ptr::null_mut();
                    assert_eq!(oldest(hc, &mut p), 1);
                    assert_eq!(unlock(hc), 1);
                    seen += 1;
                }
            }
            let rate = seen as f64 / t.elapsed().as_secs_f64();
            abort(hc, 1);
            close(hc);
            rate
        }
    }
}

/// Ring frames for both clients: about 256 MiB (64 to 4096 frames; RING_MB overrides).
fn ring_frames(frame_bytes: usize) -> usize {
    let mb = std::env::var("RING_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(256usize);
    ((mb << 20) / frame_bytes).clamp(64, 4096)
}

fn labcam_rate(w: i64, h: i64, frames: usize) -> (f64, FramesStatus) {
    unsafe {
        let mut hd = 0;
        assert_eq!(labcam_open(CString::new("pvcam:PMPrime95B-Emu0").unwrap().as_ptr(), &mut hd), 0);
        let mut r = Roi::default();
        assert_eq!(labcam_set_roi(hd, 0, w, 0, h, 1, 1, &mut r), 0);
        let mut e = 0.0;
        labcam_set_exposure(hd, 1e-5, &mut e);
        let fb = (w * h * 2) as usize;
        let ring = ring_frames(fb + 80);
        assert_eq!(labcam_setup_acquisition(hd, ring as i64), 0);
        let div = std::env::var("CHUNK_DIV").ok().and_then(|v| v.parse().ok()).unwrap_or(8usize);
        let chunk = (ring / div).max(1);
        let mut dst = vec![1u8; chunk * fb];
        let mut infos = vec![FrameInfo::default(); chunk];
        assert_eq!(labcam_start(hd), 0);
        // PVCAM writes into the ring itself: slots hold its 80-byte header and the pixels.
        assert_eq!(labcam_wait(hd, 1, 10.0), 0);
        let mut c = labcam::model::Chunk::default();
        assert_eq!(labcam_lock_chunk(hd, 1, &mut c), 0);
        assert_eq!(c.slot_bytes, c.frame_bytes + 80, "in place");
        assert_eq!(labcam_unlock_chunk(hd, c.chunk_id), 0);
        let t = Instant::now();
        let mut got = 0;
        while got < frames {
            let batch = (frames - got).min(chunk / 2).max(1);
            assert_eq!(labcam_wait(hd, batch as i64, 10.0), 0);
            let mut n = 0;
            assert_eq!(labcam_read_chunk(hd, dst.as_mut_ptr() as *mut _, dst.len() as u64, chunk as i64, 0, infos.as_mut_ptr(), &mut n), 0);
            got += n as usize;
        }
        let rate = got as f64 / t.elapsed().as_secs_f64();
        labcam_stop(hd);
        let mut s = FramesStatus::default();
        labcam_get_frames_status(hd, &mut s);
        labcam_close(hd);
        (rate, s)
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let path = dir.join(if cfg!(windows) { "pvcam64.dll" } else { "libpvcam.so" });
    assert!(path.exists(), "{} missing: cargo build --release -p pvcam-emulator", path.display());
    std::env::set_var("PVCAM_EMU_NO_PACING", "1");
    let emu = Emu { lib: unsafe { libloading::Library::new(&path).unwrap() } };
    let p = CString::new(path.to_str().unwrap()).unwrap();
    unsafe { labcam_set_backend_library(CString::new("pvcam").unwrap().as_ptr(), p.as_ptr()) };
    // labcam initialises PVCAM through the same library instance: open a camera via labcam
    // first so pl_pvcam_init has run, then measure.
    let (_, _) = labcam_rate(64, 16, 10);
    println!("pvcam backend vs the PVCAM emulator alone (unpaced, 16-bit, metadata on), {}", path.display());
    let rounds = std::env::var("ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(9);
    let only = std::env::var("ONLY").unwrap_or_default();
    let sizes = [(128u16, 128u16, 100000usize), (1200, 1200, 1000)];
    for (w, h, n) in sizes.into_iter().filter(|s| only.is_empty() || only == format!("{}x{}", s.0, s.1)) {
        let mut ratios = Vec::new();
        let mut lost = (0, 0);
        for _ in 0..rounds {
            let e = emu.fill_rate(w, h, n as i64);
            let (l, s) = labcam_rate(w as i64, h as i64, n);
            ratios.push(l / e);
            lost.0 += s.lost_overwritten;
            lost.1 += s.lost_device;
        }
        if std::env::var("VERBOSE").is_ok() {
            eprintln!("{ratios:.3?}");
        }
        ratios.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "  {w}x{h}: median ratio {:.3} over {rounds} rounds (min {:.3}, max {:.3}); lost_overwritten {} lost_device {}",
            ratios[rounds / 2],
            ratios[0],
            ratios[rounds - 1],
            lost.0,
            lost.1
        );
    }
}
