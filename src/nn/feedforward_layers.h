#pragma once
// Building blocks of the feed-forward networks (the transformer net, StyleBank): padding and
// upsampling that keep bf16 and channels_last, and instance norm with one (gamma, beta) row per
// style whose statistics can be captured from one pass and reused by the tiles of a large image.
#include "core/torch_compat.h"

#include <cstdint>

namespace impasto::nn {

// How instance norms get their statistics. Live: from the input itself (training, untiled
// inference). Capture: from the input, and remembered. Fixed: the remembered ones (tiles).
enum class NormStatistics { Live, Capture, Fixed };

// `base` channels times the width multiplier, rounded, at least 4.
int scaled_channels(int base, double width);

// Pads the right and bottom (or any side) by reflection, or by replication where the map is too small
// to reflect; keeps the dtype and channels_last.
torch::Tensor pad_edges(const torch::Tensor& x, std::int64_t left, std::int64_t right, std::int64_t top,
                        std::int64_t bottom);
// The same padding on all sides (0 = none).
torch::Tensor pad_same(const torch::Tensor& x, int pad);
// Nearest-neighbour x2; keeps bf16 and channels_last.
torch::Tensor upsample2(const torch::Tensor& x);
torch::Tensor relu_inplace(torch::Tensor x);
// A convolution that pads nothing itself (pad_same does, by reflection).
torch::nn::Conv2d make_conv(int in, int out, int kernel, int stride, bool bias);

// Conditional instance norm: per-channel statistics over H x W, then the style's (gamma, beta);
// with one style it is a plain affine instance norm.
class CondInstanceNormImpl : public torch::nn::Module {
  public:
    CondInstanceNormImpl(int channels, int styles);
    // `mix` is [N, styles] (rows of non-negative weights summing to 1) or undefined (style 0).
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mix, NormStatistics mode);

    torch::Tensor gamma; // [styles, C]
    torch::Tensor beta;  // [styles, C]
    torch::Tensor captured_mean;
    torch::Tensor captured_var;
};
TORCH_MODULE(CondInstanceNorm);

} // namespace impasto::nn
