// 8-bit 4:2:0 YUV (planar yuv420p or semi-planar NV12) <-> planar RGB, on the device the decoder
// or the model left the pixels on. Twins: vidgan/ops/color.py (yuv_to_rgb, rgb_to_yuv420).
// Coefficients come from the caller: kr, kb (luma weights of BT.601 / BT.709 / BT.2020) and range.
#include "sampling.cuh"

using namespace vidgan;

struct Range {
    float y_off, y_scale, c_scale;  // limited: 16, 219, 224; full: 0, 255, 255
};

__device__ __forceinline__ Range make_range(int full_range) {
    return full_range ? Range{0.f, 255.f, 255.f} : Range{16.f, 219.f, 224.f};
}

// uv_stride_px: distance in bytes between consecutive chroma samples of one plane (1 planar, 2 NV12).
template <typename T>
__device__ void yuv420_to_rgb_impl(const unsigned char* __restrict__ y_plane, const unsigned char* __restrict__ u_plane,
                                   const unsigned char* __restrict__ v_plane, int uv_step, int y_pitch, int uv_pitch,
                                   T* __restrict__ rgb, int height, int width, float kr, float kb, int full_range) {
    const long long plane = (long long)height * width;
    const Range r = make_range(full_range);
    const float kg = 1.f - kr - kb;
    FOR_EACH_PIXEL(i, plane) {
        const int y = static_cast<int>(i / width), x = static_cast<int>(i - (long long)y * width);
        const long long ci = (long long)(y >> 1) * uv_pitch + (long long)(x >> 1) * uv_step;
        const float luma = (y_plane[(long long)y * y_pitch + x] - r.y_off) / r.y_scale;
        const float cb = (u_plane[ci] - 128.f) / r.c_scale;
        const float cr = (v_plane[ci] - 128.f) / r.c_scale;
        const float red = luma + 2.f * (1.f - kr) * cr;
        const float blue = luma + 2.f * (1.f - kb) * cb;
        const float green = (luma - kr * red - kb * blue) / kg;
        store(rgb + i, fminf(fmaxf(red, 0.f), 1.f));
        store(rgb + plane + i, fminf(fmaxf(green, 0.f), 1.f));
        store(rgb + 2 * plane + i, fminf(fmaxf(blue, 0.f), 1.f));
    }
}

__device__ __forceinline__ unsigned char to_u8(float v) {
    return static_cast<unsigned char>(fminf(fmaxf(rintf(v), 0.f), 255.f));
}

// One thread per 2x2 block: four luma samples and the box-averaged chroma pair.
template <typename T>
__device__ void rgb_to_yuv420_impl(const T* __restrict__ rgb, unsigned char* __restrict__ y_plane,
                                   unsigned char* __restrict__ u_plane, unsigned char* __restrict__ v_plane,
                                   int uv_step, int uv_pitch, int height, int width, float kr, float kb,
                                   int full_range) {
    const long long plane = (long long)height * width;
    const int half_w = width / 2, half_h = height / 2;
    const long long blocks = (long long)half_w * half_h;
    const Range r = make_range(full_range);
    const float kg = 1.f - kr - kb;
    FOR_EACH_PIXEL(i, blocks) {
        const int by = static_cast<int>(i / half_w), bx = static_cast<int>(i - (long long)by * half_w);
        float cb_sum = 0.f, cr_sum = 0.f;
        for (int dy = 0; dy < 2; ++dy) {
            for (int dx = 0; dx < 2; ++dx) {
                const long long p = (long long)(2 * by + dy) * width + 2 * bx + dx;
                const float red = fminf(fmaxf(load(rgb + p), 0.f), 1.f);
                const float green = fminf(fmaxf(load(rgb + plane + p), 0.f), 1.f);
                const float blue = fminf(fmaxf(load(rgb + 2 * plane + p), 0.f), 1.f);
                const float luma = kr * red + kg * green + kb * blue;
                cb_sum += (blue - luma) / (2.f * (1.f - kb));
                cr_sum += (red - luma) / (2.f * (1.f - kr));
                y_plane[p] = to_u8(luma * r.y_scale + r.y_off);
            }
        }
        const long long ci = (long long)by * uv_pitch + (long long)bx * uv_step;
        u_plane[ci] = to_u8(cb_sum * 0.25f * r.c_scale + 128.f);
        v_plane[ci] = to_u8(cr_sum * 0.25f * r.c_scale + 128.f);
    }
}

#define VIDGAN_COLOR_KERNELS(T, SUFFIX)                                                                         \
    extern "C" __global__ void yuv420_to_rgb_##SUFFIX(const unsigned char* y_plane, const unsigned char* u_plane, \
                                                      const unsigned char* v_plane, int uv_step, int y_pitch,     \
                                                      int uv_pitch, T* rgb, int height, int width, float kr,      \
                                                      float kb, int full_range) {                                 \
        yuv420_to_rgb_impl<T>(y_plane, u_plane, v_plane, uv_step, y_pitch, uv_pitch, rgb, height, width, kr, kb, \
                              full_range);                                                                        \
    }                                                                                                             \
    extern "C" __global__ void rgb_to_yuv420_##SUFFIX(const T* rgb, unsigned char* y_plane, unsigned char* u_plane, \
                                                      unsigned char* v_plane, int uv_step, int uv_pitch,          \
                                                      int height, int width, float kr, float kb, int full_range) { \
        rgb_to_yuv420_impl<T>(rgb, y_plane, u_plane, v_plane, uv_step, uv_pitch, height, width, kr, kb,          \
                              full_range);                                                                        \
    }

VIDGAN_COLOR_KERNELS(float, f32)
VIDGAN_COLOR_KERNELS(__half, f16)
