// Arbitrary style (AdaIN, multi-level WCT): the feature transforms against their definitions, the
// decoders' shapes, decoder files, tiling against the untiled run, and errors. Synthetic encoder
// weights and random decoders: these check the machinery, not the look.
#include "core/tensor_image.h"
#include "engine_fixtures.h"
#include "fast/arbitrary_impl.h"
#include "fast/feature_transforms.h"
#include "impasto/arbitrary_style.h"
#include "impasto/error.h"
#include "impasto/weights.h"
#include "nn/vgg.h"
#include "nn/vgg_decoder.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <gtest/gtest.h>
#include <unistd.h>

using namespace impasto;
namespace ft = impasto::fast;

namespace {

// Correlated, shifted features [1,C,h,w]: a random mixing of standard normal channels.
torch::Tensor correlated_features(std::int64_t channels, std::int64_t h, std::int64_t w, int seed) {
    torch::manual_seed(seed);
    const torch::Tensor mix = torch::randn({channels, channels}) * 0.5 + torch::eye(channels);
    const torch::Tensor shift = torch::randn({channels, 1}) * 3;
    const torch::Tensor raw = torch::randn({channels, h * w});
    return (mix.mm(raw) + shift).view({1, channels, h, w});
}

double max_abs(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

std::shared_ptr<const FeatureModel> encoder() {
    static const auto model = FeatureModel::create(impasto::testing::synthetic_vgg19_weights(), Device{});
    return model;
}

// A random decoder whose output varies like an image: He-scaled convolutions (LibTorch's default
// init shrinks the signal ~6x in variance per layer, leaving a constant image), and the last one
// calibrated so that a synthetic image's features decode to mean 0.5, std 0.25.
StyleModelFile decoder_file(const std::string& level, int seed) {
    torch::manual_seed(seed);
    nn::VggDecoder decoder(level);
    {
        const torch::NoGradGuard no_grad;
        for (auto& parameter : decoder->parameters()) {
            if (parameter.dim() == 4) {
                parameter.mul_(std::sqrt(6.0));
            }
        }
        const auto features = nn::extract_features(
            encoder()->impl(),
            impasto::detail::image_to_tensor(impasto::testing::synthetic_image(64, 48, 4), torch::kCPU), {level},
            Pooling::Max);
        const torch::Tensor out = decoder->forward(features.at(level));
        const double scale = 0.25 / out.std().item<double>();
        const double mean = out.mean().item<double>();
        auto last = decoder->named_parameters();
        const std::string name = "conv" + std::to_string(last.size() / 2 - 1);
        last[name + ".weight"].mul_(scale);
        last[name + ".bias"].sub_(mean).mul_(scale).add_(0.5);
    }
    StyleModelFile file;
    file.kind = StyleModelKind::Decoder;
    file.config = R"({"level": ")" + level + R"(", "encoder": "vgg19"})";
    file.tensors = decoder->export_tensors();
    return file;
}

std::shared_ptr<const DecoderSet> random_decoders(const std::vector<std::string>& levels) {
    std::vector<StyleModelFile> files;
    for (std::size_t i = 0; i < levels.size(); ++i) {
        files.push_back(decoder_file(levels[i], 100 + static_cast<int>(i)));
    }
    return DecoderSet::from_files(files, Device{});
}

std::vector<ArbitraryStyle> one_style() {
    return {{impasto::testing::synthetic_image(40, 36, 3), 1.0, {}}};
}

double mean_abs_diff(const Image& a, const Image& b) {
    double sum = 0;
    for (std::size_t i = 0; i < a.rgb.size(); ++i) {
        sum += std::abs(a.rgb[i] - b.rgb[i]);
    }
    return sum / static_cast<double>(a.rgb.size());
}

} // namespace

TEST(FeatureTransform, WhiteningGivesIdentityCovariance) {
    const torch::Tensor f = correlated_features(16, 20, 24, 1);
    const ft::MeanCovariance stats = ft::mean_covariance(ft::whiten(f, 1e-8));
    EXPECT_LT(stats.mean.abs().max().item<double>(), 1e-4);
    EXPECT_LT(max_abs(stats.covariance, torch::eye(16, torch::kDouble)), 1e-4);
}

TEST(FeatureTransform, WctWithTheContentAsStyleGivesTheContentBack) {
    const torch::Tensor f = correlated_features(32, 24, 20, 2);
    // The floor shrinks each direction by sqrt(d / (d + eps mean(d))): negligible at 1e-7.
    EXPECT_LT(max_abs(ft::wct(f, f, 1e-7), f), 1e-3);
    // Rank-deficient (more channels than pixels) and sparse: real ReLU features of a small image.
    const auto features = nn::extract_features(
        encoder()->impl(), impasto::detail::image_to_tensor(impasto::testing::synthetic_image(36, 28, 1), torch::kCPU),
        {"relu3_1"}, Pooling::Max);
    const torch::Tensor relu = features.at("relu3_1"); // 256 channels, 9x7 pixels
    const double scale = relu.abs().max().item<double>();
    EXPECT_LT(max_abs(ft::wct(relu, relu, 1e-5), relu), 1e-3 * scale);
}

TEST(FeatureTransform, WctGivesTheStyleCovariance) {
    const torch::Tensor c = correlated_features(8, 30, 30, 3);
    const torch::Tensor s = correlated_features(8, 20, 25, 4);
    const ft::MeanCovariance out = ft::mean_covariance(ft::wct(c, s, 1e-8));
    const ft::MeanCovariance style = ft::mean_covariance(s);
    EXPECT_LT(max_abs(out.mean, style.mean), 1e-3);
    EXPECT_LT(max_abs(out.covariance, style.covariance), 1e-3 * style.covariance.abs().max().item<double>());
}

TEST(FeatureTransform, AdainGivesTheStyleMeanAndStd) {
    const torch::Tensor c = correlated_features(12, 16, 18, 5);
    const torch::Tensor s = correlated_features(12, 10, 14, 6) * 2.5 + 1;
    const ft::MeanStd out = ft::mean_std(ft::adain(c, s, 1e-8));
    const ft::MeanStd style = ft::mean_std(s);
    EXPECT_LT(max_abs(out.mean, style.mean), 1e-4);
    EXPECT_LT(max_abs(out.std, style.std), 1e-4);
    // The tiling variant with the same statistics is the same function.
    EXPECT_LT(max_abs(ft::adain(c, ft::mean_std(c), style, 1e-8), ft::adain(c, s, 1e-8)), 1e-5);
    EXPECT_LT(max_abs(ft::blend(ft::adain(c, s), c, 0.0), c), 1e-7);
    const torch::Tensor half = ft::blend(ft::adain(c, s), c, 0.5);
    EXPECT_LT(max_abs(half, (ft::adain(c, s) + c) * 0.5), 1e-5);
}

TEST(FeatureTransform, InterpolationWithWeightsOneZeroIsTheFirstStyle) {
    const torch::Tensor c = correlated_features(8, 12, 12, 7);
    const torch::Tensor s1 = correlated_features(8, 10, 10, 8);
    const torch::Tensor s2 = correlated_features(8, 10, 10, 9) * 3;
    EXPECT_LT(max_abs(ft::interpolate({ft::wct(c, s1), ft::wct(c, s2)}, {1, 0}), ft::wct(c, s1)), 1e-6);
    // The same through the maps (mixed into one affine map when there are no masks).
    const ft::MeanCovariance cs = ft::mean_covariance(c);
    const std::vector<ft::AffineMap> maps{ft::wct_map(cs, ft::mean_covariance(s1)),
                                          ft::wct_map(cs, ft::mean_covariance(s2))};
    EXPECT_LT(max_abs(ft::apply_masked_maps(maps, {1, 0}, {{}, {}}, c), ft::wct(c, s1)), 1e-4);
    EXPECT_LT(max_abs(ft::apply_masked_maps(maps, {1, 3}, {{}, {}}, c),
                      ft::interpolate({ft::wct(c, s1), ft::wct(c, s2)}, {1, 3})),
              1e-4);
    EXPECT_THROW(ft::interpolate({c, c}, {0, 0}), ConfigError);
}

TEST(FeatureTransform, MaskCoveringEverythingIsTheUnmaskedResult) {
    const torch::Tensor c = correlated_features(8, 12, 14, 10);
    const ft::MeanStd style = ft::mean_std(correlated_features(8, 9, 9, 11) * 2);
    const torch::Tensor ones = torch::ones({40, 50}); // any size: resampled to 12x14
    const ft::AffineMap masked = ft::adain_map(ft::mean_std(c, ft::resize_mask(ones, 12, 14)), style);
    const torch::Tensor out = ft::apply_masked_maps({masked}, {1}, {ones}, c);
    EXPECT_LT(max_abs(out, ft::adain(c, ft::mean_std(c), style)), 1e-5);
}

TEST(FeatureTransform, HalfMasksGiveEachHalfItsStyle) {
    const torch::Tensor c = correlated_features(6, 16, 20, 12);
    const std::vector<ft::MeanStd> styles{ft::mean_std(correlated_features(6, 9, 9, 13) * 0.5 - 2),
                                          ft::mean_std(correlated_features(6, 9, 9, 14) * 4 + 5)};
    torch::Tensor left = torch::zeros({16, 20});
    left.slice(1, 0, 10).fill_(1);
    const std::vector<torch::Tensor> masks{left, 1 - left};
    std::vector<ft::AffineMap> maps;
    for (std::size_t i = 0; i < 2; ++i) {
        maps.push_back(ft::adain_map(ft::mean_std(c, masks[i]), styles[i], 1e-8));
    }
    const torch::Tensor out = ft::apply_masked_maps(maps, {1, 1}, masks, c);
    const ft::MeanStd left_stats = ft::mean_std(out.slice(3, 0, 10).contiguous());
    const ft::MeanStd right_stats = ft::mean_std(out.slice(3, 10, 20).contiguous());
    EXPECT_LT(max_abs(left_stats.mean, styles[0].mean), 1e-4);
    EXPECT_LT(max_abs(left_stats.std, styles[0].std), 1e-4);
    EXPECT_LT(max_abs(right_stats.mean, styles[1].mean), 1e-4);
    EXPECT_LT(max_abs(right_stats.std, styles[1].std), 1e-4);
    EXPECT_THROW(ft::mean_std(c, torch::zeros({16, 20})), ConfigError);
}

TEST(FastArbitrary, DecoderShapesAtEveryLevel) {
    const torch::InferenceMode inference;
    for (const std::string& level : nn::decoder_levels()) {
        nn::VggDecoder decoder(level);
        const std::int64_t stride = layer_stride(level);
        const torch::Tensor out = decoder->forward(torch::rand({1, layer_channels(level), 3, 5}));
        EXPECT_EQ(out.sizes().vec(), (std::vector<std::int64_t>{1, 3, 3 * stride, 5 * stride})) << level;
        // A 1-px map (relu5_1 of a tiny tile) replicates instead of reflecting.
        EXPECT_EQ(decoder->forward(torch::rand({1, layer_channels(level), 1, 2})).size(3), 2 * stride);
    }
    EXPECT_THROW(nn::VggDecoder("relu4_2"), ConfigError);
    // relu1_1's decoder is one convolution with reflection padding.
    nn::VggDecoder decoder("relu1_1");
    const torch::Tensor x = torch::rand({1, 64, 7, 6});
    const torch::Tensor reference =
        torch::conv2d(torch::reflection_pad2d(x, {1, 1, 1, 1}), decoder->named_parameters()["conv0.weight"],
                      decoder->named_parameters()["conv0.bias"]);
    EXPECT_LT(max_abs(decoder->forward(x), reference), 1e-5);
}

TEST(FastArbitrary, OddSizesThroughEveryLevel) {
    const auto decoders = random_decoders(nn::decoder_levels());
    ArbitraryOptions options;
    options.method = TransformMethod::Wct;
    options.style_size = 40;
    const Image content = impasto::testing::synthetic_image(37, 29, 0);
    const Image out = stylize_arbitrary(*encoder(), *decoders, content, one_style(), options);
    EXPECT_EQ(out.width, 37);
    EXPECT_EQ(out.height, 29);
    options.method = TransformMethod::Adain;
    options.levels = {"relu5_1", "relu1_1"};
    options.size = 45;
    const Image adain = stylize_arbitrary(*encoder(), *decoders, content, one_style(), options);
    EXPECT_EQ(adain.width, 45);
    EXPECT_EQ(adain.height, 35);
}

TEST(FastArbitrary, DecoderSetRoundTripThroughFiles) {
    const auto folder = std::filesystem::temp_directory_path() / ("impasto_decoders_" + std::to_string(::getpid()));
    std::filesystem::create_directories(folder);
    std::vector<StyleModelFile> files{decoder_file("relu1_1", 1), decoder_file("relu3_1", 2)};
    files[1].card.training_data = "nothing: random weights";
    write_style_model(folder / "d1.impasto", files[0], DType::Float32);
    write_style_model(folder / "d3.impasto", files[1], DType::Float32);
    const auto set = DecoderSet::load(folder, Device{});
    EXPECT_EQ(set->levels(), (std::vector<std::string>{"relu1_1", "relu3_1"}));
    EXPECT_EQ(set->card("relu3_1").training_data, "nothing: random weights");
    nn::VggDecoder loaded = set->impl().decoders.at("relu3_1").decoder;
    const TensorMap tensors = loaded->export_tensors();
    ASSERT_EQ(tensors.size(), files[1].tensors.size());
    for (const auto& [name, tensor] : files[1].tensors) {
        EXPECT_EQ(tensors.at(name).to_float(), tensor.to_float()) << name;
    }
    // A second decoder for one level is refused; an empty folder holds none.
    write_style_model(folder / "d3b.impasto", files[1], DType::Float16);
    EXPECT_THROW(DecoderSet::load(folder, Device{}), InputError);
    std::filesystem::remove_all(folder);
    std::filesystem::create_directories(folder);
    EXPECT_THROW(DecoderSet::load(folder, Device{}), InputError);
    std::filesystem::remove_all(folder);
    // Tensors that do not fit the level.
    StyleModelFile wrong = decoder_file("relu2_1", 3);
    wrong.config = R"({"level": "relu3_1", "encoder": "vgg19"})";
    EXPECT_THROW(DecoderSet::from_files({wrong}, Device{}), WeightsError);
}

TEST(FastArbitrary, TiledMatchesUntiled) {
    const auto decoders = random_decoders({"relu1_1", "relu4_1"});
    const Image content = impasto::testing::synthetic_image(96, 80, 1);
    ArbitraryOptions options;
    options.style_size = 48;
    options.levels = {"relu1_1"};
    options.method = TransformMethod::Wct;
    const Image whole = stylize_arbitrary(*encoder(), *decoders, content, one_style(), options);
    options.tiling.tile = 64;
    options.tiling.overlap = 16;
    // relu1_1: encoder and decoder each reach 1 px, far inside the 16-px overlap, and the statistics
    // pass runs at full size (96 < statistics_size): tiles agree with the whole image to rounding.
    const Image tiled = stylize_arbitrary(*encoder(), *decoders, content, one_style(), options);
    EXPECT_LT(mean_abs_diff(whole, tiled), 1e-5);
    // relu4_1: the receptive field (about 90 px each way for encoder plus decoder) is wider than the
    // overlap, so tile edges see reflected context instead of the true one. The tiled result must
    // still be much closer to the untiled one than the stylisation is to its input.
    options.levels = {"relu4_1"};
    options.method = TransformMethod::Adain;
    options.tiling.tile = 0;
    const Image whole4 = stylize_arbitrary(*encoder(), *decoders, content, one_style(), options);
    options.tiling.tile = 64;
    const Image tiled4 = stylize_arbitrary(*encoder(), *decoders, content, one_style(), options);
    const double tile_error = mean_abs_diff(whole4, tiled4);
    const double change = mean_abs_diff(whole4, content);
    std::printf("relu4_1 tiled vs untiled: mean |diff| %.5f; untiled vs content %.5f\n", tile_error, change);
    EXPECT_LT(tile_error, 0.25 * change);
}

TEST(FastArbitrary, FullMaskEqualsNoMask) {
    const auto decoders = random_decoders({"relu3_1"});
    ArbitraryOptions options;
    options.levels = {"relu3_1"};
    options.style_size = 40;
    const Image content = impasto::testing::synthetic_image(44, 36, 2);
    std::vector<ArbitraryStyle> styles = one_style();
    const Image plain = stylize_arbitrary(*encoder(), *decoders, content, styles, options);
    Image mask;
    mask.width = 10;
    mask.height = 10;
    mask.rgb.assign(300, 1.0F);
    styles[0].mask = mask;
    EXPECT_LT(mean_abs_diff(plain, stylize_arbitrary(*encoder(), *decoders, content, styles, options)), 1e-5);
    // Two styles, left and right halves: runs, and the colour controls run.
    styles.push_back({impasto::testing::synthetic_image(30, 30, 5), 1.0, mask});
    for (int x = 0; x < 10; ++x) {
        for (int y = 0; y < 10; ++y) {
            styles[0].mask.pixel(x, y)[0] = x < 5 ? 1.0F : 0.0F;
            styles[1].mask.pixel(x, y)[0] = x < 5 ? 0.0F : 1.0F;
        }
    }
    options.color = ColorControl::Luminance;
    EXPECT_EQ(stylize_arbitrary(*encoder(), *decoders, content, styles, options).width, 44);
    options.color = ColorControl::Histogram;
    options.precision = Precision::Bf16;
    if (!cpu_bf16_available()) {
        EXPECT_THROW(stylize_arbitrary(*encoder(), *decoders, content, styles, options), ConfigError);
        GTEST_SKIP() << "no bf16 kernels on this CPU path (ONEDNN_MAX_CPU_ISA?): checked that bf16 is refused";
    }
    EXPECT_EQ(stylize_arbitrary(*encoder(), *decoders, content, styles, options).height, 36);
}

TEST(FastArbitrary, Errors) {
    EXPECT_THROW(parse_transform_method("gram"), ConfigError);
    EXPECT_EQ(parse_transform_method("wct"), TransformMethod::Wct);
    EXPECT_STREQ(to_string(TransformMethod::Adain), "adain");
    const auto decoders = random_decoders({"relu4_1"});
    const Image content = impasto::testing::synthetic_image(32, 32, 0);
    ArbitraryOptions options;
    options.levels = {"relu3_1"};
    try {
        stylize_arbitrary(*encoder(), *decoders, content, one_style(), options);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& error) {
        EXPECT_NE(std::string(error.what()).find("relu3_1"), std::string::npos) << error.what();
    }
    options = {};
    options.method = TransformMethod::Wct; // every level the decoders have: relu4_1
    EXPECT_NO_THROW(stylize_arbitrary(*encoder(), *decoders, content, one_style(), options));
    options.alpha = 1.5;
    EXPECT_THROW(options.validate(), ConfigError);
    options = {};
    options.levels = {"relu4_2"};
    EXPECT_THROW(options.validate(), ConfigError);
    options = {};
    EXPECT_THROW(stylize_arbitrary(*encoder(), *decoders, content, {}, options), ConfigError);
    options.precision = Precision::Fp16;
    EXPECT_THROW(stylize_arbitrary(*encoder(), *decoders, content, one_style(), options), ConfigError);
}

// Timing at 1024 px (not a unit test): --gtest_also_run_disabled_tests --gtest_filter='*Timing*'.
// The best of a few runs, so that other processes on the machine disturb it less.
TEST(FastArbitrary, DISABLED_Timing1024) {
    set_num_threads(2);
    const auto decoders = random_decoders(nn::decoder_levels());
    const Image content = impasto::testing::synthetic_image(1024, 768, 0);
    stylize_arbitrary(*encoder(), *decoders, content, one_style(), {}); // warm-up
    for (const TransformMethod method : {TransformMethod::Adain, TransformMethod::Wct}) {
        for (const Precision precision : {Precision::Bf16, Precision::Fp32}) {
            ArbitraryOptions options;
            options.method = method;
            options.precision = precision;
            double best = 1e9;
            for (int run = 0; run < (method == TransformMethod::Adain ? 3 : 2); ++run) {
                const auto start = std::chrono::steady_clock::now();
                stylize_arbitrary(*encoder(), *decoders, content, one_style(), options);
                best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
            }
            std::printf("%s %s 1024x768: %.3f s\n", to_string(method), to_string(precision), best);
            std::fflush(stdout);
        }
    }
}

// Diagnostic, not a unit test (needs the installed VGG19 and ../shared):
// --gtest_also_run_disabled_tests --gtest_filter='*Spectrum*'. The eigenvalues of real content
// covariances in bf16, and how much WCT's whitening amplifies the weakest direction it keeps under
// an absolute floor of 1e-5 (Li et al.'s) and a floor of 1e-5 x the mean eigenvalue.
TEST(FeatureTransform, DISABLED_SpectrumOfRealFeatures) {
    const auto info = WeightStore(default_weights_dir()).find("vgg19.caffe");
    const std::filesystem::path photo = std::filesystem::path(IMPASTO_SHARED_DIR) / "images/content/kodim01.png";
    if (!info || !std::filesystem::exists(photo)) {
        GTEST_SKIP() << "needs vgg19.caffe installed and ../shared/images";
    }
    const auto model = FeatureModel::create(load_weight_set(*info), Device{});
    const torch::Tensor rgb = impasto::detail::image_to_tensor(resize_long_side(load_image(photo), 512), torch::kCPU);
    for (const std::string level : {"relu1_1", "relu2_1", "relu3_1", "relu4_1"}) {
        torch::Tensor features;
        {
            const impasto::detail::AutocastGuard autocast(c10::DeviceType::CPU, c10::kBFloat16);
            features = nn::extract_features(model->impl(), rgb, {level}, Pooling::Max).at(level).to(torch::kFloat);
        }
        const torch::Tensor d = std::get<0>(torch::linalg_eigh(ft::mean_covariance(features).covariance)).clamp_min(0);
        const double mean = d.mean().item<double>();
        const auto weakest_kept = [&](double floor) { return d.masked_select(d > floor).min().item<double>() + floor; };
        std::printf("%s: mean eigenvalue %.3g, max %.3g; absolute 1e-5: %ld of %ld kept, weakest amplified %.3g x "
                    "the mean's; relative 1e-5: %ld kept, %.3g x\n",
                    level.c_str(), mean, d.max().item<double>(), (d > 1e-5).sum().item<std::int64_t>(),
                    static_cast<long>(d.numel()), std::sqrt(mean / weakest_kept(1e-5)),
                    (d > 1e-5 * mean).sum().item<std::int64_t>(), std::sqrt(mean / weakest_kept(1e-5 * mean)));
    }
}
