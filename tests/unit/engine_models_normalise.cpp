// The mean-activation normalisation of Gatys et al. on a synthetic VGG19 and synthetic images: after
// the one-pass rescaling every live filter's mean, re-measured, is one; every activation equals the
// original divided by its filter's mean; dead filters are reported and stay dead.
#include "core/tensor_image.h"
#include "engine_fixtures.h"
#include "impasto/error.h"
#include "nn/vgg.h"

#include <gtest/gtest.h>

using namespace impasto;

namespace {

std::vector<Image> synthetic_images() {
    // Different sizes: the mean is over every position of every image, not a mean of per-image means.
    return {impasto::testing::synthetic_image(24, 20, 0), impasto::testing::synthetic_image(31, 27, 1),
            impasto::testing::synthetic_image(20, 36, 2)};
}

std::vector<FilterMeans> measure(const FeatureModel& model, Pooling pooling) {
    MeanActivationMeter meter(model, pooling);
    for (const Image& image : synthetic_images()) {
        meter.add(image);
    }
    EXPECT_EQ(meter.images(), 3);
    return meter.means();
}

LoadedWeights with_tensors(const LoadedWeights& base, TensorMap tensors) {
    LoadedWeights weights = base;
    weights.tensors = std::move(tensors);
    return weights;
}

// Checks means' == 1 for live filters (0 for dead ones) and features' == features / m per channel.
void check_normalised(const LoadedWeights& original, Pooling pooling, std::vector<std::string>* dead_out = nullptr) {
    const auto model = FeatureModel::create(original, Device{});
    const std::vector<FilterMeans> means = measure(*model, pooling);
    std::vector<std::string> dead;
    const auto normalised = FeatureModel::create(
        with_tensors(original, normalize_mean_activations(original.tensors, means, &dead)), Device{});
    const std::vector<FilterMeans> after = measure(*normalised, pooling);
    ASSERT_EQ(after.size(), 16U);
    std::size_t checked = 0, filters = 0;
    for (std::size_t l = 0; l < after.size(); ++l) {
        double layer_mean = 0;
        for (double m : means[l].means) {
            layer_mean += m / static_cast<double>(means[l].means.size());
        }
        for (std::size_t c = 0; c < after[l].means.size(); ++c) {
            ++filters;
            const double m = means[l].means[c];
            // A filter that fires only at a few positions by a hair (m ~ 1e-5 of its layer's) is
            // ill-conditioned in fp32: whether it fires at all can flip with rounding. Skip those.
            if (m > 0 && m < 1e-3 * layer_mean) {
                continue;
            }
            ++checked;
            ASSERT_NEAR(after[l].means[c], m > 0 ? 1.0 : 0.0, 2e-4) << after[l].layer << " filter " << c;
        }
    }
    EXPECT_GT(static_cast<double>(checked), 0.99 * static_cast<double>(filters));

    torch::InferenceMode inference;
    const torch::Tensor x = impasto::detail::image_to_tensor(synthetic_images()[1], torch::kCPU);
    std::vector<std::string> layers;
    for (const std::string& name : layer_names()) {
        if (name.rfind("relu", 0) == 0 || (name.rfind("pool", 0) == 0 && name != "pool5")) {
            layers.push_back(name);
        }
    }
    const auto a = nn::extract_features(model->impl(), x, layers, pooling);
    const auto b = nn::extract_features(normalised->impl(), x, layers, pooling);
    std::size_t conv = 0;
    for (const std::string& name : layers) {
        if (name.rfind("relu", 0) == 0) {
            ++conv;
        }
        // A pool layer carries the scale of the relu before it.
        std::vector<float> scale;
        for (double m : means[conv - 1].means) {
            scale.push_back(static_cast<float>(m > 0 ? m : 1.0));
        }
        // Compared in the original's units (b * m against a): a near-dead filter's m ~ 1e-5 would
        // otherwise magnify fp32 rounding of its near-zero activations.
        const torch::Tensor rescaled = b.at(name) * torch::tensor(scale).view({1, -1, 1, 1});
        const double tolerance = 1e-4 * (a.at(name).abs().max().item<double>() + 1e-6);
        EXPECT_LT((rescaled - a.at(name)).abs().max().item<double>(), tolerance) << name;
    }
    if (dead_out != nullptr) {
        *dead_out = dead;
    }
}

} // namespace

TEST(Normalise, OnePassGivesMeanOneAndScaledFeaturesMaxPooling) {
    check_normalised(impasto::testing::synthetic_vgg19_weights(), Pooling::Max);
}

TEST(Normalise, OnePassGivesMeanOneAndScaledFeaturesAveragePooling) {
    check_normalised(impasto::testing::synthetic_vgg19_weights(11), Pooling::Average);
}

TEST(Normalise, DeadFiltersAreReportedAndStayDead) {
    LoadedWeights weights = impasto::testing::synthetic_vgg19_weights();
    // conv1_1 filter 5 and conv3_2 filter 0 can never fire.
    for (const auto& [layer, filter] : std::vector<std::pair<std::string, int>>{{"conv1_1", 5}, {"conv3_2", 0}}) {
        std::vector<float> bias = weights.tensors.at(layer + ".bias").to_float();
        bias[static_cast<std::size_t>(filter)] = -1e9F;
        weights.tensors[layer + ".bias"] = RawTensor::from_float(weights.tensors.at(layer + ".bias").shape, bias);
    }
    std::vector<std::string> dead;
    check_normalised(weights, Pooling::Max, &dead);
    EXPECT_NE(std::find(dead.begin(), dead.end(), "conv1_1[5]"), dead.end());
    EXPECT_NE(std::find(dead.begin(), dead.end(), "conv3_2[0]"), dead.end());
}

TEST(Normalise, MeansMustMatchTheWeights) {
    const LoadedWeights weights = impasto::testing::synthetic_vgg19_weights();
    std::vector<FilterMeans> wrong{{"conv1_1", std::vector<double>(7, 1.0)}};
    EXPECT_THROW(normalize_mean_activations(weights.tensors, wrong, nullptr), WeightsError);
    std::vector<FilterMeans> negative{{"conv1_1", std::vector<double>(64, -1.0)}};
    EXPECT_THROW(normalize_mean_activations(weights.tensors, negative, nullptr), WeightsError);
    std::vector<FilterMeans> unknown{{"conv9_1", std::vector<double>(64, 1.0)}};
    EXPECT_THROW(normalize_mean_activations(weights.tensors, unknown, nullptr), WeightsError);
    const auto model = FeatureModel::create(weights, Device{});
    MeanActivationMeter meter(*model, Pooling::Max);
    EXPECT_THROW(meter.means(), ConfigError); // no image yet
}
