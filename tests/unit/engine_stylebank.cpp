// The StyleBank network on random weights: shapes, adding banks, linear and region fusion, model
// files (round trip, hostile files refused with typed errors) and the fast path (tiling, masks).
#include "core/tensor_image.h"
#include "engine_fixtures.h"
#include "impasto/error.h"
#include "impasto/fast_style.h"
#include "nn/stylebank.h"
#include "testutil.h"

#include <chrono>
#include <cstdio>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace impasto;
using impasto::nn::StyleBankConfig;
using impasto::nn::StyleBankNet;
using impasto::testing::error_of;
using impasto::testing::synthetic_image;

namespace {

// Random banks and norms, so that styles differ clearly and no layer is near the identity.
StyleBankNet random_bank_net(double width, int styles, std::uint64_t seed = 1, int bank_layers = 2) {
    torch::manual_seed(static_cast<std::int64_t>(seed));
    StyleBankConfig config;
    config.width = width;
    config.styles = styles;
    config.bank_layers = bank_layers;
    StyleBankNet net(config);
    const torch::NoGradGuard no_grad;
    for (auto& item : net->named_parameters()) {
        const std::string& name = item.key();
        if (name.find(".gamma") != std::string::npos) {
            item.value().normal_(1.0, 0.3);
        } else if (name.find(".beta") != std::string::npos) {
            item.value().normal_(0.0, 0.3);
        } else if (name.rfind("bank", 0) == 0) {
            item.value().normal_(0.0, 0.1);
        }
    }
    net->eval();
    return net;
}

torch::Tensor input_of(const Image& image) {
    return impasto::detail::image_to_tensor(image, torch::kCPU);
}

std::vector<std::string> names_for(int styles) {
    std::vector<std::string> names;
    for (int i = 0; i < styles; ++i) {
        names.push_back("style" + std::to_string(i));
    }
    return names;
}

StyleModelFile model_file(StyleBankNet& net) {
    return nn::make_stylebank_model_file(*net, names_for(net->config().styles), ModelCard{});
}

double mean_abs(const torch::Tensor& a, const torch::Tensor& b) {
    return (a - b).abs().mean().item<double>();
}

double max_abs(const Image& a, const Image& b) {
    EXPECT_EQ(a.width, b.width);
    EXPECT_EQ(a.height, b.height);
    double worst = 0;
    for (std::size_t i = 0; i < a.rgb.size(); ++i) {
        worst = std::max(worst, static_cast<double>(std::abs(a.rgb[i] - b.rgb[i])));
    }
    return worst;
}

// A mask image: white where `inside(x, y)`.
template <class Inside> Image mask_image(int width, int height, Inside inside) {
    Image mask = synthetic_image(width, height, 0);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            const float v = inside(x, y) ? 1.0F : 0.0F;
            mask.pixel(x, y)[0] = mask.pixel(x, y)[1] = mask.pixel(x, y)[2] = v;
        }
    }
    return mask;
}

} // namespace

TEST(StyleBankNet, ShapesNamesAndParameterCount) {
    StyleBankNet net = random_bank_net(0.25, 2, 1, 3);
    const torch::InferenceMode inference;
    for (const auto& [h, w] : std::vector<std::pair<int, int>>{{37, 53}, {16, 16}, {5, 3}, {1, 1}}) {
        const torch::Tensor x = torch::rand({1, 3, h, w});
        EXPECT_EQ(net->forward(x).sizes(), x.sizes()) << h << "x" << w;
        EXPECT_EQ(net->reconstruct(x).sizes(), x.sizes()) << h << "x" << w;
        EXPECT_EQ(net->stylise(torch::rand({2, 3, h, w}), 1).sizes(), (std::vector<std::int64_t>{2, 3, h, w}));
    }
    const TensorMap tensors = net->export_tensors();
    const std::map<std::string, std::vector<std::int64_t>> expected{{"encoder.conv1.weight", {8, 3, 9, 9}},
                                                                    {"encoder.norm1.gamma", {1, 8}},
                                                                    {"encoder.conv3.weight", {32, 16, 3, 3}},
                                                                    {"bank0.conv1.weight", {32, 32, 3, 3}},
                                                                    {"bank1.conv3.weight", {32, 32, 3, 3}},
                                                                    {"bank1.norm3.beta", {1, 32}},
                                                                    {"decoder.conv1.weight", {16, 32, 3, 3}},
                                                                    {"decoder.conv_out.weight", {3, 8, 9, 9}},
                                                                    {"decoder.conv_out.bias", {3}}};
    for (const auto& [name, shape] : expected) {
        ASSERT_EQ(tensors.count(name), 1U) << name;
        EXPECT_EQ(tensors.at(name).shape, shape) << name;
    }
    EXPECT_EQ(tensors.count("bank2.conv1.weight"), 0U);
    EXPECT_EQ(tensors.count("bank0.conv4.weight"), 0U);
    std::int64_t count = 0;
    for (const auto& p : net->parameters()) {
        count += p.numel();
    }
    EXPECT_EQ(net->config().parameter_count(), count);
    // The default: half width, three bank layers; a bank is ~111k parameters, the auto-encoder ~54k.
    StyleBankConfig half;
    half.styles = 5;
    EXPECT_LT(half.parameter_count() * 2, 8'000'000) << "fp16 file over 8 MB";
    EXPECT_THROW(net->stylise(torch::rand({1, 3, 8, 8}), 2), ConfigError);
    EXPECT_THROW(net->bank_parameters(-1), ConfigError);
}

TEST(StyleBankNet, AddingBanksKeepsTheOthersBitForBit) {
    StyleBankNet net = random_bank_net(0.25, 2, 3);
    const TensorMap before = net->export_tensors();
    const torch::Tensor x = input_of(synthetic_image(40, 28, 1));
    torch::Tensor styled_before;
    {
        const torch::InferenceMode inference;
        styled_before = net->stylise(x, 1);
    }
    net->add_banks(2);
    EXPECT_EQ(net->config().styles, 4);
    const TensorMap after = net->export_tensors();
    for (const auto& [name, tensor] : before) {
        EXPECT_EQ(tensor.bytes, after.at(name).bytes) << name;
    }
    EXPECT_EQ(after.count("bank3.conv2.weight"), 1U);
    const torch::InferenceMode inference;
    EXPECT_TRUE(torch::equal(net->stylise(x, 1), styled_before));
    EXPECT_TRUE(torch::equal(net->forward(x, {0, 1, 0, 0}), styled_before));
    EXPECT_THROW(net->add_banks(0), ConfigError);
    EXPECT_THROW(net->add_banks(nn::kMaxStyleBankStyles), ConfigError);
}

TEST(StyleBankNet, LinearFusionIdentities) {
    StyleBankNet net = random_bank_net(0.25, 3, 5);
    const torch::InferenceMode inference;
    const torch::Tensor x = input_of(synthetic_image(36, 44, 2));
    const torch::Tensor s0 = net->stylise(x, 0);
    const torch::Tensor s2 = net->stylise(x, 2);
    EXPECT_TRUE(torch::equal(net->forward(x), s0)) << "no weights = style 0";
    EXPECT_TRUE(torch::equal(net->forward(x, {1, 0, 0}), s0));
    EXPECT_TRUE(torch::equal(net->forward(x, {0, 0, 7}), s2)) << "weights are normalised";
    EXPECT_GT(mean_abs(s0, s2), 1e-3) << "the banks should differ";
    // A mix lies between the end points, moving from one to the other.
    const torch::Tensor mixed = net->forward(x, {0.5, 0, 0.5});
    EXPECT_LT(mean_abs(mixed, s0), mean_abs(s2, s0));
    EXPECT_LT(mean_abs(mixed, s2), mean_abs(s2, s0));
    EXPECT_LT(mean_abs(net->forward(x, {0.9, 0, 0.1}), s0), mean_abs(mixed, s0));
    EXPECT_THROW(net->forward(x, {1, 1}), ConfigError);
    EXPECT_THROW(net->forward(x, {0, 0, 0}), ConfigError);
    EXPECT_THROW(net->forward(x, {1, -1, 1}), ConfigError);
    EXPECT_THROW(net->forward(x, {1, std::nan(""), 1}), ConfigError);
}

TEST(StyleBankNet, RegionFusionIdentities) {
    StyleBankNet net = random_bank_net(0.25, 2, 7);
    const torch::InferenceMode inference;
    const int h = 48;
    const int w = 64;
    const torch::Tensor x = input_of(synthetic_image(w, h, 3));
    const torch::Tensor ones = torch::ones({1, 1, h, w});
    const torch::Tensor zeros = torch::zeros({1, 1, h, w});
    const torch::Tensor s0 = net->stylise(x, 0);
    const torch::Tensor s1 = net->stylise(x, 1);
    // A full mask for one style is that style alone; full masks for both are the linear mix.
    EXPECT_TRUE(torch::equal(net->forward(x, {}, torch::cat({ones, zeros}, 1)), s0));
    EXPECT_TRUE(torch::equal(net->forward(x, {1, 1}, torch::cat({zeros, ones}, 1)), s1));
    EXPECT_TRUE(
        torch::allclose(net->forward(x, {1, 3}, torch::cat({ones, ones}, 1)), net->forward(x, {1, 3}), 1e-5, 1e-6));
    // No mask anywhere: the photo through the auto-encoder.
    EXPECT_TRUE(torch::equal(net->forward(x, {1, 1}, torch::cat({zeros, zeros}, 1)), net->reconstruct(x)));
    // Halves: each side takes its style. The decoder's instance norms see the whole image, so a half
    // is not bit for bit its style alone; it must be much closer to its own style than to the other.
    torch::Tensor left = torch::zeros({1, 1, h, w});
    left.narrow(3, 0, w / 2).fill_(1);
    const torch::Tensor fused = net->forward(x, {1, 1}, torch::cat({left, 1 - left}, 1));
    const int margin = 12; // the decoder's reach from the seam at full resolution
    const auto side = [&](const torch::Tensor& t, bool left_side) {
        return left_side ? t.narrow(3, 0, w / 2 - margin) : t.narrow(3, w / 2 + margin, w / 2 - margin);
    };
    EXPECT_LT(mean_abs(side(fused, true), side(s0, true)), 0.3 * mean_abs(side(fused, true), side(s1, true)));
    EXPECT_LT(mean_abs(side(fused, false), side(s1, false)), 0.3 * mean_abs(side(fused, false), side(s0, false)));
    // Masks must be one channel per style at the input's size.
    EXPECT_THROW(net->forward(x, {}, ones), ConfigError);
    EXPECT_THROW(net->forward(x, {}, torch::ones({1, 2, h, w - 1})), ConfigError);
}

TEST(StyleBankFile, RoundTripReproducesTheOutput) {
    StyleBankNet net = random_bank_net(0.25, 2, 11);
    const impasto::testing::TempDir dir;
    const Image image = synthetic_image(41, 30, 4);
    torch::Tensor expected;
    {
        const torch::InferenceMode inference;
        expected = net->stylise(input_of(image), 1);
    }
    ModelCard card;
    card.notes = "round trip";
    card.style_images = {{"first", "a"}, {"second", "b"}};
    write_style_model(dir / "f32.impasto", nn::make_stylebank_model_file(*net, {"first", "second"}, card),
                      DType::Float32);
    write_style_model(dir / "f16.impasto", nn::make_stylebank_model_file(*net, {"first", "second"}, card));
    const StyleModelFile f32 = read_style_model(dir / "f32.impasto");
    EXPECT_EQ(f32.kind, StyleModelKind::StyleBank);
    EXPECT_EQ(parse_style_model_kind("stylebank"), StyleModelKind::StyleBank);
    std::vector<std::string> names;
    StyleBankNet loaded = nn::load_stylebank_net(f32, &names);
    EXPECT_EQ(names, (std::vector<std::string>{"first", "second"}));
    {
        const torch::InferenceMode inference;
        EXPECT_TRUE(torch::equal(loaded->stylise(input_of(image), 1), expected));
    }
    // Through the library's loader, as the CLI and the studio use it.
    const auto network = StyleNetwork::load(dir / "f16.impasto", Device{});
    EXPECT_EQ(network->kind(), StyleModelKind::StyleBank);
    EXPECT_EQ(network->style_names(), names);
    EXPECT_EQ(network->card().notes, "round trip");
    EXPECT_DOUBLE_EQ(network->width(), 0.25);
    EXPECT_EQ(network->parameter_count(), net->config().parameter_count());
    FastStylizeOptions options;
    options.style_weights = {0, 1};
    EXPECT_LT(max_abs(stylize_fast(*network, image, options), impasto::detail::tensor_to_image(expected)), 0.02);
    EXPECT_NE(describe_style_model(f32).find("\"bank_layers\": 2"), std::string::npos);
}

TEST(StyleBankFile, HostileFilesAreRefusedWithTypedErrors) {
    StyleBankNet net = random_bank_net(0.25, 2, 13);
    const StyleModelFile good = model_file(net);
    EXPECT_NO_THROW(nn::load_stylebank_net(good));
    const auto with_config = [&](const std::string& key, const nlohmann::json& value) {
        StyleModelFile file = good;
        auto config = nlohmann::json::parse(file.config);
        config[key] = value;
        file.config = config.dump();
        return file;
    };
    // Bad configs: InputError naming the field.
    EXPECT_NE(error_of([&] { nn::load_stylebank_net(with_config("width", 9)); }).find("width = 9"), std::string::npos);
    EXPECT_THROW(nn::load_stylebank_net(with_config("width", 0)), InputError);
    EXPECT_THROW(nn::load_stylebank_net(with_config("styles", 0)), InputError);
    EXPECT_THROW(nn::load_stylebank_net(with_config("bank_layers", "two")), InputError);
    // Counts must be whole numbers in range, checked before any cast to int.
    EXPECT_NE(error_of([&] { nn::load_stylebank_net(with_config("styles", 2.5)); }).find("styles = 2.5"),
              std::string::npos);
    EXPECT_THROW(nn::load_stylebank_net(with_config("styles", 1e30)), InputError);
    EXPECT_THROW(nn::load_stylebank_net(with_config("bank_layers", -1e300)), InputError);
    EXPECT_THROW(nn::load_stylebank_net(with_config("styles", 18446744073709551615ULL)), InputError);
    EXPECT_THROW(nn::load_stylebank_net(with_config("style_names", 5)), InputError);
    EXPECT_THROW(nn::load_stylebank_net(with_config("style_names", {"a", "b", "c"})), InputError);
    // A config describing a huge network over a small file: refused before anything is allocated
    // (256 banks of 8 layers at width 4 would be 77 GB of float32).
    StyleModelFile huge = with_config("width", 4);
    auto huge_config = nlohmann::json::parse(huge.config);
    huge_config["styles"] = nn::kMaxStyleBankStyles;
    huge_config["bank_layers"] = nn::kMaxBankLayers;
    huge.config = huge_config.dump();
    EXPECT_THROW(nn::load_stylebank_net(huge), WeightsError);
    const std::string message = error_of([&] { nn::load_stylebank_net(huge); });
    EXPECT_NE(message.find("describes"), std::string::npos) << message;
    EXPECT_THROW(nn::load_stylebank_net(with_config("styles", 3)), WeightsError);
    // Tensors: missing, renamed, reshaped (same count), non-finite.
    StyleModelFile file = good;
    file.tensors.erase("bank1.conv2.weight");
    EXPECT_THROW(nn::load_stylebank_net(file), WeightsError);
    file = good;
    file.tensors["bank9.conv2.weight"] = file.tensors.at("bank1.conv2.weight");
    file.tensors.erase("bank1.conv2.weight");
    EXPECT_NE(error_of([&] { nn::load_stylebank_net(file); }).find("bank1.conv2.weight"), std::string::npos);
    file = good;
    file.tensors["bank1.extra"] = RawTensor::from_float({0}, {}); // adds nothing to the count
    EXPECT_NE(error_of([&] { nn::load_stylebank_net(file); }).find("unexpected tensor 'bank1.extra'"),
              std::string::npos);
    file = good;
    file.tensors["encoder.norm1.gamma"].shape = {8, 1};
    EXPECT_NE(error_of([&] { nn::load_stylebank_net(file); }).find("shape"), std::string::npos);
    file = good;
    std::vector<float> values = file.tensors.at("decoder.conv_out.bias").to_float();
    values[1] = std::numeric_limits<float>::infinity();
    file.tensors["decoder.conv_out.bias"] = RawTensor::from_float({3}, values);
    EXPECT_THROW(nn::load_stylebank_net(file), WeightsError);
    // Other kinds: the stylebank loader refuses them, the network loader refuses decoders.
    file = good;
    file.kind = StyleModelKind::Decoder;
    EXPECT_THROW(nn::load_stylebank_net(file), InputError);
    EXPECT_THROW(StyleNetwork::from_file(file, Device{}), InputError);
}

TEST(StyleBankFast, MasksAndWeightsThroughStylizeFast) {
    StyleBankNet net = random_bank_net(0.25, 2, 17);
    const auto network = StyleNetwork::from_file(model_file(net), Device{});
    const Image image = synthetic_image(64, 48, 5);
    FastStylizeOptions alone;
    alone.style_weights = {0, 1};
    const Image second = stylize_fast(*network, image, alone);
    // Masks at another size than the photo are resampled; a black mask leaves its style out.
    FastStylizeOptions masked;
    masked.masks = {mask_image(32, 24, [](int, int) { return false; }),
                    mask_image(32, 24, [](int, int) { return true; })};
    EXPECT_EQ(max_abs(stylize_fast(*network, image, masked), second), 0.0);
    // Errors: the count, all black, an empty mask, masks for a transformer network.
    FastStylizeOptions wrong_count;
    wrong_count.masks = {masked.masks[1]};
    EXPECT_THROW(stylize_fast(*network, image, wrong_count), ConfigError);
    FastStylizeOptions black;
    black.masks = {masked.masks[0], masked.masks[0]};
    EXPECT_NE(error_of([&] { stylize_fast(*network, image, black); }).find("cover nothing"), std::string::npos);
    FastStylizeOptions weighted_out = masked;
    weighted_out.style_weights = {1, 0}; // the only white mask belongs to a style of weight 0
    EXPECT_THROW(stylize_fast(*network, image, weighted_out), ConfigError);
    FastStylizeOptions empty_mask;
    empty_mask.masks = {Image{}, masked.masks[1]};
    EXPECT_THROW(stylize_fast(*network, image, empty_mask), InputError);
}

TEST(StyleBankFast, TiledRunsMatchTheWholeImage) {
    StyleBankNet net = random_bank_net(0.5, 2, 19);
    const auto network = StyleNetwork::from_file(model_file(net), Device{});
    const Image image = synthetic_image(120, 88, 6);
    const Image left_mask = mask_image(120, 88, [](int x, int) { return x < 60; });
    const Image right_mask = mask_image(120, 88, [](int x, int) { return x >= 60; });
    for (const bool masks : {false, true}) {
        FastStylizeOptions whole;
        whole.style_weights = {1, 2};
        if (masks) {
            whole.masks = {left_mask, right_mask};
        }
        FastStylizeOptions tiled = whole;
        tiled.tiling.tile = 64;
        tiled.tiling.overlap = 24;
        const Image reference = stylize_fast(*network, image, whole);
        // As for the transformer net: only the padding at inner tile edges differs (statistics are
        // the whole image's); the reach here is shorter (no residual blocks), so the bound is tighter.
        const double worst = max_abs(stylize_fast(*network, image, tiled), reference);
        std::printf("stylebank tiled vs whole (masks %d): max |diff| %.4f\n", masks ? 1 : 0, worst);
        EXPECT_LT(worst, 0.05) << "masks " << masks;
    }
}

// Run with --gtest_also_run_disabled_tests: seconds per stylisation at 1024x683, half width.
TEST(StyleBankFast, DISABLED_Timing) {
    torch::set_num_threads(2);
    StyleBankNet net = random_bank_net(0.5, 4, 1, 3);
    const auto network = StyleNetwork::from_file(model_file(net), Device{});
    const Image image = synthetic_image(1024, 683, 0);
    const Image top = mask_image(1024, 683, [](int, int y) { return y < 340; });
    const Image bottom = mask_image(1024, 683, [](int, int y) { return y >= 340; });
    const Image none = mask_image(1024, 683, [](int, int) { return false; });
    for (Precision precision : {Precision::Fp32, Precision::Bf16}) {
        for (int variant = 0; variant < 3; ++variant) {
            FastStylizeOptions options;
            options.precision = precision;
            if (variant == 1) {
                options.style_weights = {1, 1, 0, 0};
            } else if (variant == 2) {
                options.masks = {top, bottom, none, none};
            }
            stylize_fast(*network, image, options); // warm-up
            double best = 1e9;
            for (int i = 0; i < 3; ++i) {
                const auto start = std::chrono::steady_clock::now();
                stylize_fast(*network, image, options);
                best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
            }
            static const char* const kVariants[] = {"one bank", "two banks mixed", "two banks by masks"};
            std::printf("stylebank width 0.5, 3 bank layers, 1024x683, %s, %s: %.3f s\n", to_string(precision),
                        kVariants[variant], best);
        }
    }
}
