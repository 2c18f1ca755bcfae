//! The backends and their registry. Each backend knows only its vendor SDK and the
//! [`crate::backend`] traits.

use crate::backend::Driver;
use once_cell::sync::Lazy;

pub mod andor_sdk3;
pub mod aravis;
pub mod pvcam;
pub mod sim;

static DRIVERS: Lazy<Vec<Box<dyn Driver>>> = Lazy::new(|| {
    let v: Vec<Box<dyn Driver>> = vec![Box::new(sim::SimDriver), Box::new(aravis::AravisDriver::new()), Box::new(andor_sdk3::AndorDriver::new()), Box::new(pvcam::PvcamDriver::new())];
    v
});

/// Every compiled-in backend, `sim` first (the default).
pub fn drivers() -> &'static [Box<dyn Driver>] {
    &DRIVERS
}

/// The backend called `name`.
pub fn driver(name: &str) -> Option<&'static dyn Driver> {
    DRIVERS.iter().find(|d| d.name() == name).map(|d| d.as_ref())
}
