//! The backend trait: what every vendor backend implements.
//!
//! A [`Driver`] is one backend (`sim`, `aravis`, ...): it lists cameras and opens them. A
//! [`Device`] is one open camera: geometry, timings, trigger, attributes, and the setup of
//! an acquisition. While acquiring, frames come from a [`Stream`] owned by the core's
//! acquisition thread, so that control calls (attributes, software trigger, stop) never wait
//! for a frame. The core serialises every call on one `Device`; `Stream::next_frame` runs
//! concurrently with them on the acquisition thread.
//!
//! Backends never see C types and the core never sees vendor types.

use crate::error::Result;
use crate::model::*;
use std::path::PathBuf;
use std::time::Duration;

/// One backend: camera discovery and opening.
pub trait Driver: Send + Sync {
    /// The backend's name, the prefix of its camera ids (`"sim"`, `"aravis"`).
    fn name(&self) -> &'static str;

    /// Ids (without the `backend:` prefix) of the cameras this backend can see now.
    /// A backend whose vendor library is missing returns `LIBRARY_LOAD`.
    fn list(&self) -> Result<Vec<String>>;

    /// Open the camera `id` (the part after `backend:`; empty for the default camera).
    fn open(&self, id: &str) -> Result<Box<dyn Device>>;

    /// Set the vendor library path tried first (`None` restores the default search).
    /// Takes effect at the next load; returns `NOT_SUPPORTED` for built-in backends.
    fn set_library_path(&self, _path: Option<PathBuf>) -> Result<()> {
        Err(crate::err!(NOT_SUPPORTED, "backend '{}' has no vendor library", self.name()))
    }
}

/// What a backend returns for each frame it writes into a ring slot.
#[derive(Clone, Copy, Debug, Default)]
pub struct FrameMeta {
    /// The camera's frame counter, or -1.
    pub framestamp: i64,
    /// Device clock ticks, or -1.
    pub timestamp_ticks: i64,
    /// Device clock frequency in Hz, 0 if unknown.
    pub timestamp_hz: f64,
    /// `FRAME_*` flags.
    pub flags: u64,
    /// Frames the device skipped just before this one (counted in `lost_device`).
    pub lost_before: u64,
}

/// What an in-place stream reports.
#[derive(Debug)]
pub enum InPlaceEvent {
    /// Nothing arrived within the timeout.
    Timeout,
    /// The device filled the oldest slot it was given (`ptr` is that slot).
    Frame { ptr: *mut u8, meta: FrameMeta },
    /// The device dropped every slot it held (after an overflow restart): give them again.
    Flushed,
    /// A device that cannot be held back (`WHOLE_RING`) wrote over the whole ring, given
    /// slots or not, before its frames were reported: every unread frame is gone, and its
    /// next frame goes into `next_slot`. The backend counts the frames it never reported in
    /// `take_lost`.
    Lapped { next_slot: usize },
}

/// `Stream::in_place` value of a device whose circular buffer is the whole ring (PVCAM): it
/// writes frame k into slot k mod N whether or not it was given that slot, so every free
/// slot is handed to it, and a slot comes back to it as soon as its frame is read or given
/// up.
pub(crate) const WHOLE_RING: usize = usize::MAX;

/// Whether the slot at `slot` still holds the frame described by `info` (a device that
/// writes without being given the slot may have overwritten it): the device's own record of
/// the frame in the slot (PVCAM's metadata header) against the frame's info.
pub type SlotCheck = fn(slot: *const u8, info: &crate::model::FrameInfo) -> bool;

/// How an in-place device lays out a ring slot.
#[derive(Clone, Copy, Debug)]
pub struct RingLayout {
    /// Distance between slots in bytes (at least `frame_offset` + the frame size).
    pub slot_bytes: usize,
    /// Where the frame (in `frame_format` layout) starts in its slot: the size of a header
    /// the device writes before it (PVCAM's metadata), else 0.
    pub frame_offset: usize,
    /// For a device that writes slots it was not given (`WHOLE_RING`): how readers check,
    /// after copying a frame, that the device had not started overwriting it. The device
    /// must write its record of the frame before the frame's pixels.
    pub check: Option<SlotCheck>,
}

/// The frame source of a running acquisition, owned by the acquisition thread.
///
/// Two modes. Copy mode (the default): the core calls `next_frame` with a ring slot to fill.
/// In-place mode (`in_place() > 0`): the device writes frames straight into ring slots; the
/// core hands it free slots ahead of time with `give_slot`, in ring order, and learns of
/// filled ones from `next_in_place`, which must report them in the order given.
pub trait Stream: Send {
    /// Wait up to `timeout` for the next frame and write it into `dst`, which is exactly
    /// `frame_bytes` long, in the device layout (unpacked, no row padding).
    /// `Ok(None)` on timeout (the core calls again); `Err(DISCONNECTED)` when the camera is
    /// gone; any other error faults the acquisition.
    fn next_frame(&mut self, dst: &mut [u8], timeout: Duration) -> Result<Option<FrameMeta>>;

    /// Frames the device lost that no delivered frame accounts for yet (an overflow that
    /// aborted the acquisition, say); the core adds them to `lost_device` after every call.
    fn take_lost(&mut self) -> u64 {
        0
    }

    /// How many slots an in-place stream wants queued at once (the core gives at most half
    /// the ring), `WHOLE_RING` for a device that owns every free slot; 0 for copy mode.
    fn in_place(&self) -> usize {
        0
    }
    /// In-place mode: the fewest free slots the device must hold. When it holds fewer, the
    /// oldest unread frames are given up to it (counted in `lost_overwritten`), unless a
    /// reader holds them. 1 (the default): only when it would otherwise have none.
    fn in_place_margin(&self) -> usize {
        1
    }
    /// In-place mode, called once before the first `give_slot`, on the thread that called
    /// `labcam_start` (its error is `labcam_start`'s): the ring is `nslots` slots of
    /// `slot_bytes` from `base`, handed out in order from slot 0. A stream that cannot use
    /// the ring may switch to copy mode here (`in_place()` 0 afterwards).
    fn attach_ring(&mut self, _base: *mut u8, _nslots: usize, _slot_bytes: usize) -> Result<()> {
        Ok(())
    }
    /// In-place mode, called once on the thread that called `labcam_start` (its error is
    /// `labcam_start`'s), after the first slots were given: a device that needs buffers queued
    /// before it can start (Andor SDK3's AcquisitionStart) starts acquiring here, so that the
    /// camera is acquiring when `labcam_start` returns.
    fn begin(&mut self) -> Result<()> {
        Ok(())
    }
    /// Queue a ring slot of `len` bytes (the device's `RingLayout::slot_bytes`) for the device.
    fn give_slot(&mut self, _ptr: *mut u8, _len: usize) -> Result<()> {
        Err(crate::err!(INTERNAL, "give_slot called on a copy-mode stream"))
    }
    /// Wait up to `timeout` for the next filled slot.
    fn next_in_place(&mut self, _timeout: Duration) -> Result<InPlaceEvent> {
        Err(crate::err!(INTERNAL, "next_in_place called on a copy-mode stream"))
    }
}

/// One open camera.
pub trait Device: Send {
    /// `(key, value)` pairs: at least backend, vendor, model, serial, sdk_version.
    fn device_info(&mut self) -> Result<Vec<(String, String)>>;

    /// Full sensor size in pixels, `(width, height)`.
    fn detector_size(&mut self) -> Result<(i64, i64)>;
    /// ROI limits at the current binning.
    fn roi_limits(&mut self) -> Result<RoiLimits>;
    /// Apply a ROI (already checked by the core to lie inside the sensor with `hstart < hend`,
    /// `vstart < vend`, binning >= 1). Rounds to the camera's steps and returns what was
    /// applied; `INVALID_ARGUMENT` when no valid ROI is near the request. A backend that
    /// writes the ROI in steps may fail half way: the core then applies the previous ROI
    /// again, so it need not undo anything itself.
    fn set_roi(&mut self, roi: Roi) -> Result<Roi>;
    fn roi(&mut self) -> Result<Roi>;
    /// The frame layout the stream will deliver with the current settings.
    fn frame_format(&mut self) -> Result<FrameFormat>;
    /// The layout frames arrive in (most cameras: `Rct`).
    fn native_indexing(&self) -> Indexing {
        Indexing::Rct
    }

    /// Exposure in seconds; returns the value applied. Out of range: `INVALID_ARGUMENT`.
    fn set_exposure(&mut self, seconds: f64) -> Result<f64>;
    fn exposure(&mut self) -> Result<f64>;
    /// Frame period in seconds (0 = fastest); returns the value applied.
    fn set_frame_period(&mut self, seconds: f64) -> Result<f64>;
    /// `(exposure, frame_period)` in seconds.
    fn frame_timings(&mut self) -> Result<(f64, f64)>;

    /// `NOT_SUPPORTED` for modes the camera lacks.
    fn set_trigger_mode(&mut self, mode: TriggerMode) -> Result<()>;
    fn trigger_mode(&mut self) -> Result<TriggerMode>;
    /// Valid while running in `Software` trigger mode.
    fn send_software_trigger(&mut self) -> Result<()>;

    /// Names of every attribute, in a stable order.
    fn attr_names(&mut self) -> Result<Vec<String>>;
    /// `NOT_FOUND` for unknown names.
    fn attr_info(&mut self, name: &str) -> Result<AttrInfo>;
    /// Entries of an enum attribute (`ATTR_TYPE` for other kinds).
    fn attr_enum_entries(&mut self, name: &str) -> Result<Vec<EnumEntry>>;
    fn get_attr(&mut self, name: &str) -> Result<AttrValue>;
    /// The core has checked that `value` matches the attribute's kind.
    fn set_attr(&mut self, name: &str, value: AttrValue) -> Result<()>;
    fn attr_command(&mut self, name: &str) -> Result<()>;

    /// Prepare an acquisition into a ring of `nframes` frames of the current format
    /// (allocate vendor buffers). May be slow.
    fn setup(&mut self, nframes: usize) -> Result<()>;
    /// For devices that write frames into the ring in place: the slot layout they need (a
    /// header before the frame, a trailer after it). Asked after `setup`, and again at every
    /// start (a different layout sets the ring up again). `None` (the default): copy mode.
    fn ring_layout(&mut self) -> Result<Option<RingLayout>> {
        Ok(None)
    }
    /// Release what `setup` allocated.
    fn clear(&mut self) -> Result<()>;
    /// Start acquiring; frames come from the returned stream.
    fn start(&mut self) -> Result<Box<dyn Stream>>;
    /// Stop acquiring. Called after the acquisition thread has dropped the stream.
    fn stop(&mut self) -> Result<()>;
}
