#pragma once
// Colour controls from Gatys et al. 2017, "Controlling Perceptual Factors in Neural Style Transfer".
#include "impasto/image.h"

namespace impasto {

// Colour-histogram matching: a linear map x' = A(x - mu_s) + mu_c, with A = C_c^{1/2} C_s^{-1/2}
// (symmetric matrix square roots of the 3x3 colour covariances), so that `source` takes the
// mean and covariance of `reference`'s colours. Used to recolour the style image to the content.
Image match_color_histogram(const Image& source, const Image& reference);

// Luminance-only transfer, YIQ colour space: Y = 0.299 R + 0.587 G + 0.114 B.
// Luminance replicated into three channels (what the network sees in luminance-only mode).
Image luminance_image(const Image& image);
// Luminance of `luma_from` combined with the I and Q channels of `chroma_from` (same size).
Image combine_luminance(const Image& luma_from, const Image& chroma_from);
// Shift and scale a luminance image so that its mean and std match `reference`'s luminance
// (Gatys 2017 eq. 5, applied to the style luminance before the transfer).
Image match_luminance(const Image& source, const Image& reference);

} // namespace impasto
