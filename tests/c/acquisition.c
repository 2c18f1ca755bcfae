/*
 * A C99 program using labcam as a C user would: a full acquisition and an attribute walk on
 * the simulated camera, checking pixel values, frame order, counters and error codes.
 * Built with gcc -std=c99 -Wall -Wextra -Werror -pedantic and run under valgrind memcheck.
 * Exit status 0 on success; every failed check prints what went wrong.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labcam.h"

static int failures = 0;

#define CHECK(cond, ...)                                   \
    do {                                                   \
        if (!(cond)) {                                     \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                  \
            fprintf(stderr, "\n");                         \
            failures++;                                    \
        }                                                  \
    } while (0)

/* Call f, and on failure print the status name and the camera's message, then exit. */
static void must(labcam_handle h, int32_t st, const char *what)
{
    char name[64];
    char msg[1024];
    if (st == LABCAM_OK)
        return;
    if (labcam_status_name(st, name, sizeof name, NULL) != LABCAM_OK)
        strcpy(name, "?");
    if (h != 0)
        labcam_last_error(h, msg, sizeof msg, NULL);
    else
        labcam_thread_last_error(msg, sizeof msg, NULL);
    fprintf(stderr, "%s failed: %s (%d): %s\n", what, name, (int)st, msg);
    exit(2);
}

/* The simulated camera's pixel formula (src/backends/sim/mod.rs). */
static uint16_t sim_pixel(int64_t n, int64_t x, int64_t y)
{
    return (uint16_t)((uint64_t)(x + 2053 * y + 7919 * n) & 0xFFFFu);
}

static void attribute_walk(labcam_handle h)
{
    int64_t n = 0, i;
    int kinds_seen[7] = {0};
    must(h, labcam_attr_count(h, &n), "labcam_attr_count");
    CHECK(n > 10, "only %lld attributes", (long long)n);
    for (i = 0; i < n; i++) {
        char name[128];
        uint64_t needed = 0;
        struct labcam_attr_info info;
        must(h, labcam_attr_name(h, i, name, sizeof name, &needed), "labcam_attr_name");
        CHECK(needed == strlen(name) + 1, "needed %llu for '%s'", (unsigned long long)needed, name);
        must(h, labcam_attr_info(h, name, &info), "labcam_attr_info");
        CHECK(info.kind >= LABCAM_ATTR_INT && info.kind <= LABCAM_ATTR_COMMAND, "kind %lld", (long long)info.kind);
        kinds_seen[info.kind] = 1;
        if (info.kind == LABCAM_ATTR_INT) {
            int64_t v;
            must(h, labcam_get_attr_int(h, name, &v), name);
            CHECK(v >= info.int_min && v <= info.int_max, "%s=%lld out of limits", name, (long long)v);
        } else if (info.kind == LABCAM_ATTR_FLOAT) {
            double v;
            must(h, labcam_get_attr_float(h, name, &v), name);
            CHECK(v >= info.float_min && v <= info.float_max, "%s=%g out of limits", name, v);
        } else if (info.kind == LABCAM_ATTR_BOOL) {
            int32_t v = -1;
            must(h, labcam_get_attr_bool(h, name, &v), name);
            CHECK(v == 0 || v == 1, "%s=%d", name, (int)v);
        } else if (info.kind == LABCAM_ATTR_ENUM || info.kind == LABCAM_ATTR_STRING) {
            char value[256];
            must(h, labcam_get_attr_string(h, name, value, sizeof value, NULL), name);
            if (info.kind == LABCAM_ATTR_ENUM) {
                int64_t k, idx = -1;
                int found = 0;
                must(h, labcam_get_attr_int(h, name, &idx), name);
                for (k = 0; k < info.enum_count; k++) {
                    char entry[128];
                    must(h, labcam_attr_enum_value(h, name, k, entry, sizeof entry, NULL), "labcam_attr_enum_value");
                    if (strcmp(entry, value) == 0) {
                        found = 1;
                        CHECK(k == idx, "%s: index %lld but entry %lld matches", name, (long long)idx, (long long)k);
                    }
                }
                CHECK(found, "%s value '%s' not among its entries", name, value);
            }
        }
    }
    for (i = 1; i <= 6; i++)
        CHECK(kinds_seen[i], "no attribute of kind %d", (int)i);
    /* Wrong kind and unknown names. */
    {
        double f;
        CHECK(labcam_get_attr_float(h, "Gain", &f) == LABCAM_ERR_ATTR_TYPE, "float read of an enum");
        CHECK(labcam_set_attr_int(h, "NoSuchThing", 1) == LABCAM_ERR_NOT_FOUND, "unknown attribute");
        must(h, labcam_set_attr_string(h, "Gain", "High"), "set Gain");
    }
}

int main(void)
{
    labcam_handle h = 0;
    struct labcam_roi roi;
    struct labcam_frame_format fmt;
    struct labcam_frames_status st;
    struct labcam_frame_info *infos;
    struct labcam_chunk chunk;
    uint16_t *frames;
    int64_t n_read = 0, total = 0, next_index = 0, rows = 0, cols = 0;
    int32_t major, minor, patch, state = 0;
    char buf[512];
    uint64_t needed = 0;
    const int64_t want = 200, max_chunk = 16;
    int64_t k, x, y;

    must(0, labcam_abi_version(&major, &minor, &patch), "labcam_abi_version");
    CHECK(major == LABCAM_VERSION_MAJOR && minor == LABCAM_VERSION_MINOR && patch == LABCAM_VERSION_PATCH, "version %d.%d.%d", (int)major, (int)minor, (int)patch);

    CHECK(labcam_open("nosuch:0", &h) == LABCAM_ERR_NOT_FOUND && h == 0, "unknown backend");
    CHECK(labcam_list_backends(buf, 2, &needed) == LABCAM_ERR_BUFFER_TOO_SMALL && needed > 2, "small buffer");
    must(0, labcam_list_cameras("sim", buf, sizeof buf, NULL), "labcam_list_cameras");
    CHECK(strstr(buf, "sim:0\n") != NULL, "list: %s", buf);

    must(0, labcam_open("sim", &h), "labcam_open");
    must(h, labcam_get_device_info(h, buf, sizeof buf, NULL), "labcam_get_device_info");
    CHECK(strstr(buf, "backend=sim\n") != NULL, "info: %s", buf);
    attribute_walk(h);

    must(h, labcam_set_exposure(h, 1e-4, NULL), "labcam_set_exposure");
    must(h, labcam_set_frame_period(h, 0.002, NULL), "labcam_set_frame_period");
    must(h, labcam_set_roi(h, 100, 260, 10, 50, 2, 2, &roi), "labcam_set_roi");
    CHECK(roi.hstart == 96 && roi.hend == 256 && roi.vstart == 8 && roi.vend == 48, "roi %lld %lld %lld %lld",
          (long long)roi.hstart, (long long)roi.hend, (long long)roi.vstart, (long long)roi.vend);
    must(h, labcam_get_frame_format(h, &fmt), "labcam_get_frame_format");
    CHECK(fmt.width == 80 && fmt.height == 20 && fmt.bytes_per_pixel == 2 && fmt.pixel_kind == LABCAM_PIXEL_U16, "format");
    must(h, labcam_get_data_dimensions(h, &rows, &cols), "dims");
    CHECK(rows == 20 && cols == 80, "dims %lld x %lld", (long long)rows, (long long)cols);

    frames = (uint16_t *)malloc((size_t)(max_chunk * fmt.frame_bytes));
    infos = (struct labcam_frame_info *)malloc(sizeof(struct labcam_frame_info) * (size_t)max_chunk);
    if (!frames || !infos)
        return 3;

    must(h, labcam_setup_acquisition(h, 64), "labcam_setup_acquisition");
    must(h, labcam_get_acquisition_state(h, &state), "state");
    CHECK(state == LABCAM_STATE_SET_UP, "state %d", (int)state);
    must(h, labcam_start(h), "labcam_start");
    while (total < want) {
        must(h, labcam_wait(h, 1, 5.0), "labcam_wait");
        must(h, labcam_read_chunk(h, frames, (uint64_t)(max_chunk * fmt.frame_bytes), max_chunk, 0, infos, &n_read), "labcam_read_chunk");
        for (k = 0; k < n_read; k++) {
            const uint16_t *f = frames + k * fmt.width * fmt.height;
            CHECK(infos[k].index >= next_index, "order: %lld after %lld", (long long)infos[k].index, (long long)next_index);
            next_index = infos[k].index + 1;
            for (y = 0; y < fmt.height; y++)
                for (x = 0; x < fmt.width; x++)
                    if (f[y * fmt.width + x] != sim_pixel(infos[k].framestamp, roi.hstart + 2 * x, roi.vstart + 2 * y)) {
                        CHECK(0, "frame %lld pixel (%lld,%lld)", (long long)infos[k].index, (long long)x, (long long)y);
                        y = fmt.height;
                        break;
                    }
        }
        total += n_read;
    }
    must(h, labcam_stop(h), "labcam_stop");
    must(h, labcam_get_frames_status(h, &st), "status");
    CHECK(st.acquired == st.read + st.unread + st.lost_overwritten, "accounting");
    CHECK(st.read == total, "read %lld total %lld", (long long)st.read, (long long)total);

    /* Zero-copy access to what is left. */
    must(h, labcam_lock_chunk(h, 8, &chunk), "labcam_lock_chunk");
    if (chunk.n_frames > 0) {
        const uint16_t *p = (const uint16_t *)(uintptr_t)chunk.data;
        const struct labcam_frame_info *ci = (const struct labcam_frame_info *)(uintptr_t)chunk.infos;
        CHECK(p[0] == sim_pixel(ci[0].framestamp, roi.hstart, roi.vstart), "chunk pixel");
        CHECK(ci[0].index == chunk.first_index, "chunk index");
        CHECK(labcam_read_chunk(h, frames, (uint64_t)fmt.frame_bytes, 1, 0, infos, &n_read) == LABCAM_ERR_BUSY, "read while locked");
        must(h, labcam_unlock_chunk(h, chunk.chunk_id), "labcam_unlock_chunk");
    }

    /* Errors carry a message naming the problem, per handle. */
    CHECK(labcam_set_exposure(h, 100.0, NULL) == LABCAM_ERR_INVALID_ARGUMENT, "exposure out of range");
    must(h, labcam_last_error(h, buf, sizeof buf, NULL), "labcam_last_error");
    CHECK(strstr(buf, "labcam_set_exposure") != NULL && strstr(buf, "100") != NULL, "message: %s", buf);

    /* Snap in XYB indexing. */
    must(h, labcam_set_image_indexing(h, LABCAM_INDEXING_XYB), "indexing");
    must(h, labcam_snap(h, frames, (uint64_t)fmt.frame_bytes, 5.0, infos), "labcam_snap");
    /* XYB: row = x, column = y counted from the bottom. */
    CHECK(frames[0] == sim_pixel(infos[0].framestamp, roi.hstart, roi.vstart + 2 * (fmt.height - 1)), "xyb pixel");

    must(0, labcam_close(h), "labcam_close");
    CHECK(labcam_close(h) == LABCAM_ERR_INVALID_HANDLE, "double close");
    free(frames);
    free(infos);
    if (failures) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("C ABI acquisition test passed: %lld frames, %lld lost_overwritten\n", (long long)total, (long long)st.lost_overwritten);
    return 0;
}
