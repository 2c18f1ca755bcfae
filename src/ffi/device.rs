//! Per-camera functions: device information, geometry, frame format, timing, trigger.
//! Every function here may be called from any thread; calls on one handle are serialised.
//! Common errors: INVALID_HANDLE (closed, stale, 0), NULL_POINTER (a required pointer),
//! DISCONNECTED (the camera is gone), VENDOR (the SDK refused; message has code and name).

use super::*;
use crate::model::{FrameFormat, Indexing, Roi, RoiLimits, TriggerMode};

/// Write `key=value` lines (each ending in '\n') describing the camera: backend, vendor,
/// model, serial, sdk_version, and backend-specific keys. Buffer rules as
/// labcam_status_name.
#[no_mangle]
pub unsafe extern "C" fn labcam_get_device_info(h: labcam_handle, buf: *mut c_char, cap: u64, needed: *mut u64) -> i32 {
    run_h("labcam_get_device_info", h, |c| put_string(&c.device_info()?, buf, cap, needed))
}

/// Full sensor size in pixels (unaffected by ROI, binning and indexing).
#[no_mangle]
pub unsafe extern "C" fn labcam_get_detector_size(h: labcam_handle, width: *mut i64, height: *mut i64) -> i32 {
    run_h("labcam_get_detector_size", h, |c| {
        need(width, "width")?;
        need(height, "height")?;
        let (w, hh) = c.detector_size()?;
        put(width, w);
        put(height, hh);
        Ok(())
    })
}

/// ROI limits at the current binning, in sensor pixels (see labcam_roi_limits).
#[no_mangle]
pub unsafe extern "C" fn labcam_get_roi_limits(h: labcam_handle, limits: *mut RoiLimits) -> i32 {
    run_h("labcam_get_roi_limits", h, |c| {
        need(limits, "limits")?;
        put(limits, c.roi_limits()?);
        Ok(())
    })
}

/// Set the ROI `[hstart, hend) × [vstart, vend)` in sensor pixels with binning `hbin × vbin`.
/// The camera rounds to its steps (positions down, sizes down); the ROI applied is written to
/// `*applied` (may be NULL). A ROI outside the sensor, empty, below the minimum size after
/// rounding, or an unsupported binning gives INVALID_ARGUMENT and changes nothing. Not
/// allowed while acquiring (WRONG_STATE); when set up, an acquisition whose frame size
/// changes is cleared (state OPEN).
#[no_mangle]
pub unsafe extern "C" fn labcam_set_roi(h: labcam_handle, hstart: i64, hend: i64, vstart: i64, vend: i64, hbin: i64, vbin: i64, applied: *mut Roi) -> i32 {
    run_h("labcam_set_roi", h, |c| {
        let r = c.set_roi(Roi { hstart, hend, vstart, vend, hbin, vbin })?;
        put(applied, r);
        Ok(())
    })
}

/// The current ROI and binning.
#[no_mangle]
pub unsafe extern "C" fn labcam_get_roi(h: labcam_handle, roi: *mut Roi) -> i32 {
    run_h("labcam_get_roi", h, |c| {
        need(roi, "roi")?;
        put(roi, c.roi()?);
        Ok(())
    })
}

/// Shape of frames as read with the current ROI, binning and image indexing:
/// `*rows × *cols` pixels (for XYT/XYB, rows run along x).
#[no_mangle]
pub unsafe extern "C" fn labcam_get_data_dimensions(h: labcam_handle, rows: *mut i64, cols: *mut i64) -> i32 {
    run_h("labcam_get_data_dimensions", h, |c| {
        need(rows, "rows")?;
        need(cols, "cols")?;
        let (r, cc) = c.data_dimensions()?;
        put(rows, r);
        put(cols, cc);
        Ok(())
    })
}

/// Set the image indexing applied when frames are read (LABCAM_INDEXING_RCT, RCB, XYT, XYB).
/// Allowed in any state; zero-copy chunks keep the device layout. INVALID_ARGUMENT for other
/// values.
#[no_mangle]
pub unsafe extern "C" fn labcam_set_image_indexing(h: labcam_handle, mode: i32) -> i32 {
    run_h("labcam_set_image_indexing", h, |c| c.set_indexing(Indexing::from_i32(mode)?))
}

/// The current image indexing (LABCAM_INDEXING_*).
#[no_mangle]
pub unsafe extern "C" fn labcam_get_image_indexing(h: labcam_handle, mode: *mut i32) -> i32 {
    run_h("labcam_get_image_indexing", h, |c| {
        need(mode, "mode")?;
        put(mode, c.indexing()? as i32);
        Ok(())
    })
}

/// Layout of one frame in the device's orientation with the current settings (packed vendor
/// formats are reported unpacked, as read). After a disconnect (FAULT): the layout of the
/// frames kept in the ring.
#[no_mangle]
pub unsafe extern "C" fn labcam_get_frame_format(h: labcam_handle, format: *mut FrameFormat) -> i32 {
    run_h("labcam_get_frame_format", h, |c| {
        need(format, "format")?;
        put(format, c.frame_format()?);
        Ok(())
    })
}

/// Set the exposure in seconds; the value applied (after the camera's rounding) goes to
/// `*applied` (may be NULL). The frame period grows when needed. INVALID_ARGUMENT when out
/// of the camera's range (nothing changes) or not finite.
#[no_mangle]
pub unsafe extern "C" fn labcam_set_exposure(h: labcam_handle, seconds: f64, applied: *mut f64) -> i32 {
    run_h("labcam_set_exposure", h, |c| {
        let a = c.set_exposure(seconds)?;
        put(applied, a);
        Ok(())
    })
}

/// The exposure in seconds.
#[no_mangle]
pub unsafe extern "C" fn labcam_get_exposure(h: labcam_handle, seconds: *mut f64) -> i32 {
    run_h("labcam_get_exposure", h, |c| {
        need(seconds, "seconds")?;
        put(seconds, c.exposure()?);
        Ok(())
    })
}

/// Set the frame period (1 / frame rate) in seconds; 0 asks for the fastest. The period
/// applied, never below exposure + readout, goes to `*applied` (may be NULL).
/// INVALID_ARGUMENT for negative, non-finite or too long periods.
#[no_mangle]
pub unsafe extern "C" fn labcam_set_frame_period(h: labcam_handle, seconds: f64, applied: *mut f64) -> i32 {
    run_h("labcam_set_frame_period", h, |c| {
        let a = c.set_frame_period(seconds)?;
        put(applied, a);
        Ok(())
    })
}

/// The exposure and the effective frame period, in seconds. Either pointer may be NULL.
#[no_mangle]
pub unsafe extern "C" fn labcam_get_frame_timings(h: labcam_handle, exposure: *mut f64, period: *mut f64) -> i32 {
    run_h("labcam_get_frame_timings", h, |c| {
        let (e, p) = c.frame_timings()?;
        put(exposure, e);
        put(period, p);
        Ok(())
    })
}

/// Set the trigger mode (LABCAM_TRIGGER_*). NOT_SUPPORTED for modes the camera lacks,
/// INVALID_ARGUMENT for unknown values, WRONG_STATE while acquiring.
#[no_mangle]
pub unsafe extern "C" fn labcam_set_trigger_mode(h: labcam_handle, mode: i32) -> i32 {
    run_h("labcam_set_trigger_mode", h, |c| c.set_trigger_mode(TriggerMode::from_i32(mode)?))
}

/// The trigger mode (LABCAM_TRIGGER_*).
#[no_mangle]
pub unsafe extern "C" fn labcam_get_trigger_mode(h: labcam_handle, mode: *mut i32) -> i32 {
    run_h("labcam_get_trigger_mode", h, |c| {
        need(mode, "mode")?;
        put(mode, c.trigger_mode()? as i32);
        Ok(())
    })
}

/// Trigger one frame. WRONG_STATE unless acquiring in LABCAM_TRIGGER_SOFTWARE mode, and
/// once a sequence (labcam_start_sequence) has all its frames.
#[no_mangle]
pub unsafe extern "C" fn labcam_send_software_trigger(h: labcam_handle) -> i32 {
    run_h("labcam_send_software_trigger", h, |c| c.send_software_trigger())
}
