// Layer names, shapes, early stopping and the autocast guard, on synthetic weights.
#include "core/torch_compat.h"
#include "engine_fixtures.h"
#include "impasto/error.h"
#include "nn/vgg.h"

#include <gtest/gtest.h>

using namespace impasto;

TEST(Layers, Vgg19NamesInOrder) {
    const auto& names = layer_names();
    ASSERT_EQ(names.size(), 16U * 2 + 5);
    EXPECT_EQ(names.front(), "conv1_1");
    EXPECT_EQ(names[1], "relu1_1");
    EXPECT_EQ(names[4], "pool1");
    EXPECT_EQ(names.back(), "pool5");
    EXPECT_EQ(layer_index("relu5_4"), static_cast<int>(names.size()) - 2);
    EXPECT_EQ(layer_index("conv6_1"), -1);
    EXPECT_EQ(layer_names(VggArchitecture::Vgg16).size(), 13U * 2 + 5);
}

TEST(Layers, ChannelsAndStrides) {
    EXPECT_EQ(layer_channels("relu1_1"), 64);
    EXPECT_EQ(layer_channels("conv3_4"), 256);
    EXPECT_EQ(layer_channels("relu5_1"), 512);
    EXPECT_EQ(layer_stride("relu1_1"), 1);
    EXPECT_EQ(layer_stride("pool1"), 2);
    EXPECT_EQ(layer_stride("relu4_2"), 8);
    EXPECT_EQ(layer_stride("pool5"), 32);
}

TEST(Layers, UnknownNameListsKnownOnes) {
    try {
        check_layer_names({"relu4_2", "conv9_9"}, "content layers");
        FAIL() << "no exception";
    } catch (const ConfigError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("conv9_9"), std::string::npos);
        EXPECT_NE(message.find("content layers"), std::string::npos);
        EXPECT_NE(message.find("relu5_4"), std::string::npos);
    }
}

TEST(Vgg, FeatureShapesAtOddSize) {
    const auto model = FeatureModel::create(impasto::testing::synthetic_vgg19_weights(), Device{});
    const torch::Tensor x = torch::rand({1, 3, 37, 53});
    const auto features =
        nn::extract_features(model->impl(), x, {"relu1_1", "pool1", "relu3_1", "relu5_1"}, Pooling::Max);
    EXPECT_EQ(features.at("relu1_1").sizes(), (std::vector<std::int64_t>{1, 64, 37, 53}));
    EXPECT_EQ(features.at("pool1").sizes(), (std::vector<std::int64_t>{1, 64, 18, 26}));
    EXPECT_EQ(features.at("relu3_1").sizes(), (std::vector<std::int64_t>{1, 256, 9, 13}));
    EXPECT_EQ(features.at("relu5_1").sizes(), (std::vector<std::int64_t>{1, 512, 2, 3}));
    EXPECT_TRUE((features.at("relu3_1") >= 0).all().item<bool>());
}

TEST(Vgg, StopsAtDeepestRequestedLayer) {
    const auto model = FeatureModel::create(impasto::testing::synthetic_vgg19_weights(), Device{});
    const auto features = nn::extract_features(model->impl(), torch::rand({1, 3, 16, 16}), {"conv1_2"}, Pooling::Max);
    EXPECT_EQ(features.size(), 1U);
    EXPECT_EQ(features.at("conv1_2").size(1), 64);
}

TEST(Vgg, AveragePoolingDiffersFromMax) {
    const auto model = FeatureModel::create(impasto::testing::synthetic_vgg19_weights(), Device{});
    const torch::Tensor x = torch::rand({1, 3, 16, 16});
    const auto max_features = nn::extract_features(model->impl(), x, {"pool1"}, Pooling::Max);
    const auto avg_features = nn::extract_features(model->impl(), x, {"pool1"}, Pooling::Average);
    EXPECT_TRUE((max_features.at("pool1") >= avg_features.at("pool1") - 1e-5).all().item<bool>());
    EXPECT_FALSE(torch::allclose(max_features.at("pool1"), avg_features.at("pool1")));
}

TEST(Vgg, CaffeNormalisationFlipsToBgrAndSubtractsMeans) {
    const auto model = FeatureModel::create(impasto::testing::synthetic_vgg19_weights(), Device{});
    // Pure red (1,0,0) -> BGR (0,0,255) minus means (103.939, 116.779, 123.68).
    const torch::Tensor red = torch::tensor({1.F, 0.F, 0.F}).view({1, 3, 1, 1});
    const torch::Tensor input = nn::normalize_input(model->impl(), red);
    EXPECT_NEAR(input[0][0][0][0].item<float>(), -103.939F, 1e-3);
    EXPECT_NEAR(input[0][1][0][0].item<float>(), -116.779F, 1e-3);
    EXPECT_NEAR(input[0][2][0][0].item<float>(), 255.F - 123.68F, 1e-3);
}

TEST(Vgg, WeightsAreFrozen) {
    const auto model = FeatureModel::create(impasto::testing::synthetic_vgg19_weights(), Device{});
    for (const torch::Tensor& w : model->impl().conv_weights) {
        EXPECT_FALSE(w.requires_grad());
    }
}

TEST(Vgg, RejectsMissingLayer) {
    LoadedWeights weights = impasto::testing::synthetic_vgg19_weights();
    weights.tensors.erase("conv3_2.weight");
    EXPECT_THROW(FeatureModel::create(weights, Device{}), WeightsError);
}

TEST(Autocast, GuardEnablesBf16AndRestores) {
    const torch::Tensor a = torch::rand({8, 8});
    if (!cpu_bf16_available()) {
        EXPECT_THROW(impasto::detail::AutocastGuard(c10::DeviceType::CPU, c10::kBFloat16), ConfigError);
        GTEST_SKIP() << "no bf16 kernels on this CPU path (ONEDNN_MAX_CPU_ISA?): checked that bf16 is refused";
    }
    {
        const impasto::detail::AutocastGuard guard(c10::DeviceType::CPU, c10::kBFloat16);
        EXPECT_EQ(torch::mm(a, a).scalar_type(), torch::kBFloat16);
    }
    EXPECT_EQ(torch::mm(a, a).scalar_type(), torch::kFloat);
}
