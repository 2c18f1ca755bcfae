/*
 * labcam_ffi: the native half of loadlibrary/calllib for GNU Octave (a MEX file over libffi).
 *
 *   h = labcam_ffi('open', path)                      dlopen a library; h is a uint64
 *   labcam_ffi('close', h)                            dlclose it
 *   [ret, b1, b2, ...] = labcam_ffi('call', h, name, retkind, kinds, args)
 *
 * kinds is a cell array of argument kinds: 'i32', 'u32', 'i64', 'u64', 'f64' (by value,
 * args{k} a numeric scalar) or 'ptr' (args{k} a uint8 array passed by address and returned,
 * after the call, as the next output; an empty array passes NULL). retkind is 'i32' or 'void'.
 * The MATLAB-side marshalling (strings, numeric arrays, structs) is done in calllib.m.
 */
#include <dlfcn.h>
#include <ffi.h>
#include <stdint.h>
#include <string.h>

#include "mex.h"

#define MAXARGS 16

static void fail(const char *id, const char *msg) { mexErrMsgIdAndTxt(id, "%s", msg); }

static uint64_t get_u64(const mxArray *a) {
    if (mxIsUint64(a)) return *(uint64_t *)mxGetData(a);
    if (mxIsInt64(a)) return (uint64_t)(*(int64_t *)mxGetData(a));
    return (uint64_t)mxGetScalar(a);
}

static char *get_string(const mxArray *a) {
    char *s = mxArrayToString(a);
    if (!s) fail("labcam_ffi:arg", "expected a string");
    return s;
}

void mexFunction(int nlhs, mxArray *plhs[], int nrhs, const mxArray *prhs[]) {
    char *op;
    if (nrhs < 1) fail("labcam_ffi:usage", "labcam_ffi(op, ...)");
    op = get_string(prhs[0]);
    if (strcmp(op, "open") == 0) {
        char *path = get_string(prhs[1]);
        void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
        mxFree(path);
        if (!h) fail("labcam_ffi:open", dlerror());
        plhs[0] = mxCreateNumericMatrix(1, 1, mxUINT64_CLASS, mxREAL);
        *(uint64_t *)mxGetData(plhs[0]) = (uint64_t)(uintptr_t)h;
    } else if (strcmp(op, "close") == 0) {
        /* Libraries stay loaded: labcam and the SDKs it loads do not support unloading. */
    } else if (strcmp(op, "call") == 0) {
        void *lib, *fn;
        char *name, *retkind;
        const mxArray *kinds, *args;
        int n, k, nout = 0;
        ffi_cif cif;
        ffi_type *types[MAXARGS];
        void *values[MAXARGS];
        union { int32_t i32; uint32_t u32; int64_t i64; uint64_t u64; double f64; void *p; } store[MAXARGS];
        mxArray *bufs[MAXARGS];
        int32_t ret32 = 0;
        if (nrhs != 6) fail("labcam_ffi:usage", "labcam_ffi('call', h, name, retkind, kinds, args)");
        lib = (void *)(uintptr_t)get_u64(prhs[1]);
        name = get_string(prhs[2]);
        retkind = get_string(prhs[3]);
        kinds = prhs[4];
        args = prhs[5];
        fn = dlsym(lib, name);
        if (!fn) {
            mxFree(name);
            fail("labcam_ffi:symbol", dlerror());
        }
        n = (int)mxGetNumberOfElements(kinds);
        if (n > MAXARGS || (int)mxGetNumberOfElements(args) != n) fail("labcam_ffi:usage", "kinds and args differ in length");
        for (k = 0; k < n; ++k) {
            char *kind = get_string(mxGetCell(kinds, k));
            const mxArray *a = mxGetCell(args, k);
            bufs[k] = NULL;
            if (strcmp(kind, "i32") == 0) { types[k] = &ffi_type_sint32; store[k].i32 = (int32_t)mxGetScalar(a); }
            else if (strcmp(kind, "u32") == 0) { types[k] = &ffi_type_uint32; store[k].u32 = (uint32_t)mxGetScalar(a); }
            else if (strcmp(kind, "i64") == 0) { types[k] = &ffi_type_sint64; store[k].i64 = mxIsInt64(a) ? *(int64_t *)mxGetData(a) : (int64_t)mxGetScalar(a); }
            else if (strcmp(kind, "u64") == 0) { types[k] = &ffi_type_uint64; store[k].u64 = get_u64(a); }
            else if (strcmp(kind, "f64") == 0) { types[k] = &ffi_type_double; store[k].f64 = mxGetScalar(a); }
            else if (strcmp(kind, "ptr") == 0) {
                types[k] = &ffi_type_pointer;
                if (!mxIsUint8(a)) fail("labcam_ffi:arg", "pointer arguments are uint8 arrays");
                if (mxGetNumberOfElements(a) == 0) {
                    store[k].p = NULL;
                } else {
                    bufs[k] = mxDuplicateArray(a);
                    store[k].p = mxGetData(bufs[k]);
                }
            } else {
                fail("labcam_ffi:arg", "unknown argument kind");
            }
            values[k] = &store[k];
            mxFree(kind);
        }
        if (ffi_prep_cif(&cif, FFI_DEFAULT_ABI, (unsigned)n, strcmp(retkind, "void") == 0 ? &ffi_type_void : &ffi_type_sint32, types) != FFI_OK)
            fail("labcam_ffi:cif", "ffi_prep_cif failed");
        {
            ffi_arg r = 0;
            ffi_call(&cif, FFI_FN(fn), &r, values);
            ret32 = (int32_t)r;
        }
        plhs[0] = mxCreateNumericMatrix(1, 1, mxINT32_CLASS, mxREAL);
        *(int32_t *)mxGetData(plhs[0]) = ret32;
        nout = 1;
        for (k = 0; k < n; ++k) {
            char *kind = get_string(mxGetCell(kinds, k));
            if (strcmp(kind, "ptr") == 0) {
                mxArray *out = bufs[k] ? bufs[k] : mxCreateNumericMatrix(0, 0, mxUINT8_CLASS, mxREAL);
                if (nout < nlhs) plhs[nout] = out; else mxDestroyArray(out);
                nout++;
            }
            mxFree(kind);
        }
        mxFree(name);
        mxFree(retkind);
    } else {
        fail("labcam_ffi:usage", "unknown operation");
    }
    mxFree(op);
}
