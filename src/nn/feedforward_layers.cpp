// Padding, upsampling and conditional instance norm for the feed-forward nets (see feedforward_layers.h).
#include "nn/feedforward_layers.h"

#include "impasto/error.h"

#include <algorithm>
#include <cmath>

namespace impasto::nn {
namespace {

constexpr double kNormEpsilon = 1e-5;

// Reflection padding by copies into one buffer: ATen 1.13's reflection_pad2d has no bf16 kernel (so
// autocast round-trips every pad through float) and no channels_last one; this keeps both, and ran
// several times faster on a 16-channel 1024x683 map.
torch::Tensor reflect_pad(const torch::Tensor& x, std::int64_t left, std::int64_t right, std::int64_t top,
                          std::int64_t bottom) {
    const std::int64_t h = x.size(2);
    const std::int64_t w = x.size(3);
    // Not suggest_memory_format(): the norms hand back [1,C,H,W] views whose batch stride is not
    // C*H*W, which it reports as contiguous, silently dropping the rest of the net to NCHW.
    const auto layout =
        x.is_contiguous(at::MemoryFormat::ChannelsLast) ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
    torch::Tensor out = torch::empty({x.size(0), x.size(1), h + top + bottom, w + left + right}, x.options(), layout);
    out.narrow(2, top, h).narrow(3, left, w).copy_(x);
    torch::Tensor rows = out.narrow(2, top, h);
    if (left > 0) {
        rows.narrow(3, 0, left).copy_(x.narrow(3, 1, left).flip(3));
    }
    if (right > 0) {
        rows.narrow(3, left + w, right).copy_(x.narrow(3, w - 1 - right, right).flip(3));
    }
    if (top > 0) { // whole padded rows, corners included
        out.narrow(2, 0, top).copy_(out.narrow(2, top + 1, top).flip(2));
    }
    if (bottom > 0) {
        out.narrow(2, top + h, bottom).copy_(out.narrow(2, top + h - 1 - bottom, bottom).flip(2));
    }
    return out;
}

// mix [N,S] @ table [S,C] -> [N,C], as a multiply and sum: autocast would run a matmul in bf16.
torch::Tensor mix_rows(const torch::Tensor& table, const torch::Tensor& mix) {
    if (!mix.defined()) {
        return table.narrow(0, 0, 1);
    }
    return (mix.unsqueeze(2) * table.unsqueeze(0)).sum(1);
}

} // namespace

int scaled_channels(int base, double width) {
    return std::max(4, static_cast<int>(std::lround(base * width)));
}

// Reflection needs pad < side; tiny inputs (and deep layers of them) get replicate padding instead.
torch::Tensor pad_edges(const torch::Tensor& x, std::int64_t left, std::int64_t right, std::int64_t top,
                        std::int64_t bottom) {
    if (x.size(2) > std::max(top, bottom) && x.size(3) > std::max(left, right)) {
        return reflect_pad(x, left, right, top, bottom);
    }
    return torch::replication_pad2d(x.to(torch::kFloat), {left, right, top, bottom}).to(x.scalar_type());
}

// Nearest-neighbour x2 as a broadcast copy; keeps bf16 and channels_last (ATen's kernel keeps neither).
torch::Tensor upsample2(const torch::Tensor& x) {
    const std::int64_t n = x.size(0);
    const std::int64_t c = x.size(1);
    const std::int64_t h = x.size(2);
    const std::int64_t w = x.size(3);
    if (x.is_contiguous(at::MemoryFormat::ChannelsLast)) {
        return x.permute({0, 2, 3, 1})
            .unsqueeze(2)
            .unsqueeze(4)
            .expand({n, h, 2, w, 2, c})
            .reshape({n, 2 * h, 2 * w, c})
            .permute({0, 3, 1, 2});
    }
    return x.unsqueeze(3).unsqueeze(5).expand({n, c, h, 2, w, 2}).reshape({n, c, 2 * h, 2 * w});
}

// The same padding on all sides; deep layers of tiny inputs fall back to replicate too.
torch::Tensor pad_same(const torch::Tensor& x, int pad) {
    if (pad == 0) {
        return x;
    }
    return pad_edges(x, pad, pad, pad, pad);
}

torch::Tensor relu_inplace(torch::Tensor x) {
    return x.relu_();
}

torch::nn::Conv2d make_conv(int in, int out, int kernel, int stride, bool bias) {
    // Padding is done by pad_same (reflection), so the convolution itself pads nothing.
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).bias(bias));
}

CondInstanceNormImpl::CondInstanceNormImpl(int channels, int styles) {
    gamma = register_parameter("gamma", torch::ones({styles, channels}));
    beta = register_parameter("beta", torch::zeros({styles, channels}));
}

// The sample's channels become batch-norm channels ([N,C,H,W] as [1,N*C,H,W]): ATen's batch norm
// computes the statistics and applies them in two vectorised passes, where var_mean plus a
// multiply-add took five times as long on this CPU.
torch::Tensor CondInstanceNormImpl::forward(const torch::Tensor& x, const torch::Tensor& mix, NormStatistics mode) {
    const std::int64_t n = x.size(0);
    const std::int64_t c = x.size(1);
    const torch::Tensor flat = x.reshape({1, n * c, x.size(2), x.size(3)});
    const torch::Tensor g = mix_rows(gamma, mix).expand({n, c}).reshape({n * c}).to(x.scalar_type());
    const torch::Tensor b = mix_rows(beta, mix).expand({n, c}).reshape({n * c}).to(x.scalar_type());
    torch::Tensor out;
    if (mode == NormStatistics::Fixed) {
        if (!captured_mean.defined()) {
            throw ConfigError("instance norm: fixed normalisation statistics requested, but none were captured "
                              "(run a Capture pass first)");
        }
        // One captured image serves a batch of tiles of it.
        // ATen's batch norm wants all of one dtype; the statistics are kept in float.
        const torch::Tensor mean = captured_mean.expand({n, c}).reshape({n * c}).to(x.scalar_type());
        const torch::Tensor var = captured_var.expand({n, c}).reshape({n * c}).to(x.scalar_type());
        out = torch::batch_norm(flat, g, b, mean, var, /*training=*/false, 0.0, kNormEpsilon, false);
    } else {
        torch::Tensor mean;
        torch::Tensor invstd;
        std::tie(out, mean, invstd) =
            torch::native_batch_norm(flat, g, b, {}, {}, /*training=*/true, 0.0, kNormEpsilon);
        if (mode == NormStatistics::Capture) {
            captured_mean = mean.detach().to(torch::kFloat).view({n, c});
            captured_var = (invstd.detach().to(torch::kFloat).pow(-2) - kNormEpsilon).view({n, c});
        }
    }
    return out.view_as(x);
}

} // namespace impasto::nn
