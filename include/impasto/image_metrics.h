#pragma once
// How close an image is to a reference of the same scene, pixel for pixel: for reconstructions
// (decode(encode(x)) against x) and for a result made at a lower resolution and upsampled
// against the one made at full resolution. Torch-free.
#include "impasto/image.h"

namespace impasto {

struct Fidelity {
    double psnr_db = 0; // 10 log10(1 / MSE) over RGB in [0,1]; +inf for identical images
    // Edge sharpness: the image's mean gradient magnitude (central differences of the luma) at the
    // reference's strongest edges (its top 10 % of gradient magnitudes), over the reference's own.
    // 1 = as sharp; a blurred image falls below 1, an over-sharpened one rises above it.
    double edge_ratio = 0;
};

// Both images must have the same size; throws ConfigError otherwise, InputError when empty.
Fidelity compare_images(const Image& image, const Image& reference);

} // namespace impasto
