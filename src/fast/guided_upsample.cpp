// Guided upsampling (fast/guided_upsample.h): the windowed linear fit at low resolution, then its
// coefficients resized and applied at full resolution, band by band.
#include "fast/guided_upsample.h"

#include "core/tensor_image.h"
#include "impasto/error.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <vector>

namespace impasto::fast {
namespace {

// Working memory of one band of the full-resolution stage: large enough that a 1024 px output is a
// few bands, small enough that a 16384 px one needs no more than the image itself.
constexpr std::int64_t kBandBytes = std::int64_t{64} << 20;

std::string shape(const torch::Tensor& x) {
    std::string text;
    for (const std::int64_t size : x.sizes()) {
        text += (text.empty() ? "" : ",") + std::to_string(size);
    }
    return "[" + text + "]";
}

// Source indices and weights, along one axis, of a bilinear resize from `in` to `out` samples with
// aligned pixel centres, for the output samples [first, first + count). Computed in double on the
// CPU (they are small) and moved to `device`.
struct Taps {
    torch::Tensor low, high, weight;
};

Taps bilinear_taps(std::int64_t in, std::int64_t out, std::int64_t first, std::int64_t count,
                   const torch::Device& device) {
    const double scale = static_cast<double>(in) / static_cast<double>(out);
    const torch::Tensor source = ((torch::arange(first, first + count, torch::kDouble) + 0.5) * scale - 0.5)
                                     .clamp(0.0, static_cast<double>(in - 1));
    const torch::Tensor low = source.floor().to(torch::kLong);
    const torch::Tensor high = (low + 1).clamp_max(in - 1);
    const torch::Tensor weight = (source - low.to(torch::kDouble)).to(torch::kFloat);
    return {low.to(device), high.to(device), weight.to(device)};
}

// The windowed least-squares fit of `low` [N,C,h,w] on `guide` [N,G,h,w]. Returns A per guide
// channel (each [N,C,h,w]) and b.
struct Fit {
    std::vector<torch::Tensor> a;
    torch::Tensor b;
};

Fit fit_linear(const torch::Tensor& low, const torch::Tensor& guide, int radius, double epsilon) {
    // The (co)variances are differences of window means. Centred on their image means, the values
    // lie within +-1, so float32 leaves ~1e-7 of a window mean: far under the default ridge (1e-3),
    // at half float64's memory traffic.
    const torch::Tensor p_offset = low.to(torch::kFloat).mean({2, 3}, true);
    const torch::Tensor g_offset = guide.to(torch::kFloat).mean({2, 3}, true);
    const torch::Tensor p = low.to(torch::kFloat) - p_offset;
    const torch::Tensor g = guide.to(torch::kFloat) - g_offset;
    const std::int64_t channels = p.size(1);
    const std::int64_t guides = g.size(1);
    // One box filter over every mean the fit needs: guide, output, guide x guide, guide x output.
    std::vector<torch::Tensor> terms{g, p};
    for (std::int64_t i = 0; i < guides; ++i) {
        for (std::int64_t j = i; j < guides; ++j) {
            terms.push_back(g.slice(1, i, i + 1) * g.slice(1, j, j + 1));
        }
    }
    for (std::int64_t i = 0; i < guides; ++i) {
        terms.push_back(g.slice(1, i, i + 1) * p);
    }
    const torch::Tensor means = box_mean(torch::cat(terms, 1), radius);
    std::int64_t at = 0;
    const auto take = [&](std::int64_t count) {
        const torch::Tensor part = means.slice(1, at, at + count);
        at += count;
        return part;
    };
    const torch::Tensor mean_g = take(guides);
    const torch::Tensor mean_p = take(channels);
    const auto gi = [&](std::int64_t i) { return mean_g.slice(1, i, i + 1); };
    // Guide (co)variances with the ridge on the diagonal, upper triangle, row by row.
    std::vector<torch::Tensor> sigma;
    for (std::int64_t i = 0; i < guides; ++i) {
        for (std::int64_t j = i; j < guides; ++j) {
            sigma.push_back(take(1) - gi(i) * gi(j) + (i == j ? epsilon : 0.0));
        }
    }
    std::vector<torch::Tensor> cov; // cov(guide_i, output), [N,C,h,w]
    for (std::int64_t i = 0; i < guides; ++i) {
        cov.push_back(take(channels) - gi(i) * mean_p);
    }
    Fit fit;
    if (guides == 1) {
        fit.a = {cov[0] / sigma[0]};
    } else {
        // A = cov Sigma^-1 per pixel by the adjugate of the symmetric 3 x 3 Sigma: elementwise,
        // so it runs on any device without a batched solver.
        const torch::Tensor &s00 = sigma[0], &s01 = sigma[1], &s02 = sigma[2], &s11 = sigma[3], &s12 = sigma[4],
                            &s22 = sigma[5];
        const torch::Tensor i00 = s11 * s22 - s12 * s12;
        const torch::Tensor i01 = s02 * s12 - s01 * s22;
        const torch::Tensor i02 = s01 * s12 - s02 * s11;
        const torch::Tensor i11 = s00 * s22 - s02 * s02;
        const torch::Tensor i12 = s01 * s02 - s00 * s12;
        const torch::Tensor i22 = s00 * s11 - s01 * s01;
        const torch::Tensor inverse_det = 1.0 / (s00 * i00 + s01 * i01 + s02 * i02);
        fit.a = {(i00 * cov[0] + i01 * cov[1] + i02 * cov[2]) * inverse_det,
                 (i01 * cov[0] + i11 * cov[1] + i12 * cov[2]) * inverse_det,
                 (i02 * cov[0] + i12 * cov[1] + i22 * cov[2]) * inverse_det};
    }
    // b in the uncentred values: mean(low) - sum A_i mean(guide_i).
    fit.b = mean_p + p_offset;
    for (std::int64_t i = 0; i < guides; ++i) {
        fit.b = fit.b - fit.a[static_cast<std::size_t>(i)] * (gi(i) + g_offset.slice(1, i, i + 1));
    }
    return fit;
}

void check_shapes(const torch::Tensor& low, const torch::Tensor& guide_low, const torch::Tensor& guide) {
    const bool ranks = low.dim() == 4 && guide_low.dim() == 4 && guide.dim() == 4;
    if (!ranks || low.size(0) != guide.size(0) || guide_low.size(0) != guide.size(0) ||
        guide_low.size(1) != guide.size(1) || low.size(2) != guide_low.size(2) || low.size(3) != guide_low.size(3)) {
        throw ConfigError(fmt::format("guided upsampling: result {}, its guide {} and the full guide {} do not fit; "
                                      "expected [N,C,h,w], [N,G,h,w] and [N,G,H,W]",
                                      shape(low), shape(guide_low), shape(guide)));
    }
    if (guide.size(1) != 1 && guide.size(1) != 3) {
        throw ConfigError(fmt::format("guided upsampling: the guide has {} channels; allowed: 1 (luma) or 3 (colour)",
                                      guide.size(1)));
    }
    if (low.device() != guide.device() || guide_low.device() != guide.device()) {
        throw ConfigError("guided upsampling: the result and its guides must be on one device");
    }
}

} // namespace

void GuidedUpsampleOptions::validate() const {
    if (radius < 1 || radius > 256) {
        throw ConfigError(fmt::format("guided upsampling radius = {} is out of range; allowed: 1..256", radius));
    }
    if (!std::isfinite(epsilon) || epsilon <= 0 || epsilon > 1) {
        throw ConfigError(fmt::format("guided upsampling epsilon = {} is out of range; allowed: (0, 1]", epsilon));
    }
}

torch::Tensor box_mean(const torch::Tensor& x, int radius) {
    const std::int64_t size = 2 * std::int64_t{radius} + 1;
    // Separable; count_include_pad = false divides each pass by the pixels inside the image, and
    // the product of the two counts is the window's count. Channels-last: the CPU kernel then
    // vectorises over the channels (1.5x faster at radius 8 than the plain loop of the NCHW one).
    const torch::Tensor input = x.contiguous(torch::MemoryFormat::ChannelsLast);
    const torch::Tensor rows = torch::avg_pool2d(input, {1, size}, {1, 1}, {0, radius}, false, false);
    return torch::avg_pool2d(rows, {size, 1}, {1, 1}, {radius, 0}, false, false).contiguous();
}

void resize_bilinear_banded(const torch::Tensor& x, std::int64_t height, std::int64_t width, std::int64_t band_bytes,
                            const BandFunction& apply) {
    if (x.dim() != 4 || x.size(2) < 1 || x.size(3) < 1 || height < 1 || width < 1) {
        throw ConfigError(fmt::format("bilinear resize of {} to {}x{}: expected [N,C,h,w] and a size of at least 1x1",
                                      shape(x), width, height));
    }
    namespace F = torch::nn::functional;
    // Each output row: the row resized, and the two rows of taps it is blended from.
    const std::int64_t row_bytes = 3 * x.size(0) * x.size(1) * width * static_cast<std::int64_t>(x.element_size());
    const std::int64_t band = std::clamp<std::int64_t>(band_bytes / std::max<std::int64_t>(row_bytes, 1), 1, height);
    for (std::int64_t row = 0; row < height; row += band) {
        const std::int64_t count = std::min(band, height - row);
        // Vertically by our own taps, whole rows at the input's width (a band starts anywhere);
        // horizontally by torch's kernel, many times faster than gathering columns, with the rows
        // mapped 1:1 (a source position of exactly the row, so nothing is blended vertically twice).
        const Taps rows = bilinear_taps(x.size(2), height, row, count, x.device());
        const torch::Tensor vertical =
            torch::lerp(x.index_select(2, rows.low), x.index_select(2, rows.high), rows.weight.view({1, 1, -1, 1}));
        apply(row, F::interpolate(vertical, F::InterpolateFuncOptions()
                                                .size(std::vector<std::int64_t>{count, width})
                                                .mode(torch::kBilinear)
                                                .align_corners(false)));
    }
}

torch::Tensor guided_upsample(const torch::Tensor& low, const torch::Tensor& guide_low, const torch::Tensor& guide,
                              const GuidedUpsampleOptions& options) {
    options.validate();
    check_shapes(low, guide_low, guide);
    const torch::NoGradGuard no_grad;
    const std::int64_t channels = low.size(1);
    const std::int64_t guides = guide.size(1);
    const Fit fit = fit_linear(low, guide_low, options.radius, options.epsilon);
    // Each pixel takes the mean of the coefficients of the windows that cover it (He et al. eq. 8).
    // Resized together: A, then b (filter) or the low-resolution result and guide (residual).
    std::vector<torch::Tensor> fitted = fit.a;
    if (options.mode == GuidedUpsampleMode::Filter) {
        fitted.push_back(fit.b);
    }
    std::vector<torch::Tensor> parts{box_mean(torch::cat(fitted, 1), options.radius)};
    if (options.mode == GuidedUpsampleMode::Residual) {
        parts.push_back(low.to(torch::kFloat));
        parts.push_back(guide_low.to(torch::kFloat));
    }
    const torch::Tensor coefficients = torch::cat(parts, 1);
    const torch::Tensor full = guide.to(torch::kFloat);
    torch::Tensor out = torch::empty({guide.size(0), channels, guide.size(2), guide.size(3)}, full.options());
    resize_bilinear_banded(
        coefficients, guide.size(2), guide.size(3), kBandBytes, [&](std::int64_t row, const torch::Tensor& band) {
            const torch::Tensor rows = full.slice(2, row, row + band.size(2));
            const auto a = [&](std::int64_t i) { return band.slice(1, i * channels, (i + 1) * channels); };
            const torch::Tensor tail = band.slice(1, guides * channels);
            // Filter: up(b) + sum up(A_i) guide_i. Residual: up(low) + sum up(A_i) (guide_i - up(guide_low_i)).
            torch::Tensor result = tail.slice(1, 0, channels).clone();
            for (std::int64_t i = 0; i < guides; ++i) {
                torch::Tensor detail = rows.slice(1, i, i + 1);
                if (options.mode == GuidedUpsampleMode::Residual) {
                    detail = detail - tail.slice(1, channels + i, channels + i + 1);
                }
                result.addcmul_(a(i), detail);
            }
            out.slice(2, row, row + band.size(2)).copy_(result);
        });
    return out;
}

Image guided_upsample(const Image& low, const Image& photo_low, const Image& photo, const torch::Device& device,
                      const GuidedUpsampleOptions& options) {
    const torch::NoGradGuard no_grad;
    const auto guide = [&](const Image& image) {
        const torch::Tensor rgb = detail::image_to_tensor(image, device);
        if (options.color_guide) {
            return rgb;
        }
        // The luma of image_metrics.h and color.h: what the edge-sharpness figure measures.
        const torch::Tensor weights = torch::tensor({0.299F, 0.587F, 0.114F}, rgb.options()).view({1, 3, 1, 1});
        return (rgb * weights).sum(1, true);
    };
    return detail::tensor_to_image(
        guided_upsample(detail::image_to_tensor(low, device), guide(photo_low), guide(photo), options));
}

int working_long_side(int work_size, int width, int height) {
    return work_size > 0 && std::max(width, height) > work_size ? work_size : 0;
}

} // namespace impasto::fast
