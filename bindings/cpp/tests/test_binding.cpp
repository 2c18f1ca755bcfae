// Tests of the C++ binding against the simulated camera: errors, pixels, RAII, attributes.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "labcam.hpp"

std::string backends_joined();

static int failures = 0;
#define CHECK(c)                                                          \
    do {                                                                  \
        if (!(c)) {                                                       \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
            ++failures;                                                   \
        }                                                                 \
    } while (0)

template <class F>
static void expect_error(F&& f, int32_t code, const char* name, const char* in_message) {
    try {
        f();
        std::fprintf(stderr, "expected %s, got success\n", name);
        ++failures;
    } catch (const labcam::Error& e) {
        CHECK(e.code() == code);
        CHECK(e.name() == name);
        CHECK(e.message().find(in_message) != std::string::npos);
        CHECK(std::string(e.what()).find(name) != std::string::npos);
    }
}

static uint16_t sim_pixel(int64_t n, int64_t x, int64_t y) { return (uint16_t)((x + 2053 * y + 7919 * n) & 0xFFFF); }

int main() {
    labcam::Version v = labcam::abi_version();
    CHECK(v.major == LABCAM_VERSION_MAJOR && v.minor == LABCAM_VERSION_MINOR);
    CHECK(labcam::status_name(LABCAM_ERR_TIMEOUT) == "TIMEOUT");
    CHECK(backends_joined().find("sim,") == 0);
    CHECK(!labcam::list_cameras("sim").empty() && labcam::list_cameras("sim")[0] == "sim:0");

    expect_error([] { labcam::Camera c("nosuch:0"); }, LABCAM_ERR_NOT_FOUND, "NOT_FOUND", "nosuch");

    labcam::Camera cam("sim");
    CHECK(cam.device_info().find("backend=sim") != std::string::npos);
    expect_error([&] { cam.set_roi(0, 5000, 0, 10); }, LABCAM_ERR_INVALID_ARGUMENT, "INVALID_ARGUMENT", "labcam_set_roi");
    expect_error([&] { (void)cam.get_attr_float("Gain"); }, LABCAM_ERR_ATTR_TYPE, "ATTR_TYPE", "Gain");
    expect_error([&] { cam.stop(); }, LABCAM_ERR_WRONG_STATE, "WRONG_STATE", "not acquiring");
    CHECK(cam.last_error().find("labcam_stop") != std::string::npos);

    // Pixels, through grab, read_chunk and a locked chunk.
    cam.set_attr_bool("RealTimePacing", false);
    labcam::Roi r = cam.set_roi(8, 72, 4, 20, 1, 1);
    labcam::FrameFormat f = cam.frame_format();
    CHECK(f.width == 64 && f.height == 16 && f.bytes_per_pixel == 2);
    std::vector<uint16_t> buf((size_t)(3 * f.frame_bytes / 2));
    std::vector<labcam::FrameInfo> infos(3);
    CHECK(cam.grab(3, buf.data(), buf.size() * 2, 5.0, infos.data()) == 3);
    for (int k = 0; k < 3; ++k)
        for (int64_t y = 0; y < 16; ++y)
            for (int64_t x = 0; x < 64; ++x)
                if (buf[(size_t)(k * 1024 + y * 64 + x)] != sim_pixel(infos[(size_t)k].framestamp, r.hstart + x, r.vstart + y)) {
                    CHECK(false);
                    y = 16;
                    break;
                }
    // A sequence: exactly 12 frames, then a wait for more says it is over.
    cam.setup_acquisition(32);
    cam.start_sequence(12);
    cam.wait(12, 5.0);
    expect_error([&] { cam.wait(13, 5.0); }, LABCAM_ERR_WRONG_STATE, "WRONG_STATE", "ended after its 12 frames");
    CHECK(cam.frames_status().acquired == 12);
    cam.stop();
    cam.start();
    cam.wait(10, 5.0);
    cam.stop();
    {
        labcam::LockedChunk chunk = cam.lock_chunk(4);
        CHECK(chunk.n_frames() >= 1);
        const uint16_t* p = static_cast<const uint16_t*>(chunk.frame(0));
        CHECK(p[0] == sim_pixel(chunk.frame_info(0).framestamp, r.hstart, r.vstart));
        expect_error([&] { (void)cam.lock_chunk(1); }, LABCAM_ERR_BUSY, "BUSY", "locked");
        labcam::LockedChunk moved = std::move(chunk);  // unlocked once, by `moved`
        CHECK(moved.n_frames() >= 1);
    }
    CHECK(cam.frames_status().read >= 1);
    std::vector<labcam::FrameInfo> ri;
    std::vector<uint16_t> px = cam.read_chunk<uint16_t>(4, &ri, false);
    CHECK(!ri.empty() && px.size() == ri.size() * 1024);
    CHECK(px[0] == sim_pixel(ri[0].framestamp, r.hstart, r.vstart));

    // Attributes by name.
    int kinds = 0;
    for (const auto& name : cam.attr_names()) {
        labcam::AttrInfo i = cam.attr_info(name);
        kinds |= 1 << i.kind;
    }
    CHECK(kinds == 0x7E);
    cam.set_attr_string("Gain", "High");
    CHECK(cam.get_attr_int("Gain") == 2);
    CHECK(cam.attr_enum_values("Gain").size() == 3 && cam.attr_enum_available("Gain", 0));
    cam.set_attr_int("BlackLevel", 200);
    CHECK(cam.get_attr_int("BlackLevel") == 200);
    CHECK(cam.get_attr_string("SerialNumber") == "SIM-00000");
    cam.attr_command("TimestampReset");

    // Move semantics: the moved-from camera owns nothing and closes nothing.
    labcam::Camera other = std::move(cam);
    CHECK(cam.handle() == 0 && other.handle() != 0);
    labcam_handle h = other.handle();
    other.close();
    expect_error([&] { labcam::detail::check(labcam_close(h)); }, LABCAM_ERR_INVALID_HANDLE, "INVALID_HANDLE", "closed");

    if (failures) {
        std::fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    std::printf("C++ binding test passed\n");
    return 0;
}
