#pragma once
// The losses of Gatys, Ecker & Bethge 2016, written as the paper's equations. Everything here
// accumulates in fp32 whatever precision the features came in.
#include "core/torch_compat.h"
#include "impasto/stylize_options.h"

namespace impasto::nn {

// G = F F^T for features [1,N,H,W] viewed as F [N, M = H*W]. Unnormalised, as in eq. 2.
torch::Tensor gram_matrix(const torch::Tensor& features);

// A style Gram target on the scale of an output with `output_positions` positions: Gram matrices
// grow with the number of positions M, so eq. 2 compares like with like only after this rescaling.
torch::Tensor style_gram_target(const torch::Tensor& style_features, double output_positions);

// Eq. 1: 1/2 sum (F - P)^2.
torch::Tensor content_loss(const torch::Tensor& features, const torch::Tensor& target);

// Eq. 2 for one layer: E_l = 1/(4 N^2 M^2) sum (G - A)^2.
torch::Tensor style_layer_loss(const torch::Tensor& gram, const torch::Tensor& target_gram, std::int64_t channels,
                               std::int64_t positions);

// Normalised variants: sum (F - P)^2 / sum P^2 and sum (G - A)^2 / sum A^2. Each term is about
// 1 at the start of a run whatever the layer, image or size.
torch::Tensor normalized_content_loss(const torch::Tensor& features, const torch::Tensor& target);
torch::Tensor normalized_style_layer_loss(const torch::Tensor& gram, const torch::Tensor& target_gram);

// Total variation: mean of squared differences between neighbouring pixels, [N,C,H,W].
torch::Tensor total_variation_loss(const torch::Tensor& image);

} // namespace impasto::nn
