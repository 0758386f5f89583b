// Peak-memory model for a run, so that a size that cannot fit is refused before it starts. It
// counts every image that goes through VGG, not only the output: the style images at their scaled
// sizes can be far larger than the output.
#include "impasto/error.h"
#include "impasto/layers.h"
#include "impasto/stylize.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace impasto {
namespace {

// Calibrated on this project's CPU build (README, "Memory"): 1024x768, bf16, 60 L-BFGS iterations
// (history full) peaked at 3.85 GB, i.e. ~2.8 KB per output pixel for the activations kept for the
// backward pass through VGG19 (bf16 copies plus the fp32 features the Gram matrices read) on top of
// the L-BFGS history and the fixed part (runtime, weights, buffers).
constexpr double kBytesPerPixelFp32AtRelu5 = 3800.0;
// A forward pass without gradients (the targets of the content and of each style image). Measured
// on this CPU build: a 256 px run with the 1024x640 Starry Night at style scale 8 (2048x1280) peaked
// 1.93 GB above the same run at style scale 1 (256x160), i.e. 747 B per style pixel in fp32 and 735
// in bf16 (autocast changes little here: the features are read back in fp32 for the Gram matrices).
constexpr double kForwardBytesPerPixel = 800.0;
constexpr double kBaseBytes = 700e6;
constexpr double kRgbBytesPerPixel = 12.0; // float RGB

double pixels(ImageSize size) {
    return static_cast<double>(size.width) * size.height;
}

double depth_fraction(const StylizeOptions& options) {
    // Activations are dominated by the first blocks; stopping earlier saves little, so the model
    // only distinguishes runs that stop in block 1-2 from deeper ones.
    int deepest = 0;
    for (const auto* layers : {&options.content_layers, &options.style_layers}) {
        for (const std::string& name : *layers) {
            deepest = std::max(deepest, layer_index(name));
        }
    }
    return deepest < layer_index("pool2") ? 0.6 : 1.0;
}

double precision_factor(const StylizeOptions& options) {
    return options.precision == Precision::Fp32 ? 1.0 : 0.75;
}

// The decoded images live through the whole run: the caller's copies and the prepared (recoloured)
// ones of the content and styles, and the init file until the first step starts from it.
double held_bytes(const RunImageSizes& images) {
    double held = 2 * pixels(images.content) + pixels(images.init);
    for (const ImageSize& style : images.styles) {
        held += 2 * pixels(style);
    }
    return held * kRgbBytesPerPixel;
}

double step_bytes(const StylizeOptions& options, int width, int height, const RunImageSizes& images) {
    const double output = static_cast<double>(width) * height;
    const double per_pixel_factor = precision_factor(options) * depth_fraction(options);
    const double lbfgs_state = options.optimizer == OptimizerKind::Lbfgs ? 2.0 * options.lbfgs_history * 12.0 : 36.0;
    const double optimise = output * (kBytesPerPixelFp32AtRelu5 * per_pixel_factor + lbfgs_state);
    // The targets are made one image at a time before the optimisation starts, so the larger of the
    // two phases counts; the scaled style tensors stay alive through both.
    double largest_forward = output;
    double style_tensors = 0;
    const int style_side = options.style_long_side(std::max(width, height));
    for (const ImageSize& style : images.styles) {
        const double scaled = pixels(scaled_to_long_side(style, style_side));
        largest_forward = std::max(largest_forward, scaled);
        style_tensors += scaled * kRgbBytesPerPixel;
    }
    const double targets = largest_forward * kForwardBytesPerPixel * depth_fraction(options);
    return kBaseBytes + held_bytes(images) + style_tensors + std::max(optimise, targets);
}

// The content at each step, with the sides resize_long_side() gives it.
ImageSize step_size(const RunImageSizes& images, int long_side) {
    return scaled_to_long_side(images.content, long_side);
}

// The largest estimate over the schedule, and the step it belongs to.
std::pair<double, ImageSize> schedule_peak(const StylizeOptions& options, const RunImageSizes& images) {
    std::pair<double, ImageSize> peak{0.0, {}};
    for (const ScaleStep& step : options.schedule()) {
        const ImageSize size = step_size(images, step.long_side);
        const double needed = step_bytes(options, size.width, size.height, images);
        if (needed > peak.first) {
            peak = {needed, size};
        }
    }
    return peak;
}

bool within_work_limits(const StylizeOptions& options, const RunImageSizes& images) {
    try {
        options.validate();
        check_work_limits(options, images);
        return true;
    } catch (const Error&) {
        return false;
    }
}

// Style images unknown: one square style image, the most pixels its long side allows.
RunImageSizes assumed_images(int width, int height) {
    const int side = std::max(width, height);
    return {{width, height}, {{side, side}}, {}};
}

// Binary search over the output's long side; `images_at(side)` gives the run's images for it.
template <class ImagesAt>
int largest_fitting(const StylizeOptions& options, std::int64_t budget_bytes, const ImagesAt& images_at) {
    int low = 16;
    int high = kMaxImageSide;
    StylizeOptions candidate = options;
    while (low < high) {
        const int mid = (low + high + 1) / 2;
        candidate.size = mid;
        const RunImageSizes images = images_at(mid);
        if (within_work_limits(candidate, images) &&
            schedule_peak(candidate, images).first <= static_cast<double>(budget_bytes)) {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    return low;
}

} // namespace

std::int64_t estimate_peak_memory(const StylizeOptions& options, int width, int height, const RunImageSizes& images) {
    return static_cast<std::int64_t>(step_bytes(options, width, height, images));
}

int largest_size_that_fits(const StylizeOptions& options, const RunImageSizes& images, std::int64_t budget_bytes) {
    return largest_fitting(options, budget_bytes, [&](int /*side*/) { return images; });
}

void check_memory_fits(const StylizeOptions& options, const RunImageSizes& images, std::int64_t available_bytes) {
    const auto [needed, size] = schedule_peak(options, images);
    if (needed <= static_cast<double>(available_bytes)) {
        return;
    }
    std::string styles;
    if (!images.styles.empty()) {
        ImageSize largest;
        const int style_side = options.style_long_side(std::max(size.width, size.height));
        for (const ImageSize& style : images.styles) {
            const ImageSize scaled = scaled_to_long_side(style, style_side);
            if (pixels(scaled) > pixels(largest)) {
                largest = scaled;
            }
        }
        styles = fmt::format(" with style images up to {}x{} (style scale {})", largest.width, largest.height,
                             options.style_scale);
    }
    const int fits = largest_size_that_fits(options, images, available_bytes);
    throw ResourceError(fmt::format("{}x{}{} needs about {:.1f} GB but {:.1f} GB is available; --size {} would fit "
                                    "(or use --size auto)",
                                    size.width, size.height, styles, needed / 1e9, available_bytes / 1e9, fits));
}

std::int64_t estimate_forward_memory(int width, int height) {
    return static_cast<std::int64_t>(kBaseBytes + static_cast<double>(width) * height * kForwardBytesPerPixel);
}

std::int64_t estimate_peak_memory(const StylizeOptions& options, int width, int height) {
    return estimate_peak_memory(options, width, height, assumed_images(width, height));
}

int largest_size_that_fits(const StylizeOptions& options, double aspect, std::int64_t budget_bytes) {
    // The content is taken to be of the output's size at each candidate, as the 3-argument estimate.
    return largest_fitting(options, budget_bytes, [aspect](int side) {
        const int width = aspect >= 1 ? side : std::max(1, static_cast<int>(std::lround(side * aspect)));
        const int height = aspect >= 1 ? std::max(1, static_cast<int>(std::lround(side / aspect))) : side;
        return assumed_images(width, height);
    });
}

void check_memory_fits(const StylizeOptions& options, int content_width, int content_height,
                       std::int64_t available_bytes) {
    check_memory_fits(options, assumed_images(content_width, content_height), available_bytes);
}

} // namespace impasto
