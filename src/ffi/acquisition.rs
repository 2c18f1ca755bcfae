//! Acquisition, reading and zero-copy access.
//!
//! States: OPEN -> (setup) SET_UP -> (start) RUNNING -> (stop) SET_UP -> (clear) OPEN;
//! FAULT after a disconnect (frames stay readable; close the camera). Calls in the wrong state
//! give WRONG_STATE. `labcam_wait` never blocks `stop`, `close`, `cancel_wait` or status
//! queries on the same handle, which may come from other threads.

use super::*;
use crate::model::{Chunk, FrameInfo, FramesStatus};

/// Allocate the frame ring: `nframes` frames of the current format, in one contiguous block
/// (pages faulted in now). OPEN or SET_UP -> SET_UP; a ring of the same size is kept.
/// Errors: INVALID_ARGUMENT (nframes < 1), WRONG_STATE (running), NO_MEMORY, BUSY (a chunk is
/// locked), VENDOR.
#[no_mangle]
pub unsafe extern "C" fn labcam_setup_acquisition(h: labcam_handle, nframes: i64) -> i32 {
    run_h("labcam_setup_acquisition", h, |c| c.setup(count1_arg(nframes, "nframes")?))
}

/// Release the ring; its frames are gone. SET_UP -> OPEN. WRONG_STATE when running or not
/// set up; BUSY while a chunk is locked.
#[no_mangle]
pub unsafe extern "C" fn labcam_clear_acquisition(h: labcam_handle) -> i32 {
    run_h("labcam_clear_acquisition", h, |c| c.clear())
}

/// Start acquiring (setting up a 100-frame ring first when OPEN). Frames of the previous run
/// are discarded and numbering restarts at 0. WRONG_STATE when already running; BUSY while a
/// chunk is locked.
#[no_mangle]
pub unsafe extern "C" fn labcam_start(h: labcam_handle) -> i32 {
    run_h("labcam_start", h, |c| c.start())
}

/// Start an acquisition of `nframes` frames (a sequence acquisition): as labcam_start, but
/// it ends by itself once `nframes` frames are kept in the ring, read or unread. Frames
/// given up because the ring was full (lost_overwritten) do not count, so `nframes` frames
/// can always be read; a ring of at least `nframes` frames loses none. The state stays
/// RUNNING until labcam_stop; once the frames are in, labcam_wait for more frames than are
/// unread, a software trigger and any change of settings give WRONG_STATE at once (the
/// settings stay those the frames were taken with). INVALID_ARGUMENT for `nframes` < 1; other errors as
/// labcam_start.
#[no_mangle]
pub unsafe extern "C" fn labcam_start_sequence(h: labcam_handle, nframes: i64) -> i32 {
    run_h("labcam_start_sequence", h, |c| {
        c.start_limited(count1_arg(nframes, "nframes")? as u64)
    })
}

/// Stop acquiring; frames acquired stay readable until clear or the next start. Pending
/// waits return ABORTED. WRONG_STATE when not running. In FAULT, ends the acquisition and
/// returns OK: after a disconnect the state stays FAULT (close the camera); after any other
/// fault (a vendor error, an internal error, a locked chunk overwritten) it becomes SET_UP
/// with the frames kept, and the camera can start again.
#[no_mangle]
pub unsafe extern "C" fn labcam_stop(h: labcam_handle) -> i32 {
    run_h("labcam_stop", h, |c| c.stop())
}

/// The acquisition state (LABCAM_STATE_*). Never waits behind labcam_wait.
#[no_mangle]
pub unsafe extern "C" fn labcam_get_acquisition_state(h: labcam_handle, state: *mut i32) -> i32 {
    run_h("labcam_get_acquisition_state", h, |c| {
        need(state, "state")?;
        put(state, c.state() as i32);
        Ok(())
    })
}

/// Wait until at least `nframes` unread frames exist; `timeout_s` in seconds (negative: no
/// limit). Returns OK, TIMEOUT, ABORTED (stop, close or cancel_wait from another thread),
/// DISCONNECTED or INTERNAL (the acquisition faulted with fewer frames unread),
/// WRONG_STATE (not running and fewer frames unread), INVALID_ARGUMENT (nframes < 1 or
/// more than the ring holds). Wakes on the frame's arrival (no polling).
#[no_mangle]
pub unsafe extern "C" fn labcam_wait(h: labcam_handle, nframes: i64, timeout_s: f64) -> i32 {
    run_h("labcam_wait", h, |c| c.wait(count1_arg(nframes, "nframes")?, timeout_arg(timeout_s)?))
}

/// Make every pending labcam_wait on `h` return ABORTED now.
#[no_mangle]
pub unsafe extern "C" fn labcam_cancel_wait(h: labcam_handle) -> i32 {
    run_h("labcam_cancel_wait", h, |c| {
        c.cancel_wait();
        Ok(())
    })
}

/// Frame counters (see labcam_frames_status); before setup all zero but last_index -1. Never waits behind
/// labcam_wait.
#[no_mangle]
pub unsafe extern "C" fn labcam_get_frames_status(h: labcam_handle, status: *mut FramesStatus) -> i32 {
    run_h("labcam_get_frames_status", h, |c| {
        need(status, "status")?;
        put(status, c.frames_status()?);
        Ok(())
    })
}

/// Copy up to `max_frames` oldest unread frames into `dst` (`dst_bytes` bytes), one after
/// the other, each `rows × cols` pixels in the current image indexing
/// (labcam_get_data_dimensions) and `frame_bytes` long; fewer when `dst` holds fewer. Their
/// infos go to `infos` (may be NULL; else room for `max_frames`). `*n_read` receives the
/// count, 0 when nothing is unread (this call never waits). `flags` LABCAM_READ_PEEK leaves
/// the frames unread. Errors: BUFFER_TOO_SMALL (not even one frame fits), WRONG_STATE (no
/// acquisition set up), BUSY (a chunk is locked; PEEK is still allowed), NULL_POINTER,
/// INVALID_ARGUMENT (negative max_frames, unknown flags).
#[no_mangle]
pub unsafe extern "C" fn labcam_read_chunk(h: labcam_handle, dst: *mut std::ffi::c_void, dst_bytes: u64, max_frames: i64, flags: i32, infos: *mut FrameInfo, n_read: *mut i64) -> i32 {
    run_h("labcam_read_chunk", h, |c| {
        need(n_read, "n_read")?;
        let max = count_arg(max_frames, "max_frames")?;
        if flags & !consts::LABCAM_READ_PEEK != 0 {
            crate::bail!(INVALID_ARGUMENT, "unknown read flags {flags:#x}");
        }
        let dst = buf_mut(dst, dst_bytes, "dst")?;
        // No more frames than bytes fit in dst: keeps the infos slice within reason.
        let max = max.min(dst.len());
        let infos = if infos.is_null() { None } else { Some(std::slice::from_raw_parts_mut(infos, max)) };
        let n = c.read_chunk(dst, max, flags & consts::LABCAM_READ_PEEK != 0, infos)?;
        put(n_read, n as i64);
        Ok(())
    })
}

/// Copy the newest unread frame into `dst` (in the current indexing) and its info into
/// `*info` (may be NULL); it and every older unread frame become read (skipped, not lost).
/// Errors: NOT_FOUND (no unread frame; never waits), BUFFER_TOO_SMALL, WRONG_STATE, BUSY.
#[no_mangle]
pub unsafe extern "C" fn labcam_read_newest(h: labcam_handle, dst: *mut std::ffi::c_void, dst_bytes: u64, info: *mut FrameInfo) -> i32 {
    run_h("labcam_read_newest", h, |c| {
        let dst = buf_mut(dst, dst_bytes, "dst")?;
        let i = c.read_newest(dst)?;
        put(info, i);
        Ok(())
    })
}

/// Acquire one frame into `dst`: sets up if needed, starts, waits up to `timeout_s`, reads,
/// stops (the acquisition stays set up). WRONG_STATE while running; BUFFER_TOO_SMALL;
/// TIMEOUT; ABORTED (stopped from another thread).
#[no_mangle]
pub unsafe extern "C" fn labcam_snap(h: labcam_handle, dst: *mut std::ffi::c_void, dst_bytes: u64, timeout_s: f64, info: *mut FrameInfo) -> i32 {
    run_h("labcam_snap", h, |c| {
        let dst = buf_mut(dst, dst_bytes, "dst")?;
        let mut i = [FrameInfo::default()];
        c.grab(1, dst, timeout_arg(timeout_s)?, Some(&mut i))?;
        put(info, i[0]);
        Ok(())
    })
}

/// Acquire `n` frames into `dst` (`n × frame_bytes` bytes needed), their infos into `infos`
/// (may be NULL; else room for `n`), `*n_read` the count: sets up if needed, starts, reads
/// frames as they arrive (each wait limited by `timeout_s`), stops. Errors as labcam_snap.
#[no_mangle]
pub unsafe extern "C" fn labcam_grab(h: labcam_handle, n: i64, dst: *mut std::ffi::c_void, dst_bytes: u64, timeout_s: f64, infos: *mut FrameInfo, n_read: *mut i64) -> i32 {
    run_h("labcam_grab", h, |c| {
        let n = count1_arg(n, "n")?;
        let dst = buf_mut(dst, dst_bytes, "dst")?;
        if n > dst.len() {
            crate::bail!(BUFFER_TOO_SMALL, "destination has {} bytes; {n} frames cannot fit", dst.len());
        }
        let infos = if infos.is_null() { None } else { Some(std::slice::from_raw_parts_mut(infos, n)) };
        let got = c.grab(n, dst, timeout_arg(timeout_s)?, infos)?;
        put(n_read, got as i64);
        Ok(())
    })
}

/// Zero-copy: pin up to `max_frames` of the oldest unread frames that are contiguous in the
/// ring and describe them in `*chunk` (addresses of the pixels, in the device layout, and of
/// their infos). They are not overwritten (new frames that would need their slots are
/// dropped and counted in lost_overwritten; with a camera that writes into ring slots
/// itself (Andor SDK3) the camera runs out of slots instead and the frames it misses count
/// in lost_device, known when its next frame arrives) until labcam_unlock_chunk(chunk_id),
/// which marks them read; close invalidates the addresses. Exception: a camera that cannot be held back
/// and writes into the ring itself (PVCAM) overwrites a chunk kept locked while it fills
/// the rest of the ring; the acquisition then faults with BUSY (its message says so), and
/// the chunk's pixels may be torn. With nothing unread, returns an empty chunk
/// (n_frames 0, chunk_id 0). One chunk at a time: BUSY while one is locked. WRONG_STATE
/// without a set-up acquisition. The call is O(1) whatever the frame size.
#[no_mangle]
pub unsafe extern "C" fn labcam_lock_chunk(h: labcam_handle, max_frames: i64, chunk: *mut Chunk) -> i32 {
    run_h("labcam_lock_chunk", h, |c| {
        need(chunk, "chunk")?;
        let ch = c.lock_chunk(count_arg(max_frames, "max_frames")?)?;
        put(chunk, ch);
        Ok(())
    })
}

/// Release the chunk `chunk_id` from labcam_lock_chunk; its frames become read. Id 0 (an
/// empty chunk) is accepted. INVALID_ARGUMENT for an id that is not locked.
#[no_mangle]
pub unsafe extern "C" fn labcam_unlock_chunk(h: labcam_handle, chunk_id: u64) -> i32 {
    run_h("labcam_unlock_chunk", h, |c| c.unlock_chunk(chunk_id))
}
