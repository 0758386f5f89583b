// EfficientNet-Lite0 as a backbone: its layer table, the forward pass on synthetic weights (shapes,
// TensorFlow "same" padding, early stop, gradients, stylize() unchanged), and, when the real set is
// installed, logits against a PyTorch reference.
#include "core/torch_compat.h"
#include "engine_fixtures.h"
#include "impasto/error.h"
#include "impasto/stylize.h"
#include "nn/efficientnet.h"

#include <gtest/gtest.h>
#include <random>

using namespace impasto;
namespace eff = impasto::nn::efficientnet;

namespace {

void add_conv(LoadedWeights& weights, const std::string& name, std::vector<std::int64_t> shape, std::mt19937& rng) {
    const std::int64_t fan_in = shape[1] * shape[2] * shape[3];
    std::normal_distribution<float> normal(0.0F, static_cast<float>(std::sqrt(2.0 / static_cast<double>(fan_in))));
    std::vector<float> w(static_cast<std::size_t>(shape[0] * fan_in));
    for (float& v : w) {
        v = normal(rng);
    }
    weights.tensors[name + ".weight"] = RawTensor::from_float(shape, w);
    weights.tensors[name + ".bias"] = RawTensor::from_float({shape[0]}, std::vector<float>(shape[0], 0.05F));
}

// Random canonical EfficientNet-Lite0 tensors (seeded), as `weights install` would store them.
LoadedWeights synthetic_lite0(unsigned seed = 5) {
    LoadedWeights weights;
    weights.info.name = "synthetic-lite0";
    weights.info.sha256 = "0000";
    weights.info.architecture = "efficientnet-lite0";
    weights.info.normalization = InputNormalization::TfLiteRgb127;
    std::mt19937 rng(seed);
    add_conv(weights, "stem", {eff::kStemChannels, 3, 3, 3}, rng);
    for (const eff::Block& block : eff::lite0_blocks()) {
        const std::string name = "block" + std::to_string(block.number);
        if (block.expanded != block.in) {
            add_conv(weights, name + ".expand", {block.expanded, block.in, 1, 1}, rng);
        }
        add_conv(weights, name + ".dw", {block.expanded, 1, block.kernel, block.kernel}, rng);
        add_conv(weights, name + ".project", {block.out, block.expanded, 1, 1}, rng);
    }
    add_conv(weights, "head", {eff::kHeadChannels, 320, 1, 1}, rng);
    std::vector<float> fc(static_cast<std::size_t>(eff::kClasses) * eff::kHeadChannels, 0.001F);
    weights.tensors["fc.weight"] = RawTensor::from_float({eff::kClasses, eff::kHeadChannels}, fc);
    weights.tensors["fc.bias"] = RawTensor::from_float({eff::kClasses}, std::vector<float>(eff::kClasses, 0.0F));
    return weights;
}

std::shared_ptr<const FeatureModel> synthetic_model() {
    static const auto model = FeatureModel::create(synthetic_lite0(), Device{});
    return model;
}

// The closed-form test pattern the PyTorch reference used: 0.5 + 0.5 sin(0.1 (x+1)(c+1) + 0.07 y).
torch::Tensor reference_pattern(int height, int width) {
    const auto c = torch::arange(3, torch::kDouble).view({3, 1, 1});
    const auto y = torch::arange(height, torch::kDouble).view({1, height, 1});
    const auto x = torch::arange(width, torch::kDouble).view({1, 1, width});
    return (0.5 + 0.5 * torch::sin(0.1 * (x + 1) * (c + 1) + 0.07 * y)).to(torch::kFloat).unsqueeze(0);
}

} // namespace

TEST(EfficientNetLayers, NamesChannelsStrides) {
    const Architecture lite0 = Architecture::EfficientNetLite0;
    const auto& names = layer_names(lite0);
    ASSERT_EQ(names.size(), 1U + 16 * 2 + 15 + 1); // stem, dw + output per block, 15 expansions, head
    EXPECT_EQ(names.front(), "stem");
    EXPECT_EQ(names[1], "block1_dw");
    EXPECT_EQ(names[3], "block2_expand");
    EXPECT_EQ(names.back(), "head");
    EXPECT_EQ(layer_index("block1_expand", lite0), -1);
    EXPECT_EQ(layer_stride("stem", lite0), 2);
    EXPECT_EQ(layer_stride("block2_expand", lite0), 2);
    EXPECT_EQ(layer_stride("block2_dw", lite0), 4);
    EXPECT_EQ(layer_stride("block5_expand", lite0), 8);
    EXPECT_EQ(layer_stride("block11", lite0), 16);
    EXPECT_EQ(layer_stride("head", lite0), 32);
    EXPECT_EQ(layer_channels("block5_expand", lite0), 240);
    EXPECT_EQ(layer_channels("block16", lite0), 320);
    EXPECT_EQ(layer_channels("head", lite0), 1280);
    EXPECT_EQ(parse_architecture("efficientnet-lite0"), lite0);
    EXPECT_STREQ(architecture_name(lite0), "efficientnet-lite0");
    EXPECT_THROW(parse_architecture("resnet50"), ConfigError);
    EXPECT_FALSE(has_pooling_layers(lite0));
}

TEST(EfficientNetLayers, DefaultsBelongToTheirBackbone) {
    for (Architecture architecture : known_architectures()) {
        SCOPED_TRACE(architecture_name(architecture));
        EXPECT_NO_THROW(check_layer_names(default_content_layers(architecture), "content", architecture));
        EXPECT_NO_THROW(check_layer_names(default_style_layers(architecture), "style", architecture));
    }
    EXPECT_EQ(default_content_layers(Architecture::Vgg19), std::vector<std::string>{"relu4_2"});
    EXPECT_THROW(check_layer_names({"relu4_2"}, "content layers", Architecture::EfficientNetLite0), ConfigError);
    EXPECT_NO_THROW(check_layer_names_any({"relu4_2", "block5_expand"}, "content layers"));
    EXPECT_THROW(check_layer_names_any({"block17"}, "content layers"), ConfigError);
}

TEST(EfficientNet, SamePaddingMatchesTensorFlow) {
    // 3x3 stride 2 on 8 px: output 4, padding 1 split 0 before / 1 after, so the first output
    // window starts at pixel 0 (PyTorch's symmetric padding would start at -1).
    nn::EfficientNetConv conv;
    conv.weight = torch::zeros({1, 1, 3, 3});
    conv.weight[0][0][0][0] = 1.0; // picks the window's top-left pixel
    conv.bias = torch::zeros({1});
    conv.stride = 2;
    const torch::Tensor x = torch::arange(64, torch::kFloat).view({1, 1, 8, 8});
    const torch::Tensor y = nn::same_conv(x, conv);
    ASSERT_EQ(y.sizes(), (std::vector<std::int64_t>{1, 1, 4, 4}));
    EXPECT_EQ(y[0][0][0][0].item<float>(), 0.0F);
    EXPECT_EQ(y[0][0][1][1].item<float>(), 18.0F); // pixel (2, 2)
    // Odd size 9: output 5, padding 2 split 1 / 1.
    const torch::Tensor z = nn::same_conv(torch::ones({1, 1, 9, 9}), conv);
    ASSERT_EQ(z.sizes(), (std::vector<std::int64_t>{1, 1, 5, 5}));
    EXPECT_EQ(z[0][0][0][0].item<float>(), 0.0F); // the padded corner
}

TEST(EfficientNet, FeatureShapesAtOddSizeAndEarlyStop) {
    const auto model = synthetic_model();
    EXPECT_EQ(model->architecture(), Architecture::EfficientNetLite0);
    const torch::Tensor x = torch::rand({1, 3, 47, 61});
    const auto features =
        nn::extract_features(model->impl(), x, {"stem", "block2_dw", "block5_expand", "block16"}, Pooling::Max);
    EXPECT_EQ(features.at("stem").sizes(), (std::vector<std::int64_t>{1, 32, 24, 31}));
    EXPECT_EQ(features.at("block2_dw").sizes(), (std::vector<std::int64_t>{1, 96, 12, 16}));
    EXPECT_EQ(features.at("block5_expand").sizes(), (std::vector<std::int64_t>{1, 240, 6, 8}));
    EXPECT_EQ(features.at("block16").sizes(), (std::vector<std::int64_t>{1, 320, 2, 2}));
    EXPECT_TRUE((features.at("block2_dw") >= 0).all().item<bool>());
    EXPECT_TRUE((features.at("block2_dw") <= 6).all().item<bool>());
    const auto shallow = nn::extract_features(model->impl(), x, {"block1"}, Pooling::Max);
    EXPECT_EQ(shallow.size(), 1U);
    EXPECT_THROW(nn::extract_features(model->impl(), x, {"relu1_1"}, Pooling::Max), ConfigError);
}

TEST(EfficientNet, PoolingDoesNotApplyAndGradientsReachTheInput) {
    const auto model = synthetic_model();
    const torch::Tensor x = torch::rand({1, 3, 33, 40}).requires_grad_(true);
    const auto max_features = nn::extract_features(model->impl(), x, {"block6_dw"}, Pooling::Max);
    const auto avg_features = nn::extract_features(model->impl(), x, {"block6_dw"}, Pooling::Average);
    EXPECT_TRUE(torch::equal(max_features.at("block6_dw"), avg_features.at("block6_dw")));
    max_features.at("block6_dw").sum().backward();
    ASSERT_TRUE(x.grad().defined());
    EXPECT_GT(x.grad().abs().sum().item<double>(), 0.0);
}

TEST(EfficientNet, StylizeRunsOnTheNewBackbone) {
    StylizeOptions options = preset_options("default");
    options.size = 48;
    options.iterations = 8;
    options.scales = {};
    options.precision = Precision::Fp32;
    options.content_layers = default_content_layers(Architecture::EfficientNetLite0);
    options.style_layers = default_style_layers(Architecture::EfficientNetLite0);
    const StylizeResult result = stylize(*synthetic_model(), impasto::testing::synthetic_image(48, 40, 0),
                                         {{impasto::testing::synthetic_image(40, 40, 3), 1.0}}, options);
    ASSERT_FALSE(result.history.empty());
    EXPECT_LT(result.history.back().losses.total, result.history.front().losses.total);
    EXPECT_EQ(result.width, 48);
    // VGG layer names are refused with the backbone's own list.
    StylizeOptions vgg_layers = options;
    vgg_layers.content_layers = {"relu4_2"};
    EXPECT_THROW(stylize(*synthetic_model(), impasto::testing::synthetic_image(48, 40, 0),
                         {{impasto::testing::synthetic_image(40, 40, 3), 1.0}}, vgg_layers),
                 ConfigError);
}

TEST(EfficientNet, ClassifyNeedsAClassifier) {
    const auto vgg = FeatureModel::create(impasto::testing::synthetic_vgg19_weights(), Device{});
    EXPECT_THROW(classify(*vgg, impasto::testing::synthetic_image(40, 30, 1)), ConfigError);
    const auto scores = classify(*synthetic_model(), impasto::testing::synthetic_image(40, 30, 1), 3);
    ASSERT_EQ(scores.size(), 3U);
    EXPECT_GE(scores[0].probability, scores[1].probability);
}

TEST(EfficientNet, RealWeightsMatchThePyTorchReference) {
    const WeightStore store(default_weights_dir());
    const auto info = store.find("efficientnet-lite0");
    if (!info) {
        GTEST_SKIP() << "efficientnet-lite0 is not installed; run `impasto weights install efficientnet-lite0`";
    }
    const auto model = FeatureModel::create(load_weight_set(*info), Device{});
    // Reference: the unfolded checkpoint (batch norms, eps 1e-3) in PyTorch 1.13 with TensorFlow
    // "same" padding, on this pattern at 47 x 61 (odd, so every padding case occurs).
    torch::InferenceMode inference;
    const FeatureModel::Impl& impl = model->impl();
    torch::Tensor logits;
    const auto features =
        nn::efficientnet_features(*impl.efficientnet, nn::normalize_input(impl, reference_pattern(47, 61)),
                                  {"stem", "block5_expand", "block16"}, &logits);
    EXPECT_NEAR(features.at("stem").mean().item<double>(), 2.111449, 1e-4);
    EXPECT_NEAR(features.at("block5_expand").mean().item<double>(), 1.358906, 1e-4);
    EXPECT_NEAR(features.at("block16").mean().item<double>(), -0.066517, 1e-4);
    const auto [values, indices] = logits.topk(5, 1);
    const std::vector<std::int64_t> expected_top{645, 418, 542, 767, 800};
    const std::vector<double> expected_logits{26.3477, 24.1117, 24.0314, 22.7489, 20.1765};
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(indices[0][i].item<std::int64_t>(), expected_top[static_cast<std::size_t>(i)]);
        EXPECT_NEAR(values[0][i].item<double>(), expected_logits[static_cast<std::size_t>(i)], 2e-3);
    }
}
