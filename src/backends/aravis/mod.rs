//! `aravis`: GenICam GigE Vision and USB3 Vision cameras through libaravis-0.8, loaded at run
//! time.
//!
//! * Camera ids: the device id Aravis discovery reports (`aravis:Aravis-Fake-GV01`), or an
//!   address (`aravis:127.0.0.1`), as `arv_camera_new` accepts.
//! * ROI: GenICam `Width`/`Height` and `OffsetX`/`OffsetY` count binned pixels
//!   (`BinningHorizontal`/`BinningVertical`), as the SFNC and most cameras do; labcam's ROI is in
//!   sensor pixels, so `hstart = OffsetX * hbin` and `hend = hstart + Width * hbin`. A ROI is
//!   applied as offsets to 0, binning, size, then offsets, so the camera never sees an invalid
//!   combination; positions and sizes are rounded down to the features' increments.
//! * Exposure: `ExposureTime` or `ExposureTimeAbs` (µs). Frame period: `AcquisitionFrameRate`
//!   or `AcquisitionFrameRateAbs` (Hz), enabled through `AcquisitionFrameRateEnable` when the
//!   camera has it; a period shorter than the camera allows gives the fastest rate.
//! * Triggers: INT = `TriggerMode=Off`; EXT = `TriggerMode=On`, `TriggerSource=Line0`;
//!   SOFTWARE = `TriggerMode=On`, `TriggerSource=Software` (`TriggerSelector=FrameStart`
//!   first when present).
//! * Attributes: every feature of the GenICam tree under `Root` (categories walked
//!   recursively), with its kind, access, bounds, increment and enum entries.
//! * Frames: a pool of Aravis buffers; each popped buffer is copied once into the ring slot
//!   and pushed back. framestamp = the GenICam frame id, unwrapped to 64 bits (16-bit GVSP
//!   ids go 65534, 65535, 65536, … instead of back to 1), timestamp = the buffer timestamp
//!   in ns (`timestamp_hz` 1e9). Buffers that arrive incomplete (missing packets, size mismatch,
//!   timeout) and gaps in frame ids (16-bit GVSP ids wrap 65535 -> 1) are counted in
//!   `lost_device`. The device's `control-lost` signal (heartbeat failure) or a GenICam
//!   timeout ends the acquisition with DISCONNECTED.

mod sys;

use crate::error::Num;
use crate::backend::{Device, Driver, FrameMeta, Stream};
use crate::error::{Error, Result, Status};
use crate::loader::VendorLibrary;
use crate::model::*;
use std::ffi::{c_char, CString};
use std::path::PathBuf;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use sys::{cstr, Api, Ptr};

/// Aravis buffers queued for the stream.
const STREAM_BUFFERS: usize = 32;

pub struct AravisDriver {
    lib: VendorLibrary<Api>,
}

impl AravisDriver {
    pub fn new() -> Self {
        AravisDriver { lib: VendorLibrary::new() }
    }

    fn api(&self) -> Result<Arc<Api>> {
        self.lib.get(sys::load)
    }
}

impl Default for AravisDriver {
    fn default() -> Self {
        Self::new()
    }
}

fn cs(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| err!(INVALID_ARGUMENT, "'{s}' contains a NUL byte"))
}

impl Driver for AravisDriver {
    fn name(&self) -> &'static str {
        "aravis"
    }

    fn list(&self) -> Result<Vec<String>> {
        let api = self.api()?;
        // SAFETY: Aravis' discovery functions; strings copied before the next call.
        unsafe {
            (api.update_device_list)();
            let n = (api.get_n_devices)();
            Ok((0..n).map(|i| cstr((api.get_device_id)(i))).filter(|s| !s.is_empty()).collect())
        }
    }

    fn open(&self, id: &str) -> Result<Box<dyn Device>> {
        let api = self.api()?;
        if id.is_empty() {
            bail!(INVALID_ARGUMENT, "an aravis camera id is needed: 'aravis:<device id>' or 'aravis:<address>' (see labcam_list_cameras)");
        }
        let name = cs(id)?;
        let mut e = null_mut();
        // SAFETY: name is a valid C string; the result is checked.
        let cam = unsafe { (api.camera_new)(name.as_ptr(), &mut e) };
        if let Err(err) = api.check(&format!("arv_camera_new(\"{id}\")"), e) {
            return Err(Error::new(Status::NOT_FOUND, format!("no aravis camera '{id}': {}", err.message)));
        }
        if cam.is_null() {
            bail!(NOT_FOUND, "no aravis camera '{id}' (arv_camera_new returned NULL)");
        }
        // SAFETY: cam is a live ArvCamera; the device is owned by it.
        let dev = unsafe { (api.camera_get_device)(cam) };
        let lost = Arc::new(AtomicBool::new(false));
        let handler = unsafe {
            (api.g_signal_connect_data)(dev, c"control-lost".as_ptr(), control_lost as Ptr, Arc::as_ptr(&lost) as Ptr, null_mut(), 0)
        };
        let mut c = AravisCamera { api, cam, dev, id: id.to_string(), lost, handler, stream: None, features: Vec::new() };
        // A GigE Vision camera takes orders from one controller: when another handle or
        // application holds it, Aravis opens the camera anyway and every write then times
        // out. BUSY instead.
        if let Some(ctl) = &c.api.controller {
            // SAFETY: cam and dev are live; dev is an ArvGvDevice when is_gv says so.
            if unsafe { (ctl.is_gv)(c.cam) } != 0 && unsafe { (ctl.is_controller)(c.dev) } == 0 {
                bail!(BUSY, "aravis camera '{id}' is controlled by another handle or application (arv_gv_device_is_controller is false); close it there first");
            }
        }
        c.features = c.walk_features();
        Ok(Box::new(c))
    }

    fn set_library_path(&self, path: Option<PathBuf>) -> Result<()> {
        self.lib.set_path(path);
        Ok(())
    }
}

/// `control-lost` handler: the device stopped answering heartbeats.
extern "C" fn control_lost(_device: Ptr, flag: Ptr) {
    // SAFETY: flag is the AtomicBool kept alive by the camera until the handler is
    // disconnected.
    unsafe { (*(flag as *const AtomicBool)).store(true, Ordering::Release) };
}

/// An ArvStream shared by the device (which stops it) and the acquisition thread.
struct StreamHandle {
    api: Arc<Api>,
    stream: Ptr,
}

// SAFETY: ArvStream's buffer queues are thread-safe (GAsyncQueue); push and pop happen on the
// acquisition thread, unref after it has ended.
unsafe impl Send for StreamHandle {}
unsafe impl Sync for StreamHandle {}

impl Drop for StreamHandle {
    fn drop(&mut self) {
        // SAFETY: the stream reference we own; disposing it frees its buffers.
        unsafe { (self.api.g_object_unref)(self.stream) };
    }
}

/// Features that set the image layout (SFNC: the ones TLParamsLocked guards), the stream's
/// mode or the trigger. labcam refuses them while acquiring even on cameras that do not
/// lock them (the fake camera does not): the ring was laid out for the frame size at start,
/// and labcam_set_trigger_mode is refused then too. (The core refuses the Acquisition*
/// commands in every state.)
const LOCKED_WHILE_ACQUIRING: &[&str] = &[
    "Width", "Height", "OffsetX", "OffsetY", "BinningHorizontal", "BinningVertical", "DecimationHorizontal", "DecimationVertical",
    "PixelFormat", "AcquisitionMode", "TLParamsLocked", "TriggerMode", "TriggerSource", "TriggerSelector",
];

pub struct AravisCamera {
    api: Arc<Api>,
    cam: Ptr,
    dev: Ptr,
    id: String,
    lost: Arc<AtomicBool>,
    handler: u64,
    stream: Option<Arc<StreamHandle>>,
    features: Vec<(String, AttrKind)>,
}

// SAFETY: the core serialises every call on a Device; Aravis camera/device objects may be
// used from any one thread at a time.
unsafe impl Send for AravisCamera {}

impl AravisCamera {
    /// WRONG_STATE for a LOCKED_WHILE_ACQUIRING feature while a stream is running.
    fn check_not_locked(&self, name: &str) -> Result<()> {
        if self.stream.is_some() && LOCKED_WHILE_ACQUIRING.contains(&name) {
            bail!(WRONG_STATE, "feature '{name}' cannot change while acquiring (it sets the image layout or the stream); stop first");
        }
        Ok(())
    }
}

impl Drop for AravisCamera {
    fn drop(&mut self) {
        // SAFETY: objects created in open; the signal handler goes before the flag it uses.
        unsafe {
            if self.handler != 0 {
                (self.api.g_signal_handler_disconnect)(self.dev, self.handler);
            }
            self.stream = None;
            (self.api.g_object_unref)(self.cam);
        }
    }
}

/// The pixel layout of a GenICam PixelFormat name: (bytes per pixel, bits, packed 12-bit).
fn pixel_layout(format: &str) -> Option<(i64, i64, bool)> {
    Some(match format {
        "Mono8" => (1, 8, false),
        "Mono10" => (2, 10, false),
        "Mono12" => (2, 12, false),
        "Mono14" => (2, 14, false),
        "Mono16" => (2, 16, false),
        "Mono12Packed" => (2, 12, true),
        _ => return None,
    })
}

impl AravisCamera {
    fn alive(&self) -> Result<()> {
        if self.lost.load(Ordering::Acquire) {
            bail!(DISCONNECTED, "aravis camera '{}' stopped answering (control lost)", self.id);
        }
        Ok(())
    }

    fn has(&self, name: &str) -> bool {
        let Ok(c) = cs(name) else { return false };
        // SAFETY: valid device and name.
        !unsafe { (self.api.device_get_feature)(self.dev, c.as_ptr()) }.is_null()
    }

    fn node(&self, name: &str) -> Result<Ptr> {
        let c = cs(name)?;
        // SAFETY: valid device and name.
        let n = unsafe { (self.api.device_get_feature)(self.dev, c.as_ptr()) };
        if n.is_null() {
            bail!(NOT_FOUND, "camera '{}' has no feature '{name}'", self.id);
        }
        Ok(n)
    }

    /// Call an Aravis function taking (device, feature, ..., GError**).
    fn call<T>(&self, what: &str, name: &str, f: impl FnOnce(*const c_char, sys::Err) -> T) -> Result<T> {
        self.alive()?;
        let c = cs(name)?;
        let mut e = null_mut();
        let r = f(c.as_ptr(), &mut e);
        self.api.check(&format!("{what}(\"{name}\")"), e)?;
        Ok(r)
    }

    fn get_int(&self, name: &str) -> Result<i64> {
        self.call("arv_device_get_integer_feature_value", name, |n, e| unsafe { (self.api.device_get_integer)(self.dev, n, e) })
    }
    fn set_int(&self, name: &str, v: i64) -> Result<()> {
        self.call("arv_device_set_integer_feature_value", name, |n, e| unsafe { (self.api.device_set_integer)(self.dev, n, v, e) })
    }
    fn int_bounds(&self, name: &str) -> Result<(i64, i64, i64)> {
        let (mut lo, mut hi) = (0i64, 0i64);
        self.call("arv_device_get_integer_feature_bounds", name, |n, e| unsafe { (self.api.device_get_integer_bounds)(self.dev, n, &mut lo, &mut hi, e) })?;
        let inc = self.call("arv_device_get_integer_feature_increment", name, |n, e| unsafe { (self.api.device_get_integer_increment)(self.dev, n, e) })?;
        Ok((lo, hi, inc.max(1)))
    }
    fn get_float(&self, name: &str) -> Result<f64> {
        self.call("arv_device_get_float_feature_value", name, |n, e| unsafe { (self.api.device_get_float)(self.dev, n, e) })
    }
    fn set_float(&self, name: &str, v: f64) -> Result<()> {
        self.call("arv_device_set_float_feature_value", name, |n, e| unsafe { (self.api.device_set_float)(self.dev, n, v, e) })
    }
    fn float_bounds(&self, name: &str) -> Result<(f64, f64)> {
        let (mut lo, mut hi) = (0f64, 0f64);
        self.call("arv_device_get_float_feature_bounds", name, |n, e| unsafe { (self.api.device_get_float_bounds)(self.dev, n, &mut lo, &mut hi, e) })?;
        Ok((lo, hi))
    }
    fn get_bool(&self, name: &str) -> Result<bool> {
        self.call("arv_device_get_boolean_feature_value", name, |n, e| unsafe { (self.api.device_get_boolean)(self.dev, n, e) != 0 })
    }
    fn set_bool(&self, name: &str, v: bool) -> Result<()> {
        self.call("arv_device_set_boolean_feature_value", name, |n, e| unsafe { (self.api.device_set_boolean)(self.dev, n, v as i32, e) })
    }
    fn get_string(&self, name: &str) -> Result<String> {
        self.call("arv_device_get_string_feature_value", name, |n, e| cstr(unsafe { (self.api.device_get_string)(self.dev, n, e) }))
    }
    fn set_string(&self, name: &str, v: &str) -> Result<()> {
        let cv = cs(v)?;
        self.call("arv_device_set_string_feature_value", name, |n, e| unsafe { (self.api.device_set_string)(self.dev, n, cv.as_ptr(), e) })
    }
    fn command(&self, name: &str) -> Result<()> {
        self.call("arv_device_execute_command", name, |n, e| unsafe { (self.api.device_execute_command)(self.dev, n, e) })
    }

    /// The first of `names` the camera has.
    fn which(&self, names: &[&'static str]) -> Option<&'static str> {
        names.iter().copied().find(|n| self.has(n))
    }

    fn is_a(&self, node: Ptr, ty: unsafe extern "C" fn() -> sys::GType) -> bool {
        // SAFETY: node is a GObject from the GenICam tree.
        unsafe { (self.api.g_type_check_instance_is_a)(node, ty()) != 0 }
    }

    fn kind_of(&self, node: Ptr) -> Option<AttrKind> {
        let a = &self.api;
        Some(if self.is_a(node, a.gc_category_get_type) {
            return None;
        } else if self.is_a(node, a.gc_enumeration_get_type) {
            AttrKind::Enum
        } else if self.is_a(node, a.gc_command_get_type) {
            AttrKind::Command
        } else if self.is_a(node, a.gc_boolean_get_type) {
            AttrKind::Bool
        } else if self.is_a(node, a.gc_integer_get_type) {
            AttrKind::Int
        } else if self.is_a(node, a.gc_float_get_type) {
            AttrKind::Float
        } else if self.is_a(node, a.gc_string_get_type) {
            AttrKind::String
        } else {
            return None;
        })
    }

    /// Every feature of the GenICam tree: those under the `Root` category first (depth
    /// first, in the camera's order), then value features no category lists (for example
    /// `AcquisitionFrameRate` on the Aravis fake camera). Register and converter nodes, the
    /// description's plumbing, are left out.
    fn walk_features(&self) -> Vec<(String, AttrKind)> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        // SAFETY: the GenICam tree belongs to the device and outlives this walk.
        let gc = unsafe { (self.api.device_get_genicam)(self.dev) };
        if gc.is_null() {
            return out;
        }
        let mut stack = vec!["Root".to_string()];
        while let Some(name) = stack.pop() {
            let Ok(c) = cs(&name) else { continue };
            let node = unsafe { (self.api.gc_get_node)(gc, c.as_ptr()) };
            if node.is_null() || !seen.insert(name.clone()) {
                continue;
            }
            if self.is_a(node, self.api.gc_category_get_type) {
                let mut children = Vec::new();
                let mut l = unsafe { (self.api.gc_category_get_features)(node) };
                while !l.is_null() {
                    // SAFETY: a GSList of feature names owned by the category.
                    unsafe {
                        children.push(cstr((*l).data as *const c_char));
                        l = (*l).next;
                    }
                }
                stack.extend(children.into_iter().rev());
            } else if let Some(k) = self.kind_of(node) {
                out.push((name, k));
            }
        }
        // Value features outside the categories: the children of the description element.
        let a = &self.api;
        // SAFETY: DOM traversal of the document the device owns.
        let mut child = unsafe { (a.dom_node_get_first_child)((a.dom_document_get_document_element)(gc)) };
        while !child.is_null() {
            let value_node = [a.gc_integer_node_get_type, a.gc_float_node_get_type, a.gc_string_node_get_type, a.gc_enumeration_get_type, a.gc_boolean_get_type, a.gc_command_get_type]
                .iter()
                .any(|t| self.is_a(child, *t));
            if value_node && self.is_a(child, a.gc_feature_node_get_type) {
                let name = cstr(unsafe { (a.gc_feature_node_get_name)(child) });
                if !name.is_empty() && seen.insert(name.clone()) {
                    if let Some(k) = self.kind_of(child) {
                        out.push((name, k));
                    }
                }
            }
            child = unsafe { (a.dom_node_get_next_sibling)(child) };
        }
        out
    }

    fn kind(&self, name: &str) -> Result<AttrKind> {
        if let Some((_, k)) = self.features.iter().find(|f| f.0 == name) {
            return Ok(*k);
        }
        let node = self.node(name)?;
        self.kind_of(node).ok_or_else(|| err!(NOT_SUPPORTED, "feature '{name}' is a category or register, not a value"))
    }

    fn enum_entries_of(&self, name: &str) -> Result<Vec<EnumEntry>> {
        let node = self.node(name)?;
        let mut out = Vec::new();
        // SAFETY: a GSList of ArvGcEnumEntry nodes owned by the enumeration.
        unsafe {
            let mut l = (self.api.gc_enumeration_get_entries)(node);
            while !l.is_null() {
                let entry = (*l).data;
                let mut e = null_mut();
                let avail = (self.api.gc_feature_node_is_available)(entry, &mut e) != 0;
                let _ = self.api.check("arv_gc_feature_node_is_available", e);
                let mut e = null_mut();
                let imp = (self.api.gc_feature_node_is_implemented)(entry, &mut e) != 0;
                let _ = self.api.check("arv_gc_feature_node_is_implemented", e);
                if imp {
                    out.push(EnumEntry { name: cstr((self.api.gc_feature_node_get_name)(entry)), available: avail });
                }
                l = (*l).next;
            }
        }
        Ok(out)
    }

    fn binning(&self) -> Result<(i64, i64)> {
        let h = if self.has("BinningHorizontal") { self.get_int("BinningHorizontal")?.max(1) } else { 1 };
        let v = if self.has("BinningVertical") { self.get_int("BinningVertical")?.max(1) } else { 1 };
        Ok((h, v))
    }

    fn exposure_feature(&self) -> Result<&'static str> {
        self.which(&["ExposureTime", "ExposureTimeAbs"]).ok_or_else(|| err!(NOT_SUPPORTED, "camera '{}' has neither ExposureTime nor ExposureTimeAbs", self.id))
    }

    fn rate_feature(&self) -> Option<&'static str> {
        self.which(&["AcquisitionFrameRate", "AcquisitionFrameRateAbs"])
    }

    /// Round `v` down onto `min + k*inc`.
    fn snap(v: i64, min: i64, inc: i64) -> i64 {
        if v <= min {
            min
        } else {
            min + (v - min) / inc * inc
        }
    }
}

impl Device for AravisCamera {
    fn device_info(&mut self) -> Result<Vec<(String, String)>> {
        self.alive()?;
        let api = &self.api;
        let get = |f: unsafe extern "C" fn(Ptr, sys::Err) -> *const c_char, what: &str| -> Result<String> {
            let mut e = null_mut();
            let s = cstr(unsafe { f(self.cam, &mut e) });
            api.check(what, e)?;
            Ok(s)
        };
        let version = unsafe { format!("aravis {}.{}.{}", (api.get_major_version)(), (api.get_minor_version)(), (api.get_micro_version)()) };
        Ok(vec![
            ("backend".into(), "aravis".into()),
            ("vendor".into(), get(api.camera_get_vendor_name, "arv_camera_get_vendor_name")?),
            ("model".into(), get(api.camera_get_model_name, "arv_camera_get_model_name")?),
            ("serial".into(), get(api.camera_get_device_serial_number, "arv_camera_get_device_serial_number")?),
            ("sdk_version".into(), version),
            ("device_id".into(), get(api.camera_get_device_id, "arv_camera_get_device_id")?),
            ("library".into(), api.path.clone()),
        ])
    }

    fn detector_size(&mut self) -> Result<(i64, i64)> {
        self.alive()?;
        let (mut w, mut h) = (0, 0);
        let mut e = null_mut();
        unsafe { (self.api.camera_get_sensor_size)(self.cam, &mut w, &mut h, &mut e) };
        self.api.check("arv_camera_get_sensor_size", e)?;
        Ok((w as i64, h as i64))
    }

    fn roi_limits(&mut self) -> Result<RoiLimits> {
        let (hb, vb) = self.binning()?;
        let (w_lo, _, w_inc) = self.int_bounds("Width")?;
        let (h_lo, _, h_inc) = self.int_bounds("Height")?;
        let x_inc = if self.has("OffsetX") { self.int_bounds("OffsetX")?.2 } else { 1 };
        let y_inc = if self.has("OffsetY") { self.int_bounds("OffsetY")?.2 } else { 1 };
        let (sw, sh) = self.detector_size()?;
        let bin_max = |f: &str| -> Result<i64> { Ok(if self.has(f) { self.int_bounds(f)?.1.max(1) } else { 1 }) };
        let (mh, mv) = (bin_max("BinningHorizontal")?, bin_max("BinningVertical")?);
        let mask = |m: i64| if m >= 64 { u64::MAX } else { (1u64 << m) - 1 };
        Ok(RoiLimits {
            min_width: w_lo * hb,
            max_width: sw,
            min_height: h_lo * vb,
            max_height: sh,
            hstart_step: x_inc * hb,
            vstart_step: y_inc * vb,
            width_step: w_inc * hb,
            height_step: h_inc * vb,
            max_hbin: mh,
            max_vbin: mv,
            hbin_mask: mask(mh),
            vbin_mask: mask(mv),
        })
    }

    fn set_roi(&mut self, r: Roi) -> Result<Roi> {
        self.alive()?;
        for (f, b) in [("BinningHorizontal", r.hbin), ("BinningVertical", r.vbin)] {
            if b != 1 && !self.has(f) {
                bail!(INVALID_ARGUMENT, "camera '{}' has no {f}: binning {b} impossible", self.id);
            }
            if self.has(f) {
                let (lo, hi, _) = self.int_bounds(f)?;
                if b < lo || b > hi {
                    bail!(INVALID_ARGUMENT, "{f} {b} out of the camera's range [{lo}, {hi}]");
                }
            }
        }
        // 1. offsets to 0: always valid.
        for f in ["OffsetX", "OffsetY"] {
            if self.has(f) && self.get_int(f)? != 0 {
                self.set_int(f, 0)?;
            }
        }
        // 2. binning.
        for (f, b) in [("BinningHorizontal", r.hbin), ("BinningVertical", r.vbin)] {
            if self.has(f) && self.get_int(f)? != b {
                self.set_int(f, b)?;
            }
        }
        // 3. size, in binned pixels, rounded down to the increment.
        for (f, start, end, bin) in [("Width", r.hstart, r.hend, r.hbin), ("Height", r.vstart, r.vend, r.vbin)] {
            let (lo, hi, inc) = self.int_bounds(f)?;
            let want = (end - start) / bin;
            if want < lo {
                bail!(INVALID_ARGUMENT, "ROI {} of {} px ({want} binned px) is below the camera's minimum {f} {lo} at binning {bin}", f.to_lowercase(), end - start);
            }
            let v = Self::snap(want.min(hi), lo, inc);
            self.set_int(f, v)?;
        }
        // 4. offsets, in binned pixels, rounded down and kept inside the sensor.
        for (f, start, bin) in [("OffsetX", r.hstart, r.hbin), ("OffsetY", r.vstart, r.vbin)] {
            if !self.has(f) {
                if start != 0 {
                    bail!(INVALID_ARGUMENT, "camera '{}' has no {f}: the ROI must start at 0", self.id);
                }
                continue;
            }
            let (lo, hi, inc) = self.int_bounds(f)?;
            let v = Self::snap((start / bin).min(hi), lo, inc);
            self.set_int(f, v)?;
        }
        self.roi()
    }

    fn roi(&mut self) -> Result<Roi> {
        let (hb, vb) = self.binning()?;
        let ox = if self.has("OffsetX") { self.get_int("OffsetX")? } else { 0 };
        let oy = if self.has("OffsetY") { self.get_int("OffsetY")? } else { 0 };
        let w = self.get_int("Width")?;
        let h = self.get_int("Height")?;
        Ok(Roi { hstart: ox * hb, hend: (ox + w) * hb, vstart: oy * vb, vend: (oy + h) * vb, hbin: hb, vbin: vb })
    }

    fn frame_format(&mut self) -> Result<FrameFormat> {
        let w = self.get_int("Width")?;
        let h = self.get_int("Height")?;
        let pf = if self.has("PixelFormat") { self.get_string("PixelFormat")? } else { "Mono8".into() };
        let Some((bpp, bits, _)) = pixel_layout(&pf) else {
            bail!(NOT_SUPPORTED, "pixel format '{pf}' of camera '{}' is not supported (Mono8, Mono10, Mono12, Mono12Packed, Mono14, Mono16)", self.id);
        };
        Ok(FrameFormat::new(w, h, bpp, bits))
    }

    fn set_exposure(&mut self, seconds: f64) -> Result<f64> {
        let f = self.exposure_feature()?;
        let (lo, hi) = self.float_bounds(f)?;
        let us = seconds * 1e6;
        if us < lo || us > hi {
            bail!(INVALID_ARGUMENT, "exposure {} s out of the camera's range [{}, {}] s ({f})", Num(seconds), lo / 1e6, hi / 1e6);
        }
        self.set_float(f, us)?;
        Ok(self.get_float(f)? / 1e6)
    }

    fn exposure(&mut self) -> Result<f64> {
        let f = self.exposure_feature()?;
        Ok(self.get_float(f)? / 1e6)
    }

    fn set_frame_period(&mut self, seconds: f64) -> Result<f64> {
        let Some(f) = self.rate_feature() else {
            bail!(NOT_SUPPORTED, "camera '{}' has no AcquisitionFrameRate feature", self.id);
        };
        if self.has("AcquisitionFrameRateEnable") {
            self.set_bool("AcquisitionFrameRateEnable", true)?;
        }
        let (lo, hi) = self.float_bounds(f)?;
        let rate = if seconds <= 0.0 { hi } else { (1.0 / seconds).min(hi) };
        if rate < lo {
            bail!(INVALID_ARGUMENT, "frame period {} s longer than the camera allows ({} s, {f} minimum {lo} Hz)", Num(seconds), 1.0 / lo);
        }
        self.set_float(f, rate)?;
        Ok(1.0 / self.get_float(f)?)
    }

    fn frame_timings(&mut self) -> Result<(f64, f64)> {
        let e = self.exposure()?;
        let p = match self.rate_feature() {
            Some(f) => 1.0 / self.get_float(f)?,
            None => e,
        };
        Ok((e, p))
    }

    fn set_trigger_mode(&mut self, mode: TriggerMode) -> Result<()> {
        if !self.has("TriggerMode") {
            if mode == TriggerMode::Int {
                return Ok(());
            }
            bail!(NOT_SUPPORTED, "camera '{}' has no TriggerMode feature: only INT", self.id);
        }
        if self.has("TriggerSelector") {
            let sel = self.enum_entries_of("TriggerSelector")?;
            if sel.iter().any(|e| e.name == "FrameStart") {
                self.set_string("TriggerSelector", "FrameStart")?;
            }
        }
        let source = match mode {
            TriggerMode::Int => return self.set_string("TriggerMode", "Off"),
            TriggerMode::Ext => "Line0",
            TriggerMode::Software => "Software",
            m => bail!(NOT_SUPPORTED, "trigger mode {} is not mapped for GenICam cameras (INT, EXT, SOFTWARE)", m.name()),
        };
        let sources = self.enum_entries_of("TriggerSource")?;
        if !sources.iter().any(|e| e.name == source) {
            bail!(NOT_SUPPORTED, "camera '{}' has no TriggerSource '{source}' (has: {})", self.id, sources.iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join(", "));
        }
        self.set_string("TriggerSource", source)?;
        self.set_string("TriggerMode", "On")
    }

    fn trigger_mode(&mut self) -> Result<TriggerMode> {
        if !self.has("TriggerMode") || self.get_string("TriggerMode")? == "Off" {
            return Ok(TriggerMode::Int);
        }
        Ok(if self.get_string("TriggerSource")? == "Software" { TriggerMode::Software } else { TriggerMode::Ext })
    }

    fn send_software_trigger(&mut self) -> Result<()> {
        if self.trigger_mode()? != TriggerMode::Software {
            bail!(WRONG_STATE, "software trigger sent while the trigger source is not Software");
        }
        self.alive()?;
        let mut e = null_mut();
        unsafe { (self.api.camera_software_trigger)(self.cam, &mut e) };
        self.api.check("arv_camera_software_trigger", e)
    }

    fn attr_names(&mut self) -> Result<Vec<String>> {
        Ok(self.features.iter().map(|f| f.0.clone()).collect())
    }

    fn attr_info(&mut self, name: &str) -> Result<AttrInfo> {
        self.alive()?;
        let kind = self.kind(name)?;
        let node = self.node(name)?;
        let mut e = null_mut();
        let implemented = unsafe { (self.api.gc_feature_node_is_implemented)(node, &mut e) } != 0;
        self.api.check("arv_gc_feature_node_is_implemented", e)?;
        let mut e = null_mut();
        let available = unsafe { (self.api.gc_feature_node_is_available)(node, &mut e) } != 0;
        self.api.check("arv_gc_feature_node_is_available", e)?;
        let mut e = null_mut();
        let locked = unsafe { (self.api.gc_feature_node_is_locked)(node, &mut e) } != 0;
        self.api.check("arv_gc_feature_node_is_locked", e)?;
        let access = unsafe { (self.api.gc_feature_node_get_actual_access_mode)(node) };
        let mut info = AttrInfo::of(kind, false);
        let usable = implemented && available;
        info.implemented = implemented as i64;
        info.readable = (usable && kind != AttrKind::Command && (access == sys::ACCESS_RO || access == sys::ACCESS_RW)) as i64;
        info.writable = (usable && !locked && (access == sys::ACCESS_WO || access == sys::ACCESS_RW)) as i64;
        if usable {
            // Some descriptions give no bounds for a feature (Aravis: "<Min> node not
            // found"): its limits are then reported as unbounded.
            match kind {
                AttrKind::Int => {
                    if let Ok(b) = self.int_bounds(name) {
                        (info.int_min, info.int_max, info.int_step) = b;
                    }
                }
                AttrKind::Float => {
                    if let Ok(b) = self.float_bounds(name) {
                        (info.float_min, info.float_max) = b;
                    }
                }
                AttrKind::Enum => info.enum_count = self.enum_entries_of(name)?.len() as i64,
                _ => {}
            }
        }
        Ok(info)
    }

    fn attr_enum_entries(&mut self, name: &str) -> Result<Vec<EnumEntry>> {
        self.enum_entries_of(name)
    }

    fn get_attr(&mut self, name: &str) -> Result<AttrValue> {
        Ok(match self.kind(name)? {
            AttrKind::Int => AttrValue::Int(self.get_int(name)?),
            AttrKind::Float => AttrValue::Float(self.get_float(name)?),
            AttrKind::Bool => AttrValue::Bool(self.get_bool(name)?),
            AttrKind::Enum => AttrValue::Enum(self.get_string(name)?),
            AttrKind::String => AttrValue::String(self.get_string(name)?),
            AttrKind::Command => bail!(ATTR_TYPE, "feature '{name}' is a command"),
        })
    }

    fn set_attr(&mut self, name: &str, value: AttrValue) -> Result<()> {
        self.check_not_locked(name)?;
        let info = self.attr_info(name)?;
        if info.writable == 0 {
            bail!(NOT_SUPPORTED, "feature '{name}' is not writable now");
        }
        match value {
            // Limits were checked by the core (AttrInfo::check_value).
            AttrValue::Int(v) => self.set_int(name, v),
            AttrValue::Float(v) => self.set_float(name, v),
            AttrValue::Bool(v) => self.set_bool(name, v),
            AttrValue::Enum(v) | AttrValue::String(v) => self.set_string(name, &v),
        }
    }

    fn attr_command(&mut self, name: &str) -> Result<()> {
        self.check_not_locked(name)?;
        self.command(name)
    }

    fn setup(&mut self, _nframes: usize) -> Result<()> {
        self.alive()
    }

    fn clear(&mut self) -> Result<()> {
        Ok(())
    }

    fn start(&mut self) -> Result<Box<dyn Stream>> {
        self.alive()?;
        self.frame_format()?;
        let packed = self.has("PixelFormat") && pixel_layout(&self.get_string("PixelFormat")?).map(|p| p.2).unwrap_or(false);
        let api = &self.api;
        let mut e = null_mut();
        let payload = unsafe { (api.camera_get_payload)(self.cam, &mut e) } as usize;
        api.check("arv_camera_get_payload", e)?;
        let mut e = null_mut();
        let stream = unsafe { (api.camera_create_stream)(self.cam, null_mut(), null_mut(), &mut e) };
        api.check("arv_camera_create_stream", e)?;
        if stream.is_null() {
            bail!(VENDOR, "arv_camera_create_stream returned NULL for camera '{}'", self.id);
        }
        let handle = Arc::new(StreamHandle { api: api.clone(), stream });
        for _ in 0..STREAM_BUFFERS {
            // SAFETY: Aravis allocates the buffer memory; the stream takes the reference.
            unsafe { (api.stream_push_buffer)(stream, (api.buffer_new)(payload, null_mut())) };
        }
        let mut e = null_mut();
        unsafe { (api.camera_set_acquisition_mode)(self.cam, sys::ACQUISITION_MODE_CONTINUOUS, &mut e) };
        api.check("arv_camera_set_acquisition_mode", e)?;
        let mut e = null_mut();
        unsafe { (api.camera_start_acquisition)(self.cam, &mut e) };
        api.check("arv_camera_start_acquisition", e)?;
        self.stream = Some(handle.clone());
        Ok(Box::new(AravisStream {
            h: handle,
            lost: self.lost.clone(),
            id: self.id.clone(),
            packed,
            ids: FrameIds::default(),
        }))
    }

    fn stop(&mut self) -> Result<()> {
        let mut e = null_mut();
        unsafe { (self.api.camera_stop_acquisition)(self.cam, &mut e) };
        let r = self.api.check("arv_camera_stop_acquisition", e);
        // Dropping our reference disposes the stream (its thread and buffers).
        self.stream = None;
        if self.lost.load(Ordering::Acquire) {
            return Ok(());
        }
        r
    }
}

struct AravisStream {
    h: Arc<StreamHandle>,
    lost: Arc<AtomicBool>,
    id: String,
    packed: bool,
    ids: FrameIds,
}

/// Frame-id bookkeeping: losses from gaps, and the unwrapped framestamp.
#[derive(Default)]
struct FrameIds {
    last_id: Option<u64>,
    /// The last frame id, unwrapped.
    framestamp: i64,
    pending_lost: u64,
    /// Incomplete frames not yet reported (take_lost).
    incomplete: u64,
    /// Incomplete frames reported since the last complete one: the next id gap counts them
    /// again, so it is reduced by this much.
    credit: u64,
}

impl FrameIds {
    /// Frames skipped between two frame ids; GVSP 16-bit ids wrap from 65535 to 1.
    fn gap(last: u64, id: u64) -> u64 {
        if id > last {
            id - last - 1
        } else if (0xFF00..=0xFFFF).contains(&last) && id < 0x100 {
            (0xFFFF - last) + id.saturating_sub(1)
        } else {
            0
        }
    }

    /// Count the frames skipped before frame `id` and advance the unwrapped framestamp
    /// (a restart of the ids, which is not a loss, continues it by one).
    fn account(&mut self, id: u64) {
        match self.last_id {
            Some(last) => {
                let gap = Self::gap(last, id);
                self.pending_lost += gap.saturating_sub(self.credit);
                self.framestamp += gap as i64 + 1;
            }
            None => self.framestamp = id as i64,
        }
        self.credit = 0;
        self.last_id = Some(id);
    }
}

/// Unpack GigE Vision Mono12Packed (2 pixels in 3 bytes) into 16-bit pixels.
fn unpack_mono12(src: &[u8], dst: &mut [u8]) {
    let n = dst.len() / 2;
    for (i, out) in dst.chunks_exact_mut(2).enumerate().take(n) {
        let k = i / 2 * 3;
        let mid = src[k + 1] as u16;
        let v = if i % 2 == 0 { ((src[k] as u16) << 4) | (mid & 0x0F) } else { ((src[k + 2] as u16) << 4) | (mid >> 4) };
        out.copy_from_slice(&v.to_ne_bytes());
    }
}

impl Stream for AravisStream {
    fn take_lost(&mut self) -> u64 {
        std::mem::take(&mut self.ids.incomplete)
    }

    fn next_frame(&mut self, dst: &mut [u8], timeout: Duration) -> Result<Option<FrameMeta>> {
        let h = self.h.clone();
        let api = &h.api;
        loop {
            if self.lost.load(Ordering::Acquire) {
                bail!(DISCONNECTED, "aravis camera '{}' stopped answering (control lost)", self.id);
            }
            // SAFETY: the stream is alive while the handle is.
            let buf = unsafe { (api.stream_timeout_pop_buffer)(self.h.stream, timeout.as_micros() as u64) };
            if buf.is_null() {
                return Ok(None);
            }
            let status = unsafe { (api.buffer_get_status)(buf) };
            let id = unsafe { (api.buffer_get_frame_id)(buf) };
            let ts = unsafe { (api.buffer_get_timestamp)(buf) };
            let mut size = 0usize;
            let data = unsafe { (api.buffer_get_data)(buf, &mut size) } as *const u8;
            let need = if self.packed { (dst.len() / 2 * 3).div_ceil(2) } else { dst.len() };
            let complete = status == sys::BUFFER_STATUS_SUCCESS && !data.is_null() && size >= need;
            if complete {
                // SAFETY: data has `size` >= need bytes until the buffer is pushed back.
                let src = unsafe { std::slice::from_raw_parts(data, need) };
                if self.packed {
                    unpack_mono12(src, dst);
                } else {
                    dst.copy_from_slice(src);
                }
            }
            unsafe { (api.stream_push_buffer)(self.h.stream, buf) };
            if !complete {
                // Incomplete frames are not delivered: lost at the device, reported at once
                // (take_lost). Their frame id is not trusted (a buffer that lost its leader
                // says 0): the next complete frame's id gap, which includes them, is
                // reduced by the ones already reported.
                self.ids.incomplete += 1;
                self.ids.credit += 1;
                continue;
            }
            self.ids.account(id);
            return Ok(Some(FrameMeta {
                framestamp: self.ids.framestamp,
                timestamp_ticks: ts as i64,
                timestamp_hz: 1e9,
                flags: 0,
                lost_before: std::mem::take(&mut self.ids.pending_lost),
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_id_gaps_with_16_bit_wrap() {
        assert_eq!(FrameIds::gap(5, 6), 0);
        assert_eq!(FrameIds::gap(5, 9), 3);
        assert_eq!(FrameIds::gap(65535, 1), 0);
        assert_eq!(FrameIds::gap(65534, 2), 2);
        assert_eq!(FrameIds::gap(100, 3), 0, "a restart is not a loss");
    }

    #[test]
    fn framestamps_unwrap_16_bit_ids() {
        let mut s = FrameIds::default();
        let mut stamps = Vec::new();
        for id in [65533, 65534, 65535, 1, 2, 5, 6] {
            s.account(id);
            stamps.push(s.framestamp);
        }
        assert_eq!(stamps, [65533, 65534, 65535, 65536, 65537, 65540, 65541]);
        assert_eq!(s.pending_lost, 2);
    }

    #[test]
    fn incomplete_frames_are_not_counted_twice() {
        // 10 complete, two incomplete (reported at once, ids not trusted), 14 complete: the
        // gap 11..13 holds the two incomplete ones and one never seen.
        let mut s = FrameIds::default();
        s.account(10);
        s.incomplete += 2;
        s.credit += 2;
        s.account(14);
        assert_eq!((s.framestamp, s.pending_lost, s.incomplete), (14, 1, 2));
    }

    #[test]
    fn mono12_packed_unpacks() {
        // pixels 0xABC and 0x123: b0 = 0xAB, b1 = 0x3C, b2 = 0x12
        let src = [0xAB, 0x3C, 0x12];
        let mut dst = [0u8; 4];
        unpack_mono12(&src, &mut dst);
        assert_eq!(u16::from_ne_bytes([dst[0], dst[1]]), 0xABC);
        assert_eq!(u16::from_ne_bytes([dst[2], dst[3]]), 0x123);
    }

    #[test]
    fn snapping_to_increments() {
        assert_eq!(AravisCamera::snap(37, 1, 4), 37);
        assert_eq!(AravisCamera::snap(38, 2, 4), 38);
        assert_eq!(AravisCamera::snap(39, 2, 4), 38);
        assert_eq!(AravisCamera::snap(0, 16, 8), 16);
    }
}
