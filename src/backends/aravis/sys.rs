//! The libaravis-0.8 function table, loaded once at run time (never linked).
//!
//! Signatures follow Aravis 0.8's public headers (`arvsystem.h`, `arvcamera.h`,
//! `arvdevice.h`, `arvstream.h`, `arvbuffer.h`, `arvgc*.h`). The glib/gobject functions Aravis
//! objects need (`g_object_unref`, `g_error_free`, `g_free`, `g_type_check_instance_is_a`,
//! `g_signal_connect_data`) are resolved through the Aravis library handle, which also
//! searches the libraries it depends on.

use crate::error::{Error, Result, Status};
use crate::loader::{self, LibrarySpec};
use libloading::Library;
use std::ffi::{c_char, c_int, c_uint, c_void, CStr};
use std::path::PathBuf;

pub type Ptr = *mut c_void;
pub type GType = usize;

/// glib's `GError`.
#[repr(C)]
pub struct GError {
    pub domain: u32,
    pub code: c_int,
    pub message: *const c_char,
}
pub type Err = *mut *mut GError;

/// glib's `GSList`.
#[repr(C)]
pub struct GSList {
    pub data: Ptr,
    pub next: *const GSList,
}

pub(super) const ACCESS_RO: c_int = 0;
pub(super) const ACCESS_WO: c_int = 1;
pub(super) const ACCESS_RW: c_int = 2;
pub(super) const BUFFER_STATUS_SUCCESS: c_int = 0;
pub(super) const ACQUISITION_MODE_CONTINUOUS: c_int = 0;

/// See `Api::controller`.
pub struct Controller {
    /// `gboolean arv_camera_is_gv_device(ArvCamera*)`
    pub is_gv: unsafe extern "C" fn(Ptr) -> c_int,
    /// `gboolean arv_gv_device_is_controller(ArvGvDevice*)`
    pub is_controller: unsafe extern "C" fn(Ptr) -> c_int,
}

macro_rules! api {
    ($( $field:ident : $sym:literal => fn($($arg:ty),*) $(-> $ret:ty)?; )*) => {
        /// Function pointers into libaravis-0.8.
        pub struct Api {
            _lib: &'static Library,
            /// The file the table was loaded from.
            pub path: String,
            $( pub $field: unsafe extern "C" fn($($arg),*) $(-> $ret)?, )*
            /// `arv_camera_is_gv_device` and `arv_gv_device_is_controller`, when the library
            /// has both (0.8.x): whether this process holds a GigE camera's control channel.
            pub controller: Option<Controller>,
        }

        impl Api {
            fn from_library(lib: &'static Library, path: String) -> Result<Api> {
                // SAFETY: each symbol is looked up with the C signature of Aravis 0.8 /
                // glib 2.x given in this table.
                unsafe {
                    let controller = match (loader::optional_symbol(lib, "arv_camera_is_gv_device"), loader::optional_symbol(lib, "arv_gv_device_is_controller")) {
                        (Some(is_gv), Some(is_controller)) => Some(Controller { is_gv, is_controller }),
                        _ => None,
                    };
                    Ok(Api {
                        $( $field: loader::symbol(lib, &path, $sym)?, )*
                        _lib: lib,
                        path,
                        controller,
                    })
                }
            }
        }
    };
}

api! {
    update_device_list: "arv_update_device_list" => fn();
    get_n_devices: "arv_get_n_devices" => fn() -> c_uint;
    get_device_id: "arv_get_device_id" => fn(c_uint) -> *const c_char;
    get_major_version: "arv_get_major_version" => fn() -> c_uint;
    get_minor_version: "arv_get_minor_version" => fn() -> c_uint;
    get_micro_version: "arv_get_micro_version" => fn() -> c_uint;

    camera_new: "arv_camera_new" => fn(*const c_char, Err) -> Ptr;
    camera_get_device: "arv_camera_get_device" => fn(Ptr) -> Ptr;
    camera_get_vendor_name: "arv_camera_get_vendor_name" => fn(Ptr, Err) -> *const c_char;
    camera_get_model_name: "arv_camera_get_model_name" => fn(Ptr, Err) -> *const c_char;
    camera_get_device_serial_number: "arv_camera_get_device_serial_number" => fn(Ptr, Err) -> *const c_char;
    camera_get_device_id: "arv_camera_get_device_id" => fn(Ptr, Err) -> *const c_char;
    camera_get_sensor_size: "arv_camera_get_sensor_size" => fn(Ptr, *mut c_int, *mut c_int, Err);
    camera_get_payload: "arv_camera_get_payload" => fn(Ptr, Err) -> c_uint;
    camera_create_stream: "arv_camera_create_stream" => fn(Ptr, Ptr, Ptr, Err) -> Ptr;
    camera_set_acquisition_mode: "arv_camera_set_acquisition_mode" => fn(Ptr, c_int, Err);
    camera_start_acquisition: "arv_camera_start_acquisition" => fn(Ptr, Err);
    camera_stop_acquisition: "arv_camera_stop_acquisition" => fn(Ptr, Err);
    camera_software_trigger: "arv_camera_software_trigger" => fn(Ptr, Err);

    device_get_genicam: "arv_device_get_genicam" => fn(Ptr) -> Ptr;
    device_get_feature: "arv_device_get_feature" => fn(Ptr, *const c_char) -> Ptr;
    device_execute_command: "arv_device_execute_command" => fn(Ptr, *const c_char, Err);
    device_get_integer: "arv_device_get_integer_feature_value" => fn(Ptr, *const c_char, Err) -> i64;
    device_set_integer: "arv_device_set_integer_feature_value" => fn(Ptr, *const c_char, i64, Err);
    device_get_integer_bounds: "arv_device_get_integer_feature_bounds" => fn(Ptr, *const c_char, *mut i64, *mut i64, Err);
    device_get_integer_increment: "arv_device_get_integer_feature_increment" => fn(Ptr, *const c_char, Err) -> i64;
    device_get_float: "arv_device_get_float_feature_value" => fn(Ptr, *const c_char, Err) -> f64;
    device_set_float: "arv_device_set_float_feature_value" => fn(Ptr, *const c_char, f64, Err);
    device_get_float_bounds: "arv_device_get_float_feature_bounds" => fn(Ptr, *const c_char, *mut f64, *mut f64, Err);
    device_get_boolean: "arv_device_get_boolean_feature_value" => fn(Ptr, *const c_char, Err) -> c_int;
    device_set_boolean: "arv_device_set_boolean_feature_value" => fn(Ptr, *const c_char, c_int, Err);
    device_get_string: "arv_device_get_string_feature_value" => fn(Ptr, *const c_char, Err) -> *const c_char;
    device_set_string: "arv_device_set_string_feature_value" => fn(Ptr, *const c_char, *const c_char, Err);

    gc_get_node: "arv_gc_get_node" => fn(Ptr, *const c_char) -> Ptr;
    gc_category_get_features: "arv_gc_category_get_features" => fn(Ptr) -> *const GSList;
    gc_enumeration_get_entries: "arv_gc_enumeration_get_entries" => fn(Ptr) -> *const GSList;
    gc_feature_node_get_name: "arv_gc_feature_node_get_name" => fn(Ptr) -> *const c_char;
    gc_feature_node_is_available: "arv_gc_feature_node_is_available" => fn(Ptr, Err) -> c_int;
    gc_feature_node_is_implemented: "arv_gc_feature_node_is_implemented" => fn(Ptr, Err) -> c_int;
    gc_feature_node_is_locked: "arv_gc_feature_node_is_locked" => fn(Ptr, Err) -> c_int;
    gc_feature_node_get_actual_access_mode: "arv_gc_feature_node_get_actual_access_mode" => fn(Ptr) -> c_int;
    gc_category_get_type: "arv_gc_category_get_type" => fn() -> GType;
    gc_feature_node_get_type: "arv_gc_feature_node_get_type" => fn() -> GType;
    gc_integer_node_get_type: "arv_gc_integer_node_get_type" => fn() -> GType;
    gc_float_node_get_type: "arv_gc_float_node_get_type" => fn() -> GType;
    gc_string_node_get_type: "arv_gc_string_node_get_type" => fn() -> GType;
    dom_document_get_document_element: "arv_dom_document_get_document_element" => fn(Ptr) -> Ptr;
    dom_node_get_first_child: "arv_dom_node_get_first_child" => fn(Ptr) -> Ptr;
    dom_node_get_next_sibling: "arv_dom_node_get_next_sibling" => fn(Ptr) -> Ptr;
    gc_enumeration_get_type: "arv_gc_enumeration_get_type" => fn() -> GType;
    gc_command_get_type: "arv_gc_command_get_type" => fn() -> GType;
    gc_boolean_get_type: "arv_gc_boolean_get_type" => fn() -> GType;
    gc_integer_get_type: "arv_gc_integer_get_type" => fn() -> GType;
    gc_float_get_type: "arv_gc_float_get_type" => fn() -> GType;
    gc_string_get_type: "arv_gc_string_get_type" => fn() -> GType;

    stream_push_buffer: "arv_stream_push_buffer" => fn(Ptr, Ptr);
    stream_timeout_pop_buffer: "arv_stream_timeout_pop_buffer" => fn(Ptr, u64) -> Ptr;
    buffer_new: "arv_buffer_new" => fn(usize, Ptr) -> Ptr;
    buffer_get_status: "arv_buffer_get_status" => fn(Ptr) -> c_int;
    buffer_get_data: "arv_buffer_get_data" => fn(Ptr, *mut usize) -> *const c_void;
    buffer_get_frame_id: "arv_buffer_get_frame_id" => fn(Ptr) -> u64;
    buffer_get_timestamp: "arv_buffer_get_timestamp" => fn(Ptr) -> u64;

    g_object_unref: "g_object_unref" => fn(Ptr);
    g_error_free: "g_error_free" => fn(*mut GError);
    g_type_check_instance_is_a: "g_type_check_instance_is_a" => fn(Ptr, GType) -> c_int;
    g_signal_connect_data: "g_signal_connect_data" => fn(Ptr, *const c_char, Ptr, Ptr, Ptr, c_int) -> u64;
    g_signal_handler_disconnect: "g_signal_handler_disconnect" => fn(Ptr, u64);
    g_quark_to_string: "g_quark_to_string" => fn(u32) -> *const c_char;
}

/// Where libaravis-0.8 is looked for (after the explicit path and `LABCAM_ARAVIS_LIB`).
const SPEC: LibrarySpec<'static> = LibrarySpec {
    backend: "aravis",
    default_paths: &[
        "/usr/lib/x86_64-linux-gnu/libaravis-0.8.so.0",
        "/usr/lib/aarch64-linux-gnu/libaravis-0.8.so.0",
        "/usr/local/lib/libaravis-0.8.so.0",
        "/usr/local/lib/x86_64-linux-gnu/libaravis-0.8.so.0",
        "/usr/lib64/libaravis-0.8.so.0",
        "/opt/homebrew/lib/libaravis-0.8.0.dylib",
    ],
    system_names: &["libaravis-0.8.so.0", "libaravis-0.8.so", "libaravis-0.8-0.dll", "libaravis-0.8.0.dylib"],
    global_symbols: false,
};

/// Load the table from the first library found.
pub fn load(explicit: Option<&PathBuf>) -> Result<Api> {
    let (lib, path) = loader::load(&SPEC, explicit)?;
    Api::from_library(lib, path)
}

/// Borrow a C string from Aravis (NULL gives "").
pub fn cstr(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        // SAFETY: Aravis returns NUL-terminated strings that live at least until the next call.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

impl Api {
    /// Turn a GError set by `func` into a VENDOR error (and free it); Ok when none was set.
    pub fn check(&self, func: &str, e: *mut GError) -> Result<()> {
        if e.is_null() {
            return Ok(());
        }
        // SAFETY: e is a GError allocated by glib; freed once here.
        let (domain, code, msg) = unsafe { (cstr((self.g_quark_to_string)((*e).domain)), (*e).code, cstr((*e).message)) };
        unsafe { (self.g_error_free)(e) };
        let status = if domain.contains("Gv") && (msg.contains("timeout") || msg.contains("Timeout")) {
            Status::DISCONNECTED
        } else {
            Status::VENDOR
        };
        Err(Error::new(status, format!("{func} failed: {domain} code {code}: {msg}")))
    }
}
