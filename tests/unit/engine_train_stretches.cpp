// Training in stretches (each continuing from the model file the last one wrote), a decoder
// started from a shallower decoder's layers, colour jitter in the crops, and step profiling.
#include "impasto/error.h"
#include "nn/vgg_decoder.h"
#include "train/image_folder_dataset.h"
#include "train_fixture.h"

#include <gtest/gtest.h>

using namespace impasto;
using namespace impasto::testing;

namespace {

TrainDecoderOptions decoder_options(const TrainCommonOptions& common, const std::string& level) {
    TrainDecoderOptions options;
    options.common = common;
    options.level = level;
    return options;
}

} // namespace

TEST_F(TrainFixture, StretchContinuesACommittedModel) {
    TrainDecoderOptions first = decoder_options(common("first", 6), "relu2_1");
    train_decoder(*synthetic_model(), first);
    const StyleModelFile first_model = read_style_model(first.common.output);
    ASSERT_EQ(first_model.card.stretches.size(), 1U);
    EXPECT_EQ(first_model.card.stretches[0].first_step, 0);
    EXPECT_EQ(first_model.card.stretches[0].last_step, 6);

    // Continued in place, at another crop size, as a fine-tune would be.
    TrainDecoderOptions second = decoder_options(common("first", 10), "relu2_1");
    second.common.init_model = first.common.output;
    second.common.crop = 32;
    second.common.batch = 3;
    std::vector<TrainEvent> second_events;
    train_decoder(*synthetic_model(), second, recorder(second_events));
    ASSERT_EQ(second_events.size(), 4U);
    EXPECT_EQ(second_events.front().step, 7);
    const StyleModelFile second_model = read_style_model(second.common.output);
    const ModelCard& card = second_model.card;
    EXPECT_EQ(card.iterations, 10);
    EXPECT_EQ(card.images_seen, 6 * 2 + 4 * 3);
    ASSERT_EQ(card.stretches.size(), 2U);
    EXPECT_EQ(card.stretches[1].first_step, 6);
    EXPECT_EQ(card.stretches[1].last_step, 10);
    EXPECT_EQ(card.stretches[1].crop, 32);
    EXPECT_FALSE(card.stretches[1].hardware.empty());
    EXPECT_NEAR(card.wall_seconds, card.stretches[0].wall_seconds + card.stretches[1].wall_seconds, 1e-6);
    EXPECT_NEAR(card.stretches[0].wall_seconds, first_model.card.wall_seconds, 1e-6);

    // It starts from the committed weights: one step so small that Adam moves no weight by more
    // than 1e-12 gives them back (up to their fp16 storage).
    TrainDecoderOptions still = decoder_options(common("still", 11), "relu2_1");
    still.common.init_model = second.common.output;
    still.common.learning_rate = 1e-12;
    train_decoder(*synthetic_model(), still);
    const StyleModelFile after = read_style_model(still.common.output);
    for (const auto& [name, tensor] : second_model.tensors) {
        EXPECT_EQ(tensor_values(after, name), tensor_values(second_model, name)) << name;
    }
}

TEST_F(TrainFixture, StretchRefusesWhatCannotContinue) {
    TrainDecoderOptions first = decoder_options(common("base", 3), "relu2_1");
    train_decoder(*synthetic_model(), first);

    TrainDecoderOptions same_steps = decoder_options(common("next", 3), "relu2_1");
    same_steps.common.init_model = first.common.output;
    EXPECT_NE(error_of([&] { train_decoder(*synthetic_model(), same_steps); }).find("3 steps already"),
              std::string::npos);

    TrainDecoderOptions other_level = decoder_options(common("next", 5), "relu3_1");
    other_level.common.init_model = first.common.output;
    EXPECT_THROW(train_decoder(*synthetic_model(), other_level), InputError);

    TrainStyleOptions style = style_options("style", 5);
    style.common.init_model = first.common.output;
    EXPECT_NE(error_of([&] { check_training_inputs(style); }).find("decoder model"), std::string::npos);

    TrainDecoderOptions both = decoder_options(common("next", 5), "relu2_1");
    both.common.init_model = first.common.output;
    both.common.resume = true;
    EXPECT_THROW(both.validate(), ConfigError);
}

TEST_F(TrainFixture, StretchOfAStyleNetworkNeedsItsStyles) {
    TrainStyleOptions first = style_options("net", 3);
    train_style_network(*synthetic_model(), first);
    TrainStyleOptions next = style_options("net", 5);
    next.common.init_model = first.common.output;
    next.styles = {style2_};
    EXPECT_NE(error_of([&] { train_style_network(*synthetic_model(), next); }).find("same --style images"),
              std::string::npos);
    next.styles = {style_};
    const TrainResult result = train_style_network(*synthetic_model(), next);
    EXPECT_EQ(result.steps_done, 5);
    EXPECT_EQ(read_style_model(result.output).card.stretches.size(), 2U);
}

TEST_F(TrainFixture, TailDecoderStartsTheDeeperDecodersLastLayers) {
    TrainDecoderOptions shallow = decoder_options(common("relu2", 4), "relu2_1");
    train_decoder(*synthetic_model(), shallow);
    const StyleModelFile tail = read_style_model(shallow.common.output);

    TrainDecoderOptions deep = decoder_options(common("relu3", 1), "relu3_1");
    deep.tail_model = shallow.common.output;
    deep.common.learning_rate = 1e-12; // one Adam step moves each weight by about this much
    train_decoder(*synthetic_model(), deep);
    const StyleModelFile model = read_style_model(deep.common.output);

    nn::VggDecoder tail_decoder("relu2_1");
    tail_decoder->import_tensors(tail.tensors);
    const double tail_scale = tail_decoder->input_scale();
    const std::size_t tail_convs = tail_decoder->convs().size();
    const std::size_t offset = nn::VggDecoder("relu3_1")->convs().size() - tail_convs;
    for (std::size_t i = 0; i < tail_convs; ++i) {
        const std::string from = "conv" + std::to_string(i);
        const std::string to = "conv" + std::to_string(offset + i);
        const std::vector<float> expected = tensor_values(tail, from + ".weight");
        const std::vector<float> got = tensor_values(model, to + ".weight");
        ASSERT_EQ(expected.size(), got.size()) << to;
        const double scale = i == 0 ? tail_scale : 1.0;
        for (std::size_t k = 0; k < got.size(); k += 97) {
            // fp16 storage: 2^-11 relative.
            EXPECT_NEAR(got[k], expected[k] * scale, 1e-3 * std::abs(expected[k] * scale) + 1e-6) << to << " " << k;
        }
    }

    TrainDecoderOptions wrong = decoder_options(common("relu4", 1), "relu4_1");
    wrong.tail_model = shallow.common.output; // relu2_1 is two blocks away from relu4_1
    EXPECT_NE(error_of([&] { train_decoder(*synthetic_model(), wrong); }).find("one block shallower"),
              std::string::npos);
}

TEST_F(TrainFixture, ColorJitterPermutesAndSaturatesOnlyWhenAsked) {
    const auto files = train::list_training_images({data_});
    train::DatasetOptions plain{2, 32, 3};
    train::DatasetOptions jittered = plain;
    jittered.color_jitter = 1.0;
    const std::vector<float> a = train::ImageFolderDataset(files, plain).batch(5);
    const std::vector<float> b = train::ImageFolderDataset(files, jittered).batch(5);
    const std::vector<float> again = train::ImageFolderDataset(files, jittered).batch(5);
    ASSERT_EQ(a.size(), b.size());
    EXPECT_EQ(b, again) << "the jitter is a function of (seed, sample)";
    EXPECT_NE(a, b);
    // The same crop: per pixel, a permutation's luma L lies in [lo, hi] of the original channels,
    // the saturation change keeps L, and clipping a channel moves it by at most its distance from
    // L, s (hi - lo) <= 2 (hi - lo). So the jittered luma is within 2 (hi - lo) of [lo, hi].
    const std::size_t plane = 32 * 32;
    for (std::size_t i = 0; i < plane; i += 31) {
        const float lo = std::min({a[i], a[plane + i], a[2 * plane + i]});
        const float hi = std::max({a[i], a[plane + i], a[2 * plane + i]});
        const float luma = 0.299F * b[i] + 0.587F * b[plane + i] + 0.114F * b[2 * plane + i];
        EXPECT_GE(luma, 3 * lo - 2 * hi - 1e-4F) << i;
        EXPECT_LE(luma, 3 * hi - 2 * lo + 1e-4F) << i;
    }
    jittered.color_jitter = 0.0;
    EXPECT_EQ(train::ImageFolderDataset(files, jittered).batch(5), a);
}

TEST_F(TrainFixture, ProfileReportsEveryPartOfAStep) {
    TrainDecoderOptions options = decoder_options(common("profiled", 3), "relu2_1");
    options.common.profile = true;
    std::vector<TrainEvent> events;
    train_decoder(*synthetic_model(), options, recorder(events));
    ASSERT_FALSE(events.empty());
    double parts = 0;
    for (const char* part : {"data", "targets", "forward", "loss", "backward", "optimizer"}) {
        ASSERT_EQ(events.back().step_seconds.count(part), 1U) << part;
        parts += events.back().step_seconds.at(part);
    }
    EXPECT_LE(parts, 1.05 * events.back().seconds_per_step + 1e-3);
    options.common.profile = false;
    options.common.output = dir_ / "unprofiled.impasto";
    events.clear();
    train_decoder(*synthetic_model(), options, recorder(events));
    EXPECT_TRUE(events.back().step_seconds.empty());
}

TEST(TrainSchedule, CosineWarmsUpThenFallsToTheFinalFraction) {
    const auto rate = [](std::int64_t step) {
        return scheduled_learning_rate(1e-3, LearningRateSchedule::Cosine, 0.05, step, 1000, 2000);
    };
    EXPECT_NEAR(rate(1000), 1e-3 / 20, 1e-12); // warm-up over 2 % of 1000 steps
    EXPECT_NEAR(rate(1019), 1e-3 * (0.05 + 0.95 * 0.5 * (1 + std::cos(M_PI * 19.0 / 999))), 1e-12);
    EXPECT_GT(rate(1019), rate(1500));
    EXPECT_NEAR(rate(1999), 5e-5, 1e-12);
    for (std::int64_t step = 1020; step < 1999; ++step) {
        ASSERT_LE(rate(step + 1), rate(step)) << step;
    }
    EXPECT_EQ(scheduled_learning_rate(1e-3, LearningRateSchedule::Constant, 0.05, 1999, 1000, 2000), 1e-3);
    EXPECT_EQ(parse_learning_rate_schedule("constant"), LearningRateSchedule::Constant);
    EXPECT_THROW(parse_learning_rate_schedule("step"), ConfigError);
}

TEST_F(TrainFixture, Relu11DecoderStartsFromTheLeastSquaresSolution) {
    TrainDecoderOptions options = decoder_options(common("linear", 1), "relu1_1");
    options.common.learning_rate = 1e-12; // the first step leaves the solved weights as they are
    std::vector<TrainEvent> events;
    train_decoder(*synthetic_model(), options, recorder(events));
    ASSERT_EQ(events.size(), 1U);
    // The first step's pixel error is that of the solution, on crops it was solved on: 1.4e-4
    // (38.6 dB) here, against 1.2 for a freshly initialised decoder (measured with the solve
    // switched off).
    const double pixel = events[0].losses.at("pixel") / options.pixel_weight;
    EXPECT_LT(pixel, 1e-3) << "PSNR " << 10 * std::log10(1 / pixel) << " dB";
}
