//! The pvcam backend against the PVCAM emulator (`emulators/pvcam`, built as
//! target/<profile>/libpvcam.so by `cargo build --workspace`), through the C ABI. Fault
//! injection uses the emulator's environment variables, so the tests take turns.

mod common;
use common::*;
use parking_lot::Mutex;
use std::path::PathBuf;
use std::ptr::null_mut;
use std::thread;
use std::time::Duration;

static SERIAL: Mutex<()> = Mutex::new(());
const CAM: &str = "pvcam:PMPrime95B-Emu0";
const FAULT_VARS: [&str; 9] = ["PVCAM_EMU_DISCONNECT_AFTER", "PVCAM_EMU_DROP_EVERY", "PVCAM_EMU_BURST", "PVCAM_EMU_ERROR", "PVCAM_EMU_NO_PACING", "PVCAM_EMU_MAX_BUFFER", "PVCAM_EMU_CLASSIC_MODES", "PVCAM_EMU_CAMERAS", "PVCAM_EMU_EXTENDED_MD"];

fn target_dir() -> PathBuf {
    std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().to_path_buf()
}

fn setup(faults: &[(&str, &str)]) -> parking_lot::MutexGuard<'static, ()> {
    let g = SERIAL.lock();
    for v in FAULT_VARS {
        std::env::remove_var(v);
    }
    for (k, v) in faults {
        std::env::set_var(k, v);
    }
    let p = target_dir().join(if cfg!(windows) { "pvcam64.dll" } else { "libpvcam.so" });
    assert!(p.exists(), "{} missing: build it with `cargo build -p pvcam-emulator`", p.display());
    ok(0, unsafe { labcam_set_backend_library(cs("pvcam").as_ptr(), cs(p.to_str().unwrap()).as_ptr()) });
    g
}

/// Open the camera with the ROI `(hstart, hend, vstart, vend)` unbinned, the exposure in
/// seconds, a ring of `ring` frames, and start; the guard closes it.
fn started(roi: (i64, i64, i64, i64), exposure: f64, ring: i64) -> (Guard, Roi) {
    let h = open(CAM);
    let c = Guard(h);
    let roi = set_roi(h, roi.0, roi.1, roi.2, roi.3, 1, 1);
    ok(h, unsafe { labcam_set_exposure(h, exposure, null_mut()) });
    ok(h, unsafe { labcam_setup_acquisition(h, ring) });
    ok(h, unsafe { labcam_start(h) });
    (c, roi)
}

/// The emulator's pixel (README): (x + 7y + 13·FrameNr) mod 65536.
fn emu_pixel(nr: i64, x: i64, y: i64) -> u16 {
    ((x + 7 * y + 13 * nr) & 0xFFFF) as u16
}

/// Check each frame of `px` (frames back to back, as read) against its framestamp.
fn check_frames(px: &[u16], infos: &[FrameInfo], roi: Roi) {
    let n = (roi.width() * roi.height()) as usize;
    for (k, i) in infos.iter().enumerate() {
        check(&px[k * n..(k + 1) * n], i.framestamp, roi);
    }
}

fn check(frame: &[u16], nr: i64, roi: Roi) {
    let (w, h) = (roi.width(), roi.height());
    assert_eq!(frame.len() as i64, w * h);
    for j in 0..h {
        for i in 0..w {
            assert_eq!(frame[(j * w + i) as usize], emu_pixel(nr, roi.hstart + i * roi.hbin, roi.vstart + j * roi.vbin), "frame {nr} pixel ({i},{j}) roi {roi:?}");
        }
    }
}

fn grab(h: u64, n: usize) -> (Vec<u16>, Vec<FrameInfo>) {
    let fb = format(h).frame_bytes as usize;
    let mut buf = vec![0u16; n * fb / 2];
    let mut infos = vec![FrameInfo::default(); n];
    let mut got = 0;
    ok(h, unsafe { labcam_grab(h, n as i64, buf.as_mut_ptr() as *mut _, (buf.len() * 2) as u64, 5.0, infos.as_mut_ptr(), &mut got) });
    assert_eq!(got, n as i64);
    (buf, infos)
}

#[test]
fn list_open_and_device_info() {
    let _g = setup(&[]);
    let cams = string_out(|b, c, n| unsafe { labcam_list_cameras(cs("pvcam").as_ptr(), b, c, n) }).unwrap();
    assert_eq!(cams, "pvcam:PMPrime95B-Emu0\n");
    for _ in 0..3 {
        let h = open(CAM);
        let _c = Guard(h);
        let info = string_out(|b, c, n| unsafe { labcam_get_device_info(h, b, c, n) }).unwrap();
        assert!(info.contains("model=Prime 95B (emulated)\n") && info.contains("serial=A19E001000\n") && info.contains("sdk_version=PVCAM 3.9.1"), "{info}");
        let (mut w, mut hh) = (0, 0);
        ok(h, unsafe { labcam_get_detector_size(h, &mut w, &mut hh) });
        assert_eq!((w, hh), (1200, 1200));
    }
    let mut h = 0;
    assert_eq!(unsafe { labcam_open(cs("pvcam:NoSuchCam").as_ptr(), &mut h) }, LABCAM_ERR_NOT_FOUND);
    assert!(thread_error().contains("PMPrime95B-Emu0"), "{}", thread_error());
    // A camera plugged in later shows up (PVCAM builds its list at pl_pvcam_init, which
    // labcam runs again while no camera is open), and opens.
    std::env::set_var("PVCAM_EMU_CAMERAS", "2");
    let cams = string_out(|b, c, n| unsafe { labcam_list_cameras(cs("pvcam").as_ptr(), b, c, n) }).unwrap();
    assert_eq!(cams, "pvcam:PMPrime95B-Emu0\npvcam:PMPrime95B-Emu1\n");
    let h1 = open("pvcam:PMPrime95B-Emu1");
    // Not while a camera is open: the list stays as it was.
    std::env::set_var("PVCAM_EMU_CAMERAS", "3");
    let cams = string_out(|b, c, n| unsafe { labcam_list_cameras(cs("pvcam").as_ptr(), b, c, n) }).unwrap();
    assert_eq!(cams.lines().count(), 2, "{cams}");
    close(h1);
    std::env::remove_var("PVCAM_EMU_CAMERAS");
}

#[test]
fn roi_and_binning_grid_pixel_exact() {
    let _g = setup(&[("PVCAM_EMU_NO_PACING", "1")]);
    let h = open(CAM);
    let _c = Guard(h);
    for bin in [1, 2, 4] {
        for (hs, he, vs, ve) in [(0, 64, 0, 32), (7, 138, 3, 60), (1100, 1200, 1180, 1200), (500, 517, 600, 611)] {
            let r = set_roi(h, hs, he, vs, ve, bin, bin);
            let want = Roi { hstart: hs, hend: hs + (he - hs) / bin * bin, vstart: vs, vend: vs + (ve - vs) / bin * bin, hbin: bin, vbin: bin };
            assert_eq!(r, want);
            let (px, infos) = grab(h, 3);
            let n = (want.width() * want.height()) as usize;
            for k in 0..3 {
                check(&px[k * n..(k + 1) * n], infos[k].framestamp, want);
            }
        }
    }
    assert_eq!(unsafe { labcam_set_roi(h, 0, 64, 0, 64, 2, 1, null_mut()) }, LABCAM_ERR_INVALID_ARGUMENT);
    assert!(last_error(h).contains("1x1, 2x2, 4x4"), "{}", last_error(h));
    assert_eq!(unsafe { labcam_set_roi(h, 0, 64, 0, 64, 3, 3, null_mut()) }, LABCAM_ERR_INVALID_ARGUMENT);
}

#[test]
fn exposure_period_triggers_and_metadata() {
    let _g = setup(&[]);
    let h = open(CAM);
    let _c = Guard(h);
    set_roi(h, 0, 64, 0, 20, 1, 1);
    let mut e = 0.0;
    ok(h, unsafe { labcam_set_exposure(h, 0.002, &mut e) });
    assert!((e - 0.002).abs() < 1e-12);
    assert_eq!(unsafe { labcam_set_exposure(h, 100.0, null_mut()) }, LABCAM_ERR_INVALID_ARGUMENT);
    assert_eq!(unsafe { labcam_set_frame_period(h, 0.05, null_mut()) }, LABCAM_ERR_NOT_SUPPORTED);
    ok(h, unsafe { labcam_set_frame_period(h, 0.0, null_mut()) });
    // Metadata: framestamps 1, 2, 3 ... and end-of-frame times one period apart.
    let (_, infos) = grab(h, 10);
    let (mut ge, mut gp) = (0.0, 0.0);
    ok(h, unsafe { labcam_get_frame_timings(h, &mut ge, &mut gp) });
    assert!((gp - (0.002 + 20e-6 + 20.0 * 10e-6)).abs() < 1e-9, "period = exposure + readout: {gp}");
    for (k, i) in infos.iter().enumerate() {
        assert_eq!(i.framestamp, k as i64 + 1);
        assert_eq!(i.timestamp_hz, 1e9);
        if k > 0 {
            let dt = i.timestamp_ticks - infos[k - 1].timestamp_ticks;
            assert!((dt as f64 - gp * 1e9).abs() < 2000.0, "{dt} ns");
        }
    }
    // Triggers: the modes the camera lists map; software gives one frame per trigger.
    for m in [LABCAM_TRIGGER_EXT, LABCAM_TRIGGER_EXT_START, LABCAM_TRIGGER_SOFTWARE, LABCAM_TRIGGER_INT] {
        ok(h, unsafe { labcam_set_trigger_mode(h, m) });
        let mut got = -1;
        ok(h, unsafe { labcam_get_trigger_mode(h, &mut got) });
        assert_eq!(got, m);
    }
    assert_eq!(unsafe { labcam_set_trigger_mode(h, LABCAM_TRIGGER_EXT_EXPOSURE) }, LABCAM_ERR_NOT_SUPPORTED);
    ok(h, unsafe { labcam_set_trigger_mode(h, LABCAM_TRIGGER_SOFTWARE) });
    ok(h, unsafe { labcam_setup_acquisition(h, 16) });
    ok(h, unsafe { labcam_start(h) });
    assert_eq!(unsafe { labcam_wait(h, 1, 0.3) }, LABCAM_ERR_TIMEOUT);
    for k in 1..=4 {
        ok(h, unsafe { labcam_send_software_trigger(h) });
        ok(h, unsafe { labcam_wait(h, k, 2.0) });
        thread::sleep(Duration::from_millis(30));
        assert_eq!(status(h).acquired, k);
    }
    ok(h, unsafe { labcam_stop(h) });
    // A trigger during the exposure the previous one started is ignored by PVCAM
    // (pl_exp_trigger's IGNORED): BUSY, and no extra frame.
    ok(h, unsafe { labcam_set_exposure(h, 0.2, null_mut()) });
    ok(h, unsafe { labcam_start(h) });
    ok(h, unsafe { labcam_send_software_trigger(h) });
    assert_err(h, unsafe { labcam_send_software_trigger(h) }, LABCAM_ERR_BUSY, "trigger ignored");
    ok(h, unsafe { labcam_wait(h, 1, 5.0) });
    thread::sleep(Duration::from_millis(300));
    assert_eq!(status(h).acquired, 1, "one frame for the trigger taken");
    ok(h, unsafe { labcam_stop(h) });
    for m in [LABCAM_TRIGGER_EXT, LABCAM_TRIGGER_EXT_START] {
        ok(h, unsafe { labcam_set_trigger_mode(h, m) });
        ok(h, unsafe { labcam_start(h) });
        assert_eq!(unsafe { labcam_wait(h, 1, 0.3) }, LABCAM_ERR_TIMEOUT, "no edges in the emulator (mode {m})");
        ok(h, unsafe { labcam_stop(h) });
    }
}

#[test]
fn attributes_by_pvcam_name() {
    let _g = setup(&[]);
    let h = open(CAM);
    let _c = Guard(h);
    let mut n = 0;
    ok(h, unsafe { labcam_attr_count(h, &mut n) });
    assert!(n >= 30);
    for i in 0..n {
        let name = string_out(|b, c, nn| unsafe { labcam_attr_name(h, i, b, c, nn) }).unwrap();
        let cname = cs(&name);
        let mut info = AttrInfo::default();
        ok(h, unsafe { labcam_attr_info(h, cname.as_ptr(), &mut info) });
        if info.readable == 0 {
            continue;
        }
        match info.kind as i32 {
            LABCAM_ATTR_INT => ok(h, unsafe { labcam_get_attr_int(h, cname.as_ptr(), &mut 0) }),
            LABCAM_ATTR_BOOL => ok(h, unsafe { labcam_get_attr_bool(h, cname.as_ptr(), &mut 0) }),
            _ => {
                string_out(|b, c, nn| unsafe { labcam_get_attr_string(h, cname.as_ptr(), b, c, nn) }).unwrap();
            }
        }
    }
    set_int(h, "GAIN_INDEX", 2);
    let mut g = 0;
    ok(h, unsafe { labcam_get_attr_int(h, cs("GAIN_INDEX").as_ptr(), &mut g) });
    assert_eq!(g, 2);
    assert_eq!(string_out(|b, c, nn| unsafe { labcam_get_attr_string(h, cs("GAIN_NAME").as_ptr(), b, c, nn) }).unwrap(), "Balanced");
    assert_eq!(unsafe { labcam_set_attr_int(h, cs("GAIN_INDEX").as_ptr(), 9) }, LABCAM_ERR_INVALID_ARGUMENT);
    // A coarser exposure resolution re-rounds the exposure (10 ms is no exposure at all in
    // seconds): it becomes the least the camera takes, and setup succeeds.
    ok(h, unsafe { labcam_set_exposure(h, 0.01, null_mut()) });
    ok(h, unsafe { labcam_set_attr_string(h, cs("EXP_RES").as_ptr(), cs("One Second").as_ptr()) });
    let mut e = 0.0;
    ok(h, unsafe { labcam_get_exposure(h, &mut e) });
    assert_eq!(e, 1.0);
    ok(h, unsafe { labcam_setup_acquisition(h, 4) });
    ok(h, unsafe { labcam_clear_acquisition(h) });
    ok(h, unsafe { labcam_set_attr_string(h, cs("EXP_RES").as_ptr(), cs("One Microsecond").as_ptr()) });
    ok(h, unsafe { labcam_get_exposure(h, &mut e) });
    assert_eq!(e, 1.0);
    // PVCAM's ATTR_INCREMENT is a limit too: the setpoint moves in steps of 100 (1 °C).
    assert_err(h, unsafe { labcam_set_attr_int(h, cs("TEMP_SETPOINT").as_ptr(), -750) }, LABCAM_ERR_INVALID_ARGUMENT, "step 100 from -2500");
    set_int(h, "TEMP_SETPOINT", -700);
    ok(h, unsafe { labcam_get_attr_int(h, cs("TEMP_SETPOINT").as_ptr(), &mut g) });
    assert_eq!(g, -700);
    ok(h, unsafe { labcam_set_attr_string(h, cs("FAN_SPEED_SETPOINT").as_ptr(), cs("Low").as_ptr()) });
    assert_eq!(string_out(|b, c, nn| unsafe { labcam_get_attr_string(h, cs("FAN_SPEED_SETPOINT").as_ptr(), b, c, nn) }).unwrap(), "Low");
    assert_eq!(unsafe { labcam_set_attr_int(h, cs("SER_SIZE").as_ptr(), 5) }, LABCAM_ERR_NOT_SUPPORTED);
    // A vendor failure names the function and PVCAM's code and message.
    std::env::set_var("PVCAM_EMU_ERROR", "pl_set_param:77");
    assert_eq!(unsafe { labcam_set_attr_int(h, cs("CLEAR_CYCLES").as_ptr(), 3) }, LABCAM_ERR_VENDOR);
    std::env::remove_var("PVCAM_EMU_ERROR");
    assert!(last_error(h).contains("pl_set_param failed: pl_error_code 77"), "{}", last_error(h));
}

#[test]
fn slow_reader_accounting_is_exact() {
    let _g = setup(&[]);
    let (cam, roi) = started((0, 32, 0, 8), 0.0005, 8);
    let h = cam.0;
    let mut last = -1;
    for _ in 0..5 {
        thread::sleep(Duration::from_millis(20));
        let (px, infos) = read_u16(h, 3, 512, false);
        for i in &infos {
            assert!(i.index > last);
            last = i.index;
        }
        check_frames(&px, &infos, roi);
        let s = status(h);
        assert_eq!(s.acquired, s.read + s.unread + s.lost_overwritten, "{s:?}");
    }
    ok(h, unsafe { labcam_stop(h) });
    let s = status(h);
    assert!(s.lost_overwritten > 0, "{s:?}");
}

#[test]
fn dropped_frames_and_overruns_count_in_lost_device() {
    // The camera skips every 5th frame number.
    let g = setup(&[("PVCAM_EMU_DROP_EVERY", "5")]);
    let h = open(CAM);
    let c = Guard(h);
    let roi = set_roi(h, 0, 32, 0, 8, 1, 1);
    ok(h, unsafe { labcam_set_exposure(h, 0.0005, null_mut()) });
    let (px, infos) = grab(h, 20);
    let stamps: Vec<i64> = infos.iter().map(|i| i.framestamp).collect();
    assert!(stamps.iter().all(|n| n % 5 != 0), "{stamps:?}");
    check_frames(&px, &infos, roi);
    let s = status(h);
    assert_eq!(s.lost_device, stamps[19] - 20 - (stamps[0] - 1), "{s:?} {stamps:?}");
    // Without metadata the frames carry no number: the skipped ones are still counted, from
    // FRAME_INFO.FrameNr against the frames written.
    set_bool(h, "METADATA_ENABLED", false);
    let (_, infos) = grab(h, 20);
    let stamps: Vec<i64> = infos.iter().map(|i| i.framestamp).collect();
    let s = status(h);
    assert!(s.lost_device >= 3, "20 frames skipping every 5th: {s:?} {stamps:?}");
    assert!(stamps.windows(2).all(|w| w[1] > w[0]), "{stamps:?}");
    assert_eq!(s.lost_device, stamps[19] - stamps[0] + 1 - 20, "the framestamp gaps are the frames counted lost: {s:?} {stamps:?}");
    drop(c);
    drop(g);
    // A burst of 2000 frames at once into PVCAM's ring (8 frames: at most the labcam ring):
    // frames PVCAM overwrote before they were copied count as lost at the device. (Without
    // the end-of-frame callback, which the library refuses here, the stream polls every
    // 200 µs and falls behind the burst; with it, it would keep up.)
    let _g = setup(&[("PVCAM_EMU_BURST", "2000"), ("PVCAM_EMU_ERROR", "pl_cam_register_callback_ex3:12")]);
    let h = open(CAM);
    let _c = Guard(h);
    set_roi(h, 0, 64, 0, 16, 1, 1);
    ok(h, unsafe { labcam_setup_acquisition(h, 8) });
    ok(h, unsafe { labcam_start(h) });
    thread::sleep(Duration::from_millis(300));
    ok(h, unsafe { labcam_stop(h) });
    let s = status(h);
    assert!(s.lost_device > 0, "{s:?}");
    assert_eq!(s.acquired, s.read + s.unread + s.lost_overwritten);
    // What is left in the ring is whole: pixels match each frame's number.
    let roi = Roi { hstart: 0, hend: 64, vstart: 0, vend: 16, hbin: 1, vbin: 1 };
    let (px, infos) = read_u16(h, 8, 2048, false);
    assert_eq!(infos.len() as i64, s.unread);
    check_frames(&px, &infos, roi);
}

#[test]
fn camera_racing_round_the_ring_in_place_keeps_what_is_left_whole() {
    // 3000 frames at once into a 256-frame in-place ring: PVCAM writes over unread frames
    // and goes round the ring faster than they are reported.
    let _g = setup(&[("PVCAM_EMU_BURST", "3000")]);
    let (cam, roi) = started((0, 64, 0, 16), 0.001, 256);
    let h = cam.0;
    ok(h, unsafe { labcam_wait(h, 1, 5.0) });
    let mut c = Chunk::default();
    ok(h, unsafe { labcam_lock_chunk(h, 1, &mut c) });
    assert_eq!(c.slot_bytes, c.frame_bytes + 80, "in place");
    ok(h, unsafe { labcam_unlock_chunk(h, c.chunk_id) });
    // A reader keeps taking frames meanwhile, more slowly than the camera writes them: it
    // frees slots the camera then races into, and copies frames the camera is overwriting.
    let t = std::time::Instant::now();
    let mut last = -1;
    let mut reads = 0;
    while t.elapsed() < Duration::from_millis(300) {
        thread::sleep(Duration::from_millis(1));
        let (px, infos) = read_u16(h, 16, 2048, false);
        for i in &infos {
            assert!(i.framestamp > last, "{} after {last}: {:?}", i.framestamp, infos.iter().map(|i| (i.index, i.framestamp)).collect::<Vec<_>>());
            last = i.framestamp;
        }
        check_frames(&px, &infos, roi);
        reads += infos.len();
    }
    ok(h, unsafe { labcam_stop(h) });
    let s = status(h);
    assert!(s.lost_device + s.lost_overwritten > 0, "{s:?}");
    assert_eq!(s.acquired, s.read + s.unread + s.lost_overwritten, "{s:?}");
    assert_eq!(s.read, reads as i64 + 1);
    let (px, infos) = read_u16(h, 256, 2048, false);
    assert_eq!(infos.len() as i64, s.unread);
    for i in &infos {
        assert!(i.framestamp > last);
        last = i.framestamp;
    }
    check_frames(&px, &infos, roi);
}

/// The pixels of a locked chunk's frames, `slot_bytes` apart, as u16.
unsafe fn chunk_frame(c: &Chunk, k: usize) -> &[u16] {
    std::slice::from_raw_parts((c.data as *const u8).add(k * c.slot_bytes as usize) as *const u16, c.frame_bytes as usize / 2)
}

#[test]
fn frames_are_written_in_place_with_their_metadata_header() {
    let _g = setup(&[]);
    // 256 frames of 1.1 ms (exposure + readout): the free eighth lasts 35 ms, so PVCAM
    // writes into the ring itself.
    let (cam, roi) = started((10, 42, 20, 28), 0.001, 256);
    let h = cam.0;
    ok(h, unsafe { labcam_wait(h, 6, 5.0) });
    let mut c = Chunk::default();
    ok(h, unsafe { labcam_lock_chunk(h, 6, &mut c) });
    assert_eq!(c.n_frames, 6);
    assert_eq!(c.frame_bytes, 32 * 8 * 2);
    // PVCAM's slot layout: md_frame_header + md_frame_roi_header (80 bytes), then pixels.
    assert_eq!(c.slot_bytes, c.frame_bytes + 80);
    let infos = unsafe { std::slice::from_raw_parts(c.infos as *const FrameInfo, 6) };
    for (k, info) in infos.iter().enumerate() {
        let frame = unsafe { chunk_frame(&c, k) };
        check(frame, info.framestamp, roi);
        // The header PVCAM wrote before the pixels: its signature (5328208) and frame number.
        let hdr = unsafe { std::slice::from_raw_parts((c.data as *const u8).add(k * c.slot_bytes as usize).sub(80), 80) };
        assert_eq!(u32::from_le_bytes(hdr[0..4].try_into().unwrap()), 5328208);
        assert_eq!(u32::from_le_bytes(hdr[5..9].try_into().unwrap()) as i64, info.framestamp);
        assert_eq!(info.index, k as i64);
    }
    ok(h, unsafe { labcam_unlock_chunk(h, c.chunk_id) });
    // The ring keeps going round: later frames through read_chunk are exact and in order.
    let mut last = 5;
    for _ in 0..4 {
        ok(h, unsafe { labcam_wait(h, 8, 5.0) });
        let (px, infos) = read_u16(h, 8, 512, false);
        for i in &infos {
            assert!(i.index > last, "{} after {last}", i.index);
            last = i.index;
        }
        check_frames(&px, &infos, roi);
    }
    ok(h, unsafe { labcam_stop(h) });
    let s = status(h);
    assert_eq!(s.acquired, s.read + s.unread + s.lost_overwritten, "{s:?}");
}

#[test]
fn driver_refusing_the_ring_falls_back_to_copying() {
    // PVCAM cannot take buffers over 20000 bytes: the 256-frame ring (151552 bytes) is
    // refused, then buffers of its own of 256, 128 and 64 frames; 32 frames (18944 bytes)
    // are accepted.
    let _g = setup(&[("PVCAM_EMU_MAX_BUFFER", "20000")]);
    let (cam, roi) = started((0, 32, 0, 8), 0.001, 256);
    let h = cam.0;
    ok(h, unsafe { labcam_wait(h, 40, 5.0) });
    let (px, infos) = read_u16(h, 40, 512, false);
    assert_eq!(infos.len(), 40);
    for (k, i) in infos.iter().enumerate() {
        assert_eq!(i.index, k as i64);
    }
    check_frames(&px, &infos, roi);
    ok(h, unsafe { labcam_stop(h) });
    // Not even 8 frames fit: labcam_start says why.
    drop(cam);
    drop(_g);
    let _g = setup(&[("PVCAM_EMU_MAX_BUFFER", "1000")]);
    let h = open(CAM);
    let _c = Guard(h);
    set_roi(h, 0, 32, 0, 8, 1, 1);
    ok(h, unsafe { labcam_setup_acquisition(h, 64) });
    assert_eq!(unsafe { labcam_start(h) }, LABCAM_ERR_VENDOR);
    assert!(last_error(h).contains("pl_exp_start_cont"), "{}", last_error(h));
    assert_eq!(state(h), LABCAM_STATE_SET_UP);
}

#[test]
fn chunk_locked_while_the_camera_fills_the_ring_faults() {
    // PVCAM cannot be held back: a chunk kept locked while it goes round the ring is
    // written over, which labcam reports instead of handing out torn frames silently.
    let _g = setup(&[]);
    let (cam, _) = started((0, 32, 0, 8), 0.001, 256);
    let h = cam.0;
    ok(h, unsafe { labcam_wait(h, 4, 5.0) });
    let mut c = Chunk::default();
    ok(h, unsafe { labcam_lock_chunk(h, 4, &mut c) });
    assert_eq!(c.slot_bytes, c.frame_bytes + 80, "in place");
    // 256 frames take about 0.3 s.
    let t = std::time::Instant::now();
    while state(h) != LABCAM_STATE_FAULT && t.elapsed() < Duration::from_secs(5) {
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(state(h), LABCAM_STATE_FAULT);
    assert_eq!(unsafe { labcam_start(h) }, LABCAM_ERR_BUSY);
    assert!(last_error(h).contains("overwrote frames of a locked chunk"), "{}", last_error(h));
    ok(h, unsafe { labcam_unlock_chunk(h, c.chunk_id) });
    let s = status(h);
    assert_eq!(s.acquired, s.read + s.unread + s.lost_overwritten, "{s:?}");
    ok(h, unsafe { labcam_stop(h) });
}

#[test]
fn disconnect_keeps_acquired_frames() {
    // Copying out of PVCAM's buffer (a 64-frame ring of 0.6 ms frames), and in place.
    for (ring, exposure, slot_extra) in [(64, 0.0005, 0), (256, 0.001, 80)] {
        disconnect_case(ring, exposure, slot_extra);
    }
}

fn disconnect_case(ring: i64, exposure: f64, slot_extra: i64) {
    let _g = setup(&[("PVCAM_EMU_DISCONNECT_AFTER", "12")]);
    let (cam, roi) = started((0, 32, 0, 8), exposure, ring);
    let h = cam.0;
    assert_eq!(unsafe { labcam_wait(h, 30, 5.0) }, LABCAM_ERR_DISCONNECTED, "{}", last_error(h));
    let s = status(h);
    assert_eq!(s.acquired, 12, "ring {ring}: {s:?} {}", last_error(h));
    let mut c = Chunk::default();
    ok(h, unsafe { labcam_lock_chunk(h, 1, &mut c) });
    assert_eq!(c.slot_bytes, c.frame_bytes + slot_extra);
    ok(h, unsafe { labcam_unlock_chunk(h, c.chunk_id) });
    let (px, infos) = read_u16(h, 11, 512, false);
    assert_eq!(infos.len(), 11);
    check_frames(&px, &infos, roi);
}

/// Voluntary context switches of this process's labcam acquisition threads so far: how
/// often they went to sleep and were woken.
#[cfg(target_os = "linux")]
fn acquisition_thread_wakeups() -> u64 {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|e| {
            let d = e.ok()?.path();
            if !std::fs::read_to_string(d.join("comm")).ok()?.starts_with("labcam-acq") {
                return None;
            }
            let status = std::fs::read_to_string(d.join("status")).ok()?;
            status.lines().find_map(|l| l.strip_prefix("voluntary_ctxt_switches:")).and_then(|v| v.trim().parse::<u64>().ok())
        })
        .sum()
}

#[test]
#[cfg(target_os = "linux")]
fn a_slow_camera_wakes_the_acquisition_thread_per_frame_not_per_poll() {
    // 10 frames of 100 ms. With PVCAM's end-of-frame callback the acquisition thread sleeps
    // until each frame arrives (and checks every 20 ms): about 80 wake-ups. Polling every
    // 200 µs, as it does when the library refuses the callback, it wakes thousands of times;
    // over 300 even on a loaded machine where each 200 µs sleep lasts 3 ms.
    // In place (a 256-frame ring), and copying (PVCAM refuses a buffer that large).
    let refuse = ("PVCAM_EMU_ERROR", "pl_cam_register_callback_ex3:12");
    let copy = ("PVCAM_EMU_MAX_BUFFER", "20000");
    for (faults, callback) in [(vec![], true), (vec![copy], true), (vec![refuse], false)] {
        let _g = setup(&faults);
        let (cam, roi) = started((0, 32, 0, 8), 0.1, 256);
        let h = cam.0;
        ok(h, unsafe { labcam_wait(h, 10, 10.0) });
        let wakeups = acquisition_thread_wakeups();
        eprintln!("{faults:?}: {wakeups} wake-ups for 10 frames");
        let (px, infos) = read_u16(h, 10, 512, false);
        for (k, i) in infos.iter().enumerate() {
            assert_eq!(i.framestamp, k as i64 + 1);
        }
        check_frames(&px, &infos, roi);
        if callback {
            assert!(wakeups < 200, "{faults:?}: {wakeups} wake-ups for 10 frames");
        } else {
            assert!(wakeups > 300, "{faults:?}: {wakeups} wake-ups for 10 frames while polling");
        }
    }
}

#[test]
fn missing_library_lists_every_path() {
    let _g = setup(&[]);
    let cli = target_dir().join("labcam");
    assert!(cli.exists(), "{} missing: cargo build --workspace", cli.display());
    let out = std::process::Command::new(cli).args(["list", "pvcam"]).env("LABCAM_PVCAM_LIB", "/nonexistent/libpvcam.so").env_remove("LD_LIBRARY_PATH").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for p in ["LIBRARY_LOAD", "/nonexistent/libpvcam.so", "/opt/pvcam/library/x86_64/libpvcam.so.2", "libpvcam.so.2 (system search)", "LABCAM_PVCAM_LIB"] {
        assert!(err.contains(p), "{err} lacks {p}");
    }
}

#[test]
fn extended_metadata_is_refused_not_misread() {
    // Extended metadata blocks move the pixels; labcam reads them after the 80 bytes of the
    // base headers, so it refuses such frames (NOT_SUPPORTED) instead of shifted images.
    let _g = setup(&[("PVCAM_EMU_EXTENDED_MD", "16")]);
    let h = open(CAM);
    let _c = Guard(h);
    let roi = set_roi(h, 0, 32, 0, 8, 1, 1);
    assert_err(h, unsafe { labcam_setup_acquisition(h, 4) }, LABCAM_ERR_NOT_SUPPORTED, "extended metadata is not supported");
    // Without metadata the frames are pixels only, and fine.
    set_bool(h, "METADATA_ENABLED", false);
    let (px, infos) = grab(h, 3);
    check_frames(&px, &infos, roi);
}

#[test]
fn a_camera_with_only_the_classic_exposure_modes() {
    // Older cameras list TIMED, STROBED, BULB and TRIGGER_FIRST only: labcam's triggers map
    // onto those, and the default is TIMED (the extended internal mode would be refused).
    let _g = setup(&[("PVCAM_EMU_CLASSIC_MODES", "1")]);
    let h = open(CAM);
    let _c = Guard(h);
    let mut m = -1;
    ok(h, unsafe { labcam_get_trigger_mode(h, &mut m) });
    assert_eq!(m, LABCAM_TRIGGER_INT);
    let roi = set_roi(h, 0, 32, 0, 8, 1, 1);
    ok(h, unsafe { labcam_set_exposure(h, 0.001, null_mut()) });
    let (px, infos) = grab(h, 5);
    check_frames(&px, &infos, roi);
    assert_eq!(string_out(|b, c, n| unsafe { labcam_get_attr_string(h, cs("EXPOSURE_MODE").as_ptr(), b, c, n) }).unwrap(), "Timed");
    for (mode, label) in [(LABCAM_TRIGGER_EXT, "Strobed"), (LABCAM_TRIGGER_EXT_EXPOSURE, "Bulb"), (LABCAM_TRIGGER_EXT_START, "Trigger First")] {
        ok(h, unsafe { labcam_set_trigger_mode(h, mode) });
        ok(h, unsafe { labcam_get_trigger_mode(h, &mut m) });
        assert_eq!(m, mode);
        ok(h, unsafe { labcam_start(h) });
        assert_eq!(string_out(|b, c, n| unsafe { labcam_get_attr_string(h, cs("EXPOSURE_MODE").as_ptr(), b, c, n) }).unwrap(), label, "the mode PVCAM was set up with");
        ok(h, unsafe { labcam_stop(h) });
    }
    assert_err(h, unsafe { labcam_set_trigger_mode(h, LABCAM_TRIGGER_SOFTWARE) }, LABCAM_ERR_NOT_SUPPORTED, "Timed (0x0), Strobed (0x1)");
    // Strobed: no edge, no frame.
    ok(h, unsafe { labcam_set_trigger_mode(h, LABCAM_TRIGGER_EXT) });
    ok(h, unsafe { labcam_start(h) });
    assert_eq!(unsafe { labcam_wait(h, 1, 0.3) }, LABCAM_ERR_TIMEOUT);
    ok(h, unsafe { labcam_stop(h) });
}

#[test]
fn settings_while_acquiring() {
    // PVCAM takes the exposure, trigger and parameters at pl_exp_setup_cont: while
    // acquiring they are refused with WRONG_STATE, not stored to surprise the next start.
    let _g = setup(&[]);
    let (c, roi) = started((0, 64, 0, 16), 0.005, 64);
    let h = c.0;
    assert_err(h, unsafe { labcam_set_exposure(h, 0.02, null_mut()) }, LABCAM_ERR_WRONG_STATE, "exposure while acquiring");
    assert_err(h, unsafe { labcam_set_trigger_mode(h, LABCAM_TRIGGER_SOFTWARE) }, LABCAM_ERR_WRONG_STATE, "trigger mode while acquiring");
    assert_err(h, unsafe { labcam_set_attr_int(h, cs("GAIN_INDEX").as_ptr(), 2) }, LABCAM_ERR_WRONG_STATE, "'GAIN_INDEX' cannot change while acquiring");
    assert_err(h, unsafe { labcam_set_attr_int(h, cs("SER_SIZE").as_ptr(), 5) }, LABCAM_ERR_NOT_SUPPORTED, "read-only");
    let (mut e, mut p) = (0.0, 0.0);
    ok(h, unsafe { labcam_get_frame_timings(h, &mut e, &mut p) });
    assert!((e - 0.005).abs() < 1e-9, "the refused exposure did not stick: {e}");
    ok(h, unsafe { labcam_wait(h, 8, 5.0) });
    let (px, infos) = read_u16(h, 4, 64 * 16 * 2, false);
    check_frames(&px, &infos, roi);
    assert_eq!(state(h), LABCAM_STATE_RUNNING);
    ok(h, unsafe { labcam_stop(h) });
    // Stopped, they are accepted again.
    ok(h, unsafe { labcam_set_exposure(h, 0.02, null_mut()) });
    set_int(h, "GAIN_INDEX", 2);
    // A start that fails keeps the previous run's frames readable.
    let before = status(h);
    assert!(before.unread > 0, "{before:?}");
    std::env::set_var("PVCAM_EMU_ERROR", "pl_exp_setup_cont:11");
    assert_eq!(unsafe { labcam_start(h) }, LABCAM_ERR_VENDOR);
    std::env::remove_var("PVCAM_EMU_ERROR");
    assert_eq!(status(h), before, "the failed start gave up nothing");
    let (px, infos) = read_u16(h, before.unread as usize, 64 * 16 * 2, false);
    assert_eq!(infos.len() as i64, before.unread);
    check_frames(&px, &infos, roi);
}
