// Peak-memory model for a run, so that a size that cannot fit is refused before it starts.
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
constexpr double kBaseBytes = 700e6;

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

} // namespace

std::int64_t estimate_peak_memory(const StylizeOptions& options, int width, int height) {
    const double pixels = static_cast<double>(width) * height;
    const double precision_factor = options.precision == Precision::Fp32 ? 1.0 : 0.75;
    const double lbfgs_state = options.optimizer == OptimizerKind::Lbfgs ? 2.0 * options.lbfgs_history * 12.0 : 36.0;
    return static_cast<std::int64_t>(
        kBaseBytes + pixels * (kBytesPerPixelFp32AtRelu5 * precision_factor * depth_fraction(options) + lbfgs_state));
}

int largest_size_that_fits(const StylizeOptions& options, double aspect, std::int64_t budget_bytes) {
    int low = 16;
    int high = 16384;
    while (low < high) {
        const int mid = (low + high + 1) / 2;
        const int width = aspect >= 1 ? mid : std::max(1, static_cast<int>(std::lround(mid * aspect)));
        const int height = aspect >= 1 ? std::max(1, static_cast<int>(std::lround(mid / aspect))) : mid;
        if (estimate_peak_memory(options, width, height) <= budget_bytes) {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    return low;
}

void check_memory_fits(const StylizeOptions& options, int content_width, int content_height,
                       std::int64_t available_bytes) {
    const double aspect = static_cast<double>(content_width) / content_height;
    for (const ScaleStep& step : options.schedule()) {
        // The same sides as resize_long_side() gives the content at this step.
        const double scale = static_cast<double>(step.long_side) / std::max(content_width, content_height);
        const int width = std::max(1, static_cast<int>(std::lround(content_width * scale)));
        const int height = std::max(1, static_cast<int>(std::lround(content_height * scale)));
        const std::int64_t needed = estimate_peak_memory(options, width, height);
        if (needed > available_bytes) {
            const int fits = largest_size_that_fits(options, aspect, available_bytes);
            throw ResourceError(fmt::format("{}x{} needs about {:.1f} GB but {:.1f} GB is available; --size {} would "
                                            "fit (or use --size auto)",
                                            width, height, needed / 1e9, available_bytes / 1e9, fits));
        }
    }
}

} // namespace impasto
