// Fused motion kernels: backward warp, forward-backward consistency, temporal blend.
// One thread per output pixel; each reads its inputs once and writes its outputs once.
// Twins: vidgan/ops/reference.py (warp, consistency, temporal_blend).
#include "sampling.cuh"

using namespace vidgan;

// Sundaram et al. (2010) / Ruder et al. (2016) thresholds; keep in step with reference.py.
#define OCC_RATIO 0.01f
#define OCC_BIAS 0.5f
#define MB_RATIO 0.01f
#define MB_BIAS 0.002f

template <typename T>
__device__ void warp_impl(const T* __restrict__ image, const T* __restrict__ flow, T* __restrict__ out,
                          T* __restrict__ mask, int batch, int channels, int height, int width, int edge) {
    const long long plane = (long long)height * width;
    const long long total = batch * plane;
    FOR_EACH_PIXEL(i, total) {
        const Pixel px = pixel_at(i, plane, width);
        const int n = px.n, y = px.y, x = px.x;
        const long long p = px.p;
        const T* f = flow + n * 2 * plane;
        const float sx = x + load(f + p), sy = y + load(f + plane + p);
        const T* img = image + n * channels * plane;
        T* o = out + n * channels * plane;
        if (!finite2(sx, sy)) {
            for (int c = 0; c < channels; ++c) store(o + c * plane + p, 0.f);
            store(mask + n * plane + p, 0.f);
            continue;
        }
        store(mask + n * plane + p, inside(sx, sy, height, width) ? 1.f : 0.f);
        const Taps t = bilinear_taps(sx, sy, height, width, edge != 0);
        for (int c = 0; c < channels; ++c) store(o + c * plane + p, sample(img + c * plane, t, width));
    }
}

__device__ __forceinline__ float soft_threshold(float ratio) { return fminf(fmaxf(1.5f - ratio, 0.f), 1.f); }

template <typename T>
__device__ float central_diff(const T* ch, int x, int y, int height, int width, bool along_x) {
    if (along_x) {
        if (width == 1) return 0.f;
        const int lo = max(x - 1, 0), hi = min(x + 1, width - 1);
        return (load(ch + y * width + hi) - load(ch + y * width + lo)) / (hi - lo);
    }
    if (height == 1) return 0.f;
    const int lo = max(y - 1, 0), hi = min(y + 1, height - 1);
    return (load(ch + hi * width + x) - load(ch + lo * width + x)) / (hi - lo);
}

template <typename T>
__device__ void consistency_impl(const T* __restrict__ flow_fw, const T* __restrict__ flow_bw,
                                 T* __restrict__ out, int batch, int height, int width) {
    const long long plane = (long long)height * width;
    const long long total = batch * plane;
    FOR_EACH_PIXEL(i, total) {
        const Pixel px = pixel_at(i, plane, width);
        const int n = px.n, y = px.y, x = px.x;
        const long long p = px.p;
        const T* fw = flow_fw + n * 2 * plane;
        const T* bw = flow_bw + n * 2 * plane;
        const float u = load(fw + p), v = load(fw + plane + p);
        const float sx = x + u, sy = y + v;
        if (!finite2(sx, sy) || !inside(sx, sy, height, width)) {
            store(out + n * plane + p, 0.f);
            continue;
        }
        const Taps t = bilinear_taps(sx, sy, height, width, true);
        const float bu = sample(bw, t, width), bv = sample(bw + plane, t, width);
        const float fw_sq = u * u + v * v;
        const float mismatch = (u + bu) * (u + bu) + (v + bv) * (v + bv);
        const float occ = soft_threshold(mismatch / (OCC_RATIO * (fw_sq + bu * bu + bv * bv) + OCC_BIAS));
        float grad = 0.f;
        for (int c = 0; c < 2; ++c) {
            const float gx = central_diff(fw + c * plane, x, y, height, width, true);
            const float gy = central_diff(fw + c * plane, x, y, height, width, false);
            grad += gx * gx + gy * gy;
        }
        const float value = occ * soft_threshold(grad / (MB_RATIO * fw_sq + MB_BIAS));
        store(out + n * plane + p, isfinite(value) ? value : 0.f);
    }
}

// torch.lerp's formula (ATen's Lerp.h, same source so the same contraction to FMA): the stylizer's
// blend, torch.lerp(current, warped, weight), is this kernel's output bit for bit.
__device__ __forceinline__ float lerp_as_torch(float start, float end, float weight) {
    const float diff = end - start;
    return fabsf(weight) < 0.5f ? start + weight * diff : end - diff * (1.f - weight);
}

template <typename T>
__device__ void blend_impl(const T* __restrict__ current, const T* __restrict__ previous, const T* __restrict__ flow,
                           const T* __restrict__ confidence, T* __restrict__ out, float alpha, int batch,
                           int channels, int height, int width) {
    const long long plane = (long long)height * width;
    const long long total = batch * plane;
    FOR_EACH_PIXEL(i, total) {
        const Pixel px = pixel_at(i, plane, width);
        const int n = px.n, y = px.y, x = px.x;
        const long long p = px.p;
        const T* f = flow + n * 2 * plane;
        const float sx = x + load(f + p), sy = y + load(f + plane + p);
        const T* cur = current + n * channels * plane;
        T* o = out + n * channels * plane;
        float weight = 0.f;
        if (finite2(sx, sy) && inside(sx, sy, height, width))
            weight = fminf(fmaxf(alpha * load(confidence + n * plane + p), 0.f), 1.f);
        if (weight == 0.f) {
            for (int c = 0; c < channels; ++c) o[c * plane + p] = cur[c * plane + p];
            continue;
        }
        const Taps t = bilinear_taps(sx, sy, height, width, true);
        const T* prev = previous + n * channels * plane;
        for (int c = 0; c < channels; ++c) {
            const float warped = sample(prev + c * plane, t, width);
            store(o + c * plane + p, lerp_as_torch(load(cur + c * plane + p), warped, weight));
        }
    }
}

#define VIDGAN_MOTION_KERNELS(T, SUFFIX)                                                                        \
    extern "C" __global__ void warp_##SUFFIX(const T* image, const T* flow, T* out, T* mask, int batch,         \
                                             int channels, int height, int width, int edge) {                   \
        warp_impl<T>(image, flow, out, mask, batch, channels, height, width, edge);                             \
    }                                                                                                           \
    extern "C" __global__ void consistency_##SUFFIX(const T* flow_fw, const T* flow_bw, T* out, int batch,      \
                                                    int height, int width) {                                    \
        consistency_impl<T>(flow_fw, flow_bw, out, batch, height, width);                                       \
    }                                                                                                           \
    extern "C" __global__ void temporal_blend_##SUFFIX(const T* current, const T* previous, const T* flow,      \
                                                       const T* confidence, T* out, float alpha, int batch,     \
                                                       int channels, int height, int width) {                   \
        blend_impl<T>(current, previous, flow, confidence, out, alpha, batch, channels, height, width);         \
    }

VIDGAN_MOTION_KERNELS(float, f32)
VIDGAN_MOTION_KERNELS(__half, f16)
