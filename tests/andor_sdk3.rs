//! The andor_sdk3 backend against the SDK3 emulator (`emulators/andor-sdk3`, built as
//! target/<profile>/libatcore.so by `cargo build --workspace`), through the C ABI.
//! Fault injection uses the emulator's environment variables (README there), so the tests
//! take turns.

mod common;
use common::*;
use parking_lot::Mutex;
use std::path::PathBuf;
use std::ptr::null_mut;
use std::thread;
use std::time::Duration;

static SERIAL: Mutex<()> = Mutex::new(());
const CAM: &str = "andor_sdk3:0";
const FAULT_VARS: [&str; 8] = ["ATCORE_EMU_DISCONNECT_AFTER", "ATCORE_EMU_OVERFLOW_AFTER", "ATCORE_EMU_ERROR", "ATCORE_EMU_NO_PACING", "ATCORE_EMU_EXTERNAL_HZ", "ATCORE_EMU_CAMERA_MEMORY", "ATCORE_EMU_STOP_AFTER", "ATCORE_EMU_OVERFLOW_CODE"];

fn target_dir() -> PathBuf {
    // target/<profile>/deps/andor_sdk3-<hash>
    std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().to_path_buf()
}

fn emulator() -> PathBuf {
    let p = target_dir().join(if cfg!(windows) { "atcore.dll" } else { "libatcore.so" });
    assert!(p.exists(), "{} missing: build it with `cargo build -p atcore-emulator`", p.display());
    p
}

/// Take the emulator: point labcam at it and clear fault injection; `faults` are set.
fn setup(faults: &[(&str, &str)]) -> parking_lot::MutexGuard<'static, ()> {
    let g = SERIAL.lock();
    for v in FAULT_VARS {
        std::env::remove_var(v);
    }
    for (k, v) in faults {
        std::env::set_var(k, v);
    }
    let p = cs(emulator().to_str().unwrap());
    ok(0, unsafe { labcam_set_backend_library(cs("andor_sdk3").as_ptr(), p.as_ptr()) });
    g
}

/// The emulator's pixel (README): x + 3y + 11n, cut to the encoding's width.
fn emu_pixel(n: i64, x: i64, y: i64, modulus: u64) -> u64 {
    ((x + 3 * y + 11 * n) as u64) % modulus
}

fn check_frame(frame: &[u8], bpp: usize, n: i64, roi: Roi, modulus: u64) {
    let (w, h) = (roi.width() as usize, roi.height() as usize);
    assert_eq!(frame.len(), w * h * bpp);
    for j in 0..h {
        for i in 0..w {
            let o = (j * w + i) * bpp;
            let got = if bpp == 2 { u16::from_ne_bytes([frame[o], frame[o + 1]]) as u64 } else { u32::from_ne_bytes(frame[o..o + 4].try_into().unwrap()) as u64 };
            let want = emu_pixel(n, roi.hstart + i as i64 * roi.hbin, roi.vstart + j as i64 * roi.vbin, modulus);
            assert_eq!(got, want, "frame {n} pixel ({i},{j}) roi {roi:?}");
        }
    }
}

fn set_enum(h: u64, name: &str, v: &str) {
    unsafe { ok(h, labcam_set_attr_string(h, cs(name).as_ptr(), cs(v).as_ptr())) }
}

fn grab(h: u64, n: usize) -> (Vec<u8>, Vec<FrameInfo>) {
    let fb = format(h).frame_bytes as usize;
    let mut buf = vec![0u8; n * fb];
    let mut infos = vec![FrameInfo::default(); n];
    let mut got = 0;
    ok(h, unsafe { labcam_grab(h, n as i64, buf.as_mut_ptr() as *mut _, buf.len() as u64, 5.0, infos.as_mut_ptr(), &mut got) });
    assert_eq!(got, n as i64);
    (buf, infos)
}

#[test]
fn open_close_cycles_and_device_info() {
    let _g = setup(&[]);
    let cams = string_out(|b, c, n| unsafe { labcam_list_cameras(cs("andor_sdk3").as_ptr(), b, c, n) }).unwrap();
    assert_eq!(cams, "andor_sdk3:0\n");
    for _ in 0..5 {
        let h = open(CAM);
        let _c = Guard(h);
        let info = string_out(|b, c, n| unsafe { labcam_get_device_info(h, b, c, n) }).unwrap();
        assert!(info.contains("model=ZYLA-5.5-USB3-EMU\n") && info.contains("serial=VSC-10000\n") && info.contains("sdk_version=3.15"), "{info}");
        let mut h2 = 0;
        assert_eq!(unsafe { labcam_open(cs(CAM).as_ptr(), &mut h2) }, LABCAM_ERR_BUSY, "a camera opens once");
        let (mut w, mut hh) = (0, 0);
        ok(h, unsafe { labcam_get_detector_size(h, &mut w, &mut hh) });
        assert_eq!((w, hh), (2560, 2160));
    }
    // atcore is loaded with RTLD_GLOBAL (andor_sdk3.md §1): the device libraries it loads
    // resolve its symbols from the global scope, as this lookup does.
    #[cfg(target_os = "linux")]
    assert!(!unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"AT_InitialiseLibrary".as_ptr()) }.is_null(), "atcore's symbols are not global");
    let mut h = 0;
    assert_eq!(unsafe { labcam_open(cs("andor_sdk3:3").as_ptr(), &mut h) }, LABCAM_ERR_NOT_FOUND);
    assert!(thread_error().contains("DeviceCount"), "{}", thread_error());
}

#[test]
fn roi_and_binning_grid_round_trips() {
    let _g = setup(&[("ATCORE_EMU_NO_PACING", "1")]);
    let h = open(CAM);
    let _c = Guard(h);
    let mut checked = 0;
    for hbin in [1, 2, 3, 4, 8] {
        for vbin in [1, 2, 4] {
            for (hs, he, vs, ve) in [(0, 2560, 0, 2160), (7, 130, 3, 64), (1001, 1536, 999, 1100), (2500, 2560, 2150, 2160)] {
                let mut r = Roi::default();
                let st = unsafe { labcam_set_roi(h, hs, he, vs, ve, hbin, vbin, &mut r) };
                ok(h, st);
                let want = Roi { hstart: hs, hend: hs + (he - hs) / hbin * hbin, vstart: vs, vend: vs + (ve - vs) / vbin * vbin, hbin, vbin };
                assert_eq!(r, want);
                let mut got = Roi::default();
                ok(h, unsafe { labcam_get_roi(h, &mut got) });
                assert_eq!(got, want);
                let f = format(h);
                assert_eq!((f.width, f.height), (want.width(), want.height()));
                // Pixel-check small frames (stride padding removed).
                if f.frame_bytes < 200_000 {
                    let (buf, infos) = grab(h, 2);
                    let fb = f.frame_bytes as usize;
                    for k in 0..2 {
                        check_frame(&buf[k * fb..(k + 1) * fb], 2, infos[k].framestamp, want, 65536);
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 20, "{checked}");
    // Binning the camera lacks.
    assert_eq!(unsafe { labcam_set_roi(h, 0, 64, 0, 64, 16, 1, null_mut()) }, LABCAM_ERR_INVALID_ARGUMENT);
    assert!(last_error(h).contains("AOIHBin 16"), "{}", last_error(h));
    // A refused ROI changes nothing, not even half way (SDK3 writes the AOI one feature at
    // a time): the previous AOI and a set-up ring with its unread frames stay.
    let roi = set_roi(h, 0, 64, 0, 32, 1, 1);
    ok(h, unsafe { labcam_setup_acquisition(h, 8) });
    ok(h, unsafe { labcam_start(h) });
    ok(h, unsafe { labcam_wait(h, 3, 5.0) });
    ok(h, unsafe { labcam_stop(h) });
    for (hs, he, vs, ve, hb, vb, why) in [(0, 4, 0, 4, 8, 8, "AOIWidth 0"), (100, 103, 0, 2160, 4, 1, "AOIWidth 0")] {
        assert_err(h, unsafe { labcam_set_roi(h, hs, he, vs, ve, hb, vb, null_mut()) }, LABCAM_ERR_INVALID_ARGUMENT, why);
        let mut got = Roi::default();
        ok(h, unsafe { labcam_get_roi(h, &mut got) });
        assert_eq!(got, roi, "after the refused ({hs}, {he}, {vs}, {ve}, {hb}x{vb})");
        assert_eq!(state(h), LABCAM_STATE_SET_UP);
        assert_eq!((format(h).width, format(h).height), (64, 32));
    }
    let s = status(h);
    let (px, infos) = read_bytes(h, s.unread as usize, 64 * 32 * 2, false);
    assert!(!infos.is_empty());
    for (k, i) in infos.iter().enumerate() {
        check_frame(&px[k * 4096..(k + 1) * 4096], 2, i.framestamp, roi, 65536);
    }
}

#[test]
fn every_pixel_encoding_is_pixel_exact() {
    let _g = setup(&[("ATCORE_EMU_NO_PACING", "1")]);
    let h = open(CAM);
    let _c = Guard(h);
    for (gain, enc, bpp, bits, modulus) in [
        ("12-bit (low noise)", "Mono12", 2, 12, 4096u64),
        ("12-bit (high well capacity)", "Mono12Packed", 2, 12, 4096),
        ("16-bit (low noise & high well capacity)", "Mono16", 2, 16, 65536),
        ("16-bit (low noise & high well capacity)", "Mono32", 4, 32, 1 << 32),
    ] {
        set_enum(h, "SimplePreAmpGainControl", gain);
        set_enum(h, "PixelEncoding", enc);
        for (hs, he) in [(5, 42), (0, 64), (100, 101)] {
            let roi = set_roi(h, hs, he, 10, 19, 1, 1);
            let f = format(h);
            assert_eq!((f.bytes_per_pixel, f.bits_per_pixel), (bpp as i64, bits), "{enc}");
            let (buf, infos) = grab(h, 3);
            let fb = f.frame_bytes as usize;
            for k in 0..3 {
                check_frame(&buf[k * fb..(k + 1) * fb], bpp, infos[k].framestamp, roi, modulus);
            }
        }
    }
    // Availability follows the gain mode and is reported per entry.
    set_enum(h, "SimplePreAmpGainControl", "16-bit (low noise & high well capacity)");
    let mut av = -1;
    ok(h, unsafe { labcam_attr_enum_available(h, cs("PixelEncoding").as_ptr(), 1, &mut av) });
    assert_eq!(av, 0, "Mono12Packed unavailable in 16-bit mode");
    assert_eq!(unsafe { labcam_set_attr_string(h, cs("PixelEncoding").as_ptr(), cs("Mono12Packed").as_ptr()) }, LABCAM_ERR_NOT_SUPPORTED);
}

#[test]
fn exposure_and_frame_period_interplay() {
    let _g = setup(&[]);
    let h = open(CAM);
    let _c = Guard(h);
    set_roi(h, 0, 2560, 0, 100, 1, 1); // readout 10 us + 100 rows * 10 us = 1.01 ms
    let mut e = 0.0;
    ok(h, unsafe { labcam_set_exposure(h, 0.004, &mut e) });
    assert_eq!(e, 0.004);
    let mut p = 0.0;
    ok(h, unsafe { labcam_set_frame_period(h, 0.0, &mut p) });
    assert!((p - 0.00501).abs() < 1e-9, "fastest period {p}");
    ok(h, unsafe { labcam_set_frame_period(h, 0.02, &mut p) });
    assert!((p - 0.02).abs() < 1e-9);
    // A longer exposure lowers the maximum frame rate; the period follows.
    ok(h, unsafe { labcam_set_exposure(h, 0.05, null_mut()) });
    let (mut ge, mut gp) = (0.0, 0.0);
    ok(h, unsafe { labcam_get_frame_timings(h, &mut ge, &mut gp) });
    assert!((gp - 0.05101).abs() < 1e-9, "{gp}");
    assert_eq!(unsafe { labcam_set_exposure(h, 100.0, null_mut()) }, LABCAM_ERR_INVALID_ARGUMENT);
    assert!(last_error(h).contains("[0.00001, 30]"), "{}", last_error(h));
    assert_eq!(unsafe { labcam_set_frame_period(h, 1000.0, null_mut()) }, LABCAM_ERR_INVALID_ARGUMENT);
    // Paced frames: 10 frames at 20 ms take about 200 ms.
    ok(h, unsafe { labcam_set_exposure(h, 0.001, null_mut()) });
    ok(h, unsafe { labcam_set_frame_period(h, 0.02, null_mut()) });
    set_roi(h, 0, 64, 0, 64, 1, 1);
    let t = std::time::Instant::now();
    grab(h, 10);
    assert!(t.elapsed() >= Duration::from_millis(180), "{:?}", t.elapsed());
}

#[test]
fn trigger_modes() {
    let _g = setup(&[]);
    let h = open(CAM);
    let _c = Guard(h);
    set_roi(h, 0, 64, 0, 64, 1, 1);
    for m in [LABCAM_TRIGGER_EXT, LABCAM_TRIGGER_EXT_START, LABCAM_TRIGGER_EXT_EXPOSURE, LABCAM_TRIGGER_SOFTWARE, LABCAM_TRIGGER_INT] {
        ok(h, unsafe { labcam_set_trigger_mode(h, m) });
        let mut got = -1;
        ok(h, unsafe { labcam_get_trigger_mode(h, &mut got) });
        assert_eq!(got, m);
    }
    // Software: exactly one frame per trigger.
    ok(h, unsafe { labcam_set_trigger_mode(h, LABCAM_TRIGGER_SOFTWARE) });
    ok(h, unsafe { labcam_setup_acquisition(h, 16) });
    ok(h, unsafe { labcam_start(h) });
    assert_eq!(unsafe { labcam_wait(h, 1, 0.3) }, LABCAM_ERR_TIMEOUT);
    for k in 1..=4 {
        ok(h, unsafe { labcam_send_software_trigger(h) });
        ok(h, unsafe { labcam_wait(h, k, 2.0) });
        thread::sleep(Duration::from_millis(50));
        assert_eq!(status(h).acquired, k);
    }
    ok(h, unsafe { labcam_stop(h) });
    // External without edges: nothing arrives.
    ok(h, unsafe { labcam_set_trigger_mode(h, LABCAM_TRIGGER_EXT) });
    ok(h, unsafe { labcam_start(h) });
    assert_eq!(unsafe { labcam_wait(h, 1, 0.3) }, LABCAM_ERR_TIMEOUT);
    ok(h, unsafe { labcam_stop(h) });
    // External edges at 200 Hz (emulated input).
    std::env::set_var("ATCORE_EMU_EXTERNAL_HZ", "200");
    ok(h, unsafe { labcam_start(h) });
    ok(h, unsafe { labcam_wait(h, 5, 2.0) });
    ok(h, unsafe { labcam_stop(h) });
    std::env::remove_var("ATCORE_EMU_EXTERNAL_HZ");
}

#[test]
fn metadata_framestamps_and_timestamps() {
    let _g = setup(&[]);
    let h = open(CAM);
    let _c = Guard(h);
    set_roi(h, 0, 128, 0, 32, 1, 1);
    ok(h, unsafe { labcam_set_exposure(h, 0.001, null_mut()) });
    let mut p = 0.0;
    ok(h, unsafe { labcam_set_frame_period(h, 0.005, &mut p) });
    let (_, infos) = grab(h, 20);
    for (k, i) in infos.iter().enumerate() {
        assert_eq!(i.framestamp, k as i64);
        assert_eq!(i.timestamp_hz, 1e8);
        if k > 0 {
            let dt = i.timestamp_ticks - infos[k - 1].timestamp_ticks;
            assert!((dt as f64 - p * 1e8).abs() <= 1.0, "nominal spacing {dt} ticks");
        }
    }
    let mut b = 0;
    ok(h, unsafe { labcam_get_attr_bool(h, cs("MetadataEnable").as_ptr(), &mut b) });
    assert_eq!(b, 1);
}

#[test]
fn slow_reader_accounting_is_exact() {
    let _g = setup(&[]);
    let h = open(CAM);
    let _c = Guard(h);
    let roi = set_roi(h, 0, 64, 0, 16, 1, 1);
    ok(h, unsafe { labcam_set_exposure(h, 0.0005, null_mut()) });
    ok(h, unsafe { labcam_set_frame_period(h, 0.001, null_mut()) });
    let fb = format(h).frame_bytes as usize;
    ok(h, unsafe { labcam_setup_acquisition(h, 8) });
    ok(h, unsafe { labcam_start(h) });
    let mut last = -1;
    for _ in 0..6 {
        thread::sleep(Duration::from_millis(25));
        let (px, infos) = read_bytes(h, 3, fb, false);
        for (k, i) in infos.iter().enumerate() {
            assert!(i.index > last);
            last = i.index;
            check_frame(&px[k * fb..(k + 1) * fb], 2, i.framestamp, roi, 65536);
        }
        let s = status(h);
        assert_eq!(s.acquired, s.read + s.unread + s.lost_overwritten, "{s:?}");
    }
    ok(h, unsafe { labcam_stop(h) });
    let s = status(h);
    assert!(s.lost_overwritten > 0, "{s:?}");
    assert_eq!(s.acquired, s.read + s.unread + s.lost_overwritten);
}

#[test]
fn injected_overflow_is_counted_in_lost_device() {
    // The wait after the overflow returns 100 HARDWARE_OVERFLOW; and, should the SDK report
    // the abort as 11 NODATA instead, the BufferOverflowEvent tells labcam what happened.
    for code in ["100", "11"] {
        let _g = setup(&[("ATCORE_EMU_OVERFLOW_AFTER", "20"), ("ATCORE_EMU_OVERFLOW_CODE", code)]);
        let h = open(CAM);
        let _c = Guard(h);
        set_roi(h, 0, 64, 0, 16, 1, 1);
        ok(h, unsafe { labcam_set_exposure(h, 0.001, null_mut()) });
        ok(h, unsafe { labcam_set_frame_period(h, 0.002, null_mut()) });
        let (_, infos) = grab(h, 50);
        let s = status(h);
        assert!(s.lost_device >= 2, "overflow reported as {code}: two overflows at least: {s:?}");
        let stamps: Vec<i64> = infos.iter().map(|i| i.framestamp).collect();
        let gaps: i64 = stamps.windows(2).map(|w| w[1] - w[0] - 1).sum();
        assert!(stamps.windows(2).all(|w| w[1] > w[0]), "{stamps:?}");
        assert_eq!(gaps, s.lost_device, "overflow reported as {code}: the framestamp gaps are the frames counted lost: {stamps:?}");
        assert_eq!(s.lost_overwritten, 0);
    }
}

/// The camera goes away (`fault` injected) after `frames` frames: the wait gives `code`
/// naming `why`, the acquisition faults, and the frames that arrived stay readable.
fn frames_kept_when_the_camera_goes(fault: (&str, &str), frames: usize, code: i32, why: &str) {
    let _g = setup(&[fault]);
    let h = open(CAM);
    let _c = Guard(h);
    let roi = set_roi(h, 0, 32, 0, 8, 1, 1);
    ok(h, unsafe { labcam_set_frame_period(h, 0.0, null_mut()) });
    ok(h, unsafe { labcam_setup_acquisition(h, 64) });
    ok(h, unsafe { labcam_start(h) });
    assert_err(h, unsafe { labcam_wait(h, 30, 10.0) }, code, why);
    assert_eq!(state(h), LABCAM_STATE_FAULT);
    assert_eq!(status(h).acquired, frames as i64);
    // stop ends the fault; the camera that is still there can start again.
    ok(h, unsafe { labcam_stop(h) });
    let gone = code == LABCAM_ERR_DISCONNECTED;
    assert_eq!(state(h), if gone { LABCAM_STATE_FAULT } else { LABCAM_STATE_SET_UP });
    let (px, infos) = read_bytes(h, frames, 512, false);
    assert_eq!(infos.len(), frames);
    for (k, i) in infos.iter().enumerate() {
        assert_eq!(i.framestamp, k as i64);
        check_frame(&px[k * 512..(k + 1) * 512], 2, i.framestamp, roi, 65536);
    }
    if !gone {
        ok(h, unsafe { labcam_start(h) });
        ok(h, unsafe { labcam_wait(h, 5, 5.0) });
        ok(h, unsafe { labcam_stop(h) });
    }
}

#[test]
fn a_call_that_finds_the_camera_gone_faults_it() {
    // Stopped, frames unread; then any call that finds the camera gone (AT_ERR_CONNECTION)
    // puts it in FAULT, as the acquisition thread does: later calls say so at once, the
    // frames stay readable.
    let _g = setup(&[]);
    let h = open(CAM);
    let _c = Guard(h);
    let roi = set_roi(h, 0, 32, 0, 8, 1, 1);
    ok(h, unsafe { labcam_setup_acquisition(h, 16) });
    ok(h, unsafe { labcam_start(h) });
    ok(h, unsafe { labcam_wait(h, 3, 5.0) });
    ok(h, unsafe { labcam_stop(h) });
    let before = status(h);
    std::env::set_var("ATCORE_EMU_ERROR", "AT_GetFloat:10");
    assert_err(h, unsafe { labcam_get_exposure(h, &mut 0.0) }, LABCAM_ERR_DISCONNECTED, "AT_ERR_CONNECTION");
    std::env::remove_var("ATCORE_EMU_ERROR");
    assert_eq!(state(h), LABCAM_STATE_FAULT);
    assert_err(h, unsafe { labcam_set_exposure(h, 0.01, null_mut()) }, LABCAM_ERR_DISCONNECTED, "AT_ERR_CONNECTION");
    assert_eq!(status(h), before);
    let (px, infos) = read_bytes(h, 16, 512, false);
    assert_eq!(infos.len() as i64, before.unread);
    for (k, i) in infos.iter().enumerate() {
        check_frame(&px[k * 512..(k + 1) * 512], 2, i.framestamp, roi, 65536);
    }
}

#[test]
fn injected_disconnect_keeps_frames() {
    frames_kept_when_the_camera_goes(("ATCORE_EMU_DISCONNECT_AFTER", "15"), 15, LABCAM_ERR_DISCONNECTED, "AT_ERR_CONNECTION");
}

#[test]
fn a_camera_that_stops_by_itself_faults_and_keeps_frames() {
    // AT_WaitBuffer returns 11 at once when the camera is not acquiring: labcam must not
    // wait on it forever (nor spin), but fault and keep what arrived.
    frames_kept_when_the_camera_goes(("ATCORE_EMU_STOP_AFTER", "12"), 12, LABCAM_ERR_VENDOR, "stopped acquiring by itself");
}

#[test]
fn vendor_errors_name_function_code_and_name() {
    let _g = setup(&[]);
    let h = open(CAM);
    let _c = Guard(h);
    std::env::set_var("ATCORE_EMU_ERROR", "AT_GetFloat:37");
    let mut e = 0.0;
    assert_eq!(unsafe { labcam_get_exposure(h, &mut e) }, LABCAM_ERR_VENDOR);
    std::env::remove_var("ATCORE_EMU_ERROR");
    let m = last_error(h);
    assert!(m.contains("AT_GetFloat(\"ExposureTime\") returned 37 (AT_ERR_NOMEMORY)"), "{m}");
    // Attribute walk: every implemented feature, typed, with access and limits.
    let mut n = 0;
    ok(h, unsafe { labcam_attr_count(h, &mut n) });
    assert!(n >= 40, "{n}");
    for i in 0..n {
        let name = string_out(|b, c, nn| unsafe { labcam_attr_name(h, i, b, c, nn) }).unwrap();
        let mut info = AttrInfo::default();
        ok(h, unsafe { labcam_attr_info(h, cs(&name).as_ptr(), &mut info) });
    }
    let mut w = 0;
    ok(h, unsafe { labcam_get_attr_int(h, cs("AOIStride").as_ptr(), &mut w) });
    assert_eq!(unsafe { labcam_set_attr_int(h, cs("AOIStride").as_ptr(), 8) }, LABCAM_ERR_NOT_SUPPORTED);
}

#[test]
fn missing_library_lists_every_path() {
    let _g = setup(&[]);
    // A fresh process: this one has the emulator loaded already.
    let cli = target_dir().join("labcam");
    assert!(cli.exists(), "{} missing: cargo build --workspace", cli.display());
    let out = std::process::Command::new(cli).args(["list", "andor_sdk3"]).env("LABCAM_ANDOR_SDK3_LIB", "/nonexistent/libatcore.so").env_remove("LD_LIBRARY_PATH").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for p in ["LIBRARY_LOAD", "/nonexistent/libatcore.so", "/usr/local/lib/libatcore.so.3", "/opt/andor/sdk3/lib/libatcore.so", "libatcore.so.3 (system search)", "LABCAM_ANDOR_SDK3_LIB"] {
        assert!(err.contains(p), "{err} lacks {p}");
    }
}

#[test]
fn in_place_frames_are_written_into_the_ring() {
    // Mono16 with a width of 64 has no row padding: the SDK writes straight into ring slots,
    // each followed by its metadata trailer.
    let _g = setup(&[]);
    let h = open(CAM);
    let _c = Guard(h);
    let roi = set_roi(h, 0, 64, 0, 16, 1, 1);
    ok(h, unsafe { labcam_set_exposure(h, 0.0005, null_mut()) });
    ok(h, unsafe { labcam_set_frame_period(h, 0.001, null_mut()) });
    let fb = format(h).frame_bytes;
    ok(h, unsafe { labcam_setup_acquisition(h, 16) });
    ok(h, unsafe { labcam_start(h) });
    ok(h, unsafe { labcam_wait(h, 6, 5.0) });
    let mut c = Chunk::default();
    ok(h, unsafe { labcam_lock_chunk(h, 4, &mut c) });
    let mut isz = 0;
    ok(h, unsafe { labcam_get_attr_int(h, cs("ImageSizeBytes").as_ptr(), &mut isz) });
    assert_eq!(c.slot_bytes, (isz + 63) / 64 * 64, "slots hold frame and trailer, on cache-line boundaries");
    assert_eq!(c.data % 64, 0);
    assert!(c.slot_bytes > fb && c.frame_bytes == fb);
    let k_n = c.n_frames as usize;
    assert!(k_n >= 1);
    let first = c.first_index;
    // Let the ring fill up; with the pinned frames in the way the camera has nowhere to put
    // frames, and its 64-frame memory overflows.
    thread::sleep(Duration::from_millis(250));
    let infos = unsafe { std::slice::from_raw_parts(c.infos as *const FrameInfo, k_n) };
    for (k, info) in infos.iter().enumerate() {
        let frame = unsafe { std::slice::from_raw_parts((c.data as *const u8).add(k * c.slot_bytes as usize), fb as usize) };
        assert_eq!(info.index, first + k as i64, "pinned frames are never overwritten");
        check_frame(frame, 2, info.framestamp, roi, 65536);
    }
    ok(h, unsafe { labcam_unlock_chunk(h, c.chunk_id) });
    ok(h, unsafe { labcam_stop(h) });
    let s = status(h);
    assert!(s.lost_device > 0, "a full, pinned ring loses frames at the camera: {s:?}");
    assert_eq!(s.acquired, s.read + s.unread + s.lost_overwritten);
    // read_chunk strips the trailers: frames arrive back to back.
    let (px, rinfos) = read_u16(h, 16, fb as usize, false);
    assert_eq!(rinfos.len() as i64, s.unread);
    for (k, i) in rinfos.iter().enumerate() {
        let bytes: Vec<u8> = px[k * fb as usize / 2..(k + 1) * fb as usize / 2].iter().flat_map(|v| v.to_ne_bytes()).collect();
        // The emulator counts frames from each AcquisitionStart; after the overflow restart
        // its count no longer matches the framestamp, so take n from pixel (0,0) = 11n and
        // check the whole frame against it (no tearing, no stale slot).
        let n = if i.framestamp < 16 { i.framestamp } else { (0..65536i64).find(|n| (11 * n) % 65536 == px[k * fb as usize / 2] as i64).unwrap() };
        check_frame(&bytes, 2, n, roi, 65536);
    }
}

#[test]
fn framestamps_follow_a_fractional_and_a_changing_frame_period() {
    let _g = setup(&[("ATCORE_EMU_NO_PACING", "1")]);
    let h = open(CAM);
    let _c = Guard(h);
    set_roi(h, 0, 64, 0, 4, 1, 1);
    ok(h, unsafe { labcam_set_exposure(h, 1e-5, null_mut()) });
    // 6000.9 clock ticks per frame at 100 MHz; the camera counts 6000 per frame. Numbering
    // frames by the time since the first would drift by a frame every 3,300; numbering by
    // consecutive timestamps does not.
    let mut p = 0.0;
    ok(h, unsafe { labcam_set_frame_period(h, 6000.9e-8, &mut p) });
    assert!((p - 6000.9e-8).abs() < 1e-12, "{p}");
    let n = 5000;
    let (_, infos) = grab(h, n);
    for (k, i) in infos.iter().enumerate() {
        assert_eq!((i.index, i.framestamp), (k as i64, k as i64), "frame {k}");
    }
    assert_eq!(status(h).lost_device, 0);

    // Paced, the period changed twice while acquiring: 5 ms, 20 ms, 5 ms.
    std::env::remove_var("ATCORE_EMU_NO_PACING");
    ok(h, unsafe { labcam_set_frame_period(h, 0.005, null_mut()) });
    ok(h, unsafe { labcam_setup_acquisition(h, 64) });
    ok(h, unsafe { labcam_start(h) });
    ok(h, unsafe { labcam_wait(h, 5, 5.0) });
    ok(h, unsafe { labcam_set_frame_period(h, 0.02, null_mut()) });
    ok(h, unsafe { labcam_wait(h, 12, 5.0) });
    ok(h, unsafe { labcam_set_frame_period(h, 0.005, null_mut()) });
    ok(h, unsafe { labcam_wait(h, 20, 5.0) });
    ok(h, unsafe { labcam_stop(h) });
    let s = status(h);
    let fb = format(h).frame_bytes as usize;
    let (_, infos) = read_u16(h, s.unread as usize, fb, false);
    for (k, i) in infos.iter().enumerate() {
        assert_eq!(i.framestamp, k as i64, "consecutive framestamps across the period changes: {:?}", infos.iter().map(|i| i.framestamp).collect::<Vec<_>>());
    }
    assert_eq!(status(h).lost_device, 0);
    let gaps: Vec<f64> = infos.windows(2).map(|w| (w[1].timestamp_ticks - w[0].timestamp_ticks) as f64 / w[0].timestamp_hz).collect();
    assert!(gaps.iter().any(|g| (g - 0.02).abs() < 1e-4) && gaps.iter().any(|g| (g - 0.005).abs() < 1e-4), "frame intervals {gaps:?}");
}

#[test]
fn settings_while_acquiring() {
    let _g = setup(&[]);
    let h = open(CAM);
    let _c = Guard(h);
    let roi = set_roi(h, 0, 64, 0, 32, 1, 1);
    ok(h, unsafe { labcam_set_frame_period(h, 0.005, null_mut()) });
    // A failure to start is labcam_start's own error, not a fault found later.
    std::env::set_var("ATCORE_EMU_ERROR", "AT_Command:2");
    assert_err(h, unsafe { labcam_start(h) }, LABCAM_ERR_VENDOR, "AT_Command(\"AcquisitionStart\") returned 2 (AT_ERR_NOTIMPLEMENTED)");
    assert_eq!(state(h), LABCAM_STATE_SET_UP);
    std::env::remove_var("ATCORE_EMU_ERROR");
    // When labcam_start returns the camera is acquiring: the settings the SDK locks are
    // refused at once (no wait for the acquisition thread), with WRONG_STATE.
    ok(h, unsafe { labcam_start(h) });
    assert_err(h, unsafe { labcam_set_trigger_mode(h, LABCAM_TRIGGER_SOFTWARE) }, LABCAM_ERR_WRONG_STATE, "trigger mode while acquiring");
    assert_err(h, unsafe { labcam_set_attr_int(h, cs("AOIWidth").as_ptr(), 128) }, LABCAM_ERR_WRONG_STATE, "'AOIWidth' cannot change while acquiring");
    assert_err(h, unsafe { labcam_set_attr_string(h, cs("PixelEncoding").as_ptr(), cs("Mono32").as_ptr()) }, LABCAM_ERR_WRONG_STATE, "stop first");
    assert_err(h, unsafe { labcam_set_attr_float(h, cs("SensorTemperature").as_ptr(), 1.0) }, LABCAM_ERR_NOT_SUPPORTED, "read-only (AT_IsReadOnly)");
    // Starting and stopping the camera is labcam's: behind its back, AcquisitionStop faulted
    // the acquisition, AcquisitionStart left the camera running after labcam_stop.
    assert_err(h, unsafe { labcam_attr_command(h, cs("AcquisitionStop").as_ptr()) }, LABCAM_ERR_NOT_SUPPORTED, "run by labcam itself");
    // The exposure may change while acquiring (ExposureTime stays writable in SDK3).
    let mut e = 0.0;
    ok(h, unsafe { labcam_set_exposure(h, 0.002, &mut e) });
    assert!((e - 0.002).abs() < 1e-9, "{e}");
    ok(h, unsafe { labcam_wait(h, 5, 5.0) });
    let fb = format(h).frame_bytes as usize;
    let (buf, infos) = read_bytes(h, 5, fb, false);
    assert_eq!(infos.len(), 5);
    for (k, i) in infos.iter().enumerate() {
        assert_eq!(i.index, k as i64);
        check_frame(&buf[k * fb..(k + 1) * fb], 2, i.framestamp, roi, 1 << 12);
    }
    assert_eq!(state(h), LABCAM_STATE_RUNNING);
    ok(h, unsafe { labcam_stop(h) });
    assert_err(h, unsafe { labcam_attr_command(h, cs("AcquisitionStart").as_ptr()) }, LABCAM_ERR_NOT_SUPPORTED, "use labcam_start");
    // A sequence that has all its frames leaves the camera idle, but its settings stay
    // locked until labcam_stop: the frames in the ring were taken with them.
    ok(h, unsafe { labcam_start_sequence(h, 3) });
    ok(h, unsafe { labcam_wait(h, 3, 5.0) });
    thread::sleep(Duration::from_millis(50));
    assert_err(h, unsafe { labcam_set_attr_int(h, cs("AOIWidth").as_ptr(), 16) }, LABCAM_ERR_WRONG_STATE, "sequence of 3 frames has ended");
    assert_err(h, unsafe { labcam_set_attr_string(h, cs("PixelEncoding").as_ptr(), cs("Mono32").as_ptr()) }, LABCAM_ERR_WRONG_STATE, "has ended");
    assert_eq!(format(h).frame_bytes as usize, fb);
    ok(h, unsafe { labcam_stop(h) });
    ok(h, unsafe { labcam_set_trigger_mode(h, LABCAM_TRIGGER_SOFTWARE) });
    set_int(h, "AOIWidth", 128);
}
