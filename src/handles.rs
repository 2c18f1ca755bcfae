//! The global handle table: generational integer handles, never pointers.
//!
//! A handle is `(generation << 32) | (slot + 1)`: 0 is never valid, and a closed handle
//! stays invalid even after its slot is reused, because the generation differs.

use crate::camera::Camera;
use crate::error::{Error, Result, Status};
use parking_lot::Mutex;
use std::sync::Arc;

struct Slot {
    generation: u32,
    camera: Option<Arc<Camera>>,
}

static TABLE: Mutex<Vec<Slot>> = Mutex::new(Vec::new());

/// Store a camera and return its handle.
pub fn insert(cam: Camera) -> u64 {
    let mut t = TABLE.lock();
    let cam = Arc::new(cam);
    let i = match t.iter().position(|s| s.camera.is_none()) {
        Some(i) => i,
        None => {
            t.push(Slot { generation: 0, camera: None });
            t.len() - 1
        }
    };
    let s = &mut t[i];
    s.generation = s.generation.wrapping_add(1).max(1);
    s.camera = Some(cam);
    ((s.generation as u64) << 32) | (i as u64 + 1)
}

fn locate(h: u64) -> Result<usize> {
    let slot = (h & 0xFFFF_FFFF) as usize;
    if h == 0 || slot == 0 {
        return Err(Error::new(Status::INVALID_HANDLE, format!("handle {h} is not a labcam handle (0 is never valid)")));
    }
    Ok(slot - 1)
}

/// The camera behind `h`.
pub fn get(h: u64) -> Result<Arc<Camera>> {
    let i = locate(h)?;
    let t = TABLE.lock();
    match t.get(i) {
        Some(s) if s.generation as u64 == h >> 32 && s.camera.is_some() => Ok(s.camera.clone().unwrap()),
        Some(_) => Err(Error::new(Status::INVALID_HANDLE, format!("handle {h:#x} is closed or stale"))),
        None => Err(Error::new(Status::INVALID_HANDLE, format!("handle {h:#x} was never issued"))),
    }
}

/// Remove `h` from the table and return its camera (the caller closes it).
pub fn remove(h: u64) -> Result<Arc<Camera>> {
    let i = locate(h)?;
    let mut t = TABLE.lock();
    match t.get_mut(i) {
        Some(s) if s.generation as u64 == h >> 32 && s.camera.is_some() => Ok(s.camera.take().unwrap()),
        Some(_) => Err(Error::new(Status::INVALID_HANDLE, format!("handle {h:#x} is closed or stale"))),
        None => Err(Error::new(Status::INVALID_HANDLE, format!("handle {h:#x} was never issued"))),
    }
}
