//! The frame ring: one contiguous allocation of `nframes` slots, made at setup and never
//! per frame, with exact accounting.
//!
//! Unread frames form a FIFO of consecutive slots starting at `read_pos` (wrapping at the
//! end of the ring). The acquisition thread writes the next frame into the slot after the
//! newest unread one, outside the lock; readers copy pinned slots outside the lock too.
//! When the ring is full, the new frame goes into a scratch buffer and, when it is complete,
//! replaces the oldest unread frame (counted in `lost_overwritten`), unless that frame is
//! pinned (a locked chunk or a read in progress): then the new frame is dropped and counted
//! in `lost_overwritten`. So `acquired == read + unread + lost_overwritten` always holds.

use crate::error::{Error, Result, Status};
use crate::model::{FrameFormat, FrameInfo, FramesStatus};
#[cfg(not(target_os = "linux"))]
use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::ptr::NonNull;

const PAGE: usize = 4096;

/// A page-aligned, zero-initialised byte buffer whose pages are faulted in at creation, so
/// that the first frames do not pay for it. On Linux it is an anonymous mapping advised to
/// use transparent huge pages (`madvise(MADV_HUGEPAGE)`), populated with
/// `MADV_POPULATE_WRITE` where the kernel has it (5.14+), else by touching every page.
pub struct RingMem {
    ptr: NonNull<u8>,
    size: usize,
}

// SAFETY: RingMem is a plain memory block; access is coordinated by the ring's lock.
unsafe impl Send for RingMem {}
unsafe impl Sync for RingMem {}

fn no_memory(bytes: usize, why: &str) -> Error {
    Error::new(Status::NO_MEMORY, format!("cannot allocate a frame ring of {bytes} bytes ({:.1} MiB): {why}", bytes as f64 / 1048576.0))
}

impl RingMem {
    pub fn new(bytes: usize) -> Result<Self> {
        let size = bytes.max(1).checked_next_multiple_of(PAGE).ok_or_else(|| no_memory(bytes, "size overflows"))?;
        let ptr = Self::map(size).ok_or_else(|| no_memory(bytes, &std::io::Error::last_os_error().to_string()))?;
        Self::populate(ptr, size);
        Ok(RingMem { ptr, size })
    }

    #[cfg(target_os = "linux")]
    fn map(size: usize) -> Option<NonNull<u8>> {
        // SAFETY: an anonymous private mapping; the result is checked.
        unsafe {
            let p = libc::mmap(std::ptr::null_mut(), size, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0);
            if p == libc::MAP_FAILED {
                return None;
            }
            libc::madvise(p, size, libc::MADV_HUGEPAGE);
            NonNull::new(p as *mut u8)
        }
    }

    #[cfg(target_os = "linux")]
    fn populate(ptr: NonNull<u8>, size: usize) {
        const MADV_POPULATE_WRITE: libc::c_int = 23;
        // SAFETY: the range is our mapping.
        if unsafe { libc::madvise(ptr.as_ptr() as *mut libc::c_void, size, MADV_POPULATE_WRITE) } == 0 {
            return;
        }
        Self::touch(ptr, size);
    }

    #[cfg(not(target_os = "linux"))]
    fn map(size: usize) -> Option<NonNull<u8>> {
        let layout = Layout::from_size_align(size, PAGE).ok()?;
        // SAFETY: layout has non-zero size.
        NonNull::new(unsafe { alloc_zeroed(layout) })
    }

    #[cfg(not(target_os = "linux"))]
    fn populate(ptr: NonNull<u8>, size: usize) {
        Self::touch(ptr, size);
    }

    fn touch(ptr: NonNull<u8>, size: usize) {
        for off in (0..size).step_by(PAGE) {
            // SAFETY: off < size; volatile so the touch is not optimised away.
            unsafe { std::ptr::write_volatile(ptr.as_ptr().add(off), 0) };
        }
    }

    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }
}

impl Drop for RingMem {
    fn drop(&mut self) {
        // SAFETY: mapped/allocated in `new` with this size.
        #[cfg(target_os = "linux")]
        unsafe {
            libc::munmap(self.ptr.as_ptr() as *mut libc::c_void, self.size);
        }
        #[cfg(not(target_os = "linux"))]
        unsafe {
            dealloc(self.ptr.as_ptr(), Layout::from_size_align_unchecked(self.size, PAGE))
        }
    }
}

/// Where the acquisition thread writes the next frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteTarget {
    /// A free slot.
    Slot(usize),
    /// The ring is full: the scratch buffer.
    Scratch,
}

/// Ring memory and counters. Lives inside the camera's shared mutex.
pub struct Ring {
    mem: RingMem,
    scratch: RingMem,
    infos: Vec<FrameInfo>,
    pub nslots: usize,
    pub format: FrameFormat,
    frame_bytes: usize,
    /// Distance between slots: frame_bytes, or more when the device writes a header or a
    /// trailer in place.
    slot_bytes: usize,
    /// Where the frame starts in its slot (after a device header written in place).
    frame_offset: usize,
    /// How to tell that a device which cannot be held back overwrote a slot (see
    /// `RingLayout::check`).
    check: Option<crate::backend::SlotCheck>,
    read_pos: usize,
    unread: usize,
    /// Slots after the unread ones handed to an in-place device, in the order it fills them.
    reserved: usize,
    /// Frames from `read_pos` on that must not be overwritten.
    pinned: usize,
    next_index: i64,
    read: i64,
    lost_overwritten: i64,
    lost_device: i64,
    next_chunk_id: u64,
    /// The chunk currently locked by `lock_chunk`: (id, frames).
    locked: Option<(u64, usize)>,
}

impl Ring {
    /// A ring of `nslots` frames of `format`, slots `slot_bytes` apart (at least the frame
    /// size; more for devices that write a header before, or a trailer after, each frame in
    /// place), each frame `frame_offset` bytes into its slot.
    pub fn new(nslots: usize, format: FrameFormat, slot_bytes: usize, frame_offset: usize) -> Result<Ring> {
        let frame_bytes = format.frame_bytes as usize;
        let slot_bytes = slot_bytes.max(frame_offset + frame_bytes);
        let total = nslots.checked_mul(slot_bytes).ok_or_else(|| {
            Error::new(Status::NO_MEMORY, format!("{nslots} frames of {frame_bytes} bytes overflow the address space"))
        })?;
        let mut infos = Vec::new();
        infos.try_reserve_exact(nslots).map_err(|_| Error::new(Status::NO_MEMORY, "cannot allocate frame infos"))?;
        infos.resize(nslots, FrameInfo::default());
        Ok(Ring {
            mem: RingMem::new(total)?,
            scratch: RingMem::new(frame_bytes)?,
            infos,
            nslots,
            format,
            frame_bytes,
            slot_bytes,
            frame_offset,
            check: None,
            read_pos: 0,
            unread: 0,
            reserved: 0,
            pinned: 0,
            next_index: 0,
            read: 0,
            lost_overwritten: 0,
            lost_device: 0,
            next_chunk_id: 1,
            locked: None,
        })
    }

    /// Forget every frame (at start). Keeps the memory.
    pub fn reset(&mut self) {
        self.read_pos = 0;
        self.unread = 0;
        self.reserved = 0;
        self.pinned = 0;
        self.next_index = 0;
        self.read = 0;
        self.lost_overwritten = 0;
        self.lost_device = 0;
        self.locked = None;
    }

    pub fn frame_bytes(&self) -> usize {
        self.frame_bytes
    }
    pub fn slot_bytes(&self) -> usize {
        self.slot_bytes
    }
    pub fn frame_offset(&self) -> usize {
        self.frame_offset
    }
    pub fn unread(&self) -> usize {
        self.unread
    }
    pub fn is_chunk_locked(&self) -> bool {
        self.locked.is_some()
    }
    pub fn is_pinned(&self) -> bool {
        self.pinned > 0 || self.locked.is_some()
    }

    pub fn status(&self) -> FramesStatus {
        let acquired = self.next_index;
        FramesStatus {
            acquired,
            read: self.read,
            unread: self.unread as i64,
            lost_overwritten: self.lost_overwritten,
            lost_device: self.lost_device,
            buffer_frames: self.nslots as i64,
            first_unread_index: if self.unread > 0 { self.infos[self.read_pos].index } else { acquired },
            last_index: acquired - 1,
        }
    }

    /// Where the next frame goes.
    pub fn reserve(&self) -> WriteTarget {
        if self.unread + self.reserved < self.nslots {
            WriteTarget::Slot((self.read_pos + self.unread) % self.nslots)
        } else {
            WriteTarget::Scratch
        }
    }

    /// Pointer to a write target's `frame_bytes` bytes.
    pub fn target_ptr(&self, t: WriteTarget) -> *mut u8 {
        match t {
            WriteTarget::Slot(s) => self.frame_ptr(s),
            WriteTarget::Scratch => self.scratch.as_ptr(),
        }
    }

    /// Start of a slot (where an in-place device writes).
    pub fn slot_ptr(&self, slot: usize) -> *mut u8 {
        debug_assert!(slot < self.nslots);
        // SAFETY: slot < nslots, so the offset is inside the allocation.
        unsafe { self.mem.as_ptr().add(slot * self.slot_bytes) }
    }

    /// Start of the frame in a slot (what readers see).
    pub fn frame_ptr(&self, slot: usize) -> *mut u8 {
        // SAFETY: frame_offset + frame_bytes <= slot_bytes.
        unsafe { self.slot_ptr(slot).add(self.frame_offset) }
    }

    // ---- in-place devices ------------------------------------------------------------
    // The device is handed free slots ahead of time, in ring order, and fills them in that
    // order. When the ring is full and the device is about to run out of slots, the slot of
    // the oldest unread frame is handed over and that frame counted in lost_overwritten (the
    // device may write it at any moment). Pinned frames are never handed over.

    /// Hand the next slot to the device, if one can be. A full ring gives up its oldest
    /// unread frame only when `overwrite` (the device is about to run out of slots).
    pub fn reserve_ahead(&mut self, overwrite: bool) -> Option<usize> {
        if self.unread + self.reserved >= self.nslots {
            if !overwrite || self.unread == 0 || self.pinned > 0 || self.locked.is_some() {
                return None;
            }
            self.read_pos = (self.read_pos + 1) % self.nslots;
            self.unread -= 1;
            self.lost_overwritten += 1;
        }
        let slot = (self.read_pos + self.unread + self.reserved) % self.nslots;
        self.reserved += 1;
        Some(slot)
    }

    pub fn reserved(&self) -> usize {
        self.reserved
    }

    /// The slot the device fills next.
    pub fn oldest_reserved(&self) -> Option<usize> {
        (self.reserved > 0).then(|| (self.read_pos + self.unread) % self.nslots)
    }

    /// The device filled the oldest reserved slot.
    pub fn publish_reserved(&mut self, mut info: FrameInfo, lost_before: u64) {
        debug_assert!(self.reserved > 0);
        let slot = (self.read_pos + self.unread) % self.nslots;
        self.lost_device += lost_before as i64;
        info.index = self.next_index;
        self.next_index += 1;
        self.infos[slot] = info;
        self.unread += 1;
        self.reserved -= 1;
    }

    /// Frames the device lost outside any delivered frame's account.
    pub fn add_lost_device(&mut self, n: u64) {
        self.lost_device += n as i64;
    }

    /// A device that cannot be held back wrote over the whole ring: every unread frame is
    /// lost, and the device's next frame goes into `next_slot`. The caller checks no frame
    /// is pinned.
    pub fn resync(&mut self, next_slot: usize) {
        debug_assert!(!self.is_pinned());
        self.lost_overwritten += self.unread as i64;
        self.unread = 0;
        self.reserved = 0;
        self.read_pos = next_slot % self.nslots;
    }

    /// The device dropped every slot it held (flush, restart, stop).
    pub fn unreserve_all(&mut self) {
        self.reserved = 0;
    }

    /// Record a frame written into `t`. Returns false when it had to be dropped (ring full of
    /// pinned frames). For `Scratch`, the caller must then copy the scratch buffer into the
    /// returned slot before releasing the lock... so this does the copy itself.
    pub fn publish(&mut self, t: WriteTarget, mut info: FrameInfo, lost_before: u64) -> bool {
        self.lost_device += lost_before as i64;
        info.index = self.next_index;
        self.next_index += 1;
        let slot = match t {
            WriteTarget::Slot(s) => s,
            WriteTarget::Scratch => {
                if self.unread + self.reserved < self.nslots {
                    // A reader freed a slot while the frame was arriving.
                    (self.read_pos + self.unread) % self.nslots
                } else if self.pinned > 0 || self.locked.is_some() {
                    self.lost_overwritten += 1;
                    return false;
                } else {
                    // Overwrite the oldest unread frame.
                    let s = self.read_pos;
                    self.read_pos = (self.read_pos + 1) % self.nslots;
                    self.unread -= 1;
                    self.lost_overwritten += 1;
                    s
                }
            }
        };
        debug_assert!({
            let pin = self.pinned.max(self.locked.map(|l| l.1).unwrap_or(0));
            let off = (slot + self.nslots - self.read_pos) % self.nslots;
            !(off < pin && off < self.unread)
        }, "publish into a pinned slot");
        if t == WriteTarget::Scratch {
            // SAFETY: distinct allocations, both frame_bytes long; the slot is outside the
            // unread range, so no reader touches it.
            unsafe { std::ptr::copy_nonoverlapping(self.scratch.as_ptr(), self.frame_ptr(slot), self.frame_bytes) };
        }
        self.infos[slot] = info;
        self.unread += 1;
        true
    }

    /// Pin up to `max` oldest unread frames for copying; `contiguous` limits them to one run
    /// of slots (no wrap). Returns (first slot, count).
    pub fn pin_oldest(&mut self, max: usize, contiguous: bool) -> (usize, usize) {
        let mut k = self.unread.min(max);
        if contiguous {
            k = k.min(self.nslots - self.read_pos);
        }
        self.pinned = self.pinned.max(k);
        (self.read_pos, k)
    }

    /// Release a pin; when `consume`, the `k` oldest frames become read.
    pub fn unpin(&mut self, k: usize, consume: bool) {
        // A locked chunk keeps its own pin.
        self.pinned = self.locked.map(|l| l.1).unwrap_or(0);
        if consume {
            self.read_pos = (self.read_pos + k) % self.nslots;
            self.unread -= k;
            self.read += k as i64;
        }
    }

    pub fn set_check(&mut self, check: Option<crate::backend::SlotCheck>) {
        self.check = check;
    }

    /// Of the `k` oldest unread frames, how many at the front the device has overwritten
    /// (their slots no longer hold them; see `RingLayout::check`): the position of the last
    /// one found + 1, as the device overwrites the oldest first. 0 without a check.
    pub fn stale_prefix(&self, k: usize) -> usize {
        let Some(check) = self.check else { return 0 };
        // The caller copied the frames before asking: order the header loads after the
        // pixel loads.
        std::sync::atomic::fence(std::sync::atomic::Ordering::Acquire);
        (0..k.min(self.unread))
            .rev()
            .find(|&i| {
                let slot = (self.read_pos + i) % self.nslots;
                !check(self.slot_ptr(slot), &self.infos[slot])
            })
            .map_or(0, |i| i + 1)
    }

    /// Frames acquired and not given up: read + unread.
    pub fn kept(&self) -> u64 {
        (self.read + self.unread as i64).max(0) as u64
    }

    /// Give up the `n` oldest unread frames, which the device overwrote (not pinned ones:
    /// the caller has released its pin and no chunk is locked).
    pub fn drop_oldest(&mut self, n: usize) {
        let n = n.min(self.unread);
        self.read_pos = (self.read_pos + n) % self.nslots;
        self.unread -= n;
        self.lost_overwritten += n as i64;
    }

    pub fn info(&self, slot: usize) -> &FrameInfo {
        &self.infos[slot]
    }
    pub fn infos_ptr(&self, slot: usize) -> *const FrameInfo {
        &self.infos[slot] as *const FrameInfo
    }

    /// Pin the newest unread frame (and, through `unpin(k, true)`, every older one):
    /// returns (its slot, number of unread frames up to and including it).
    pub fn pin_newest(&mut self) -> Option<(usize, usize)> {
        if self.unread == 0 {
            return None;
        }
        self.pinned = self.pinned.max(self.unread);
        Some(((self.read_pos + self.unread - 1) % self.nslots, self.unread))
    }

    /// Mark a chunk as locked.
    pub fn lock_chunk(&mut self, k: usize) -> u64 {
        let id = self.next_chunk_id;
        self.next_chunk_id += 1;
        self.locked = Some((id, k));
        id
    }

    /// Unlock a chunk, marking its frames read.
    pub fn unlock_chunk(&mut self, id: u64) -> Result<()> {
        match self.locked {
            Some((lid, k)) if lid == id => {
                self.locked = None;
                self.unpin(k, true);
                Ok(())
            }
            Some((lid, _)) => Err(Error::new(Status::INVALID_ARGUMENT, format!("chunk {id} is not locked (the locked chunk is {lid})"))),
            None => Err(Error::new(Status::INVALID_ARGUMENT, format!("chunk {id} is not locked (no chunk is locked)"))),
        }
    }
}
