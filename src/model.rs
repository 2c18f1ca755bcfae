//! The camera model: plain data types shared by the core, the backends and the C ABI.
//!
//! The `#[repr(C)]` structs have only 8-byte fields (`i64`, `u64`, `f64`) so that C, MATLAB
//! and LabVIEW agree on their layout without padding; they cross the ABI under the names
//! `labcam_roi`, `labcam_frame_info`, ... (see `cbindgen.toml`).

use crate::error::{Error, Num, Result, Status};

/// Region of interest and binning, in sensor pixels. `hstart..hend` and `vstart..vend` are
/// half-open ranges (`hend` and `vend` excluded); the frame is `(hend-hstart)/hbin` pixels
/// wide and `(vend-vstart)/vbin` tall. Binning is in sensor pixels per output pixel.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Roi {
    pub hstart: i64,
    pub hend: i64,
    pub vstart: i64,
    pub vend: i64,
    pub hbin: i64,
    pub vbin: i64,
}

impl Roi {
    /// Output frame width in pixels (after binning).
    pub fn width(&self) -> i64 {
        (self.hend - self.hstart) / self.hbin.max(1)
    }
    /// Output frame height in pixels (after binning).
    pub fn height(&self) -> i64 {
        (self.vend - self.vstart) / self.vbin.max(1)
    }
}

/// Limits of the ROI at the current binning, in sensor pixels.
/// `hstart_step`/`vstart_step` are the position steps, `width_step`/`height_step` the size
/// steps; `hbin_mask`/`vbin_mask` have bit `k` set when binning `k+1` is allowed.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RoiLimits {
    pub min_width: i64,
    pub max_width: i64,
    pub min_height: i64,
    pub max_height: i64,
    pub hstart_step: i64,
    pub vstart_step: i64,
    pub width_step: i64,
    pub height_step: i64,
    pub max_hbin: i64,
    pub max_vbin: i64,
    pub hbin_mask: u64,
    pub vbin_mask: u64,
}

/// Pixel kinds (`labcam_frame_format.pixel_kind`).
pub(crate) const PIXEL_U8: i64 = 1;
pub(crate) const PIXEL_U16: i64 = 2;
pub(crate) const PIXEL_U32: i64 = 3;

/// Layout of one frame as labcam returns it (packed vendor formats are unpacked).
/// `width`/`height` are in pixels, as the device delivers them (before image indexing);
/// `frame_bytes = width*height*bytes_per_pixel`; `bits_per_pixel` is the significant bits
/// (12 for a 12-bit camera delivering 16-bit pixels).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct FrameFormat {
    pub width: i64,
    pub height: i64,
    pub bytes_per_pixel: i64,
    pub bits_per_pixel: i64,
    pub frame_bytes: i64,
    pub pixel_kind: i64,
}

impl FrameFormat {
    pub fn new(width: i64, height: i64, bytes_per_pixel: i64, bits_per_pixel: i64) -> Self {
        let pixel_kind = match bytes_per_pixel {
            1 => PIXEL_U8,
            4 => PIXEL_U32,
            _ => PIXEL_U16,
        };
        FrameFormat {
            width,
            height,
            bytes_per_pixel,
            bits_per_pixel,
            frame_bytes: width * height * bytes_per_pixel,
            pixel_kind,
        }
    }
}

/// Frame flag: the frame arrived incomplete (missing packets); its missing bytes are zero.
#[allow(dead_code)]
pub(crate) const FRAME_INCOMPLETE: u64 = 1;

/// Per-frame metadata, one per frame in the ring.
/// `index`: 0-based since `start`. `framestamp`: the camera's frame counter, or -1.
/// `timestamp_ticks`: the device clock, or -1; `timestamp_hz`: its frequency in Hz, 0 if
/// unknown. `host_time_ns`: host wall-clock time (ns since the Unix epoch) when labcam
/// received the frame. `flags`: `FRAME_INCOMPLETE`, ...
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct FrameInfo {
    pub index: i64,
    pub framestamp: i64,
    pub timestamp_ticks: i64,
    pub timestamp_hz: f64,
    pub host_time_ns: i64,
    pub flags: u64,
}

/// Counters of the current (or last) acquisition. Invariant:
/// `acquired == read + unread + lost_overwritten`. `lost_device` counts frames the device
/// skipped (framestamp gaps, vendor overflow counters); they were never acquired.
/// `first_unread_index` is the index of the oldest unread frame (or the next index when none
/// is unread); `last_index` is the newest acquired index, -1 before the first frame.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct FramesStatus {
    pub acquired: i64,
    pub read: i64,
    pub unread: i64,
    pub lost_overwritten: i64,
    pub lost_device: i64,
    pub buffer_frames: i64,
    pub first_unread_index: i64,
    pub last_index: i64,
}

/// A zero-copy view of contiguous unread frames in the ring (from `lock_chunk`).
/// `data` is the address of the first of `n_frames` frames of `frame_bytes` bytes each, in
/// the device's layout (`rows`, `cols`, indexing `indexing`), `slot_bytes` apart (equal to
/// `frame_bytes` unless the camera writes its metadata into the ring next to each frame:
/// a trailer after it with Andor SDK3, a header before it with PVCAM); `infos` the address
/// of `n_frames` frame infos. Both stay valid and unchanged until `unlock_chunk(chunk_id)`
/// or close (but see `labcam_lock_chunk` for PVCAM).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Chunk {
    pub data: u64,
    pub infos: u64,
    pub chunk_id: u64,
    pub n_frames: i64,
    pub frame_bytes: i64,
    pub first_index: i64,
    pub rows: i64,
    pub cols: i64,
    pub indexing: i64,
    pub slot_bytes: i64,
}

/// Attribute kinds (`labcam_attr_info.kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i64)]
pub enum AttrKind {
    Int = 1,
    Float = 2,
    Bool = 3,
    Enum = 4,
    String = 5,
    Command = 6,
}

impl AttrKind {
    pub fn name(self) -> &'static str {
        match self {
            AttrKind::Int => "INT",
            AttrKind::Float => "FLOAT",
            AttrKind::Bool => "BOOL",
            AttrKind::Enum => "ENUM",
            AttrKind::String => "STRING",
            AttrKind::Command => "COMMAND",
        }
    }
    /// The name with its article, for messages: "an INT", "a FLOAT".
    pub fn with_article(self) -> String {
        let n = self.name();
        format!("{} {n}", if matches!(self, AttrKind::Int | AttrKind::Enum) { "an" } else { "a" })
    }
}

/// What labcam knows of an attribute: kind, access and limits. `readable`, `writable`,
/// `implemented` are 0/1 and may change with the camera state. Limits are meaningful for
/// the matching kind only (int_* for INT, float_* for FLOAT, enum_count for ENUM).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct AttrInfo {
    pub kind: i64,
    pub readable: i64,
    pub writable: i64,
    pub implemented: i64,
    pub int_min: i64,
    pub int_max: i64,
    pub int_step: i64,
    pub float_min: f64,
    pub float_max: f64,
    pub enum_count: i64,
}

impl AttrInfo {
    pub fn kind(&self) -> AttrKind {
        match self.kind {
            1 => AttrKind::Int,
            2 => AttrKind::Float,
            3 => AttrKind::Bool,
            4 => AttrKind::Enum,
            5 => AttrKind::String,
            _ => AttrKind::Command,
        }
    }
    /// Check `value` against the limits: an INT within [int_min, int_max] and on the grid
    /// int_min + k·int_step (a step of 0 or 1 allows every integer), a FLOAT finite and within
    /// [float_min, float_max]. Other kinds have no limits here. Errors: INVALID_ARGUMENT naming
    /// the attribute, the value and the limits. The core calls this for every attribute write,
    /// so backends need not repeat it.
    pub fn check_value(&self, name: &str, value: &AttrValue) -> Result<()> {
        match *value {
            AttrValue::Int(v) => {
                let step = self.int_step.max(1);
                if v < self.int_min || v > self.int_max {
                    return Err(Error::new(Status::INVALID_ARGUMENT, format!("value {v} out of range for '{name}' [{}, {}]", self.int_min, self.int_max)));
                }
                if (v as i128 - self.int_min as i128) % step as i128 != 0 {
                    return Err(Error::new(Status::INVALID_ARGUMENT, format!("value {v} for '{name}' is off its grid: step {step} from {}", self.int_min)));
                }
            }
            AttrValue::Float(v) => {
                if !v.is_finite() {
                    return Err(Error::new(Status::INVALID_ARGUMENT, format!("value {} for '{name}' is not finite", Num(v))));
                }
                if !(v >= self.float_min && v <= self.float_max) {
                    return Err(Error::new(Status::INVALID_ARGUMENT, format!("value {} out of range for '{name}' [{}, {}]", Num(v), Num(self.float_min), Num(self.float_max))));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// A readable/writable implemented attribute of `kind` with no limits set.
    pub fn of(kind: AttrKind, writable: bool) -> Self {
        AttrInfo {
            kind: kind as i64,
            readable: (kind != AttrKind::Command) as i64,
            writable: writable as i64,
            implemented: 1,
            int_min: i64::MIN,
            int_max: i64::MAX,
            int_step: 1,
            float_min: f64::NEG_INFINITY,
            float_max: f64::INFINITY,
            enum_count: 0,
        }
    }
}

/// One entry of an enum attribute. `available` is false when the camera currently refuses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnumEntry {
    pub name: String,
    pub available: bool,
}

/// A typed attribute value.
#[derive(Clone, Debug, PartialEq)]
pub enum AttrValue {
    Int(i64),
    Float(f64),
    Bool(bool),
    /// An enum attribute's current entry, by name.
    Enum(String),
    String(String),
}

/// Trigger modes (`LABCAM_TRIGGER_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum TriggerMode {
    /// Internal timer at the frame period.
    Int = 0,
    /// One frame per external edge.
    Ext = 1,
    /// One frame per `send_software_trigger`.
    Software = 2,
    /// An external edge starts a free-running sequence.
    ExtStart = 3,
    /// The external pulse width sets the exposure.
    ExtExposure = 4,
}

impl TriggerMode {
    pub fn from_i32(v: i32) -> Result<Self> {
        Ok(match v {
            0 => TriggerMode::Int,
            1 => TriggerMode::Ext,
            2 => TriggerMode::Software,
            3 => TriggerMode::ExtStart,
            4 => TriggerMode::ExtExposure,
            _ => return Err(Error::new(Status::INVALID_ARGUMENT, format!("unknown trigger mode {v} (valid: 0..4)"))),
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            TriggerMode::Int => "INT",
            TriggerMode::Ext => "EXT",
            TriggerMode::Software => "SOFTWARE",
            TriggerMode::ExtStart => "EXT_START",
            TriggerMode::ExtExposure => "EXT_EXPOSURE",
        }
    }
}

/// Acquisition states (`LABCAM_STATE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum AcqState {
    Open = 1,
    SetUp = 2,
    Running = 3,
    /// The camera disconnected or its backend failed; frames stay readable, then close.
    Fault = 4,
}

impl AcqState {
    pub fn from_i32(v: i32) -> AcqState {
        match v {
            2 => AcqState::SetUp,
            3 => AcqState::Running,
            4 => AcqState::Fault,
            _ => AcqState::Open,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            AcqState::Open => "OPEN",
            AcqState::SetUp => "SET_UP",
            AcqState::Running => "RUNNING",
            AcqState::Fault => "FAULT",
        }
    }
}

/// Image indexing conventions (`LABCAM_INDEXING_*`): `Rct` rows-columns from the top (the
/// usual image layout), `Rcb` rows-columns from the bottom, `Xyt`/`Xyb` x-first (transposed),
/// y counted from the top or the bottom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Indexing {
    Rct = 0,
    Rcb = 1,
    Xyt = 2,
    Xyb = 3,
}

impl Indexing {
    pub fn from_i32(v: i32) -> Result<Self> {
        Ok(match v {
            0 => Indexing::Rct,
            1 => Indexing::Rcb,
            2 => Indexing::Xyt,
            3 => Indexing::Xyb,
            _ => return Err(Error::new(Status::INVALID_ARGUMENT, format!("unknown image indexing {v} (valid: 0..3)"))),
        })
    }
    /// True when the first index is x (the frame is transposed relative to rows/columns).
    pub fn transposed(self) -> bool {
        matches!(self, Indexing::Xyt | Indexing::Xyb)
    }
    /// True when rows (y) are counted from the bottom.
    pub fn from_bottom(self) -> bool {
        matches!(self, Indexing::Rcb | Indexing::Xyb)
    }
}
