#pragma once
// Feature transforms of arbitrary style transfer, as pure tensor functions on [1,C,h,w] features:
// AdaIN (Huang & Belongie 2017, eq. 8) and the whitening and colouring transform (Li et al. 2017,
// Sec. 3.1), blending with the content (alpha), interpolation between styles and spatial control
// with masks (Li et al. Sec. 4.2).
//
// Both transforms are affine per pixel once the statistics are fixed: y = M x + b, with M diagonal
// for AdaIN. The statistics can therefore be measured once (on the whole image, or a downscaled
// pass for tiling) and the map applied to any tile. Whatever dtype comes in, the statistics are
// computed in float64 and the maps applied in float32; results are float32.
#include "core/torch_compat.h"

#include <vector>

namespace impasto::fast {

// Per-channel mean and standard deviation (biased), float64 [C].
struct MeanStd {
    torch::Tensor mean;
    torch::Tensor std;
};
// Per-channel mean [C] and covariance [C,C] (biased, 1/N), float64.
struct MeanCovariance {
    torch::Tensor mean;
    torch::Tensor covariance;
};

// Statistics of `features` [1,C,h,w]; `weights` (optional, [h,w] or [1,1,h,w], >= 0) weights each
// pixel, so that a mask selects a region. Throws ConfigError for bad shapes or an all-zero weight.
MeanStd mean_std(const torch::Tensor& features, const torch::Tensor& weights = {});
MeanCovariance mean_covariance(const torch::Tensor& features, const torch::Tensor& weights = {});

// y = matrix x + bias per pixel; `matrix` is [C] (diagonal) or [C,C], float32.
struct AffineMap {
    torch::Tensor matrix;
    torch::Tensor bias;
};
torch::Tensor apply_map(const AffineMap& map, const torch::Tensor& features);

// AdaIN: (x - mu_c) / sigma_c * sigma_s + mu_s; `epsilon` is added to the content variance.
AffineMap adain_map(const MeanStd& content, const MeanStd& style, double epsilon = 1e-5);
torch::Tensor adain(const torch::Tensor& content, const torch::Tensor& style, double epsilon = 1e-5);
torch::Tensor adain(const torch::Tensor& content, const MeanStd& content_stats, const MeanStd& style_stats,
                    double epsilon = 1e-5);

// With the eigendecomposition C = E diag(d) E^T of a covariance and eps' = eps x mean(d): the
// whitening matrix E diag(d + eps')^-1/2 E^T and the colouring matrix E diag(d)^1/2 E^T, both
// [C,C] float64. Eigen-directions with d <= eps' (no variance to speak of: rank-deficient features
// of a small image, or bf16 rounding noise) are dropped, as in Li et al.'s implementation, instead
// of being amplified by 1/sqrt(eps'). eps is relative so that it means the same whatever the
// encoder's scale: Li et al.'s 1e-5 was absolute on features of mean activation about 1.
torch::Tensor whitening_matrix(const torch::Tensor& covariance, double epsilon);
torch::Tensor colouring_matrix(const torch::Tensor& covariance, double epsilon);
// Centred, whitened features (identity covariance on the directions kept), float32.
torch::Tensor whiten(const torch::Tensor& features, double epsilon = 1e-5);
// Whitened features given the style's covariance and mean, float32.
torch::Tensor colour(const torch::Tensor& whitened, const MeanCovariance& style, double epsilon = 1e-5);
// colour(whiten(content)) as one map: M = colouring_s * whitening_c, b = mu_s - M mu_c.
AffineMap wct_map(const MeanCovariance& content, const MeanCovariance& style, double epsilon = 1e-5);
torch::Tensor wct(const torch::Tensor& content, const torch::Tensor& style, double epsilon = 1e-5);
torch::Tensor wct(const torch::Tensor& content, const MeanCovariance& content_stats, const MeanCovariance& style_stats,
                  double epsilon = 1e-5);

// alpha * transformed + (1 - alpha) * content (Li et al. eq. 5), float32.
torch::Tensor blend(const torch::Tensor& transformed, const torch::Tensor& content, double alpha);

// Style interpolation: sum_i w_i t_i / sum_i w_i over features of the same shape. Weights >= 0,
// at least one > 0, else ConfigError.
torch::Tensor interpolate(const std::vector<torch::Tensor>& transformed, const std::vector<double>& weights);

// A mask [H,W] or [1,1,H,W] (any size) resampled to a feature map of h x w (area average), float32 [h,w].
torch::Tensor resize_mask(const torch::Tensor& mask, std::int64_t height, std::int64_t width);

// Spatial control: each map i applied where its mask [h,w] is, mixed per pixel by w_i m_i(x); pixels
// no mask covers keep `features`. An undefined mask covers everything. The maps should have been
// measured on the content inside each mask (mean_std / mean_covariance with the mask as weights).
torch::Tensor apply_masked_maps(const std::vector<AffineMap>& maps, const std::vector<double>& weights,
                                const std::vector<torch::Tensor>& masks, const torch::Tensor& features);

} // namespace impasto::fast
