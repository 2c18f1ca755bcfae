// labcam.hpp: header-only C++17 binding of labcam's C ABI (include/labcam.h).
//
// Thin: every call maps to one C function of the same name without the `labcam_` prefix;
// failures throw labcam::Error carrying the status code, its name (labcam_status_name) and
// the library's message (labcam_last_error for a camera, labcam_thread_last_error otherwise).
// labcam::Camera is move-only and closes its handle in its destructor. Thread rules are the
// C ABI's: any method may be called from any thread; wait() never blocks stop(), close(),
// cancel_wait() or status queries from other threads.
#ifndef LABCAM_HPP
#define LABCAM_HPP

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "labcam.h"

namespace labcam {

/// A failed labcam call: status code (LABCAM_ERR_*), its name, and the message.
class Error : public std::runtime_error {
public:
    Error(int32_t code, std::string name, const std::string& message)
        : std::runtime_error(name + ": " + message), code_(code), name_(std::move(name)), message_(message) {}
    /// The status code, e.g. LABCAM_ERR_INVALID_ARGUMENT.
    int32_t code() const noexcept { return code_; }
    /// Its stable name, e.g. "INVALID_ARGUMENT".
    const std::string& name() const noexcept { return name_; }
    /// The library's message: "function: STATUS: details".
    const std::string& message() const noexcept { return message_; }

private:
    int32_t code_;
    std::string name_;
    std::string message_;
};

namespace detail {

/// Call `f(buf, cap, &needed)` until the buffer is big enough; returns the status and text.
template <class F>
inline int32_t read_string(F&& f, std::string& out) {
    std::vector<char> buf(256);
    for (;;) {
        uint64_t needed = 0;
        int32_t st = f(buf.data(), static_cast<uint64_t>(buf.size()), &needed);
        if (st == LABCAM_ERR_BUFFER_TOO_SMALL && needed > buf.size()) {
            buf.resize(static_cast<size_t>(needed));
            continue;
        }
        if (st == LABCAM_OK) out.assign(buf.data());
        return st;
    }
}

inline std::string name_of(int32_t code) {
    std::string n;
    if (read_string([&](char* b, uint64_t c, uint64_t* nd) { return labcam_status_name(code, b, c, nd); }, n) != LABCAM_OK)
        n = "UNKNOWN(" + std::to_string(code) + ")";
    return n;
}

[[noreturn]] inline void fail(int32_t code, labcam_handle h) {
    std::string msg;
    if (h != 0)
        read_string([&](char* b, uint64_t c, uint64_t* nd) { return labcam_last_error(h, b, c, nd); }, msg);
    else
        read_string([&](char* b, uint64_t c, uint64_t* nd) { return labcam_thread_last_error(b, c, nd); }, msg);
    throw Error(code, name_of(code), msg);
}

/// Throw labcam::Error unless `code` is LABCAM_OK.
inline void check(int32_t code, labcam_handle h = 0) {
    if (code != LABCAM_OK) fail(code, h);
}

inline std::vector<std::string> lines(const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t i = 0; i < s.size(); ++i)
        if (s[i] == '\n') {
            out.push_back(s.substr(start, i - start));
            start = i + 1;
        }
    if (start < s.size()) out.push_back(s.substr(start));
    return out;
}

}  // namespace detail

/// Library version (major, minor, patch).
struct Version {
    int32_t major, minor, patch;
};

[[nodiscard]] inline Version abi_version() {
    Version v{};
    detail::check(labcam_abi_version(&v.major, &v.minor, &v.patch));
    return v;
}

[[nodiscard]] inline std::string status_name(int32_t code) {
    std::string s;
    detail::check(detail::read_string([&](char* b, uint64_t c, uint64_t* n) { return labcam_status_name(code, b, c, n); }, s));
    return s;
}

[[nodiscard]] inline std::string status_text(int32_t code) {
    std::string s;
    detail::check(detail::read_string([&](char* b, uint64_t c, uint64_t* n) { return labcam_status_text(code, b, c, n); }, s));
    return s;
}

/// The calling thread's last error message ("" if none).
[[nodiscard]] inline std::string thread_last_error() {
    std::string s;
    detail::check(detail::read_string([&](char* b, uint64_t c, uint64_t* n) { return labcam_thread_last_error(b, c, n); }, s));
    return s;
}

/// Log to `path` up to `level` (LABCAM_LOG_*); an empty path turns logging off.
inline void set_log(const std::string& path, int32_t level) {
    detail::check(labcam_set_log(path.empty() ? nullptr : path.c_str(), level));
}

[[nodiscard]] inline std::vector<std::string> list_backends() {
    std::string s;
    detail::check(detail::read_string([&](char* b, uint64_t c, uint64_t* n) { return labcam_list_backends(b, c, n); }, s));
    return detail::lines(s);
}

/// Camera ids ("backend:id") of one backend, or of every backend when `backend` is empty.
[[nodiscard]] inline std::vector<std::string> list_cameras(const std::string& backend = "") {
    std::string s;
    const char* b = backend.empty() ? nullptr : backend.c_str();
    detail::check(detail::read_string([&](char* buf, uint64_t c, uint64_t* n) { return labcam_list_cameras(b, buf, c, n); }, s));
    return detail::lines(s);
}

/// The vendor library `backend` loads first; an empty path restores the default search.
inline void set_backend_library(const std::string& backend, const std::string& path) {
    detail::check(labcam_set_backend_library(backend.c_str(), path.empty() ? nullptr : path.c_str()));
}

using Roi = labcam_roi;
using RoiLimits = labcam_roi_limits;
using FrameFormat = labcam_frame_format;
using FrameInfo = labcam_frame_info;
using FramesStatus = labcam_frames_status;
using ChunkInfo = labcam_chunk;
using AttrInfo = struct labcam_attr_info;

class Camera;

/// A zero-copy chunk of unread frames (labcam_lock_chunk); unlocked, and its frames marked
/// read, when destroyed. Move-only; must not outlive its Camera.
class LockedChunk {
public:
    LockedChunk(LockedChunk&& o) noexcept : h_(std::exchange(o.h_, 0)), c_(o.c_) {}
    LockedChunk& operator=(LockedChunk&& o) noexcept {
        if (this != &o) {
            release();
            h_ = std::exchange(o.h_, 0);
            c_ = o.c_;
        }
        return *this;
    }
    LockedChunk(const LockedChunk&) = delete;
    LockedChunk& operator=(const LockedChunk&) = delete;
    ~LockedChunk() { release(); }

    const ChunkInfo& info() const noexcept { return c_; }
    int64_t n_frames() const noexcept { return c_.n_frames; }
    /// Frame `k` (device layout, `frame_bytes` bytes).
    const void* frame(int64_t k) const noexcept {
        return reinterpret_cast<const uint8_t*>(static_cast<uintptr_t>(c_.data)) + k * c_.slot_bytes;
    }
    const FrameInfo& frame_info(int64_t k) const noexcept {
        return reinterpret_cast<const FrameInfo*>(static_cast<uintptr_t>(c_.infos))[k];
    }
    /// Unlock now (the destructor does it otherwise); throws on failure.
    void unlock() {
        labcam_handle h = std::exchange(h_, 0);
        if (h != 0) detail::check(labcam_unlock_chunk(h, c_.chunk_id), h);
    }

private:
    friend class Camera;
    LockedChunk(labcam_handle h, const ChunkInfo& c) : h_(h), c_(c) {}
    void release() noexcept {
        labcam_handle h = std::exchange(h_, 0);
        if (h != 0) labcam_unlock_chunk(h, c_.chunk_id);
    }
    labcam_handle h_;
    ChunkInfo c_;
};

/// One open camera. Move-only; closes in its destructor.
class Camera {
public:
    /// Open a camera by id ("sim", "aravis:127.0.0.1", "andor_sdk3:0", ...).
    explicit Camera(const std::string& camera_id) { detail::check(labcam_open(camera_id.c_str(), &h_)); }
    Camera(Camera&& o) noexcept : h_(std::exchange(o.h_, 0)) {}
    Camera& operator=(Camera&& o) noexcept {
        if (this != &o) {
            if (h_ != 0) labcam_close(h_);
            h_ = std::exchange(o.h_, 0);
        }
        return *this;
    }
    Camera(const Camera&) = delete;
    Camera& operator=(const Camera&) = delete;
    ~Camera() {
        if (h_ != 0) labcam_close(h_);
    }

    /// The C handle (0 after close or move).
    labcam_handle handle() const noexcept { return h_; }
    /// Close now; later calls throw INVALID_HANDLE.
    void close() { detail::check(labcam_close(std::exchange(h_, 0))); }
    /// The last error message of this camera.
    [[nodiscard]] std::string last_error() const {
        std::string s;
        check(detail::read_string([&](char* b, uint64_t c, uint64_t* n) { return labcam_last_error(h_, b, c, n); }, s));
        return s;
    }
    /// key=value lines: backend, vendor, model, serial, sdk_version, ...
    [[nodiscard]] std::string device_info() const {
        std::string s;
        check(detail::read_string([&](char* b, uint64_t c, uint64_t* n) { return labcam_get_device_info(h_, b, c, n); }, s));
        return s;
    }

    // ---- geometry
    [[nodiscard]] std::pair<int64_t, int64_t> detector_size() const {
        int64_t w = 0, h = 0;
        check(labcam_get_detector_size(h_, &w, &h));
        return {w, h};
    }
    [[nodiscard]] RoiLimits roi_limits() const {
        RoiLimits l{};
        check(labcam_get_roi_limits(h_, &l));
        return l;
    }
    /// Set the ROI [hstart, hend) x [vstart, vend) in sensor pixels with binning; returns the
    /// ROI applied after the camera's rounding.
    Roi set_roi(int64_t hstart, int64_t hend, int64_t vstart, int64_t vend, int64_t hbin = 1, int64_t vbin = 1) {
        Roi r{};
        check(labcam_set_roi(h_, hstart, hend, vstart, vend, hbin, vbin, &r));
        return r;
    }
    [[nodiscard]] Roi roi() const {
        Roi r{};
        check(labcam_get_roi(h_, &r));
        return r;
    }
    /// (rows, cols) of frames as read with the current indexing.
    [[nodiscard]] std::pair<int64_t, int64_t> data_dimensions() const {
        int64_t r = 0, c = 0;
        check(labcam_get_data_dimensions(h_, &r, &c));
        return {r, c};
    }
    void set_image_indexing(int32_t mode) { check(labcam_set_image_indexing(h_, mode)); }
    [[nodiscard]] int32_t image_indexing() const {
        int32_t m = 0;
        check(labcam_get_image_indexing(h_, &m));
        return m;
    }
    [[nodiscard]] FrameFormat frame_format() const {
        FrameFormat f{};
        check(labcam_get_frame_format(h_, &f));
        return f;
    }

    // ---- timing and trigger (seconds)
    double set_exposure(double seconds) {
        double a = 0;
        check(labcam_set_exposure(h_, seconds, &a));
        return a;
    }
    [[nodiscard]] double exposure() const {
        double e = 0;
        check(labcam_get_exposure(h_, &e));
        return e;
    }
    double set_frame_period(double seconds) {
        double a = 0;
        check(labcam_set_frame_period(h_, seconds, &a));
        return a;
    }
    /// (exposure, frame period) in seconds.
    [[nodiscard]] std::pair<double, double> frame_timings() const {
        double e = 0, p = 0;
        check(labcam_get_frame_timings(h_, &e, &p));
        return {e, p};
    }
    void set_trigger_mode(int32_t mode) { check(labcam_set_trigger_mode(h_, mode)); }
    [[nodiscard]] int32_t trigger_mode() const {
        int32_t m = 0;
        check(labcam_get_trigger_mode(h_, &m));
        return m;
    }
    void send_software_trigger() { check(labcam_send_software_trigger(h_)); }

    // ---- acquisition
    void setup_acquisition(int64_t nframes) { check(labcam_setup_acquisition(h_, nframes)); }
    void clear_acquisition() { check(labcam_clear_acquisition(h_)); }
    void start() { check(labcam_start(h_)); }
    /// An acquisition that ends by itself after `nframes` kept frames (labcam_start_sequence).
    void start_sequence(int64_t nframes) { check(labcam_start_sequence(h_, nframes)); }
    void stop() { check(labcam_stop(h_)); }
    [[nodiscard]] int32_t acquisition_state() const {
        int32_t s = 0;
        check(labcam_get_acquisition_state(h_, &s));
        return s;
    }
    /// Wait for `nframes` unread frames (timeout in seconds, negative = no limit). Throws
    /// Error with TIMEOUT, ABORTED, DISCONNECTED, ...
    void wait(int64_t nframes = 1, double timeout_s = -1) { check(labcam_wait(h_, nframes, timeout_s)); }
    void cancel_wait() { check(labcam_cancel_wait(h_)); }
    [[nodiscard]] FramesStatus frames_status() const {
        FramesStatus s{};
        check(labcam_get_frames_status(h_, &s));
        return s;
    }

    // ---- reading
    /// Copy up to `max_frames` oldest unread frames into `dst` (`dst_bytes`); their infos into
    /// `infos` (room for max_frames, or nullptr). Returns the number copied.
    int64_t read_chunk(void* dst, uint64_t dst_bytes, int64_t max_frames, FrameInfo* infos = nullptr, bool peek = false) {
        int64_t n = 0;
        check(labcam_read_chunk(h_, dst, dst_bytes, max_frames, peek ? LABCAM_READ_PEEK : 0, infos, &n));
        return n;
    }
    /// Frames of pixel type T (uint8_t, uint16_t, uint32_t), back to back, and their infos.
    template <class T>
    [[nodiscard]] std::vector<T> read_chunk(int64_t max_frames, std::vector<FrameInfo>* infos = nullptr, bool peek = false) {
        FrameFormat f = frame_format();
        std::vector<T> px(static_cast<size_t>(max_frames * f.frame_bytes) / sizeof(T));
        std::vector<FrameInfo> inf(static_cast<size_t>(max_frames));
        int64_t n = read_chunk(px.data(), px.size() * sizeof(T), max_frames, inf.data(), peek);
        px.resize(static_cast<size_t>(n * f.frame_bytes) / sizeof(T));
        inf.resize(static_cast<size_t>(n));
        if (infos) *infos = std::move(inf);
        return px;
    }
    FrameInfo read_newest(void* dst, uint64_t dst_bytes) {
        FrameInfo i{};
        check(labcam_read_newest(h_, dst, dst_bytes, &i));
        return i;
    }
    FrameInfo snap(void* dst, uint64_t dst_bytes, double timeout_s = 10) {
        FrameInfo i{};
        check(labcam_snap(h_, dst, dst_bytes, timeout_s, &i));
        return i;
    }
    int64_t grab(int64_t n, void* dst, uint64_t dst_bytes, double timeout_s = 10, FrameInfo* infos = nullptr) {
        int64_t got = 0;
        check(labcam_grab(h_, n, dst, dst_bytes, timeout_s, infos, &got));
        return got;
    }
    /// Lock up to `max_frames` contiguous unread frames in the ring (zero-copy).
    [[nodiscard]] LockedChunk lock_chunk(int64_t max_frames) {
        ChunkInfo c{};
        check(labcam_lock_chunk(h_, max_frames, &c));
        return LockedChunk(c.chunk_id != 0 ? h_ : 0, c);
    }

    // ---- attributes
    [[nodiscard]] std::vector<std::string> attr_names() const {
        int64_t n = 0;
        check(labcam_attr_count(h_, &n));
        std::vector<std::string> out;
        for (int64_t i = 0; i < n; ++i) {
            std::string s;
            check(detail::read_string([&](char* b, uint64_t c, uint64_t* nd) { return labcam_attr_name(h_, i, b, c, nd); }, s));
            out.push_back(s);
        }
        return out;
    }
    [[nodiscard]] AttrInfo attr_info(const std::string& name) const {
        AttrInfo i{};
        check(::labcam_attr_info(h_, name.c_str(), &i));
        return i;
    }
    [[nodiscard]] std::vector<std::string> attr_enum_values(const std::string& name) const {
        AttrInfo info = attr_info(name);
        std::vector<std::string> out;
        for (int64_t k = 0; k < info.enum_count; ++k) {
            std::string s;
            check(detail::read_string([&](char* b, uint64_t c, uint64_t* nd) { return labcam_attr_enum_value(h_, name.c_str(), k, b, c, nd); }, s));
            out.push_back(s);
        }
        return out;
    }
    [[nodiscard]] bool attr_enum_available(const std::string& name, int64_t index) const {
        int32_t a = 0;
        check(labcam_attr_enum_available(h_, name.c_str(), index, &a));
        return a != 0;
    }
    [[nodiscard]] int64_t get_attr_int(const std::string& name) const {
        int64_t v = 0;
        check(labcam_get_attr_int(h_, name.c_str(), &v));
        return v;
    }
    [[nodiscard]] double get_attr_float(const std::string& name) const {
        double v = 0;
        check(labcam_get_attr_float(h_, name.c_str(), &v));
        return v;
    }
    [[nodiscard]] bool get_attr_bool(const std::string& name) const {
        int32_t v = 0;
        check(labcam_get_attr_bool(h_, name.c_str(), &v));
        return v != 0;
    }
    [[nodiscard]] std::string get_attr_string(const std::string& name) const {
        std::string s;
        check(detail::read_string([&](char* b, uint64_t c, uint64_t* n) { return labcam_get_attr_string(h_, name.c_str(), b, c, n); }, s));
        return s;
    }
    void set_attr_int(const std::string& name, int64_t v) { check(labcam_set_attr_int(h_, name.c_str(), v)); }
    void set_attr_float(const std::string& name, double v) { check(labcam_set_attr_float(h_, name.c_str(), v)); }
    void set_attr_bool(const std::string& name, bool v) { check(labcam_set_attr_bool(h_, name.c_str(), v ? 1 : 0)); }
    void set_attr_string(const std::string& name, const std::string& v) { check(labcam_set_attr_string(h_, name.c_str(), v.c_str())); }
    void attr_command(const std::string& name) { check(labcam_attr_command(h_, name.c_str())); }

private:
    void check(int32_t code) const { detail::check(code, h_); }
    labcam_handle h_ = 0;
};

}  // namespace labcam

#endif  // LABCAM_HPP
