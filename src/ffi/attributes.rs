//! Generic named attributes (vendor features, parameters, properties).
//!
//! Names are UTF-8 and case-sensitive. Kinds are LABCAM_ATTR_*. Accessors check the kind:
//! the wrong accessor gives ATTR_TYPE; ENUM attributes are read and written as STRING (entry
//! name) or INT (entry index). Unknown names give NOT_FOUND; values out of the limits give
//! INVALID_ARGUMENT; read-only or unavailable attributes NOT_SUPPORTED; settings that cannot
//! change while acquiring WRONG_STATE. When a write changes the frame size of a set-up
//! acquisition, the acquisition is cleared.

use super::*;
use crate::model::{AttrInfo, AttrKind, AttrValue};

/// Number of attributes of the camera; also refreshes the list labcam_attr_name indexes.
#[no_mangle]
pub unsafe extern "C" fn labcam_attr_count(h: labcam_handle, n: *mut i64) -> i32 {
    run_h("labcam_attr_count", h, |c| {
        need(n, "n")?;
        put(n, c.attr_count()? as i64);
        Ok(())
    })
}

/// Name of attribute `index` (0-based, below labcam_attr_count). Buffer rules as
/// labcam_status_name. INVALID_ARGUMENT for an index out of range.
#[no_mangle]
pub unsafe extern "C" fn labcam_attr_name(h: labcam_handle, index: i64, buf: *mut c_char, cap: u64, needed: *mut u64) -> i32 {
    run_h("labcam_attr_name", h, |c| {
        let i = count_arg(index, "index")?;
        put_string(&c.attr_name(i)?, buf, cap, needed)
    })
}

/// Kind, access and limits of attribute `name` (see labcam_attr_info; limits are read now).
#[no_mangle]
pub unsafe extern "C" fn labcam_attr_info(h: labcam_handle, name: *const c_char, info: *mut AttrInfo) -> i32 {
    run_h("labcam_attr_info", h, |c| {
        let name = str_arg(name, "name")?;
        need(info, "info")?;
        put(info, c.attr_info(name)?);
        Ok(())
    })
}

/// Name of entry `index` of enum attribute `name` (index below labcam_attr_info's
/// enum_count). ATTR_TYPE when not an enum; INVALID_ARGUMENT for an index out of range.
#[no_mangle]
pub unsafe extern "C" fn labcam_attr_enum_value(h: labcam_handle, name: *const c_char, index: i64, buf: *mut c_char, cap: u64, needed: *mut u64) -> i32 {
    run_h("labcam_attr_enum_value", h, |c| {
        let name = str_arg(name, "name")?;
        let i = count_arg(index, "index")?;
        let entries = c.attr_enum_entries(name)?;
        let Some(e) = entries.get(i) else {
            crate::bail!(INVALID_ARGUMENT, "enum index {i} out of range for '{name}' ({} values)", entries.len());
        };
        put_string(&e.name, buf, cap, needed)
    })
}

/// Whether entry `index` of enum attribute `name` can be selected now (`*available` 0/1).
/// Errors as labcam_attr_enum_value.
#[no_mangle]
pub unsafe extern "C" fn labcam_attr_enum_available(h: labcam_handle, name: *const c_char, index: i64, available: *mut i32) -> i32 {
    run_h("labcam_attr_enum_available", h, |c| {
        let name = str_arg(name, "name")?;
        let i = count_arg(index, "index")?;
        need(available, "available")?;
        let entries = c.attr_enum_entries(name)?;
        let Some(e) = entries.get(i) else {
            crate::bail!(INVALID_ARGUMENT, "enum index {i} out of range for '{name}' ({} values)", entries.len());
        };
        put(available, e.available as i32);
        Ok(())
    })
}

/// Read an INT attribute (or an ENUM's entry index).
#[no_mangle]
pub unsafe extern "C" fn labcam_get_attr_int(h: labcam_handle, name: *const c_char, value: *mut i64) -> i32 {
    run_h("labcam_get_attr_int", h, |c| {
        let name = str_arg(name, "name")?;
        need(value, "value")?;
        match c.get_attr(name, AttrKind::Int)? {
            AttrValue::Int(v) => put(value, v),
            v => crate::bail!(INTERNAL, "backend returned {v:?} for INT attribute '{name}'"),
        }
        Ok(())
    })
}

/// Read a FLOAT attribute.
#[no_mangle]
pub unsafe extern "C" fn labcam_get_attr_float(h: labcam_handle, name: *const c_char, value: *mut f64) -> i32 {
    run_h("labcam_get_attr_float", h, |c| {
        let name = str_arg(name, "name")?;
        need(value, "value")?;
        match c.get_attr(name, AttrKind::Float)? {
            AttrValue::Float(v) => put(value, v),
            v => crate::bail!(INTERNAL, "backend returned {v:?} for FLOAT attribute '{name}'"),
        }
        Ok(())
    })
}

/// Read a BOOL attribute as 0 or 1.
#[no_mangle]
pub unsafe extern "C" fn labcam_get_attr_bool(h: labcam_handle, name: *const c_char, value: *mut i32) -> i32 {
    run_h("labcam_get_attr_bool", h, |c| {
        let name = str_arg(name, "name")?;
        need(value, "value")?;
        match c.get_attr(name, AttrKind::Bool)? {
            AttrValue::Bool(v) => put(value, v as i32),
            v => crate::bail!(INTERNAL, "backend returned {v:?} for BOOL attribute '{name}'"),
        }
        Ok(())
    })
}

/// Read a STRING attribute (or an ENUM's entry name). Buffer rules as labcam_status_name.
#[no_mangle]
pub unsafe extern "C" fn labcam_get_attr_string(h: labcam_handle, name: *const c_char, buf: *mut c_char, cap: u64, needed: *mut u64) -> i32 {
    run_h("labcam_get_attr_string", h, |c| {
        let name = str_arg(name, "name")?;
        match c.get_attr(name, AttrKind::String)? {
            AttrValue::String(v) => put_string(&v, buf, cap, needed),
            v => crate::bail!(INTERNAL, "backend returned {v:?} for STRING attribute '{name}'"),
        }
    })
}

/// Write an INT attribute (or select an ENUM entry by index). INVALID_ARGUMENT when `value`
/// is outside labcam_attr_info's [int_min, int_max] or off its grid int_min + k·int_step;
/// NOT_SUPPORTED when not writable now; WRONG_STATE for a setting that cannot change while
/// acquiring; ATTR_TYPE for other kinds.
#[no_mangle]
pub unsafe extern "C" fn labcam_set_attr_int(h: labcam_handle, name: *const c_char, value: i64) -> i32 {
    run_h("labcam_set_attr_int", h, |c| c.set_attr(str_arg(name, "name")?, AttrValue::Int(value)))
}

/// Write a FLOAT attribute. INVALID_ARGUMENT when `value` is not finite or outside
/// labcam_attr_info's [float_min, float_max]; other errors as labcam_set_attr_int.
#[no_mangle]
pub unsafe extern "C" fn labcam_set_attr_float(h: labcam_handle, name: *const c_char, value: f64) -> i32 {
    run_h("labcam_set_attr_float", h, |c| c.set_attr(str_arg(name, "name")?, AttrValue::Float(value)))
}

/// Write a BOOL attribute: 0 is false, any other value true.
#[no_mangle]
pub unsafe extern "C" fn labcam_set_attr_bool(h: labcam_handle, name: *const c_char, value: i32) -> i32 {
    run_h("labcam_set_attr_bool", h, |c| c.set_attr(str_arg(name, "name")?, AttrValue::Bool(value != 0)))
}

/// Write a STRING attribute (or select an ENUM entry by name; NOT_FOUND for unknown names).
#[no_mangle]
pub unsafe extern "C" fn labcam_set_attr_string(h: labcam_handle, name: *const c_char, value: *const c_char) -> i32 {
    run_h("labcam_set_attr_string", h, |c| {
        let name = str_arg(name, "name")?;
        let v = str_arg(value, "value")?;
        c.set_attr(name, AttrValue::String(v.to_string()))
    })
}

/// Run a COMMAND attribute (ATTR_TYPE for other kinds). AcquisitionStart, AcquisitionStop
/// and AcquisitionAbort (GenICam, Andor SDK3) give NOT_SUPPORTED: labcam_start,
/// labcam_start_sequence and labcam_stop run them.
#[no_mangle]
pub unsafe extern "C" fn labcam_attr_command(h: labcam_handle, name: *const c_char) -> i32 {
    run_h("labcam_attr_command", h, |c| c.attr_command(str_arg(name, "name")?))
}
