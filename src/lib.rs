//! labcam: scientific camera control behind one stable, handle-based C ABI.
//!
//! Layers: [`ffi`] converts and validates C arguments and calls the core ([`camera`],
//! [`ring`], [`image`]); the core drives backends through the [`backend`] traits; each
//! backend in [`backends`] knows only its vendor SDK. See `DESIGN.md` and `include/labcam.h`.

#[macro_use]
pub mod error;
pub mod backend;
pub mod backends;
pub mod camera;
pub mod ffi;
pub mod handles;
pub mod image;
pub mod loader;
pub mod log;
pub mod model;
pub mod ring;

pub use error::{Error, Result, Status};
