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

// Tolerances follow from the arithmetic, not from one machine's result. Worst-case bounds
// (Higham, "Accuracy and Stability of Numerical Algorithms", Sec. 3.1) grow by a factor of about
// sqrt(K) per layer here (errors of either sign are assumed to add up), so past a few layers they
// say nothing. The probabilistic model of Higham and Mary (SIAM J. Sci. Comput. 41(5), 2019)
// treats each rounding as an independent, mean-zero relative error of at most u (variance at most
// u^2 / 3), which is what the forward pass of a network with independent random weights, as here,
// sees. Then for a conv output z = sum_k w_k x_k + b over K = 9 C_in terms:
// - its own K - 1 additions, in any order or blocking (oneDNN or OpenBLAS, AVX2 or AVX-512 kernels),
//   each round a partial sum over a subset of the terms, so their variance is at most
//   (u^2 / 3) K (sum_k w_k^2 x_k^2 + z^2);
// - errors already in x arrive with variance sum_k w_k^2 var(x_k);
// - weights and biases rounded to fp32 (after rescaling) add (u_w^2 / 3)(sum_k w_k^2 x_k^2 + b^2).
// ReLU passes an error only where z is within it of zero; a max over a 2x2 window errs by at most
// the largest of its four errors (variance at most their sum), an average by their mean. The mean
// of a filter over positions errs by at most the mean of its standard deviations, whatever the
// correlation. A check allows kStandardDeviations of them: under the model a false failure among
// the ~10^5 values compared has probability below 1e-9.
constexpr double kUnitRoundoffFp32 = 0x1p-24;
constexpr double kUnitRoundoffFp64 = 0x1p-53;
constexpr double kStandardDeviations = 8;

struct Arithmetic {
    double unit_roundoff = kUnitRoundoffFp32; // of the sums
    double weight_rounding = 0;               // relative error of each rounded weight and bias
    bool rounded_input = true;                // the input scaling is done in this arithmetic too
};

std::vector<Image> synthetic_images() {
    // Different sizes: the mean is over every position of every image, not a mean of per-image means.
    return {impasto::testing::synthetic_image(24, 20, 0), impasto::testing::synthetic_image(31, 27, 1),
            impasto::testing::synthetic_image(20, 36, 2)};
}

std::vector<std::string> relu_layers() {
    std::vector<std::string> layers;
    for (const std::string& name : layer_names()) {
        if (name.rfind("relu", 0) == 0) {
            layers.push_back(name);
        }
    }
    return layers;
}

// The same network computing in double: the reference against which fp32 is judged.
FeatureModel::Impl in_double(const FeatureModel::Impl& model) {
    FeatureModel::Impl copy = model;
    for (std::size_t i = 0; i < copy.conv_weights.size(); ++i) {
        copy.conv_weights[i] = copy.conv_weights[i].to(torch::kDouble);
        copy.conv_biases[i] = copy.conv_biases[i].to(torch::kDouble);
    }
    copy.input_scale = copy.input_scale.to(torch::kDouble);
    copy.input_shift = copy.input_shift.to(torch::kDouble);
    return copy;
}

torch::Tensor input_of(const Image& image) {
    return impasto::detail::image_to_tensor(image, torch::kCPU).to(torch::kDouble);
}

// For every relu and pool layer: the exact (double) activation and kStandardDeviations standard
// deviations of the error of an implementation in `arithmetic`, as described at the top.
struct ExactWithBound {
    nn::FeatureMap exact;
    nn::FeatureMap bound;
};

ExactWithBound exact_with_bound(const FeatureModel::Impl& model, const Image& image, Pooling pooling,
                                const Arithmetic& arithmetic) {
    torch::NoGradGuard no_grad;
    const FeatureModel::Impl exact = in_double(model);
    const double rounding_variance = arithmetic.unit_roundoff * arithmetic.unit_roundoff / 3;
    const double weight_variance = arithmetic.weight_rounding * arithmetic.weight_rounding / 3;
    torch::Tensor x = nn::normalize_input(exact, input_of(image));
    // A product and a sum per input value.
    torch::Tensor variance = arithmetic.rounded_input ? 2 * rounding_variance * x.square() : torch::zeros_like(x);
    ExactWithBound result;
    std::size_t conv = 0;
    torch::Tensor z;
    torch::Tensor z_variance;
    for (const std::string& name : layer_names()) {
        if (name == "pool5") {
            break; // nothing reads past relu5_4, and the synthetic images are too small for it
        }
        if (name[0] == 'c') {
            const torch::Tensor& w = exact.conv_weights[conv];
            const torch::Tensor& b = exact.conv_biases[conv];
            const double terms = static_cast<double>(w.size(1) * 9);
            z = torch::conv2d(x, w, b, 1, 1);
            const torch::Tensor squares = torch::conv2d(x.square(), w.square(), torch::Tensor(), 1, 1);
            z_variance = rounding_variance * terms * (squares + z.square()) +
                         weight_variance * (squares + b.square().view({1, -1, 1, 1})) +
                         torch::conv2d(variance, w.square(), torch::Tensor(), 1, 1);
            ++conv;
        } else if (name[0] == 'r') {
            x = torch::relu(z);
            variance =
                torch::where(z <= -kStandardDeviations * z_variance.sqrt(), torch::zeros_like(z_variance), z_variance);
        } else if (pooling == Pooling::Max) {
            x = torch::max_pool2d(x, 2, 2);
            variance = 4 * torch::avg_pool2d(variance, 2, 2);
        } else {
            x = torch::avg_pool2d(x, 2, 2);
            variance = torch::avg_pool2d(variance, 2, 2) + 4 * rounding_variance * x.square();
        }
        if (name[0] != 'c') {
            result.exact[name] = x;
            result.bound[name] = kStandardDeviations * variance.sqrt();
        }
    }
    return result;
}

// Per relu layer and filter: the mean over every position of every image.
using LayerMeans = std::vector<std::vector<double>>;

void accumulate(const nn::FeatureMap& features, LayerMeans& sums, std::vector<double>& positions) {
    const std::vector<std::string> layers = relu_layers();
    sums.resize(layers.size());
    positions.resize(layers.size(), 0.0);
    for (std::size_t l = 0; l < layers.size(); ++l) {
        const torch::Tensor& f = features.at(layers[l]);
        const torch::Tensor s = f.to(torch::kDouble).sum({0, 2, 3}).contiguous();
        sums[l].resize(static_cast<std::size_t>(s.numel()), 0.0);
        for (std::size_t c = 0; c < sums[l].size(); ++c) {
            sums[l][c] += s[static_cast<std::int64_t>(c)].item<double>();
        }
        positions[l] += static_cast<double>(f.size(0) * f.size(2) * f.size(3));
    }
}

struct MeansWithBound {
    LayerMeans exact;
    LayerMeans bound; // of the means, from the per-activation bounds
};

MeansWithBound means_with_bound(const FeatureModel::Impl& model, Pooling pooling, const Arithmetic& arithmetic) {
    MeansWithBound result;
    std::vector<double> positions;
    std::vector<double> unused;
    for (const Image& image : synthetic_images()) {
        const ExactWithBound features = exact_with_bound(model, image, pooling, arithmetic);
        accumulate(features.exact, result.exact, positions);
        accumulate(features.bound, result.bound, unused);
    }
    for (std::size_t l = 0; l < positions.size(); ++l) {
        for (std::size_t c = 0; c < result.exact[l].size(); ++c) {
            result.exact[l][c] /= positions[l];
            result.bound[l][c] /= positions[l];
        }
    }
    return result;
}

std::vector<FilterMeans> meter_means(const FeatureModel& model, Pooling pooling) {
    MeanActivationMeter meter(model, pooling);
    for (const Image& image : synthetic_images()) {
        meter.add(image);
    }
    EXPECT_EQ(meter.images(), 3);
    return meter.means();
}

std::vector<FilterMeans> as_filter_means(const LayerMeans& means) {
    std::vector<FilterMeans> result;
    const std::vector<std::string> layers = relu_layers();
    for (std::size_t l = 0; l < layers.size(); ++l) {
        result.push_back({"conv" + layers[l].substr(4), means[l]});
    }
    return result;
}

LoadedWeights with_tensors(const LoadedWeights& base, TensorMap tensors) {
    LoadedWeights weights = base;
    weights.tensors = std::move(tensors);
    return weights;
}

double median(std::vector<double> values) {
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2), values.end());
    return values[values.size() / 2];
}

// Three checks, each against its derived bound:
// 1. the fp32 meter against the exact (double) means of the original network;
// 2. the rescaling itself, in exact arithmetic but with the weights rounded to fp32: from the
//    exact means, the rescaled network's means are one (zero for dead filters), and each of its
//    activations is the original one divided by its filter's m;
// 3. fp32 end to end, as a user runs it: meter, rescale, re-measure with the meter.
void check_normalised(const LoadedWeights& original, Pooling pooling, std::vector<std::string>* dead_out = nullptr) {
    const auto model = FeatureModel::create(original, Device{});
    const MeansWithBound fp32 = means_with_bound(model->impl(), pooling, Arithmetic{});
    const LayerMeans& exact = fp32.exact;

    const std::vector<FilterMeans> measured = meter_means(*model, pooling);
    ASSERT_EQ(measured.size(), exact.size());
    for (std::size_t l = 0; l < exact.size(); ++l) {
        ASSERT_EQ(measured[l].means.size(), exact[l].size());
        for (std::size_t c = 0; c < exact[l].size(); ++c) {
            EXPECT_NEAR(measured[l].means[c], exact[l][c], fp32.bound[l][c]) << measured[l].layer << " filter " << c;
        }
    }

    // 2. Bounds in the rescaled network's units are the original's divided by m.
    std::vector<std::string> dead;
    const auto rescaled = FeatureModel::create(
        with_tensors(original, normalize_mean_activations(original.tensors, as_filter_means(exact), &dead)), Device{});
    const Arithmetic rounded_weights{kUnitRoundoffFp64, kUnitRoundoffFp32, false};
    const MeansWithBound after = means_with_bound(rescaled->impl(), pooling, rounded_weights);
    std::vector<double> relative_bounds;
    for (std::size_t l = 0; l < exact.size(); ++l) {
        for (std::size_t c = 0; c < exact[l].size(); ++c) {
            const bool live = exact[l][c] > 0;
            EXPECT_NEAR(after.exact[l][c], live ? 1.0 : 0.0, after.bound[l][c]) << measured[l].layer << " filter " << c;
            if (live) {
                relative_bounds.push_back(after.bound[l][c]);
            }
        }
    }
    // The bound has teeth: a wrong scale anywhere moves a mean by O(1).
    EXPECT_LT(median(relative_bounds), 1e-5);

    std::vector<std::string> layers;
    for (const std::string& name : layer_names()) {
        if (name.rfind("relu", 0) == 0 || (name.rfind("pool", 0) == 0 && name != "pool5")) {
            layers.push_back(name);
        }
    }
    const Image image = synthetic_images()[1];
    const ExactWithBound a = exact_with_bound(model->impl(), image, pooling, Arithmetic{kUnitRoundoffFp64, 0, false});
    const ExactWithBound b = exact_with_bound(rescaled->impl(), image, pooling, rounded_weights);
    std::size_t conv = 0;
    for (const std::string& name : layers) {
        if (name.rfind("relu", 0) == 0) {
            ++conv;
        }
        // A pool layer carries the scale of the relu before it.
        std::vector<double> scale;
        for (double m : exact[conv - 1]) {
            scale.push_back(m > 0 ? m : 1.0);
        }
        const torch::Tensor m = torch::tensor(scale, torch::kDouble).view({1, -1, 1, 1});
        const torch::Tensor excess =
            (b.exact.at(name) * m - a.exact.at(name)).abs() - (b.bound.at(name) * m + a.bound.at(name));
        EXPECT_LE(excess.max().item<double>(), 0.0) << name;
    }

    // 3. The meter's m is within B1 of the exact m; the fp32 network rescaled by it computes
    // m' = after * m within B2 of the exact m (in the original's units: the bound recursion is
    // positively homogeneous, so B2 is the original network's bound with rounded weights). Hence
    // |after - 1| <= (B1 + B2) / m, and a filter the meter found dead stays below B1 + B2.
    const MeansWithBound rounded_fp32 =
        means_with_bound(model->impl(), pooling, Arithmetic{kUnitRoundoffFp32, kUnitRoundoffFp32, true});
    const std::vector<FilterMeans> fp32_after = meter_means(
        *FeatureModel::create(with_tensors(original, normalize_mean_activations(original.tensors, measured)), Device{}),
        pooling);
    for (std::size_t l = 0; l < fp32_after.size(); ++l) {
        for (std::size_t c = 0; c < fp32_after[l].means.size(); ++c) {
            const double m = measured[l].means[c];
            const double slack = fp32.bound[l][c] + rounded_fp32.bound[l][c];
            if (m > 0) {
                EXPECT_NEAR(fp32_after[l].means[c], 1.0, slack / m) << fp32_after[l].layer << " filter " << c;
            } else {
                EXPECT_LE(fp32_after[l].means[c], slack) << fp32_after[l].layer << " filter " << c;
            }
        }
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
