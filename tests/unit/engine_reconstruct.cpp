// Reconstructions (Gatys 2016, Fig. 1) and feature maps on synthetic weights and images: each
// objective falls from its white-noise start, content reconstruction moves towards the photo,
// feature maps come sorted and tiled, and content-only/style-only runs of the engine are clean.
#include "engine_fixtures.h"
#include "impasto/error.h"
#include "impasto/reconstruct.h"

#include <cmath>
#include <gtest/gtest.h>

using namespace impasto;

namespace {

std::shared_ptr<const FeatureModel> synthetic_model() {
    static const auto model = FeatureModel::create(impasto::testing::synthetic_vgg19_weights(), Device{});
    return model;
}

ReconstructOptions tiny_options() {
    ReconstructOptions options;
    options.size = 40;
    options.iterations = 40;
    options.seed = 3;
    return options;
}

// Pearson correlation of two images of the same size, over every channel value.
double correlation(const Image& a, const Image& b) {
    double mean_a = 0;
    double mean_b = 0;
    const std::size_t n = a.rgb.size();
    for (std::size_t i = 0; i < n; ++i) {
        mean_a += a.rgb[i];
        mean_b += b.rgb[i];
    }
    mean_a /= static_cast<double>(n);
    mean_b /= static_cast<double>(n);
    double ab = 0;
    double aa = 0;
    double bb = 0;
    for (std::size_t i = 0; i < n; ++i) {
        ab += (a.rgb[i] - mean_a) * (b.rgb[i] - mean_b);
        aa += (a.rgb[i] - mean_a) * (a.rgb[i] - mean_a);
        bb += (b.rgb[i] - mean_b) * (b.rgb[i] - mean_b);
    }
    return ab / std::sqrt(aa * bb + 1e-30);
}

} // namespace

TEST(Reconstruct, ContentAtAShallowLayerApproachesThePhoto) {
    const Image photo = impasto::testing::synthetic_image(40, 32, 0);
    ReconstructOptions options = tiny_options();
    const StylizeResult result = reconstruct_content(*synthetic_model(), photo, "relu1_2", options);
    ASSERT_EQ(result.width, 40);
    ASSERT_EQ(result.height, 32);
    ASSERT_EQ(result.iterations_done, options.iterations);
    const LossValues& first = result.history.front().losses;
    const LossValues& last = result.history.back().losses;
    EXPECT_EQ(first.style, 0.0);
    EXPECT_EQ(first.total, first.content);
    EXPECT_LT(last.content, 0.05 * first.content) << first.content << " -> " << last.content;
    EXPECT_LE(final_loss(result, options), last.total);

    // The white-noise start, as the engine makes it: one iteration barely moves it.
    options.iterations = 1;
    const Image start = reconstruct_content(*synthetic_model(), photo, "relu1_2", options).image;
    const double before = correlation(start, photo);
    const double after = correlation(result.image, photo);
    EXPECT_GT(after, 0.8);
    EXPECT_GT(after, before + 0.3) << "noise " << before << ", reconstruction " << after;
}

TEST(Reconstruct, StyleReducesTheGramLossAndKeepsTheStyleAspect) {
    const Image painting = impasto::testing::synthetic_image(30, 45, 2);
    const StylizeResult result =
        reconstruct_style(*synthetic_model(), painting, {"relu1_1", "relu2_1"}, tiny_options());
    EXPECT_EQ(result.height, 40);
    EXPECT_EQ(result.width, 27);
    const LossValues& first = result.history.front().losses;
    const LossValues& last = result.history.back().losses;
    EXPECT_EQ(first.content, 0.0);
    EXPECT_EQ(first.total, first.style);
    EXPECT_LT(last.style, 0.1 * first.style) << first.style << " -> " << last.style;
}

TEST(Reconstruct, SameSeedSameImage) {
    const Image photo = impasto::testing::synthetic_image(24, 24, 1);
    ReconstructOptions options = tiny_options();
    options.iterations = 4;
    const auto a = reconstruct_content(*synthetic_model(), photo, "relu2_2", options);
    const auto b = reconstruct_content(*synthetic_model(), photo, "relu2_2", options);
    EXPECT_EQ(a.image.rgb, b.image.rgb);
}

TEST(Reconstruct, BadLayersAndOptionsAreConfigErrors) {
    const Image photo = impasto::testing::synthetic_image(24, 24, 1);
    const ReconstructOptions options = tiny_options();
    EXPECT_THROW(reconstruct_content(*synthetic_model(), photo, "relu9_9", options), ConfigError);
    EXPECT_THROW(reconstruct_style(*synthetic_model(), photo, {"relu1_1", "conv6_1"}, options), ConfigError);
    EXPECT_THROW(reconstruct_style(*synthetic_model(), photo, {}, options), ConfigError);
    EXPECT_THROW(feature_maps(*synthetic_model(), photo, "nope", 4, 32), ConfigError);
    EXPECT_THROW(feature_maps(*synthetic_model(), photo, "relu1_1", 65, 32), ConfigError);
    EXPECT_THROW(feature_maps(*synthetic_model(), photo, "relu1_1", 0, 32), ConfigError);
    ReconstructOptions bad = options;
    bad.iterations = 0;
    EXPECT_THROW(reconstruct_content(*synthetic_model(), photo, "relu1_1", bad), ConfigError);
    EXPECT_THROW(reconstruct_content(*synthetic_model(), Image{}, "relu1_1", options), InputError);
}

TEST(FeatureMaps, MostActiveChannelsSortedAndTiled) {
    const Image photo = impasto::testing::synthetic_image(48, 36, 0);
    const FeatureMaps maps = feature_maps(*synthetic_model(), photo, "relu3_1", 10, 48);
    ASSERT_EQ(maps.channels.size(), 10U);
    ASSERT_EQ(maps.mean_activation.size(), 10U);
    for (std::size_t i = 1; i < maps.mean_activation.size(); ++i) {
        EXPECT_GE(maps.mean_activation[i - 1], maps.mean_activation[i]);
    }
    EXPECT_EQ(std::set<int>(maps.channels.begin(), maps.channels.end()).size(), 10U);
    // relu3_1 has stride 4: 12x9 maps, magnified 6x to reach 64 px; 10 tiles in 4 columns, 3 rows.
    EXPECT_EQ(maps.map_width, 12);
    EXPECT_EQ(maps.map_height, 9);
    EXPECT_EQ(maps.tile_width, 72);
    EXPECT_EQ(maps.tile_height, 54);
    EXPECT_EQ(maps.columns, 4);
    EXPECT_EQ(maps.rows, 3);
    EXPECT_EQ(maps.grid.width, 4 * 72 + 3 * kFeatureGridGap);
    EXPECT_EQ(maps.grid.height, 3 * 54 + 2 * kFeatureGridGap);
    float lo = 1;
    float hi = 0;
    for (float v : maps.grid.rgb) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
    EXPECT_EQ(lo, 0.0F); // each tile spans [0,1]
    EXPECT_EQ(hi, 1.0F);
}

// The engine's single-term objectives: a content-only run needs no style image, a style-only run
// no content layers, and a run with no term at all is refused.
TEST(Stylize, ContentOnlyAndStyleOnlyObjectives) {
    StylizeOptions options = preset_options("paper");
    options.size = 32;
    options.iterations = 5;
    options.style_weight = 0;
    const Image photo = impasto::testing::synthetic_image(32, 32, 0);
    const StylizeResult content_only = stylize(*synthetic_model(), photo, {}, options);
    EXPECT_EQ(content_only.history.back().losses.style, 0.0);
    EXPECT_GT(content_only.history.front().losses.content, 0.0);

    options.style_weight = 1e3;
    EXPECT_THROW(stylize(*synthetic_model(), photo, {}, options), ConfigError);

    options.content_weight = 0;
    options.content_layers = {};
    const StylizeResult style_only =
        stylize(*synthetic_model(), photo, {{impasto::testing::synthetic_image(32, 32, 2), 1.0}}, options);
    EXPECT_EQ(style_only.history.back().losses.content, 0.0);
    EXPECT_GT(style_only.history.front().losses.style, 0.0);

    options.style_weight = 0;
    EXPECT_THROW(stylize(*synthetic_model(), photo, {}, options), ConfigError);
}
