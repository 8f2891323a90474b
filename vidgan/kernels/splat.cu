// Forward (average) splatting of -t * F_0->1 to time t: the intermediate-flow step of interpolation.
// Pass 1 scatters with float atomics into an (N, 3, H, W) float32 accumulator (flow x, flow y, weight);
// pass 2 normalises. Twin: vidgan/ops/reference.py::splat_flow.
#include "sampling.cuh"

using namespace vidgan;

template <typename T>
__device__ void splat_impl(const T* __restrict__ flow, float* __restrict__ accum, float t, int batch, int height,
                           int width) {
    const long long plane = (long long)height * width;
    const long long total = batch * plane;
    FOR_EACH_PIXEL(i, total) {
        const Pixel px = pixel_at(i, plane, width);
        const int n = px.n, y = px.y, x = px.x;
        const long long p = px.p;
        const float u = load(flow + n * 2 * plane + p), v = load(flow + n * 2 * plane + plane + p);
        const float tx = x + t * u, ty = y + t * v;
        if (!finite2(tx, ty)) continue;
        const float x0f = floorf(tx), y0f = floorf(ty);
        const float fx = tx - x0f, fy = ty - y0f;
        const int x0 = static_cast<int>(x0f), y0 = static_cast<int>(y0f);
        float* acc = accum + n * 3 * plane;
        for (int oy = 0; oy < 2; ++oy) {
            const int yi = y0 + oy;
            const float wy = oy ? fy : 1.f - fy;
            if (yi < 0 || yi >= height || wy <= 0.f) continue;
            for (int ox = 0; ox < 2; ++ox) {
                const int xi = x0 + ox;
                const float wx = ox ? fx : 1.f - fx;
                if (xi < 0 || xi >= width || wx <= 0.f) continue;
                const float w = wx * wy;
                const long long q = (long long)yi * width + xi;
                atomicAdd(acc + q, -t * u * w);
                atomicAdd(acc + plane + q, -t * v * w);
                atomicAdd(acc + 2 * plane + q, w);
            }
        }
    }
}

template <typename T>
__device__ void normalise_impl(const float* __restrict__ accum, T* __restrict__ flow_out, T* __restrict__ coverage,
                               int batch, int height, int width) {
    const long long plane = (long long)height * width;
    const long long total = batch * plane;
    FOR_EACH_PIXEL(i, total) {
        const Pixel px = pixel_at(i, plane, width);
        const int n = px.n;
        const long long p = px.p;
        const float* acc = accum + n * 3 * plane;
        const float w = acc[2 * plane + p];
        store(coverage + n * plane + p, w);
        store(flow_out + n * 2 * plane + p, w > 0.f ? acc[p] / w : 0.f);
        store(flow_out + n * 2 * plane + plane + p, w > 0.f ? acc[plane + p] / w : 0.f);
    }
}

#define VIDGAN_SPLAT_KERNELS(T, SUFFIX)                                                                        \
    extern "C" __global__ void splat_##SUFFIX(const T* flow, float* accum, float t, int batch, int height,     \
                                              int width) {                                                     \
        splat_impl<T>(flow, accum, t, batch, height, width);                                                   \
    }                                                                                                          \
    extern "C" __global__ void splat_normalise_##SUFFIX(const float* accum, T* flow_out, T* coverage,          \
                                                        int batch, int height, int width) {                    \
        normalise_impl<T>(accum, flow_out, coverage, batch, height, width);                                    \
    }

VIDGAN_SPLAT_KERNELS(float, f32)
VIDGAN_SPLAT_KERNELS(__half, f16)
