//! Status codes and the error type shared by the core, the backends and the C ABI.
//!
//! Codes are stable forever: a retired code keeps its number (as a comment) and is never
//! reused. 0 is success; every error is negative.

use std::fmt;

/// A labcam status code, as returned by every C function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Status(pub i32);

macro_rules! statuses {
    ($( $(#[$doc:meta])* $name:ident = $val:expr, $text:expr; )*) => {
        impl Status {
            $( $(#[$doc])* pub const $name: Status = Status($val); )*

            /// All defined codes, in numeric order (0 first, then -1, -2, ...).
            pub const ALL: &'static [Status] = &[$(Status($val)),*];

            /// The stable name of the code (`"TIMEOUT"`), or `None` for an unknown code.
            pub fn name(self) -> Option<&'static str> {
                match self.0 { $( $val => Some(stringify!($name)), )* _ => None }
            }

            /// A one-line description of what the code means.
            pub fn text(self) -> Option<&'static str> {
                match self.0 { $( $val => Some($text), )* _ => None }
            }
        }
    };
}

statuses! {
    /// Success.
    OK = 0, "success";
    /// A wait or read did not complete in the given time.
    TIMEOUT = -1, "the operation timed out";
    /// The handle is 0, closed, stale or was never issued.
    INVALID_HANDLE = -2, "invalid, closed or stale handle";
    /// A required pointer argument is NULL.
    NULL_POINTER = -3, "a required pointer argument is NULL";
    /// An argument is out of range, malformed, or not valid UTF-8.
    INVALID_ARGUMENT = -4, "an argument is out of range or malformed";
    /// A caller buffer is too small; the required size was reported.
    BUFFER_TOO_SMALL = -5, "the caller's buffer is too small";
    /// The camera or backend does not support this operation or value.
    NOT_SUPPORTED = -6, "not supported by this camera or backend";
    /// The call is not allowed in the camera's current acquisition state.
    WRONG_STATE = -7, "not allowed in the current acquisition state";
    /// Unknown camera, backend, attribute or enum value.
    NOT_FOUND = -8, "no such camera, backend, attribute or value";
    /// The attribute exists but has another kind than the accessor used.
    ATTR_TYPE = -9, "the attribute has a different kind";
    /// The vendor library (or one of its symbols) could not be loaded.
    LIBRARY_LOAD = -10, "the vendor library could not be loaded";
    /// The vendor SDK returned an error; the message names function, code and code name.
    VENDOR = -11, "the vendor SDK reported an error";
    /// The camera stopped answering; frames acquired before stay readable.
    DISCONNECTED = -12, "the camera is disconnected";
    /// A wait was cancelled by stop, close or cancel_wait.
    ABORTED = -13, "the operation was aborted";
    /// The resource is in use (a locked chunk, a camera opened elsewhere).
    BUSY = -14, "the resource is busy";
    /// A bug or a panic inside labcam or a backend; the library stays usable.
    INTERNAL = -15, "internal error";
    /// Memory for the frame ring could not be allocated.
    NO_MEMORY = -16, "out of memory";
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "UNKNOWN({})", self.0),
        }
    }
}

/// An error: a status code and a message naming what was wrong.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct Error {
    pub status: Status,
    pub message: String,
}

impl Error {
    pub fn new(status: Status, message: impl Into<String>) -> Self {
        Error { status, message: message.into() }
    }
}

/// Shorthands: `err!(INVALID_ARGUMENT, "exposure {} s out of range", e)`.
#[macro_export]
macro_rules! err {
    ($code:ident, $($arg:tt)*) => {
        $crate::error::Error::new($crate::error::Status::$code, format!($($arg)*))
    };
}

/// `bail!(WRONG_STATE, "...")` returns the error from the current function.
#[macro_export]
macro_rules! bail {
    ($code:ident, $($arg:tt)*) => {
        return Err($crate::err!($code, $($arg)*))
    };
}

pub type Result<T> = std::result::Result<T, Error>;

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Error>();
};

/// A number for messages: plain between 1e-4 and 1e12 (and 0, infinities, NaN), else in
/// scientific notation, so a value of 1e308 shows as `1e308`, not 309 digits.
pub struct Num(pub f64);

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let a = self.0.abs();
        if a == 0.0 || !a.is_finite() || (1e-4..1e12).contains(&a) {
            write!(f, "{}", self.0)
        } else {
            write!(f, "{:e}", self.0)
        }
    }
}
