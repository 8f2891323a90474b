// Shared device helpers: typed loads/stores (float and half) and bilinear taps.
// Convention: NCHW, flows in pixels (channel 0 = dx, 1 = dy), pixel centres at integer coordinates.
#pragma once
#include <cuda_fp16.h>

namespace vidgan {

__device__ __forceinline__ float load(const float* p) { return *p; }
__device__ __forceinline__ float load(const __half* p) { return __half2float(*p); }
__device__ __forceinline__ void store(float* p, float v) { *p = v; }
__device__ __forceinline__ void store(__half* p, float v) { *p = __float2half_rn(v); }

// Where flat index i (over N * H * W) lies: image n, offset p within its plane, row y, column x.
struct Pixel {
    int n;
    long long p;
    int y, x;
};

__device__ __forceinline__ Pixel pixel_at(long long i, long long plane, int width) {
    Pixel px;
    px.n = static_cast<int>(i / plane);
    px.p = i - px.n * plane;
    px.y = static_cast<int>(px.p / width);
    px.x = static_cast<int>(px.p - (long long)px.y * width);
    return px;
}

// Grid-stride loop over every pixel of the batch (launch geometry: cuda.py).
#define FOR_EACH_PIXEL(i, total)                                                       \
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < (total); \
         i += (long long)gridDim.x * blockDim.x)

__device__ __forceinline__ bool finite2(float a, float b) { return isfinite(a) && isfinite(b); }

__device__ __forceinline__ bool inside(float sx, float sy, int height, int width) {
    return sx >= 0.f && sx <= width - 1.f && sy >= 0.f && sy <= height - 1.f;
}

// Four bilinear taps of (sx, sy); taps outside the image get weight 0 (zeros border), or the
// point is clamped first (edge border). Indices are always clamped so every read is in bounds.
struct Taps {
    float w00, w01, w10, w11;
    int xa, xb, ya, yb;
};

__device__ __forceinline__ Taps bilinear_taps(float sx, float sy, int height, int width, bool edge) {
    if (edge) {
        sx = fminf(fmaxf(sx, 0.f), width - 1.f);
        sy = fminf(fmaxf(sy, 0.f), height - 1.f);
    }
    const float x0f = floorf(sx), y0f = floorf(sy);
    const float fx = sx - x0f, fy = sy - y0f;
    const int x0 = static_cast<int>(x0f), y0 = static_cast<int>(y0f);
    const bool in_x0 = x0 >= 0 && x0 < width;
    const bool in_x1 = x0 + 1 >= 0 && x0 + 1 < width && fx > 0.f;
    const bool in_y0 = y0 >= 0 && y0 < height;
    const bool in_y1 = y0 + 1 >= 0 && y0 + 1 < height && fy > 0.f;
    Taps t;
    t.w00 = (in_x0 && in_y0) ? (1.f - fx) * (1.f - fy) : 0.f;
    t.w01 = (in_x1 && in_y0) ? fx * (1.f - fy) : 0.f;
    t.w10 = (in_x0 && in_y1) ? (1.f - fx) * fy : 0.f;
    t.w11 = (in_x1 && in_y1) ? fx * fy : 0.f;
    t.xa = min(max(x0, 0), width - 1);
    t.xb = min(max(x0 + 1, 0), width - 1);
    t.ya = min(max(y0, 0), height - 1);
    t.yb = min(max(y0 + 1, 0), height - 1);
    return t;
}

template <typename T>
__device__ __forceinline__ float sample(const T* plane, const Taps& t, int width) {
    return t.w00 * load(plane + t.ya * width + t.xa) + t.w01 * load(plane + t.ya * width + t.xb) +
           t.w10 * load(plane + t.yb * width + t.xa) + t.w11 * load(plane + t.yb * width + t.xb);
}

}  // namespace vidgan
