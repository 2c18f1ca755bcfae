//! Constants of the C ABI (`#define`s in the header). Values are stable forever.

/// Library version; `labcam_abi_version` returns the same numbers (they follow Cargo.toml).
pub const LABCAM_VERSION_MAJOR: i32 = 0;
pub const LABCAM_VERSION_MINOR: i32 = 1;
pub const LABCAM_VERSION_PATCH: i32 = 0;

/// Success.
pub const LABCAM_OK: i32 = 0;
/// A wait or read did not complete in the given time.
pub const LABCAM_ERR_TIMEOUT: i32 = -1;
/// The handle is 0, closed, stale or was never issued.
pub const LABCAM_ERR_INVALID_HANDLE: i32 = -2;
/// A required pointer argument is NULL.
pub const LABCAM_ERR_NULL_POINTER: i32 = -3;
/// An argument is out of range, malformed, or not valid UTF-8.
pub const LABCAM_ERR_INVALID_ARGUMENT: i32 = -4;
/// A caller buffer is too small; the size needed was reported.
pub const LABCAM_ERR_BUFFER_TOO_SMALL: i32 = -5;
/// Not supported by this camera or backend.
pub const LABCAM_ERR_NOT_SUPPORTED: i32 = -6;
/// Not allowed in the current acquisition state.
pub const LABCAM_ERR_WRONG_STATE: i32 = -7;
/// Unknown camera, backend, attribute or enum value.
pub const LABCAM_ERR_NOT_FOUND: i32 = -8;
/// The attribute has another kind than the accessor used.
pub const LABCAM_ERR_ATTR_TYPE: i32 = -9;
/// The vendor library or one of its symbols could not be loaded.
pub const LABCAM_ERR_LIBRARY_LOAD: i32 = -10;
/// The vendor SDK reported an error (the message names function, code and code name).
pub const LABCAM_ERR_VENDOR: i32 = -11;
/// The camera is disconnected; frames acquired before stay readable.
pub const LABCAM_ERR_DISCONNECTED: i32 = -12;
/// A wait was cancelled by stop, close or cancel_wait.
pub const LABCAM_ERR_ABORTED: i32 = -13;
/// The resource is busy (a locked chunk, a camera opened elsewhere).
pub const LABCAM_ERR_BUSY: i32 = -14;
/// A bug or a panic inside labcam or a backend; the library stays usable.
pub const LABCAM_ERR_INTERNAL: i32 = -15;
/// Memory for the frame ring could not be allocated.
pub const LABCAM_ERR_NO_MEMORY: i32 = -16;

/// Trigger: internal timer at the frame period.
pub const LABCAM_TRIGGER_INT: i32 = 0;
/// Trigger: one frame per external edge.
pub const LABCAM_TRIGGER_EXT: i32 = 1;
/// Trigger: one frame per labcam_send_software_trigger.
pub const LABCAM_TRIGGER_SOFTWARE: i32 = 2;
/// Trigger: an external edge starts a free-running sequence.
pub const LABCAM_TRIGGER_EXT_START: i32 = 3;
/// Trigger: the external pulse width sets the exposure.
pub const LABCAM_TRIGGER_EXT_EXPOSURE: i32 = 4;

/// Acquisition state: open, nothing set up.
pub const LABCAM_STATE_OPEN: i32 = 1;
/// Acquisition state: ring allocated, not acquiring.
pub const LABCAM_STATE_SET_UP: i32 = 2;
/// Acquisition state: acquiring.
pub const LABCAM_STATE_RUNNING: i32 = 3;
/// Acquisition state: disconnected or failed; frames stay readable, then close.
pub const LABCAM_STATE_FAULT: i32 = 4;

/// Image indexing: rows and columns, first row at the top (the usual image layout).
pub const LABCAM_INDEXING_RCT: i32 = 0;
/// Image indexing: rows and columns, first row at the bottom.
pub const LABCAM_INDEXING_RCB: i32 = 1;
/// Image indexing: x first (transposed), y from the top.
pub const LABCAM_INDEXING_XYT: i32 = 2;
/// Image indexing: x first (transposed), y from the bottom.
pub const LABCAM_INDEXING_XYB: i32 = 3;

/// Pixel kind: unsigned 8-bit.
pub const LABCAM_PIXEL_U8: i32 = 1;
/// Pixel kind: unsigned 16-bit (native byte order).
pub const LABCAM_PIXEL_U16: i32 = 2;
/// Pixel kind: unsigned 32-bit (native byte order).
pub const LABCAM_PIXEL_U32: i32 = 3;

/// Attribute kind: 64-bit integer.
pub const LABCAM_ATTR_INT: i32 = 1;
/// Attribute kind: double.
pub const LABCAM_ATTR_FLOAT: i32 = 2;
/// Attribute kind: boolean (0/1 as int32_t).
pub const LABCAM_ATTR_BOOL: i32 = 3;
/// Attribute kind: one of named values (get/set by name as string, by index as int).
pub const LABCAM_ATTR_ENUM: i32 = 4;
/// Attribute kind: UTF-8 string.
pub const LABCAM_ATTR_STRING: i32 = 5;
/// Attribute kind: command (run with labcam_attr_command).
pub const LABCAM_ATTR_COMMAND: i32 = 6;

/// labcam_read_chunk flag: copy without marking the frames read.
pub const LABCAM_READ_PEEK: i32 = 1;

/// labcam_frame_info.flags: the frame arrived incomplete; missing bytes are zero.
pub const LABCAM_FRAME_INCOMPLETE: i32 = 1;

/// Log levels for labcam_set_log.
pub const LABCAM_LOG_OFF: i32 = 0;
pub const LABCAM_LOG_ERROR: i32 = 1;
pub const LABCAM_LOG_WARN: i32 = 2;
pub const LABCAM_LOG_INFO: i32 = 3;
pub const LABCAM_LOG_DEBUG: i32 = 4;
