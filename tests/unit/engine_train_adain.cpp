// The AdaIN decoder objective (train/adain_objective.h) and train_decoder with --style-data.
#include "train/adain_objective.h"
#include "train_fixture.h"

#include <cmath>

namespace impasto::testing {
namespace {

TEST(AdainObjective, TargetTakesTheStyleStatistics) {
    torch::manual_seed(3);
    const torch::Tensor content = torch::rand({2, 4, 8, 8}) * 3 + 1;
    const train::BatchMeanStd style = train::batch_mean_std(torch::randn({2, 4, 8, 8}) * 0.5 - 2);
    const train::BatchMeanStd got = train::batch_mean_std(train::adain_target(content, style));
    EXPECT_TRUE(torch::allclose(got.mean, style.mean, 1e-4, 1e-4)) << got.mean - style.mean;
    EXPECT_TRUE(torch::allclose(got.std, style.std, 1e-3, 1e-3)) << got.std - style.std;
    // Each sample its own: the second sample's statistics do not leak into the first's.
    EXPECT_FALSE(torch::allclose(got.mean[0], got.mean[1]));
}

TEST(AdainObjective, MeanStdLossIsZeroOnlyForTheSameStatistics) {
    torch::manual_seed(4);
    const torch::Tensor features = torch::rand({2, 3, 6, 6});
    const train::BatchMeanStd own = train::batch_mean_std(features);
    EXPECT_LT(train::mean_std_loss(features, own).item<double>(), 1e-10);
    // A constant shift moves only the means; a scale moves both; the loss grows with either.
    const double shifted = train::mean_std_loss(features + 0.5, own).item<double>();
    const double further = train::mean_std_loss(features + 1.0, own).item<double>();
    const double scaled = train::mean_std_loss(features * 2, own).item<double>();
    EXPECT_GT(shifted, 1e-3);
    EXPECT_NEAR(further / shifted, 4.0, 1e-3); // squared distance of the means
    EXPECT_GT(scaled, 1e-3);
}

TEST(AdainObjective, StyleLayersRunFromRelu11ToTheLevel) {
    EXPECT_EQ(train::adain_style_layers("relu1_1"), std::vector<std::string>{"relu1_1"});
    EXPECT_EQ(train::adain_style_layers("relu4_1"),
              (std::vector<std::string>{"relu1_1", "relu2_1", "relu3_1", "relu4_1"}));
    EXPECT_THROW(train::adain_style_layers("conv4_2"), ConfigError);
}

TEST_F(TrainFixture, PaintingCropsDependOnlyOnTheSeedAndTheStep) {
    const fs::path paintings = dir_ / "paintings";
    fs::create_directories(paintings);
    save_image(synthetic_image(200, 150, 7), paintings / "wide.png");
    save_image(synthetic_image(40, 90, 8), paintings / "narrow.png"); // enlarged until it holds a crop
    const train::PaintingCrops crops({paintings}, 128, 64, 11);
    ASSERT_EQ(crops.files().size(), 2U);
    const torch::Tensor a = crops.batch(5, 6, torch::kCPU);
    EXPECT_EQ(a.sizes(), (std::vector<std::int64_t>{6, 3, 64, 64}));
    EXPECT_GE(a.min().item<float>(), 0.0F);
    EXPECT_LE(a.max().item<float>(), 1.0F);
    EXPECT_TRUE(torch::equal(a, train::PaintingCrops({paintings}, 128, 64, 11).batch(5, 6, torch::kCPU)));
    EXPECT_FALSE(torch::equal(a, crops.batch(6, 6, torch::kCPU)));
    EXPECT_FALSE(torch::equal(a, train::PaintingCrops({paintings}, 128, 64, 12).batch(5, 6, torch::kCPU)));
    EXPECT_THROW(train::PaintingCrops({dir_ / "no-such-folder"}, 128, 64, 0), InputError);
}

TEST_F(TrainFixture, DecoderTrainsWithTheAdainObjective) {
    const fs::path paintings = dir_ / "paintings";
    fs::create_directories(paintings);
    save_image(synthetic_image(96, 80, 9), paintings / "first.png");
    save_image(synthetic_image(80, 96, 10), paintings / "second.png");
    TrainDecoderOptions options;
    options.common = common("adain", 2);
    options.level = "relu2_1";
    options.style_data = {paintings};
    options.style_long_side = 96;
    std::vector<TrainEvent> events;
    train_decoder(*synthetic_model(), options, recorder(events));
    ASSERT_EQ(events.size(), 2U);
    for (const TrainEvent& event : events) {
        const double content = event.losses.at("adain_content");
        const double style = event.losses.at("adain_style");
        EXPECT_TRUE(std::isfinite(content) && content > 0) << content;
        EXPECT_TRUE(std::isfinite(style) && style > 0) << style;
        const double reconstruction = event.losses.at("pixel") + event.losses.at("feature");
        EXPECT_NEAR(event.losses.at("total"), reconstruction + content + 10 * style, 1e-4 * event.losses.at("total"));
    }
    const StyleModelFile model = read_style_model(options.common.output);
    ASSERT_EQ(model.card.style_images.size(), 2U);
    EXPECT_EQ(model.card.style_images[0].name, "first");
    EXPECT_EQ(model.card.style_images[0].sha256.size(), 64U);
    EXPECT_NE(model.card.training_options.find("style_data"), std::string::npos);

    // Weight 0: the objective is reported but adds nothing to what is minimised.
    options.common.output = dir_ / "zero.impasto";
    options.adain_weight = 0;
    events.clear();
    train_decoder(*synthetic_model(), options, recorder(events));
    EXPECT_NEAR(events.front().losses.at("total"),
                events.front().losses.at("pixel") + events.front().losses.at("feature"), 1e-6);

    options.style_long_side = 32; // under the 64 px crop
    EXPECT_THROW(options.validate(), ConfigError);
}

} // namespace
} // namespace impasto::testing
