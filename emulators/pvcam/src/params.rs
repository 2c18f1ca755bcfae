//! The parameter table of the emulated Prime-95B-like camera (vendor-sdk/pvcam.md §5).

use crate::cam::Cam;

// TYPE_ codes (§5.1).
pub const TYPE_INT16: u16 = 1;
pub const TYPE_INT32: u16 = 2;
pub const TYPE_UNS16: u16 = 6;
pub const TYPE_UNS32: u16 = 7;
pub const TYPE_UNS64: u16 = 8;
pub const TYPE_ENUM: u16 = 9;
pub const TYPE_BOOLEAN: u16 = 11;
pub const TYPE_CHAR_PTR: u16 = 13;
pub const TYPE_INT64: u16 = 16;

// ACCESS values (§5.2).
pub const ACC_READ_ONLY: u16 = 1;
pub const ACC_READ_WRITE: u16 = 2;

/// Error codes (§4); the others are this emulator's own (README).
pub const ERR_NOT_AVAILABLE: i16 = 25;
pub const ERR_REGION_INVALID: i16 = 181;
pub const ERR_BINNING_INVALID: i16 = 182;
pub const ERR_SETUP_REQUIRED: i16 = 188;
pub const ERR_DDI_IOCTL_FAILED: i16 = 199;
pub const ERR_INVALID_HANDLE: i16 = 3;
pub const ERR_NOT_INITIALIZED: i16 = 5;
pub const ERR_ALREADY_INITIALIZED: i16 = 6;
pub const ERR_READ_ONLY: i16 = 7;
pub const ERR_OUT_OF_RANGE: i16 = 8;
pub const ERR_BUSY: i16 = 9;
pub const ERR_NOT_ACQUIRING: i16 = 10;
pub const ERR_NO_FRAME: i16 = 11;
pub const ERR_BAD_ARGUMENT: i16 = 12;
pub const ERR_DISCONNECTED: i16 = 13;
pub const ERR_OVERRUN: i16 = 14;
pub const ERR_BAD_BUFFER: i16 = 15;

pub fn message(code: i16) -> &'static str {
    match code {
        0 => "No error",
        ERR_INVALID_HANDLE => "Invalid camera handle",
        ERR_NOT_INITIALIZED => "PVCAM is not initialized",
        ERR_ALREADY_INITIALIZED => "PVCAM is already initialized",
        ERR_READ_ONLY => "Parameter is read-only",
        ERR_OUT_OF_RANGE => "Value out of range",
        ERR_BUSY => "Camera is busy (acquiring or already open)",
        ERR_NOT_ACQUIRING => "No acquisition in progress",
        ERR_NO_FRAME => "No frame available",
        ERR_BAD_ARGUMENT => "Invalid argument",
        ERR_DISCONNECTED => "Camera has been disconnected",
        ERR_OVERRUN => "Circular buffer overrun",
        ERR_BAD_BUFFER => "Buffer size is not a multiple of the frame size",
        ERR_NOT_AVAILABLE => "Parameter not available",
        ERR_REGION_INVALID => "Invalid region (PL_ERR_REGION_INVALID)",
        ERR_BINNING_INVALID => "Invalid binning (PL_ERR_BINNING_INVALID)",
        ERR_SETUP_REQUIRED => "Acquisition setup required (PL_ERR_ACQUISITION_SETUP_REQUIRED)",
        ERR_DDI_IOCTL_FAILED => "Buffer cannot be locked (PL_ERR_DDI_DEVICE_IOCTL_FAILED)",
        _ => "Unknown error",
    }
}

pub const SENSOR: u16 = 1200;
pub const BINNINGS: [i32; 3] = [1, 2, 4];
pub const EXP_MODES: [(i32, &str); 4] = [(0x700, "Internal Trigger"), (0x800, "Trigger First"), (0x900, "Edge Trigger"), (0xC00, "Software Trigger Edge")];
/// The classic exposure modes of older cameras (`PVCAM_EMU_CLASSIC_MODES=1`): TIMED_MODE,
/// STROBED_MODE, BULB_MODE, TRIGGER_FIRST_MODE. They take no expose-out bits.
pub const CLASSIC_EXP_MODES: [(i32, &str); 4] = [(0, "Timed"), (1, "Strobed"), (2, "Bulb"), (3, "Trigger First")];

/// The exposure modes this camera offers.
pub fn exp_modes() -> &'static [(i32, &'static str)] {
    if std::env::var("PVCAM_EMU_CLASSIC_MODES").as_deref() == Ok("1") {
        &CLASSIC_EXP_MODES
    } else {
        &EXP_MODES
    }
}

/// The trigger part of an exposure mode passed to setup: classic modes (below 0x100) are
/// whole; extended ones carry the expose-out mode in the low byte.
pub fn trigger_of(mode: i32) -> i32 {
    if mode < 0x100 {
        mode
    } else {
        mode & 0xFF00
    }
}
pub const EXPOSE_OUT: [(i32, &str); 3] = [(0, "First Row"), (1, "All Rows"), (2, "Any Row")];
pub const EXP_RES: [(i32, &str); 3] = [(0, "One Millisecond"), (1, "One Microsecond"), (2, "One Second")];
pub const CLEAR_MODES: [(i32, &str); 6] = [(0, "Never"), (1, "Pre-Exposure"), (2, "Pre-Sequence"), (3, "Post-Sequence"), (4, "Pre-Post Sequence"), (5, "Pre-Exposure Post-Sequence")];
pub const FAN_SPEEDS: [(i32, &str); 4] = [(0, "High"), (1, "Medium"), (2, "Low"), (3, "Off")];
pub const PORTS: [(i32, &str); 1] = [(0, "Sensitivity")];
pub const SPEEDS: [&str; 2] = ["100 MHz", "200 MHz"];
pub const GAINS: [&str; 2] = ["Full well", "Balanced"];

/// A parameter value of any type.
#[derive(Clone, Debug, PartialEq)]
pub enum V {
    I(i64),
    S(String),
}

/// (id, type, access, live).
pub fn lookup(id: u32) -> Option<(u16, u16)> {
    Some(match id {
        0x0602003A | 0x06020039 | 0x06020204 | 0x0602003E | 0x0602003F => (TYPE_UNS16, ACC_READ_ONLY),
        0x010201FF | 0x0102020D => (TYPE_INT16, ACC_READ_ONLY),
        0x08030008 | 0x0803012C => (TYPE_UNS64, ACC_READ_ONLY),
        0x09030002 | 0x090200F7 | 0x0902020B | 0x090202C6 => (TYPE_ENUM, ACC_READ_WRITE),
        0x09020217 | 0x09020230 | 0x090300A5 | 0x090300A6 => (TYPE_ENUM, ACC_READ_ONLY),
        0x01020201 | 0x01020200 | 0x0102020E => (TYPE_INT16, ACC_READ_WRITE),
        0x0D020202 | 0x0D020203 | 0x0D020081 | 0x0D020082 | 0x0D020083 | 0x0D020084 | 0x0D020085 | 0x0D020215 => (TYPE_CHAR_PTR, ACC_READ_ONLY),
        0x040200B3 => (TYPE_UNS32, ACC_READ_ONLY),
        0x100200B4..=0x100200B6 => (TYPE_INT64, ACC_READ_ONLY),
        0x06020061 => (TYPE_UNS16, ACC_READ_WRITE),
        0x0B0300A8 => (TYPE_BOOLEAN, ACC_READ_WRITE),
        0x060300A9 => (TYPE_UNS16, ACC_READ_ONLY),
        0x0B03012B => (TYPE_BOOLEAN, ACC_READ_ONLY),
        _ => return None,
    })
}

/// Items (value, label) of an enum parameter.
pub fn enum_items(id: u32) -> Vec<(i32, String)> {
    let own = |v: &[(i32, &str)]| v.iter().map(|(a, b)| (*a, b.to_string())).collect();
    match id {
        0x09030002 => own(&EXP_RES),
        0x09020217 => own(exp_modes()),
        0x09020230 => own(&EXPOSE_OUT),
        0x090200F7 => own(&PORTS),
        0x0902020B => own(&CLEAR_MODES),
        0x090202C6 => own(&FAN_SPEEDS),
        0x090300A5 | 0x090300A6 => BINNINGS.iter().map(|b| (*b, format!("{b}x{b}"))).collect(),
        _ => Vec::new(),
    }
}

/// Parameters valid only after `pl_exp_setup_*` (188 before).
pub fn after_setup(id: u32) -> bool {
    matches!(id, 0x040200B3 | 0x100200B4 | 0x100200B6 | 0x100200B5 | 0x0803012C)
}

/// Exposure limits in EXP_RES units: 1 µs .. 10 s.
pub fn exposure_limits(res: i32) -> (i64, i64) {
    match res {
        1 => (1, 10_000_000),
        2 => (1, 10),
        _ => (1, 10_000),
    }
}

impl Cam {
    /// ATTR_CURRENT.
    pub fn current(&self, id: u32) -> Result<V, i16> {
        let s = &self.s;
        if after_setup(id) && s.setup.is_none() {
            return Err(ERR_SETUP_REQUIRED);
        }
        Ok(match id {
            0x0602003A | 0x06020039 => V::I(SENSOR as i64),
            0x06020204 => V::I(10),
            0x0602003E | 0x0602003F => V::I(11000),
            0x010201FF => V::I(16),
            0x0102020D => V::I(if s.temp_setpoint < 0 { s.temp_setpoint as i64 } else { 2200 }),
            0x08030008 => V::I(s.setup.as_ref().map(|x| x.exposure as i64).unwrap_or(10)),
            0x0803012C => V::I(s.setup.as_ref().map(|x| x.frame_bytes as i64 * 16).unwrap_or(0)),
            0x09030002 => V::I(s.exp_res as i64),
            0x09020217 => V::I(s.setup.as_ref().map(|x| trigger_of(x.mode) as i64).unwrap_or(exp_modes()[0].0 as i64)),
            0x09020230 => V::I(s.setup.as_ref().map(|x| (x.mode & 0xFF) as i64).unwrap_or(0)),
            0x090300A5 | 0x090300A6 => V::I(s.setup.as_ref().map(|x| x.rgn.2 as i64).unwrap_or(1)),
            0x090200F7 => V::I(0),
            0x0902020B => V::I(s.clear_mode as i64),
            0x090202C6 => V::I(s.fan as i64),
            0x01020201 => V::I(s.speed as i64),
            0x01020200 => V::I(s.gain as i64),
            0x0102020E => V::I(s.temp_setpoint as i64),
            0x0D020202 => V::S(GAINS[(s.gain - 1) as usize].into()),
            0x0D020203 => V::S(SPEEDS[s.speed as usize].into()),
            0x0D020081 => V::S("GS144BSI-EMU".into()),
            0x0D020082 => V::S("PVCAM emulator".into()),
            0x0D020083 => V::S("Photometrics".into()),
            0x0D020084 => V::S("Prime 95B (emulated)".into()),
            0x0D020085 => V::S("01-EMU-95B".into()),
            0x0D020215 => V::S(format!("A19E{:06}", 1000 + self.index)),
            0x040200B3 => V::I(self.readout_us() as i64),
            0x100200B4 => V::I(20_000),
            0x100200B6 | 0x100200B5 => V::I(1_000),
            0x06020061 => V::I(s.clear_cycles as i64),
            0x0B0300A8 => V::I(s.metadata as i64),
            0x060300A9 => V::I(if s.setup.is_some() { 1 } else { 0 }),
            0x0B03012B => V::I(1),
            _ => return Err(ERR_NOT_AVAILABLE),
        })
    }

    /// ATTR_MIN / ATTR_MAX / ATTR_INCREMENT of numeric parameters.
    pub fn limits(&self, id: u32) -> (i64, i64, i64) {
        match id {
            0x01020201 => (0, 1, 1),
            0x01020200 => (1, 2, 1),
            0x0102020E => (-2500, 2500, 100),
            0x06020061 => (0, 16, 1),
            0x08030008 => {
                let (lo, hi) = exposure_limits(self.s.exp_res);
                (lo, hi, 1)
            }
            0x0B0300A8 | 0x0B03012B => (0, 1, 1),
            _ => match self.current(id) {
                Ok(V::I(v)) => (v, v, 0),
                _ => (0, 0, 0),
            },
        }
    }

    pub fn set(&mut self, id: u32, v: i64) -> Result<(), i16> {
        let Some((ty, acc)) = lookup(id) else { return Err(ERR_NOT_AVAILABLE) };
        if acc != ACC_READ_WRITE {
            return Err(ERR_READ_ONLY);
        }
        if self.acquiring() {
            return Err(ERR_BUSY);
        }
        if ty == TYPE_ENUM {
            if !enum_items(id).iter().any(|(x, _)| *x as i64 == v) {
                return Err(ERR_OUT_OF_RANGE);
            }
        } else {
            let (lo, hi, _) = self.limits(id);
            if v < lo || v > hi {
                return Err(ERR_OUT_OF_RANGE);
            }
        }
        let s = &mut self.s;
        match id {
            0x09030002 => s.exp_res = v as i32,
            0x0902020B => s.clear_mode = v as i32,
            0x090202C6 => s.fan = v as i32,
            0x090200F7 => {}
            0x01020201 => {
                s.speed = v as i16;
                s.gain = 1; // setting the speed resets the gain to the 1x entry
            }
            0x01020200 => s.gain = v as i16,
            0x0102020E => s.temp_setpoint = v as i16,
            0x06020061 => s.clear_cycles = v as u16,
            0x0B0300A8 => s.metadata = v != 0,
            _ => return Err(ERR_READ_ONLY),
        }
        Ok(())
    }
}
