// PSNR and the edge-sharpness ratio of include/impasto/image_metrics.h.
#include "impasto/image_metrics.h"

#include "impasto/error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace impasto {
namespace {

std::vector<float> luma(const Image& image) {
    std::vector<float> out(static_cast<std::size_t>(image.width) * image.height);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const float* p = image.rgb.data() + 3 * i;
        out[i] = 0.299F * p[0] + 0.587F * p[1] + 0.114F * p[2];
    }
    return out;
}

// |grad| by central differences, 0 on the border.
std::vector<float> gradient_magnitude(const std::vector<float>& y, int width, int height) {
    std::vector<float> out(y.size(), 0.0F);
    for (int row = 1; row + 1 < height; ++row) {
        for (int col = 1; col + 1 < width; ++col) {
            const std::size_t at = static_cast<std::size_t>(row) * width + col;
            const float dx = 0.5F * (y[at + 1] - y[at - 1]);
            const float dy = 0.5F * (y[at + width] - y[at - width]);
            out[at] = std::sqrt(dx * dx + dy * dy);
        }
    }
    return out;
}

} // namespace

Fidelity compare_images(const Image& image, const Image& reference) {
    if (image.empty() || reference.empty()) {
        throw InputError("comparing images: an image is empty");
    }
    if (image.width != reference.width || image.height != reference.height) {
        throw ConfigError("comparing images: " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                          " against a " + std::to_string(reference.width) + "x" + std::to_string(reference.height) +
                          " reference; they must have the same size");
    }
    Fidelity result;
    double squares = 0;
    for (std::size_t i = 0; i < image.rgb.size(); ++i) {
        const double d = static_cast<double>(image.rgb[i]) - reference.rgb[i];
        squares += d * d;
    }
    const double mse = squares / static_cast<double>(image.rgb.size());
    result.psnr_db = mse > 0 ? 10.0 * std::log10(1.0 / mse) : std::numeric_limits<double>::infinity();

    const std::vector<float> ours = gradient_magnitude(luma(image), image.width, image.height);
    const std::vector<float> theirs = gradient_magnitude(luma(reference), reference.width, reference.height);
    std::vector<float> sorted = theirs;
    const std::size_t top = sorted.size() - std::max<std::size_t>(1, sorted.size() / 10);
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(top), sorted.end());
    const float threshold = sorted[top];
    double sum_ours = 0;
    double sum_theirs = 0;
    for (std::size_t i = 0; i < theirs.size(); ++i) {
        if (theirs[i] >= threshold && theirs[i] > 0) {
            sum_ours += ours[i];
            sum_theirs += theirs[i];
        }
    }
    result.edge_ratio = sum_theirs > 0 ? sum_ours / sum_theirs : 1.0;
    return result;
}

} // namespace impasto
