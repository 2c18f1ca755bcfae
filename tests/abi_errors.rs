//! Every bad input of DESIGN.md gives its documented status and a message naming what was
//! wrong, through the C ABI.

mod common;
use common::*;
use std::ffi::c_char;
use std::ptr::{null, null_mut};

#[test]
fn status_names_and_texts() {
    assert_eq!(status_name(LABCAM_OK), "OK");
    assert_eq!(status_name(LABCAM_ERR_TIMEOUT), "TIMEOUT");
    assert_eq!(status_name(LABCAM_ERR_INVALID_HANDLE), "INVALID_HANDLE");
    assert_eq!(status_name(LABCAM_ERR_DISCONNECTED), "DISCONNECTED");
    assert_eq!(status_name(LABCAM_ERR_NO_MEMORY), "NO_MEMORY");
    let mut needed = 0;
    let st = unsafe { labcam_status_name(12345, null_mut(), 0, &mut needed) };
    assert_eq!(st, LABCAM_ERR_NOT_FOUND);
    // Too small buffer: BUFFER_TOO_SMALL, needed still set, buffer untouched beyond cap.
    let mut buf = [b'x' as c_char; 4];
    let st = unsafe { labcam_status_name(LABCAM_ERR_INVALID_ARGUMENT, buf.as_mut_ptr(), 4, &mut needed) };
    assert_eq!(st, LABCAM_ERR_BUFFER_TOO_SMALL);
    assert_eq!(needed, "INVALID_ARGUMENT".len() as u64 + 1);
    assert_eq!(buf, [b'x' as c_char; 4]);
    // Exactly enough.
    let mut buf = vec![0 as c_char; needed as usize];
    assert_eq!(unsafe { labcam_status_name(LABCAM_ERR_INVALID_ARGUMENT, buf.as_mut_ptr(), needed, null_mut()) }, LABCAM_OK);
    // NULL buffer with non-zero capacity.
    assert_err(0, unsafe { labcam_status_name(0, null_mut(), 10, null_mut()) }, LABCAM_ERR_NULL_POINTER, "buf");
    let text = string_out(|b, c, n| unsafe { labcam_status_text(LABCAM_ERR_WRONG_STATE, b, c, n) }).unwrap();
    assert!(text.contains("state"));
}

#[test]
fn null_pointers() {
    let mut h = 0;
    assert_err(0, unsafe { labcam_open(null(), &mut h) }, LABCAM_ERR_NULL_POINTER, "camera_id");
    assert_eq!(h, 0, "out-parameter written on failure");
    assert_err(0, unsafe { labcam_open(cs("sim").as_ptr(), null_mut()) }, LABCAM_ERR_NULL_POINTER, "'h'");
    let h = open("sim");
    assert_err(h, unsafe { labcam_get_detector_size(h, null_mut(), null_mut()) }, LABCAM_ERR_NULL_POINTER, "width");
    assert_err(h, unsafe { labcam_get_roi(h, null_mut()) }, LABCAM_ERR_NULL_POINTER, "roi");
    assert_err(h, unsafe { labcam_attr_info(h, null(), &mut AttrInfo::default()) }, LABCAM_ERR_NULL_POINTER, "name");
    assert_err(h, unsafe { labcam_get_attr_int(h, cs("BlackLevel").as_ptr(), null_mut()) }, LABCAM_ERR_NULL_POINTER, "value");
    assert_err(h, unsafe { labcam_set_attr_string(h, cs("DeviceUserName").as_ptr(), null()) }, LABCAM_ERR_NULL_POINTER, "value");
    ok(h, unsafe { labcam_setup_acquisition(h, 4) });
    let mut n = 0;
    assert_err(h, unsafe { labcam_read_chunk(h, null_mut(), 100, 1, 0, null_mut(), &mut n) }, LABCAM_ERR_NULL_POINTER, "dst");
    assert_err(h, unsafe { labcam_lock_chunk(h, 1, null_mut()) }, LABCAM_ERR_NULL_POINTER, "chunk");
    // Optional out-parameters may be NULL.
    ok(h, unsafe { labcam_set_exposure(h, 0.001, null_mut()) });
    ok(h, unsafe { labcam_get_frame_timings(h, null_mut(), null_mut()) });
    ok(h, unsafe { labcam_abi_version(null_mut(), null_mut(), null_mut()) });
    close(h);
}

#[test]
fn stale_closed_and_bogus_handles() {
    let h = open("sim");
    close(h);
    let mut w = 0;
    let mut hh = 0;
    assert_err(0, unsafe { labcam_get_detector_size(h, &mut w, &mut hh) }, LABCAM_ERR_INVALID_HANDLE, "closed or stale");
    assert_err(0, unsafe { labcam_close(h) }, LABCAM_ERR_INVALID_HANDLE, "closed or stale");
    assert_err(0, unsafe { labcam_close(0) }, LABCAM_ERR_INVALID_HANDLE, "0 is never valid");
    assert_err(0, unsafe { labcam_start(0xdead_beef_0000_1234) }, LABCAM_ERR_INVALID_HANDLE, "handle");
    // A new camera may reuse the slot; the old handle stays invalid.
    let h2 = open("sim");
    assert_ne!(h, h2);
    assert_eq!(unsafe { labcam_get_detector_size(h, &mut w, &mut hh) }, LABCAM_ERR_INVALID_HANDLE);
    ok(h2, unsafe { labcam_get_detector_size(h2, &mut w, &mut hh) });
    assert_eq!((w, hh), (2048, 2048));
    let mut buf = [0 as c_char; 64];
    assert_eq!(unsafe { labcam_last_error(h, buf.as_mut_ptr(), 64, null_mut()) }, LABCAM_ERR_INVALID_HANDLE);
    close(h2);
}

#[test]
fn unknown_camera_backend_attribute() {
    let mut h = 0;
    assert_err(0, unsafe { labcam_open(cs("nosuch:1").as_ptr(), &mut h) }, LABCAM_ERR_NOT_FOUND, "unknown backend 'nosuch'");
    assert_err(0, unsafe { labcam_open(cs("sim:99").as_ptr(), &mut h) }, LABCAM_ERR_NOT_FOUND, "sim:99");
    assert_err(0, unsafe { labcam_open(cs("").as_ptr(), &mut h) }, LABCAM_ERR_INVALID_ARGUMENT, "empty camera id");
    assert_err(0, unsafe { labcam_open(cs("sim:").as_ptr(), &mut h) }, LABCAM_ERR_INVALID_ARGUMENT, "nothing after ':'");
    let mut n = 0;
    assert_err(0, unsafe { labcam_list_cameras(cs("nosuch").as_ptr(), null_mut(), 0, &mut n) }, LABCAM_ERR_NOT_FOUND, "nosuch");
    assert_err(0, unsafe { labcam_set_backend_library(cs("sim").as_ptr(), cs("/x.so").as_ptr()) }, LABCAM_ERR_NOT_SUPPORTED, "sim");
    let h = open("sim");
    let mut v = 0i64;
    assert_err(h, unsafe { labcam_get_attr_int(h, cs("NoSuchAttr").as_ptr(), &mut v) }, LABCAM_ERR_NOT_FOUND, "NoSuchAttr");
    assert_err(h, unsafe { labcam_set_attr_string(h, cs("Gain").as_ptr(), cs("Extreme").as_ptr()) }, LABCAM_ERR_NOT_FOUND, "Extreme");
    // A 100 kB name is not echoed whole: messages stop at 2000 bytes and say so.
    let long = format!("Gain{}", "é".repeat(50_000));
    assert_err(h, unsafe { labcam_get_attr_int(h, cs(&long).as_ptr(), &mut v) }, LABCAM_ERR_NOT_FOUND, "(message cut: ");
    assert!(last_error(h).len() <= 2000 && last_error(h).starts_with("labcam_get_attr_int: NOT_FOUND: "), "{}", last_error(h).len());
    close(h);
}

#[test]
fn non_utf8_strings() {
    let bad = [0xffu8 as c_char, 0xfe_u8 as c_char, 0];
    let mut h = 0;
    assert_err(0, unsafe { labcam_open(bad.as_ptr(), &mut h) }, LABCAM_ERR_INVALID_ARGUMENT, "UTF-8");
    let h = open("sim");
    assert_err(h, unsafe { labcam_set_attr_string(h, cs("DeviceUserName").as_ptr(), bad.as_ptr()) }, LABCAM_ERR_INVALID_ARGUMENT, "UTF-8");
    close(h);
}

#[test]
fn wrong_attribute_kind() {
    let h = open("sim");
    let mut f = 0.0;
    let mut i = 0i64;
    let mut b = 0i32;
    assert_err(h, unsafe { labcam_get_attr_float(h, cs("BlackLevel").as_ptr(), &mut f) }, LABCAM_ERR_ATTR_TYPE, "is an INT, not a FLOAT");
    assert_err(h, unsafe { labcam_get_attr_int(h, cs("Exposure").as_ptr(), &mut i) }, LABCAM_ERR_ATTR_TYPE, "FLOAT");
    assert_err(h, unsafe { labcam_set_attr_bool(h, cs("SerialNumber").as_ptr(), 1) }, LABCAM_ERR_ATTR_TYPE, "STRING");
    assert_err(h, unsafe { labcam_get_attr_bool(h, cs("Gain").as_ptr(), &mut b) }, LABCAM_ERR_ATTR_TYPE, "ENUM");
    assert_err(h, unsafe { labcam_attr_command(h, cs("Gain").as_ptr()) }, LABCAM_ERR_ATTR_TYPE, "COMMAND");
    assert_err(h, unsafe { labcam_get_attr_int(h, cs("TimestampReset").as_ptr(), &mut i) }, LABCAM_ERR_ATTR_TYPE, "COMMAND");
    let mut n = 0;
    assert_err(h, unsafe { labcam_attr_enum_value(h, cs("Exposure").as_ptr(), 0, null_mut(), 0, &mut n) }, LABCAM_ERR_ATTR_TYPE, "not an ENUM");
    // Read-only attributes refuse writes.
    assert_err(h, unsafe { labcam_set_attr_string(h, cs("SerialNumber").as_ptr(), cs("x").as_ptr()) }, LABCAM_ERR_NOT_SUPPORTED, "read-only");
    close(h);
}

#[test]
fn out_of_range_values() {
    let h = open("sim");
    let mut r = Roi::default();
    assert_err(h, unsafe { labcam_set_roi(h, 0, 4096, 0, 128, 1, 1, &mut r) }, LABCAM_ERR_INVALID_ARGUMENT, "[0, 4096)");
    assert_err(h, unsafe { labcam_set_roi(h, 100, 50, 0, 128, 1, 1, &mut r) }, LABCAM_ERR_INVALID_ARGUMENT, "horizontal ROI");
    assert_err(h, unsafe { labcam_set_roi(h, 0, 128, -4, 128, 1, 1, &mut r) }, LABCAM_ERR_INVALID_ARGUMENT, "vertical ROI");
    assert_err(h, unsafe { labcam_set_roi(h, 0, 128, 0, 128, 3, 1, &mut r) }, LABCAM_ERR_INVALID_ARGUMENT, "binning 3");
    assert_err(h, unsafe { labcam_set_roi(h, 0, 128, 0, 128, 0, 1, &mut r) }, LABCAM_ERR_INVALID_ARGUMENT, "binning 0x1");
    assert_err(h, unsafe { labcam_set_roi(h, 0, 8, 0, 128, 1, 1, &mut r) }, LABCAM_ERR_INVALID_ARGUMENT, "below the minimum");
    assert_eq!(r, Roi::default(), "applied written on failure");
    // Nothing changed.
    let mut cur = Roi::default();
    ok(h, unsafe { labcam_get_roi(h, &mut cur) });
    assert_eq!(cur, Roi { hstart: 0, hend: 2048, vstart: 0, vend: 2048, hbin: 1, vbin: 1 });
    let mut applied = -1.0;
    assert_err(h, unsafe { labcam_set_exposure(h, 20.0, &mut applied) }, LABCAM_ERR_INVALID_ARGUMENT, "exposure 20 s out of range");
    assert_err(h, unsafe { labcam_set_exposure(h, 1e-9, &mut applied) }, LABCAM_ERR_INVALID_ARGUMENT, "out of range");
    // Extreme values are shown in scientific notation, not as hundreds of digits.
    assert_err(h, unsafe { labcam_set_exposure(h, -1e308, &mut applied) }, LABCAM_ERR_INVALID_ARGUMENT, "exposure -1e308 s");
    assert_err(h, unsafe { labcam_set_attr_float(h, cs("TemperatureSetpoint").as_ptr(), 1e300) }, LABCAM_ERR_INVALID_ARGUMENT, "value 1e300 out of range");
    assert!(last_error(h).len() < 200, "{}", last_error(h));
    assert_err(h, unsafe { labcam_set_exposure(h, f64::NAN, &mut applied) }, LABCAM_ERR_INVALID_ARGUMENT, "finite");
    assert_eq!(applied, -1.0);
    assert_err(h, unsafe { labcam_set_frame_period(h, -1.0, null_mut()) }, LABCAM_ERR_INVALID_ARGUMENT, "frame period");
    assert_err(h, unsafe { labcam_set_trigger_mode(h, 42) }, LABCAM_ERR_INVALID_ARGUMENT, "trigger mode 42");
    assert_err(h, unsafe { labcam_set_trigger_mode(h, LABCAM_TRIGGER_EXT_EXPOSURE) }, LABCAM_ERR_NOT_SUPPORTED, "EXT_EXPOSURE");
    assert_err(h, unsafe { labcam_set_image_indexing(h, 7) }, LABCAM_ERR_INVALID_ARGUMENT, "indexing 7");
    assert_err(h, unsafe { labcam_set_attr_int(h, cs("BlackLevel").as_ptr(), 5000) }, LABCAM_ERR_INVALID_ARGUMENT, "5000");
    assert_err(h, unsafe { labcam_set_attr_int(h, cs("BlackLevel").as_ptr(), 15) }, LABCAM_ERR_INVALID_ARGUMENT, "step 10");
    assert_err(h, unsafe { labcam_set_attr_int(h, cs("Gain").as_ptr(), 7) }, LABCAM_ERR_INVALID_ARGUMENT, "enum index 7");
    let mut n = 0;
    assert_err(h, unsafe { labcam_attr_name(h, 10_000, null_mut(), 0, &mut n) }, LABCAM_ERR_INVALID_ARGUMENT, "10000");
    assert_err(h, unsafe { labcam_setup_acquisition(h, 0) }, LABCAM_ERR_INVALID_ARGUMENT, "nframes");
    assert_err(h, unsafe { labcam_setup_acquisition(h, -5) }, LABCAM_ERR_INVALID_ARGUMENT, "-5");
    assert_err(0, unsafe { labcam_set_log(null(), 9) }, LABCAM_ERR_INVALID_ARGUMENT, "log level 9");
    close(h);
}

#[test]
fn buffers_too_small() {
    let h = open_sim(false);
    set_roi(h, 0, 64, 0, 64, 1, 1);
    let fb = format(h).frame_bytes as usize;
    ok(h, unsafe { labcam_setup_acquisition(h, 8) });
    ok(h, unsafe { labcam_start(h) });
    ok(h, unsafe { labcam_wait(h, 2, 5.0) });
    let mut small = vec![0u8; fb - 1];
    let mut n = -1i64;
    assert_err(h, unsafe { labcam_read_chunk(h, small.as_mut_ptr() as *mut _, small.len() as u64, 1, 0, null_mut(), &mut n) }, LABCAM_ERR_BUFFER_TOO_SMALL, &format!("one frame needs {fb}"));
    assert_eq!(n, -1);
    ok(h, unsafe { labcam_stop(h) });
    let before = status(h);
    // A buffer for one frame reads exactly one even when more are asked for.
    let mut one = vec![0u8; fb + 10];
    ok(h, unsafe { labcam_read_chunk(h, one.as_mut_ptr() as *mut _, one.len() as u64, 5, 0, null_mut(), &mut n) });
    assert_eq!(n, 1);
    assert_eq!(status(h).read, before.read + 1);
    let mut buf = vec![0u8; fb];
    assert_err(h, unsafe { labcam_grab(h, 3, buf.as_mut_ptr() as *mut _, buf.len() as u64, 1.0, null_mut(), &mut n) }, LABCAM_ERR_BUFFER_TOO_SMALL, "3 frames need");
    let mut needed = 0u64;
    let mut tiny = [0 as c_char; 3];
    assert_eq!(unsafe { labcam_get_device_info(h, tiny.as_mut_ptr(), 3, &mut needed) }, LABCAM_ERR_BUFFER_TOO_SMALL);
    let info = string_out(|b, c, nn| unsafe { labcam_get_device_info(h, b, c, nn) }).unwrap();
    assert_eq!(needed, info.len() as u64 + 1);
    assert!(info.contains("backend=sim\n") && info.contains("serial=SIM-00000\n"), "{info}");
    close(h);
}

#[test]
fn calls_in_the_wrong_state() {
    let h = open_sim(false);
    let mut n = 0;
    let mut buf = vec![0u8; 16];
    assert_err(h, unsafe { labcam_stop(h) }, LABCAM_ERR_WRONG_STATE, "not acquiring");
    assert_err(h, unsafe { labcam_clear_acquisition(h) }, LABCAM_ERR_WRONG_STATE, "no acquisition is set up");
    assert_err(h, unsafe { labcam_wait(h, 1, 0.1) }, LABCAM_ERR_WRONG_STATE, "no acquisition");
    assert_err(h, unsafe { labcam_read_chunk(h, buf.as_mut_ptr() as *mut _, 16, 1, 0, null_mut(), &mut n) }, LABCAM_ERR_WRONG_STATE, "no acquisition");
    assert_err(h, unsafe { labcam_send_software_trigger(h) }, LABCAM_ERR_WRONG_STATE, "running");
    set_roi(h, 0, 64, 0, 64, 1, 1);
    ok(h, unsafe { labcam_start(h) });
    assert_eq!(state(h), LABCAM_STATE_RUNNING);
    assert_err(h, unsafe { labcam_start(h) }, LABCAM_ERR_WRONG_STATE, "already acquiring");
    assert_err(h, unsafe { labcam_set_roi(h, 0, 128, 0, 128, 1, 1, null_mut()) }, LABCAM_ERR_WRONG_STATE, "while acquiring");
    assert_err(h, unsafe { labcam_setup_acquisition(h, 10) }, LABCAM_ERR_WRONG_STATE, "while acquiring");
    assert_err(h, unsafe { labcam_clear_acquisition(h) }, LABCAM_ERR_WRONG_STATE, "while acquiring");
    assert_err(h, unsafe { labcam_set_exposure(h, 0.01, null_mut()) }, LABCAM_ERR_WRONG_STATE, "acquiring");
    assert_err(h, unsafe { labcam_snap(h, buf.as_mut_ptr() as *mut _, 16, 1.0, null_mut()) }, LABCAM_ERR_WRONG_STATE, "while acquiring");
    assert_err(h, unsafe { labcam_send_software_trigger(h) }, LABCAM_ERR_WRONG_STATE, "trigger mode is INT");
    ok(h, unsafe { labcam_stop(h) });
    assert_eq!(state(h), LABCAM_STATE_SET_UP);
    // Changing the ROI while set up clears the acquisition.
    set_roi(h, 0, 128, 0, 64, 1, 1);
    assert_eq!(state(h), LABCAM_STATE_OPEN);
    // The same frame size keeps it.
    ok(h, unsafe { labcam_setup_acquisition(h, 4) });
    set_roi(h, 128, 256, 0, 64, 1, 1);
    assert_eq!(state(h), LABCAM_STATE_SET_UP);
    // A pixel format change (attribute) clears it too.
    ok(h, unsafe { labcam_set_attr_string(h, cs("PixelFormat").as_ptr(), cs("Mono8").as_ptr()) });
    assert_eq!(state(h), LABCAM_STATE_OPEN);
    close(h);
}

#[test]
fn lock_chunk_rules() {
    let h = open_sim(false);
    set_roi(h, 0, 64, 0, 64, 1, 1);
    ok(h, unsafe { labcam_setup_acquisition(h, 16) });
    let mut c = Chunk::default();
    ok(h, unsafe { labcam_lock_chunk(h, 4, &mut c) });
    assert_eq!((c.n_frames, c.chunk_id), (0, 0), "empty ring gives an empty chunk");
    ok(h, unsafe { labcam_unlock_chunk(h, 0) });
    // Software trigger: exactly four frames exist, so the unpaced simulator cannot lap the
    // 16-frame ring between the wait and the lock (it did on a loaded CI machine).
    ok(h, unsafe { labcam_set_trigger_mode(h, LABCAM_TRIGGER_SOFTWARE) });
    ok(h, unsafe { labcam_start(h) });
    for _ in 0..4 {
        ok(h, unsafe { labcam_send_software_trigger(h) });
    }
    ok(h, unsafe { labcam_wait(h, 4, 5.0) });
    ok(h, unsafe { labcam_lock_chunk(h, 8, &mut c) });
    assert_eq!((c.n_frames, c.first_index), (4, 0));
    let mut c2 = Chunk::default();
    assert_err(h, unsafe { labcam_lock_chunk(h, 4, &mut c2) }, LABCAM_ERR_BUSY, "already locked");
    let mut n = 0;
    let mut buf = vec![0u8; 8192];
    assert_err(h, unsafe { labcam_read_chunk(h, buf.as_mut_ptr() as *mut _, 8192, 1, 0, null_mut(), &mut n) }, LABCAM_ERR_BUSY, "locked");
    ok(h, unsafe { labcam_read_chunk(h, buf.as_mut_ptr() as *mut _, 8192, 1, LABCAM_READ_PEEK, null_mut(), &mut n) });
    assert_eq!(n, 1);
    ok(h, unsafe { labcam_stop(h) });
    assert_err(h, unsafe { labcam_clear_acquisition(h) }, LABCAM_ERR_BUSY, "locked");
    assert_err(h, unsafe { labcam_start(h) }, LABCAM_ERR_BUSY, "locked");
    assert_err(h, unsafe { labcam_unlock_chunk(h, c.chunk_id + 7) }, LABCAM_ERR_INVALID_ARGUMENT, "not locked");
    ok(h, unsafe { labcam_unlock_chunk(h, c.chunk_id) });
    assert_err(h, unsafe { labcam_unlock_chunk(h, c.chunk_id) }, LABCAM_ERR_INVALID_ARGUMENT, "no chunk is locked");
    ok(h, unsafe { labcam_clear_acquisition(h) });
    close(h);
}

#[test]
fn list_backends_and_cameras() {
    let b = string_out(|p, c, n| unsafe { labcam_list_backends(p, c, n) }).unwrap();
    assert!(b.lines().any(|l| l == "sim"), "{b}");
    let cams = string_out(|p, c, n| unsafe { labcam_list_cameras(cs("sim").as_ptr(), p, c, n) }).unwrap();
    assert_eq!(cams, "sim:0\nsim:1\n");
    let all = string_out(|p, c, n| unsafe { labcam_list_cameras(null(), p, c, n) }).unwrap();
    assert!(all.contains("sim:0\n"));
}

#[test]
fn log_file_records_failures() {
    let path = std::env::temp_dir().join(format!("labcam-log-{}.txt", std::process::id()));
    let p = cs(path.to_str().unwrap());
    ok(0, unsafe { labcam_set_log(p.as_ptr(), LABCAM_LOG_DEBUG) });
    let mut h = 0;
    assert_eq!(unsafe { labcam_open(cs("nosuch").as_ptr(), &mut h) }, LABCAM_ERR_NOT_FOUND);
    ok(0, unsafe { labcam_set_log(null(), 0) });
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("labcam_open: NOT_FOUND"), "{text}");
    let _ = std::fs::remove_file(path);
}
