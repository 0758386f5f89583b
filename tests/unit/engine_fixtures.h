#pragma once
// Synthetic VGG weights and images for engine tests: no real weights, no files.
#include "impasto/image.h"
#include "impasto/layers.h"
#include "impasto/model.h"

#include <cmath>
#include <random>

namespace impasto::testing {

// He-initialised random VGG19 weights (seeded), canonical names, caffe normalisation.
inline LoadedWeights synthetic_vgg19_weights(unsigned seed = 7) {
    LoadedWeights weights;
    weights.info.name = "synthetic";
    weights.info.sha256 = "0000";
    weights.info.normalization = InputNormalization::CaffeBgr255;
    std::mt19937 rng(seed);
    int in_channels = 3;
    for (const std::string& name : layer_names()) {
        if (name.rfind("conv", 0) != 0) {
            continue;
        }
        const int out_channels = layer_channels(name);
        // Scaled for caffe inputs (0-255) so activations stay O(1..100) through 16 layers.
        const double scale = std::sqrt(2.0 / (9.0 * in_channels)) * (in_channels == 3 ? 1.0 / 64 : 1.0);
        std::normal_distribution<float> normal(0.0F, static_cast<float>(scale));
        std::vector<float> w(static_cast<std::size_t>(out_channels) * in_channels * 9);
        for (float& v : w) {
            v = normal(rng);
        }
        std::vector<float> b(static_cast<std::size_t>(out_channels), 0.01F);
        weights.tensors[name + ".weight"] = RawTensor::from_float({out_channels, in_channels, 3, 3}, w);
        weights.tensors[name + ".bias"] = RawTensor::from_float({out_channels}, b);
        in_channels = out_channels;
    }
    return weights;
}

// Smooth coloured gradient plus a pattern, deterministic.
inline Image synthetic_image(int width, int height, int variant) {
    Image image;
    image.width = width;
    image.height = height;
    image.rgb.resize(static_cast<std::size_t>(width) * height * 3);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            float* p = image.pixel(x, y);
            const double u = static_cast<double>(x) / width;
            const double v = static_cast<double>(y) / height;
            p[0] = static_cast<float>(0.5 + 0.4 * std::sin(6.28 * (u * (variant + 1) + v)));
            p[1] = static_cast<float>(0.5 + 0.4 * std::cos(6.28 * v * (variant + 2)));
            p[2] = static_cast<float>(((x / (4 + variant)) + (y / (4 + variant))) % 2 == 0 ? 0.8 : 0.2);
        }
    }
    return image;
}

} // namespace impasto::testing
