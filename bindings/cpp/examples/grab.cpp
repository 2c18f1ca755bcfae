// Grab frames from the simulated camera with the C++ binding and print what arrived.
//   g++ -std=c++17 -I include -I bindings/cpp grab.cpp -L target/debug -llabcam
#include <cstdio>
#include <vector>

#include "labcam.hpp"

int main(int argc, char** argv) {
    try {
        const char* id = argc > 1 ? argv[1] : "sim";
        labcam::Camera cam(id);
        labcam::Roi r = cam.set_roi(0, 256, 0, 128, 2, 2);
        cam.set_exposure(1e-3);
        cam.set_frame_period(0.005);
        cam.setup_acquisition(50);
        cam.start();
        int64_t total = 0;
        while (total < 20) {
            cam.wait(1, 5.0);
            std::vector<labcam::FrameInfo> infos;
            std::vector<uint16_t> px = cam.read_chunk<uint16_t>(8, &infos);
            for (const auto& i : infos)
                std::printf("frame %lld framestamp %lld first pixel %u\n", (long long)i.index, (long long)i.framestamp,
                            (unsigned)px[(size_t)(&i - infos.data()) * (size_t)(r.hend - r.hstart) / 2 * (size_t)(r.vend - r.vstart) / 2]);
            total += (int64_t)infos.size();
        }
        cam.stop();
        labcam::FramesStatus s = cam.frames_status();
        std::printf("%lld frames acquired, %lld lost\n", (long long)s.acquired, (long long)(s.lost_overwritten + s.lost_device));
        return 0;
    } catch (const labcam::Error& e) {
        std::fprintf(stderr, "labcam error %s (%d): %s\n", e.name().c_str(), e.code(), e.message().c_str());
        return 1;
    }
}
