//! A minimal file logger, configured by `labcam_set_log(path, level)`.
//! Levels: 0 off, 1 error, 2 warning, 3 info, 4 debug.

use parking_lot::Mutex;
use std::fs::File;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

struct Logger {
    file: Option<File>,
    level: i32,
}

static LOG: Mutex<Logger> = Mutex::new(Logger { file: None, level: 0 });

/// Send log lines at or below `level` to the file at `path` (appending); `None` or level 0
/// turns logging off.
pub fn configure(path: Option<&str>, level: i32) -> std::io::Result<()> {
    let mut l = LOG.lock();
    match path {
        Some(p) if level > 0 => {
            l.file = Some(std::fs::OpenOptions::new().create(true).append(true).open(p)?);
            l.level = level;
        }
        _ => {
            l.file = None;
            l.level = 0;
        }
    }
    Ok(())
}

fn write(level: i32, tag: &str, msg: &str) {
    let mut l = LOG.lock();
    if level > l.level {
        return;
    }
    let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    if let Some(f) = l.file.as_mut() {
        let _ = writeln!(f, "{}.{:06} {tag} {msg}", t.as_secs(), t.subsec_micros());
    }
}

pub fn error(msg: &str) {
    write(1, "ERROR", msg)
}
pub fn warn(msg: &str) {
    write(2, "WARN", msg)
}
pub fn info(msg: &str) {
    write(3, "INFO", msg)
}
pub fn debug(msg: &str) {
    write(4, "DEBUG", msg)
}
