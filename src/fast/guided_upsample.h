#pragma once
// Guided upsampling: a result computed from a downscaled photo, brought up to the photo's full
// resolution with the photo's own edges. After the Fast Guided Filter (He & Sun 2015, "Fast Guided
// Filter", arXiv:1505.00996): in every (2r+1)^2 window at low resolution the result is fitted as a
// linear function of the guide, out = A guide + b (He, Sun & Tang 2013, "Guided Image Filtering",
// eq. 5-6; with a colour guide A is C x 3, eq. 14), the coefficients of the windows that cover a
// pixel are averaged, upsampled bilinearly and applied to the full-resolution guide.
#include "core/torch_compat.h"
#include "impasto/image.h"

#include <cstdint>
#include <functional>

namespace impasto::fast {

enum class GuidedUpsampleMode {
    // out = up(A) guide + up(b): the published filter. Everything in the low-resolution result that
    // is not locally linear in the photo (the style's own texture) is box-filtered twice.
    Filter,
    // out = up(low) + up(A) (guide - up(guide_low)): the low-resolution result kept as it is
    // (bilinear), plus the photo's detail that downscaling removed, scaled by the same local fit.
    Residual,
};

// Residual mode by default: it keeps the network's strokes as they were painted, where the filter
// mode rebuilds every pixel from the photo and keeps only what is locally linear in it. The luma
// guide is a third of the colour guide's work. bench/compare_work_size.sh measures the result
// (README, "Speed at a smaller work size").
struct GuidedUpsampleOptions {
    GuidedUpsampleMode mode = GuidedUpsampleMode::Residual;
    int radius = 8; // window radius in low-resolution pixels, 1..256
    // Ridge added to the guide's (co)variance, for a guide in [0,1]: larger flattens A towards 0 (the
    // result then follows plain bilinear upsampling); (0, 1].
    double epsilon = 1e-3;
    bool color_guide = false; // images: guide by the photo's RGB (A is C x 3) instead of its luma
    void validate() const;    // throws ConfigError naming the field
};

// Mean over the (2r+1)^2 window around each pixel of x [N,C,h,w], counting only the pixels inside
// the image (so a constant stays constant up to the border).
torch::Tensor box_mean(const torch::Tensor& x, int radius);

// Bilinear resize of x [N,C,h,w] to height x width with pixel centres aligned (align_corners =
// false, the same as torch's interpolate), computed band by band into `apply`: for each band of
// output rows [row, row + band.size(2)) it is called with the resized rows. The bands keep the
// working memory near `band_bytes` however large the output.
using BandFunction = std::function<void(std::int64_t row, const torch::Tensor& band)>;
void resize_bilinear_banded(const torch::Tensor& x, std::int64_t height, std::int64_t width, std::int64_t band_bytes,
                            const BandFunction& apply);

// `low` [N,C,h,w] was computed from `guide_low` [N,G,h,w] (the guide as downscaled for it, G = 1
// or 3); returns it at `guide`'s size [N,C,H,W], float32, on `guide`'s device. Every tensor must be
// on one device. Throws ConfigError for mismatched shapes or G other than 1 or 3.
torch::Tensor guided_upsample(const torch::Tensor& low, const torch::Tensor& guide_low, const torch::Tensor& guide,
                              const GuidedUpsampleOptions& options = {});

// The same on images, guided by the photo's luma (Rec. 601) or its RGB (options.color_guide),
// computed on `device`.
Image guided_upsample(const Image& low, const Image& photo_low, const Image& photo, const torch::Device& device,
                      const GuidedUpsampleOptions& options = {});

// The long side a network runs at for an output of width x height: `work_size` when the output's
// long side exceeds it, else 0 (run at the output size). work_size 0 = always the output size.
int working_long_side(int work_size, int width, int height);

} // namespace impasto::fast
