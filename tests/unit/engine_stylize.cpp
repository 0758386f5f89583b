// The optimiser end to end on synthetic weights and images: losses fall, runs repeat exactly,
// callbacks cancel, presets and validation behave.
#include "engine_fixtures.h"
#include "impasto/error.h"
#include "impasto/stylize.h"

#include <gtest/gtest.h>

using namespace impasto;

namespace {

StylizeOptions tiny_options() {
    StylizeOptions options = preset_options("default");
    options.size = 48;
    options.iterations = 15;
    options.scales = {};
    options.precision = Precision::Fp32;
    return options;
}

std::shared_ptr<const FeatureModel> synthetic_model() {
    static const auto model = FeatureModel::create(impasto::testing::synthetic_vgg19_weights(), Device{});
    return model;
}

std::vector<StyleImage> one_style() {
    return {{impasto::testing::synthetic_image(40, 40, 3), 1.0}};
}

} // namespace

TEST(Stylize, StyleLossFallsFromNoise) {
    StylizeOptions options = tiny_options();
    options.init = InitKind::Noise;
    const StylizeResult result =
        stylize(*synthetic_model(), impasto::testing::synthetic_image(48, 40, 0), one_style(), options);
    ASSERT_EQ(result.history.size(), 15U);
    EXPECT_LT(result.history.back().losses.style, 0.5 * result.history.front().losses.style);
    EXPECT_EQ(result.width, 48);
    EXPECT_EQ(result.height, 40);
    EXPECT_FALSE(result.cancelled);
}

TEST(Stylize, PaperPresetWithAdamAlsoDescends) {
    StylizeOptions options = preset_options("paper");
    options.size = 40;
    options.iterations = 20;
    options.optimizer = OptimizerKind::Adam;
    options.adam_learning_rate = 0.05;
    const StylizeResult result =
        stylize(*synthetic_model(), impasto::testing::synthetic_image(40, 40, 0), one_style(), options);
    EXPECT_LT(result.history.back().losses.total, result.history.front().losses.total);
}

TEST(Stylize, SameSeedSameImage) {
    StylizeOptions options = tiny_options();
    options.init = InitKind::Noise;
    options.iterations = 5;
    options.seed = 42;
    const Image content = impasto::testing::synthetic_image(40, 32, 1);
    const StylizeResult a = stylize(*synthetic_model(), content, one_style(), options);
    const StylizeResult b = stylize(*synthetic_model(), content, one_style(), options);
    EXPECT_EQ(a.image.rgb, b.image.rgb);
    options.seed = 43;
    const StylizeResult c = stylize(*synthetic_model(), content, one_style(), options);
    EXPECT_NE(a.image.rgb, c.image.rgb);
}

TEST(Stylize, CallbackCancelsAndKeepsTheImage) {
    StylizeOptions options = tiny_options();
    int calls = 0;
    const StylizeResult result =
        stylize(*synthetic_model(), impasto::testing::synthetic_image(40, 40, 0), one_style(), options,
                [&](const ProgressEvent& event) { return event.stage != Stage::Optimizing || ++calls < 4; });
    EXPECT_TRUE(result.cancelled);
    EXPECT_EQ(result.iterations_done, 4);
    EXPECT_FALSE(result.image.empty());
}

TEST(Stylize, CoarseToFineRunsEveryScaleAndReportsPreviews) {
    StylizeOptions options = tiny_options();
    options.size = 64;
    options.iterations = 3;
    options.scales = {{32, 4}, {64, 3}};
    options.preview_every = 2;
    int previews = 0;
    std::vector<int> widths;
    const StylizeResult result = stylize(*synthetic_model(), impasto::testing::synthetic_image(64, 48, 0), one_style(),
                                         options, [&](const ProgressEvent& event) {
                                             previews += event.preview != nullptr ? 1 : 0;
                                             if (event.stage == Stage::Optimizing && event.iteration == 1) {
                                                 widths.push_back(event.width);
                                             }
                                             return true;
                                         });
    EXPECT_EQ(widths, (std::vector<int>{32, 64}));
    EXPECT_EQ(result.iterations_done, 7);
    EXPECT_EQ(previews, 3); // iteration 2 and 4 at 32 px, 2 at 64 px
    EXPECT_EQ(result.width, 64);
}

TEST(Stylize, SeveralStylesAndColourControlsRun) {
    for (const ColorControl color : {ColorControl::Luminance, ColorControl::Histogram}) {
        StylizeOptions options = tiny_options();
        options.iterations = 3;
        options.color = color;
        const std::vector<StyleImage> styles{{impasto::testing::synthetic_image(40, 40, 3), 1.0},
                                             {impasto::testing::synthetic_image(30, 50, 5), 0.5}};
        const StylizeResult result =
            stylize(*synthetic_model(), impasto::testing::synthetic_image(40, 40, 0), styles, options);
        EXPECT_EQ(result.iterations_done, 3) << to_string(color);
    }
}

TEST(Stylize, Bf16AutocastRunsAndDescends) {
    StylizeOptions options = tiny_options();
    options.precision = Precision::Bf16;
    options.init = InitKind::Noise;
    if (!cpu_bf16_available()) {
        EXPECT_THROW(stylize(*synthetic_model(), impasto::testing::synthetic_image(48, 48, 0), one_style(), options),
                     ConfigError);
        GTEST_SKIP() << "no bf16 kernels on this CPU path (ONEDNN_MAX_CPU_ISA?): checked that bf16 is refused";
    }
    const StylizeResult result =
        stylize(*synthetic_model(), impasto::testing::synthetic_image(48, 48, 0), one_style(), options);
    EXPECT_LT(result.history.back().losses.style, result.history.front().losses.style);
}

TEST(Options, ValidationNamesFieldAndRange) {
    StylizeOptions options;
    options.style_weight = -1;
    try {
        options.validate();
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("style weight"), std::string::npos);
    }
    options = StylizeOptions{};
    options.size = 0;
    EXPECT_THROW(options.validate(), ConfigError);
    options = StylizeOptions{};
    options.style_layer_weights = {1, 2};
    EXPECT_THROW(options.validate(), ConfigError);
    options = StylizeOptions{};
    options.content_layers = {"relu9_1"};
    EXPECT_THROW(options.validate(), ConfigError);
    EXPECT_THROW(preset_options("fast"), ConfigError);
    EXPECT_THROW(parse_pooling("median"), ConfigError);
}

TEST(Options, PaperPresetMatchesGatys2016) {
    const StylizeOptions paper = preset_options("paper");
    EXPECT_EQ(paper.content_layers, std::vector<std::string>{"relu4_2"});
    EXPECT_EQ(paper.style_layers.size(), 5U);
    EXPECT_DOUBLE_EQ(paper.content_weight / paper.style_weight, 1e-3);
    EXPECT_EQ(paper.init, InitKind::Noise);
    EXPECT_EQ(paper.optimizer, OptimizerKind::Lbfgs);
    EXPECT_EQ(paper.loss_scaling, LossScaling::Paper);
    EXPECT_TRUE(paper.style_layer_weights.empty()); // 1/5 each
}

TEST(Options, ScheduleScalesToSize) {
    StylizeOptions options;
    options.size = 1024;
    options.iterations = 50;
    options.scales = parse_schedule("256:200,512:100");
    const auto steps = options.schedule();
    ASSERT_EQ(steps.size(), 2U);
    EXPECT_EQ(steps[0].long_side, 512);
    EXPECT_EQ(steps[0].iterations, 200);
    EXPECT_EQ(steps[1].long_side, 1024);
    EXPECT_EQ(steps[1].iterations, 50);
    EXPECT_THROW(parse_schedule("256x200"), ConfigError);
    EXPECT_EQ(format_schedule(steps), "512:200,1024:50");
}

TEST(Memory, EstimateGrowsWithAreaAndFitsBudget) {
    const StylizeOptions options;
    EXPECT_GT(estimate_peak_memory(options, 1024, 1024), 3 * estimate_peak_memory(options, 256, 256) / 2);
    const std::int64_t budget = estimate_peak_memory(options, 800, 600);
    const int side = largest_size_that_fits(options, 800.0 / 600.0, budget);
    EXPECT_GE(side, 795);
    EXPECT_LE(side, 805);
}
