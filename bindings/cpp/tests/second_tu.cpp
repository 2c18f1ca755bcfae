// A second translation unit including the header: inline functions must not clash (ODR).
#include "labcam.hpp"

std::string backends_joined() {
    std::string s;
    for (const auto& b : labcam::list_backends()) s += b + ",";
    return s;
}
