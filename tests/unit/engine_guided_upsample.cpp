// Guided upsampling (fast/guided_upsample.h) and the work size of the one-pass paths: the filter
// against what it must reproduce exactly, an edge against plain bilinear upsampling, the banded
// resize against torch's, option checks, and stylize_fast / stylize_arbitrary at a work size.
#include "core/tensor_image.h"
#include "engine_fixtures.h"
#include "fast/guided_upsample.h"
#include "impasto/arbitrary_style.h"
#include "impasto/error.h"
#include "impasto/fast_style.h"
#include "impasto/stylize.h"
#include "nn/transformer_net.h"
#include "nn/vgg_decoder.h"

#include <algorithm>
#include <cmath>
#include <gtest/gtest.h>

using namespace impasto;
namespace ft = impasto::fast;

namespace {

constexpr ft::GuidedUpsampleMode kModes[] = {ft::GuidedUpsampleMode::Filter, ft::GuidedUpsampleMode::Residual};

double max_abs(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// Area downscaling by an integer factor: what the network would have seen.
torch::Tensor downscale(const torch::Tensor& x, int factor) {
    return torch::avg_pool2d(x, {factor, factor});
}

// out[c] = sum_g m[c][g] guide[g] + offset[c], per pixel.
torch::Tensor linear_in(const torch::Tensor& guide, const torch::Tensor& m, const torch::Tensor& offset) {
    return torch::einsum("cg,ngyx->ncyx", {m, guide}) + offset.view({1, -1, 1, 1});
}

std::shared_ptr<const StyleNetwork> random_network() {
    torch::manual_seed(5);
    nn::TransformerNetConfig config;
    config.width = 0.125;
    nn::TransformerNet net(config);
    StyleModelFile file;
    file.kind = StyleModelKind::Transformer;
    file.config = config.to_json();
    file.card.style_images.push_back({"untrained", ""});
    file.tensors = net->export_tensors();
    return StyleNetwork::from_file(file, Device{});
}

} // namespace

TEST(GuidedUpsample, ReproducesAResultLinearInTheGuide) {
    // low = M guide_low + b exactly, so the fit finds A = M Sigma (Sigma + eps I)^-1: off M by about
    // eps / lambda_min(Sigma). Uniform noise keeps lambda_min above ~1e-3 even in a corner's 3x3
    // window, so eps = 1e-8 leaves ~1e-5 of M (entries <= 0.5); float32 window means (~1e-7 off)
    // move A by ~1e-4 of M; the full-resolution stage adds ~1e-6.
    torch::manual_seed(1);
    const torch::Tensor guide = torch::rand({1, 3, 76, 92});
    const torch::Tensor m = torch::rand({3, 3}) - 0.5;
    const torch::Tensor offset = torch::rand({3});
    ft::GuidedUpsampleOptions options;
    options.radius = 2;
    options.epsilon = 1e-8;
    for (const auto mode : kModes) {
        options.mode = mode;
        const torch::Tensor low_guide = downscale(guide, 4);
        const torch::Tensor out = ft::guided_upsample(linear_in(low_guide, m, offset), low_guide, guide, options);
        ASSERT_EQ(out.sizes(), (std::vector<std::int64_t>{1, 3, 76, 92}));
        EXPECT_LT(max_abs(out, linear_in(guide, m, offset)), 1e-3) << static_cast<int>(mode);
        // The same with a one-channel (luma) guide: one coefficient per output channel.
        const torch::Tensor luma = guide.slice(1, 0, 1);
        const torch::Tensor m1 = m.slice(1, 0, 1);
        const torch::Tensor out1 =
            ft::guided_upsample(linear_in(downscale(luma, 4), m1, offset), downscale(luma, 4), luma, options);
        EXPECT_LT(max_abs(out1, linear_in(luma, m1, offset)), 1e-3) << static_cast<int>(mode);
    }
    // The default ridge (1e-3) shrinks A by about eps / var = 1e-3 / (1/12) ~ 1e-2 here.
    const ft::GuidedUpsampleOptions defaults;
    const torch::Tensor low_guide = downscale(guide, 4);
    const torch::Tensor out = ft::guided_upsample(linear_in(low_guide, m, offset), low_guide, guide, defaults);
    EXPECT_LT(max_abs(out, linear_in(guide, m, offset)), 0.1);
}

TEST(GuidedUpsample, ImagesAreGuidedByTheirLuma) {
    // A result that is a linear function of the photo's luma (Rec. 601) at low resolution comes back
    // as the same function of the full-resolution luma; tolerance as for the tensors above.
    const Image photo = impasto::testing::synthetic_image(97, 71, 2);
    const Image photo_low = resize_image(photo, 33, 24);
    const auto mapped = [](const Image& image) {
        Image out = image;
        for (int y = 0; y < image.height; ++y) {
            for (int x = 0; x < image.width; ++x) {
                const float* p = image.pixel(x, y);
                const float luma = 0.299F * p[0] + 0.587F * p[1] + 0.114F * p[2];
                float* q = out.pixel(x, y);
                q[0] = 0.1F + 0.8F * luma;
                q[1] = 0.9F - 0.7F * luma;
                q[2] = 0.5F;
            }
        }
        return out;
    };
    ft::GuidedUpsampleOptions options;
    options.radius = 2;
    options.epsilon = 1e-8;
    const Image out = ft::guided_upsample(mapped(photo_low), photo_low, photo, torch::kCPU, options);
    ASSERT_EQ(out.width, 97);
    ASSERT_EQ(out.height, 71);
    const Image expected = mapped(photo);
    double worst = 0;
    for (std::size_t i = 0; i < out.rgb.size(); ++i) {
        worst = std::max(worst, static_cast<double>(std::abs(out.rgb[i] - expected.rgb[i])));
    }
    EXPECT_LT(worst, 1e-3);
}

TEST(GuidedUpsample, AConstantResultStaysConstant) {
    // cov(guide, constant) = 0 up to float64 rounding, so A = 0 and what is left is the constant
    // (float32: ~1e-7).
    torch::manual_seed(2);
    const torch::Tensor guide = torch::rand({1, 3, 45, 61});
    const torch::Tensor low_guide = torch::nn::functional::interpolate(
        guide,
        torch::nn::functional::InterpolateFuncOptions().size(std::vector<std::int64_t>{11, 15}).mode(torch::kArea));
    const torch::Tensor colour = torch::tensor({0.3F, 0.6F, 0.9F}).view({1, 3, 1, 1});
    const torch::Tensor low = colour.expand({1, 3, 11, 15}).contiguous();
    for (const auto mode : kModes) {
        ft::GuidedUpsampleOptions options;
        options.mode = mode;
        const torch::Tensor out = ft::guided_upsample(low, low_guide, guide, options);
        EXPECT_LT(max_abs(out, colour.expand({1, 3, 45, 61})), 1e-6) << static_cast<int>(mode);
    }
}

TEST(GuidedUpsample, KeepsAStepEdgeSharperThanBilinear) {
    // A vertical step in the photo at column 45, which 4x area downscaling smears over a mixed
    // column. The low-resolution result follows the photo with its own colours plus some texture
    // of its own (not linear in the photo), as a stylised image does.
    const std::int64_t h = 64;
    const std::int64_t w = 96;
    const std::int64_t edge = 45;
    torch::Tensor guide = torch::full({1, 3, h, w}, 0.2);
    guide.slice(3, edge).fill_(0.8);
    const torch::Tensor m = torch::tensor({{0.9F, 0.0F, 0.0F}, {0.0F, -0.5F, 0.0F}, {0.0F, 0.0F, 0.3F}});
    const torch::Tensor offset = torch::tensor({0.05F, 0.7F, 0.2F});
    const torch::Tensor low_guide = downscale(guide, 4);
    torch::manual_seed(3);
    const torch::Tensor texture = 0.03 * torch::randn({1, 3, h / 4, w / 4});
    const torch::Tensor low = linear_in(low_guide, m, offset) + texture;
    const torch::Tensor truth = linear_in(guide, m, offset);
    // The jump between the two columns either side of the edge, summed over the channels.
    const auto jump = [&](const torch::Tensor& x) {
        return (x.select(3, edge) - x.select(3, edge - 1))
            .abs()
            .mean(std::vector<std::int64_t>{0, 2})
            .sum()
            .item<double>();
    };
    const double true_jump = jump(truth); // 0.6 * (0.9 + 0.5 + 0.3) = 1.02
    const torch::Tensor bilinear =
        torch::nn::functional::interpolate(low, torch::nn::functional::InterpolateFuncOptions()
                                                    .size(std::vector<std::int64_t>{h, w})
                                                    .mode(torch::kBilinear)
                                                    .align_corners(false));
    // Bilinear spreads the step over about 4 full-resolution columns: a quarter of it per column.
    EXPECT_LT(jump(bilinear), 0.4 * true_jump);
    const torch::Tensor near = torch::arange(edge - 6, edge + 6);
    const double bilinear_error = (bilinear - truth).index_select(3, near).abs().mean().item<double>();
    for (const auto mode : kModes) {
        ft::GuidedUpsampleOptions options;
        options.mode = mode;
        const torch::Tensor out = ft::guided_upsample(low, low_guide, guide, options);
        EXPECT_GT(jump(out), 0.8 * true_jump) << static_cast<int>(mode);
        EXPECT_LT((out - truth).index_select(3, near).abs().mean().item<double>(), 0.5 * bilinear_error)
            << static_cast<int>(mode);
    }
}

TEST(GuidedUpsample, BandedBilinearResizeMatchesTorch) {
    // Same taps as torch's align_corners = false; torch computes the source coordinates in float32,
    // which moves a weight by ~1e-7 of the (unit-scale) values.
    torch::manual_seed(4);
    const torch::Tensor x = torch::rand({2, 5, 13, 17});
    const std::vector<std::pair<std::int64_t, std::int64_t>> sizes{{40, 29}, {13, 17}, {7, 50}};
    for (const auto& size : sizes) {
        const std::int64_t height = size.first;
        const std::int64_t width = size.second;
        const torch::Tensor expected =
            torch::nn::functional::interpolate(x, torch::nn::functional::InterpolateFuncOptions()
                                                      .size(std::vector<std::int64_t>{height, width})
                                                      .mode(torch::kBilinear)
                                                      .align_corners(false));
        torch::Tensor out = torch::full({2, 5, height, width}, -1.0);
        int bands = 0;
        // Bands of a few rows, so that every row offset is exercised.
        ft::resize_bilinear_banded(x, height, width, 3 * 2 * 5 * width * 4 * 3,
                                   [&](std::int64_t row, const torch::Tensor& band) {
                                       out.slice(2, row, row + band.size(2)).copy_(band);
                                       ++bands;
                                   });
        EXPECT_GT(bands, 1);
        EXPECT_LT(max_abs(out, expected), 1e-5) << height << "x" << width;
    }
}

TEST(GuidedUpsample, BoxMeanCountsOnlyPixelsInsideTheImage) {
    torch::manual_seed(6);
    const torch::Tensor x = torch::rand({1, 2, 9, 11}, torch::kDouble);
    const torch::Tensor box = ft::box_mean(x, 2);
    EXPECT_LT(max_abs(ft::box_mean(torch::ones({1, 1, 9, 11}), 3), torch::ones({1, 1, 9, 11})), 1e-6);
    // A corner averages its 3x3 neighbours inside; an inner pixel its full 5x5 window.
    EXPECT_NEAR(box[0][1][0][0].item<double>(), x[0][1].slice(0, 0, 3).slice(1, 0, 3).mean().item<double>(), 1e-12);
    EXPECT_NEAR(box[0][0][4][5].item<double>(), x[0][0].slice(0, 2, 7).slice(1, 3, 8).mean().item<double>(), 1e-12);
}

TEST(GuidedUpsample, RefusesBadOptionsAndShapes) {
    const torch::Tensor guide = torch::rand({1, 3, 16, 16});
    const torch::Tensor low_guide = downscale(guide, 2);
    const torch::Tensor low = torch::rand({1, 3, 8, 8});
    ft::GuidedUpsampleOptions options;
    options.radius = 0;
    EXPECT_THROW(ft::guided_upsample(low, low_guide, guide, options), ConfigError);
    options = {};
    for (const double epsilon : {0.0, -1e-3, 2.0, std::nan("")}) {
        options.epsilon = epsilon;
        EXPECT_THROW(options.validate(), ConfigError) << epsilon;
    }
    EXPECT_THROW(ft::guided_upsample(torch::rand({1, 3, 7, 8}), low_guide, guide), ConfigError);
    EXPECT_THROW(ft::guided_upsample(low, low_guide.slice(1, 0, 2), guide.slice(1, 0, 2)), ConfigError);
    EXPECT_THROW(ft::guided_upsample(low, low_guide.slice(1, 0, 1), guide), ConfigError);
    EXPECT_THROW(ft::guided_upsample(low[0], low_guide, guide), ConfigError);
}

TEST(WorkSize, RunsAtTheWorkSizeOnlyWhenTheOutputIsLarger) {
    EXPECT_EQ(ft::working_long_side(512, 1024, 768), 512);
    EXPECT_EQ(ft::working_long_side(512, 300, 1024), 512);
    EXPECT_EQ(ft::working_long_side(512, 512, 384), 0);
    EXPECT_EQ(ft::working_long_side(512, 400, 300), 0);
    EXPECT_EQ(ft::working_long_side(0, 4096, 4096), 0);
}

TEST(WorkSize, OptionsRefuseSizesOutOfRange) {
    for (const int bad : {-1, 1, 15, kMaxImageSide + 1}) {
        ArbitraryOptions arbitrary;
        arbitrary.work_size = bad;
        EXPECT_THROW(arbitrary.validate(), ConfigError) << bad;
        FastStylizeOptions fast;
        fast.work_size = bad;
        EXPECT_THROW(fast.validate(1), ConfigError) << bad;
    }
    for (const int good : {0, 16, 512, kMaxImageSide}) {
        ArbitraryOptions arbitrary;
        arbitrary.work_size = good;
        EXPECT_NO_THROW(arbitrary.validate()) << good;
        FastStylizeOptions fast;
        fast.work_size = good;
        EXPECT_NO_THROW(fast.validate(1)) << good;
    }
    try {
        ArbitraryOptions arbitrary;
        arbitrary.work_size = 8;
        arbitrary.validate();
        FAIL() << "accepted";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("work size = 8"), std::string::npos) << e.what();
    }
}

TEST(WorkSize, FastNetworkRunsSmallerAndReturnsTheOutputSize) {
    const auto network = random_network();
    const Image content = impasto::testing::synthetic_image(83, 61, 2);
    FastStylizeOptions options;
    const Image full = stylize_fast(*network, content, options);
    // A work size at or above the output's long side changes nothing.
    options.work_size = 83;
    const Image same = stylize_fast(*network, content, options);
    EXPECT_EQ(same.rgb, full.rgb);
    options.work_size = 40;
    const Image small = stylize_fast(*network, content, options);
    EXPECT_EQ(small.width, 83);
    EXPECT_EQ(small.height, 61);
    EXPECT_NE(small.rgb, full.rgb);
    // With an output size: the work size is measured against it, not the content.
    options.size = 120;
    const Image larger = stylize_fast(*network, content, options);
    const ImageSize expected = scaled_to_long_side({content.width, content.height}, 120);
    EXPECT_EQ(larger.width, expected.width);
    EXPECT_EQ(larger.height, expected.height);
}

TEST(WorkSize, ArbitraryRunsSmallerAndReturnsTheOutputSize) {
    const auto encoder = FeatureModel::create(impasto::testing::synthetic_vgg19_weights(), Device{});
    torch::manual_seed(8);
    nn::VggDecoder decoder("relu2_1");
    StyleModelFile file;
    file.kind = StyleModelKind::Decoder;
    file.config = R"({"level": "relu2_1", "encoder": "vgg19"})";
    file.tensors = decoder->export_tensors();
    const auto decoders = DecoderSet::from_files({file}, Device{});
    const Image content = impasto::testing::synthetic_image(70, 52, 1);
    const std::vector<ArbitraryStyle> styles{{impasto::testing::synthetic_image(40, 36, 3), 1.0, {}}};
    ArbitraryOptions options;
    options.levels = {"relu2_1"};
    options.style_size = 40;
    const Image full = stylize_arbitrary(*encoder, *decoders, content, styles, options);
    options.work_size = 70;
    EXPECT_EQ(stylize_arbitrary(*encoder, *decoders, content, styles, options).rgb, full.rgb);
    options.work_size = 32;
    options.color = ColorControl::Luminance;
    const Image small = stylize_arbitrary(*encoder, *decoders, content, styles, options);
    EXPECT_EQ(small.width, 70);
    EXPECT_EQ(small.height, 52);
}
