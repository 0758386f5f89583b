// AdaIN, WCT, blending, interpolation and masks on feature tensors (see feature_transforms.h).
#include "fast/feature_transforms.h"

#include "impasto/error.h"

#include <cmath>
#include <string>
#include <tuple>

namespace impasto::fast {
namespace {

// Columns per chunk of the float64 statistics: bounds the temporary copies (C x 64k doubles).
constexpr std::int64_t kChunk = 65536;

void check_features(const torch::Tensor& features, const char* what) {
    if (!features.defined() || features.dim() != 4 || features.size(0) != 1) {
        throw ConfigError(std::string(what) + ": expected features [1,C,h,w]");
    }
}

// [N, C] float32 rows of [1,C,h,w]: a view of channels-last features (what the encoder gives).
torch::Tensor as_rows(const torch::Tensor& features) {
    return features.to(torch::kFloat).permute({0, 2, 3, 1}).reshape({-1, features.size(1)});
}

// [N] float32 weights for features [1,C,h,w], or an undefined tensor.
torch::Tensor flatten_weights(const torch::Tensor& weights, const torch::Tensor& features) {
    if (!weights.defined()) {
        return {};
    }
    if (weights.numel() != features.size(2) * features.size(3)) {
        throw ConfigError("statistics weights hold " + std::to_string(weights.numel()) + " values for a " +
                          std::to_string(features.size(2)) + "x" + std::to_string(features.size(3)) + " feature map");
    }
    torch::Tensor flat = weights.reshape({-1}).to(features.device(), torch::kFloat).clamp_min(0);
    if (flat.sum().item<double>() <= 0) {
        throw ConfigError("statistics weights are zero everywhere (an empty mask)");
    }
    return flat;
}

double total_weight(const torch::Tensor& rows, const torch::Tensor& w) {
    return w.defined() ? w.sum(0, false, torch::kDouble).item<double>() : static_cast<double>(rows.size(0));
}

// Sums over chunks of rows in float32 (cascade summation, BLAS within a chunk), accumulated in
// float64 across chunks: float64 accuracy where it matters without float64 copies of the features.
template <class F> torch::Tensor chunked_sum(const torch::Tensor& rows, const torch::Tensor& w, F term) {
    torch::Tensor sum;
    for (std::int64_t start = 0; start < rows.size(0); start += kChunk) {
        const std::int64_t end = std::min(rows.size(0), start + kChunk);
        const torch::Tensor part =
            term(rows.slice(0, start, end), w.defined() ? w.slice(0, start, end) : torch::Tensor()).to(torch::kDouble);
        sum = sum.defined() ? sum.add_(part) : part;
    }
    return sum;
}

// Weighted per-channel mean [C] (float64) of rows [N,C].
torch::Tensor weighted_mean(const torch::Tensor& rows, const torch::Tensor& w) {
    const torch::Tensor sum = chunked_sum(rows, w, [](const torch::Tensor& x, const torch::Tensor& wx) {
        return wx.defined() ? wx.matmul(x) : x.sum(0);
    });
    return sum / total_weight(rows, w);
}

torch::Tensor diag_map(const torch::Tensor& map) {
    return map.dim() == 1 ? torch::diag(map) : map;
}

} // namespace

MeanStd mean_std(const torch::Tensor& features, const torch::Tensor& weights) {
    check_features(features, "mean_std");
    const torch::Tensor rows = as_rows(features);
    const torch::Tensor w = flatten_weights(weights, features);
    const torch::Tensor mean = weighted_mean(rows, w);
    const torch::Tensor mean_f = mean.to(torch::kFloat);
    const torch::Tensor squares = chunked_sum(rows, w, [&](const torch::Tensor& x, const torch::Tensor& wx) {
        const torch::Tensor centred = (x - mean_f).square_();
        return wx.defined() ? wx.matmul(centred) : centred.sum(0);
    });
    return {mean, (squares / total_weight(rows, w)).sqrt_()};
}

MeanCovariance mean_covariance(const torch::Tensor& features, const torch::Tensor& weights) {
    check_features(features, "mean_covariance");
    const torch::Tensor rows = as_rows(features);
    const torch::Tensor w = flatten_weights(weights, features);
    const torch::Tensor mean = weighted_mean(rows, w);
    const torch::Tensor mean_f = mean.to(torch::kFloat);
    torch::Tensor covariance = chunked_sum(rows, w, [&](const torch::Tensor& x, const torch::Tensor& wx) {
        const torch::Tensor centred = x - mean_f;
        const torch::Tensor weighted = wx.defined() ? centred * wx.unsqueeze(1) : centred;
        return weighted.t().mm(centred);
    });
    covariance /= total_weight(rows, w);
    return {mean, (covariance + covariance.t()) * 0.5};
}

torch::Tensor apply_map(const AffineMap& map, const torch::Tensor& features) {
    check_features(features, "apply_map");
    const std::int64_t channels = features.size(1);
    const torch::Tensor x = features.to(torch::kFloat);
    const torch::Tensor matrix = map.matrix.to(x.device(), torch::kFloat);
    const torch::Tensor bias = map.bias.to(x.device(), torch::kFloat);
    if (matrix.dim() == 1) {
        return x * matrix.view({1, channels, 1, 1}) + bias.view({1, channels, 1, 1});
    }
    // As [pixels, C] rows: a view of channels-last features, so no transposed copy.
    const torch::Tensor rows = x.permute({0, 2, 3, 1}).reshape({-1, channels});
    const torch::Tensor out = torch::addmm(bias, rows, matrix.t());
    return out.view({1, features.size(2), features.size(3), channels}).permute({0, 3, 1, 2});
}

AffineMap adain_map(const MeanStd& content, const MeanStd& style, double epsilon) {
    const torch::Tensor scale = style.std / (content.std.square() + epsilon).sqrt();
    return {scale.to(torch::kFloat), (style.mean - scale * content.mean).to(torch::kFloat)};
}

torch::Tensor adain(const torch::Tensor& content, const torch::Tensor& style, double epsilon) {
    return adain(content, mean_std(content), mean_std(style), epsilon);
}

torch::Tensor adain(const torch::Tensor& content, const MeanStd& content_stats, const MeanStd& style_stats,
                    double epsilon) {
    return apply_map(adain_map(content_stats, style_stats, epsilon), content);
}

namespace {

// One thread for LAPACK: OpenBLAS's threaded eigensolver (many small BLAS-2 calls, each an OpenMP
// barrier) took 0.9-12 s for a 512 x 512 covariance on 2 busy cores, against 0.06 s on one.
class SingleThreaded {
  public:
    SingleThreaded() : previous_(at::get_num_threads()) {
        if (previous_ > 1) {
            at::set_num_threads(1);
        }
    }
    ~SingleThreaded() {
        if (previous_ > 1) {
            at::set_num_threads(previous_);
        }
    }
    SingleThreaded(const SingleThreaded&) = delete;
    SingleThreaded& operator=(const SingleThreaded&) = delete;

  private:
    int previous_;
};

// E diag(f(d, floor)) E^T over the eigen-directions with d > floor, floor = epsilon x the mean
// eigenvalue: relative, because the scale of the features is the encoder's (the Caffe VGG19 sees
// 0-255 input, so its covariances are ~10^4-10^5 times those of a network fed 0-1).
template <class F> torch::Tensor spectral(const torch::Tensor& covariance, double epsilon, F f) {
    if (covariance.dim() != 2 || covariance.size(0) != covariance.size(1)) {
        throw ConfigError("expected a square covariance matrix");
    }
    torch::Tensor values;
    torch::Tensor vectors;
    {
        const SingleThreaded single;
        std::tie(values, vectors) = torch::linalg_eigh(covariance.to(torch::kDouble));
    }
    values = values.clamp_min(0);
    const double floor = epsilon * std::max(values.mean().item<double>(), 1e-300);
    const torch::Tensor kept = values > floor;
    const torch::Tensor coefficients = torch::where(kept, f(values, floor), torch::zeros_like(values));
    return (vectors * coefficients.unsqueeze(0)).mm(vectors.t());
}

} // namespace

torch::Tensor whitening_matrix(const torch::Tensor& covariance, double epsilon) {
    return spectral(covariance, epsilon, [](const torch::Tensor& d, double floor) { return (d + floor).rsqrt(); });
}

torch::Tensor colouring_matrix(const torch::Tensor& covariance, double epsilon) {
    return spectral(covariance, epsilon, [](const torch::Tensor& d, double /*floor*/) { return d.sqrt(); });
}

torch::Tensor whiten(const torch::Tensor& features, double epsilon) {
    const MeanCovariance stats = mean_covariance(features);
    const torch::Tensor matrix = whitening_matrix(stats.covariance, epsilon);
    return apply_map({matrix.to(torch::kFloat), (-matrix.mv(stats.mean)).to(torch::kFloat)}, features);
}

torch::Tensor colour(const torch::Tensor& whitened, const MeanCovariance& style, double epsilon) {
    return apply_map({colouring_matrix(style.covariance, epsilon).to(torch::kFloat), style.mean.to(torch::kFloat)},
                     whitened);
}

AffineMap wct_map(const MeanCovariance& content, const MeanCovariance& style, double epsilon) {
    if (content.mean.numel() != style.mean.numel()) {
        throw ConfigError("WCT: content and style features have different channel counts");
    }
    const torch::Tensor matrix =
        colouring_matrix(style.covariance, epsilon).mm(whitening_matrix(content.covariance, epsilon));
    return {matrix.to(torch::kFloat), (style.mean - matrix.mv(content.mean)).to(torch::kFloat)};
}

torch::Tensor wct(const torch::Tensor& content, const torch::Tensor& style, double epsilon) {
    return wct(content, mean_covariance(content), mean_covariance(style), epsilon);
}

torch::Tensor wct(const torch::Tensor& content, const MeanCovariance& content_stats, const MeanCovariance& style_stats,
                  double epsilon) {
    return apply_map(wct_map(content_stats, style_stats, epsilon), content);
}

torch::Tensor blend(const torch::Tensor& transformed, const torch::Tensor& content, double alpha) {
    const torch::Tensor t = transformed.to(torch::kFloat);
    if (alpha == 1.0) {
        return t;
    }
    return t * alpha + content.to(torch::kFloat) * (1.0 - alpha);
}

namespace {

double checked_weight_sum(const std::vector<double>& weights, std::size_t count) {
    if (weights.size() != count || count == 0) {
        throw ConfigError("interpolation: " + std::to_string(weights.size()) + " weights for " + std::to_string(count) +
                          " styles");
    }
    double total = 0;
    for (const double w : weights) {
        if (!std::isfinite(w) || w < 0) {
            throw ConfigError("interpolation: style weight " + std::to_string(w) + " is out of range; allowed: >= 0");
        }
        total += w;
    }
    if (total <= 0) {
        throw ConfigError("interpolation: the style weights sum to 0; at least one must be > 0");
    }
    return total;
}

} // namespace

torch::Tensor interpolate(const std::vector<torch::Tensor>& transformed, const std::vector<double>& weights) {
    const double total = checked_weight_sum(weights, transformed.size());
    torch::Tensor sum;
    for (std::size_t i = 0; i < transformed.size(); ++i) {
        if (weights[i] == 0) {
            continue;
        }
        const torch::Tensor term = transformed[i].to(torch::kFloat) * (weights[i] / total);
        sum = sum.defined() ? sum.add_(term) : term;
    }
    return sum;
}

torch::Tensor resize_mask(const torch::Tensor& mask, std::int64_t height, std::int64_t width) {
    if (!mask.defined() || mask.numel() == 0 || mask.dim() < 2) {
        throw ConfigError("resize_mask: expected a mask [H,W]");
    }
    const torch::Tensor m = mask.to(torch::kFloat).reshape({1, 1, mask.size(-2), mask.size(-1)});
    return torch::adaptive_avg_pool2d(m, {height, width}).reshape({height, width});
}

torch::Tensor apply_masked_maps(const std::vector<AffineMap>& maps, const std::vector<double>& weights,
                                const std::vector<torch::Tensor>& masks, const torch::Tensor& features) {
    const double total = checked_weight_sum(weights, maps.size());
    if (masks.size() != maps.size()) {
        throw ConfigError("spatial control: " + std::to_string(masks.size()) + " masks for " +
                          std::to_string(maps.size()) + " styles");
    }
    bool any_mask = false;
    for (const torch::Tensor& mask : masks) {
        any_mask = any_mask || mask.defined();
    }
    if (!any_mask) {
        // Affine maps mix into one: sum_i w_i (M_i x + b_i) = (sum_i w_i M_i) x + sum_i w_i b_i.
        if (maps.size() == 1) {
            return apply_map(maps[0], features);
        }
        bool diagonal = true;
        for (const AffineMap& map : maps) {
            diagonal = diagonal && map.matrix.dim() == 1;
        }
        AffineMap mixed{torch::zeros_like(diagonal ? maps[0].matrix : diag_map(maps[0].matrix)),
                        torch::zeros_like(maps[0].bias)};
        for (std::size_t i = 0; i < maps.size(); ++i) {
            const double w = weights[i] / total;
            mixed.matrix += (diagonal ? maps[i].matrix : diag_map(maps[i].matrix)) * w;
            mixed.bias += maps[i].bias * w;
        }
        return apply_map(mixed, features);
    }
    const torch::Tensor x = features.to(torch::kFloat);
    const auto h = x.size(2);
    const auto w = x.size(3);
    torch::Tensor numerator = torch::zeros_like(x);
    torch::Tensor denominator = torch::zeros({1, 1, h, w}, x.options());
    for (std::size_t i = 0; i < maps.size(); ++i) {
        if (weights[i] == 0) {
            continue;
        }
        const torch::Tensor m = masks[i].defined()
                                    ? resize_mask(masks[i], h, w).to(x.device()).view({1, 1, h, w}) * weights[i]
                                    : torch::full({1, 1, h, w}, weights[i], x.options());
        numerator.addcmul_(apply_map(maps[i], x), m);
        denominator += m;
    }
    const torch::Tensor covered = denominator > 0;
    return torch::where(covered, numerator / denominator.clamp_min(1e-12), x);
}

} // namespace impasto::fast
