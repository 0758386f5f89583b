// Training on synthetic VGG weights and photos: the crop sequence is a function of (seed, step),
// losses fall, a resumed run equals a straight one, adding a style touches only its norm rows,
// checkpoints refuse other options, and a cancel saves.
#include "impasto/error.h"
#include "impasto/style_model_file.h"
#include "impasto/train.h"
#include "nn/transformer_net.h"
#include "testutil.h"
#include "train/checkpoint.h"
#include "train/image_folder_dataset.h"
#include "train/perceptual_loss.h"
#include "train_fixture.h"

#include <fstream>
#include <gtest/gtest.h>
#include <numeric>

using namespace impasto;
using impasto::testing::error_of;
using impasto::testing::synthetic_image;
using impasto::testing::TempDir;
namespace fs = std::filesystem;

using namespace impasto::testing;

TEST_F(TrainFixture, TrainDatasetIsDeterministicAndCropSized) {
    const auto files = train::list_training_images({data_});
    ASSERT_EQ(files.size(), 4U);
    EXPECT_TRUE(std::is_sorted(files.begin(), files.end()));
    const train::ImageFolderDataset dataset(files, {2, 32, 7});
    const std::vector<float> a = dataset.batch(5);
    EXPECT_EQ(a.size(), 2U * 3 * 32 * 32);
    EXPECT_EQ(a, dataset.batch(5));
    EXPECT_NE(a, dataset.batch(6));
    EXPECT_NE(a, train::ImageFolderDataset(files, {2, 32, 8}).batch(5));
    for (const float v : a) {
        ASSERT_TRUE(v >= 0.0F && v <= 1.0F);
    }
    // Every photo once per epoch.
    std::vector<std::size_t> epoch;
    for (int i = 0; i < 4; ++i) {
        epoch.push_back(dataset.file_index(4 + i));
    }
    std::sort(epoch.begin(), epoch.end());
    EXPECT_EQ(epoch, (std::vector<std::size_t>{0, 1, 2, 3}));
    // The threaded loader hands out the same batches, in order, from any starting step.
    train::BatchLoader loader(dataset, 3, 9, 3, 2);
    for (int step = 3; step < 9; ++step) {
        EXPECT_EQ(loader.next(), dataset.batch(step)) << step;
    }
}

TEST_F(TrainFixture, TrainDatasetErrorsNameTheFolderOrFile) {
    const fs::path empty = dir_ / "empty";
    fs::create_directories(empty);
    EXPECT_NE(error_of([&] { train::list_training_images({empty}); }).find("empty"), std::string::npos);
    EXPECT_NE(error_of([&] { train::list_training_images({dir_ / "missing"}); }).find("missing"), std::string::npos);
    std::ofstream(data_ / "broken.png") << "not an image";
    const auto files = train::list_training_images({data_});
    const train::ImageFolderDataset dataset(files, {4, 32, 1});
    // Destroyed with batches pending and one failing: no hang, the error reaches the consumer.
    train::BatchLoader loader(dataset, 0, 50, 2, 3);
    std::string message;
    for (int step = 0; step < 50 && message.empty(); ++step) {
        try {
            loader.next();
        } catch (const InputError& e) {
            message = e.what();
        }
    }
    EXPECT_NE(message.find("broken.png"), std::string::npos) << message;
}

TEST(TrainLoss, BatchedGramMatchesPerImageGram) {
    const torch::Tensor features = torch::rand({3, 8, 5, 7});
    const torch::Tensor grams = train::batched_gram(features);
    for (int i = 0; i < 3; ++i) {
        const torch::Tensor f = features[i].reshape({8, 35});
        EXPECT_TRUE(torch::allclose(grams[i], torch::mm(f, f.t()) / 35.0, 1e-5, 1e-6));
    }
}

TEST_F(TrainFixture, TrainStyleLossFalls) {
    std::vector<TrainEvent> events;
    const TrainResult result = train_style_network(*synthetic_model(), style_options("falls", 20), recorder(events));
    ASSERT_EQ(events.size(), 20U);
    EXPECT_EQ(result.steps_done, 20);
    EXPECT_FALSE(result.cancelled);
    const std::vector<double> totals = totals_of(events);
    EXPECT_LT(mean(totals, 17, 3), 0.8 * mean(totals, 0, 3)) << totals.front() << " -> " << totals.back();
    const StyleModelFile file = read_style_model(result.output);
    EXPECT_EQ(file.kind, StyleModelKind::Transformer);
    EXPECT_EQ(file.card.iterations, 20);
    EXPECT_EQ(file.card.images_seen, 40);
    ASSERT_EQ(file.card.style_images.size(), 1U);
    EXPECT_EQ(file.card.style_images[0].name, "style");
    EXPECT_EQ(file.card.style_images[0].sha256.size(), 64U);
    EXPECT_NE(file.card.hardware.find("fp32"), std::string::npos);
    EXPECT_NE(file.card.training_data.find("4 images"), std::string::npos) << file.card.training_data;
    EXPECT_NE(file.config.find("style_names"), std::string::npos);
    EXPECT_GT(file.card.final_losses.count("style"), 0U);
}

TEST_F(TrainFixture, TrainStyleResumedRunEqualsStraightRun) {
    TrainStyleOptions straight = style_options("straight", 12);
    straight.styles = {style_, style2_}; // two styles: the cycle must resume at the right one
    train_style_network(*synthetic_model(), straight);
    // Interrupted after 6 of its 12 steps (the learning-rate schedule spans the 12), then resumed.
    TrainStyleOptions split = style_options("split", 12);
    split.styles = straight.styles;
    const TrainResult interrupted = train_style_network(*synthetic_model(), split,
                                                        [](const TrainEvent& event) { return event.step < 6; });
    ASSERT_TRUE(interrupted.cancelled);
    ASSERT_EQ(interrupted.steps_done, 6);
    split.common.resume = true;
    std::vector<TrainEvent> events;
    const TrainResult resumed = train_style_network(*synthetic_model(), split, recorder(events));
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.front().step, 7);
    EXPECT_EQ(resumed.steps_done, 12);

    // Same numbers in the same order on the same threads: bit for bit (stored as fp16 in the file).
    const StyleModelFile a = read_style_model(straight.common.output);
    const StyleModelFile b = read_style_model(resumed.output);
    ASSERT_EQ(a.tensors.size(), b.tensors.size());
    for (const auto& [name, tensor] : a.tensors) {
        EXPECT_EQ(tensor.bytes, b.tensors.at(name).bytes) << name;
    }
    EXPECT_EQ(b.card.iterations, 12);
    // And the float32 parameters in the checkpoints.
    nn::TransformerNetConfig config;
    config.width = 0.25;
    config.styles = 2;
    nn::TransformerNet net(config);
    torch::serialize::InputArchive ckpt_a;
    torch::serialize::InputArchive ckpt_b;
    ckpt_a.load_from(train::checkpoint_path(straight.common.output, {}).string());
    ckpt_b.load_from(train::checkpoint_path(split.common.output, {}).string());
    torch::serialize::InputArchive model_a;
    torch::serialize::InputArchive model_b;
    ckpt_a.read("model", model_a);
    ckpt_b.read("model", model_b);
    for (const auto& item : net->named_parameters()) {
        torch::Tensor pa;
        torch::Tensor pb;
        model_a.read(item.key(), pa);
        model_b.read(item.key(), pb);
        EXPECT_TRUE(torch::equal(pa, pb)) << item.key() << " max diff " << (pa - pb).abs().max().item<double>();
    }
}

TEST_F(TrainFixture, TrainStyleAddedStyleChangesOnlyItsNormRows) {
    const TrainResult base = train_style_network(*synthetic_model(), style_options("base", 3));
    TrainStyleOptions added = style_options("added", 4);
    added.base_model = base.output;
    added.styles = {style2_};
    train_style_network(*synthetic_model(), added);

    const StyleModelFile before = read_style_model(base.output);
    const StyleModelFile after = read_style_model(added.common.output);
    EXPECT_NE(after.config.find("other_style"), std::string::npos) << after.config;
    ASSERT_EQ(after.card.style_images.size(), 2U);
    int norm_tables = 0;
    int changed_new_rows = 0;
    for (const auto& [name, tensor] : before.tensors) {
        const RawTensor& later = after.tensors.at(name);
        const bool norm = tensor.shape.size() == 2 && tensor.shape[0] == 1 && later.shape[0] == 2;
        if (!norm) {
            EXPECT_EQ(tensor.bytes, later.bytes) << name << " changed";
            continue;
        }
        ++norm_tables;
        const std::vector<float> old_rows = tensor_values(before, name);
        const std::vector<float> new_rows = tensor_values(after, name);
        const std::size_t width = old_rows.size();
        EXPECT_TRUE(std::equal(old_rows.begin(), old_rows.end(), new_rows.begin())) << name << " row 0 changed";
        changed_new_rows += std::equal(old_rows.begin(), old_rows.end(), new_rows.begin() + width) ? 0 : 1;
    }
    EXPECT_GT(norm_tables, 0);
    EXPECT_GT(changed_new_rows, 0) << "the new style's rows did not train";
}

TEST_F(TrainFixture, TrainCheckpointWithOtherOptionsIsRefused) {
    TrainStyleOptions options = style_options("ckpt", 2);
    train_style_network(*synthetic_model(), options);
    options.common.resume = true;
    options.common.steps = 4;
    options.common.batch = 3;
    options.content_weight = 2;
    const std::string message = error_of([&] { train_style_network(*synthetic_model(), options); });
    EXPECT_NE(message.find("batch: 2 in the checkpoint, 3 now"), std::string::npos) << message;
    EXPECT_NE(message.find("content_weight"), std::string::npos) << message;

    options.common.output = dir_ / "never.impasto";
    EXPECT_NE(error_of([&] { train_style_network(*synthetic_model(), options); }).find("no checkpoint"),
              std::string::npos);
}

TEST_F(TrainFixture, TrainCancelWritesModelAndCheckpoint) {
    TrainStyleOptions options = style_options("cancel", 10);
    options.common.preview_every = 2;
    int previews = 0;
    const TrainResult result = train_style_network(*synthetic_model(), options, [&](const TrainEvent& event) {
        if (event.preview != nullptr) {
            ++previews;
            EXPECT_EQ(event.preview->width, 64);
        }
        return event.step < 3;
    });
    EXPECT_TRUE(result.cancelled);
    EXPECT_EQ(result.steps_done, 3);
    EXPECT_EQ(previews, 1);
    EXPECT_TRUE(fs::exists(options.common.output));
    EXPECT_TRUE(fs::exists(train::checkpoint_path(options.common.output, {})));
    EXPECT_EQ(read_style_model(options.common.output).card.iterations, 3);
    options.common.resume = true;
    options.common.preview_every = 0;
    EXPECT_EQ(train_style_network(*synthetic_model(), options).steps_done, 10);
}

TEST_F(TrainFixture, TrainDecoderLossFalls) {
    TrainDecoderOptions options;
    options.common = common("decoder", 20);
    options.level = "relu2_1";
    std::vector<TrainEvent> events;
    const TrainResult result = train_decoder(*synthetic_model(), options, recorder(events));
    ASSERT_EQ(events.size(), 20U);
    const std::vector<double> totals = totals_of(events);
    EXPECT_LT(mean(totals, 17, 3), 0.8 * mean(totals, 0, 3)) << totals.front() << " -> " << totals.back();
    const StyleModelFile file = read_style_model(result.output);
    EXPECT_EQ(file.kind, StyleModelKind::Decoder);
    EXPECT_NE(file.config.find("\"level\":\"relu2_1\""), std::string::npos) << file.config;
    EXPECT_NE(file.config.find("synthetic"), std::string::npos) << file.config;
    EXPECT_GT(file.card.final_losses.count("pixel"), 0U);
}

TEST_F(TrainFixture, TrainOptionsNameTheBadField) {
    TrainStyleOptions options = style_options("bad", 2);
    options.width = 9;
    EXPECT_NE(error_of([&] { options.validate(); }).find("width = 9"), std::string::npos);
    options = style_options("bad", 2);
    options.common.precision = Precision::Fp16;
    EXPECT_NE(error_of([&] { options.validate(); }).find("precision"), std::string::npos);
    TrainDecoderOptions decoder;
    decoder.common = common("bad", 2);
    decoder.common.crop = 60;
    decoder.level = "relu4_1";
    EXPECT_NE(error_of([&] { decoder.validate(); }).find("multiple of 8"), std::string::npos);
    decoder.level = "relu4_2";
    EXPECT_NE(error_of([&] { decoder.validate(); }).find("relu4_2"), std::string::npos);
    options = style_options("bad", 2);
    options.common.output = dir_ / "missing" / "m.impasto";
    EXPECT_NE(error_of([&] { check_training_inputs(options); }).find("does not exist"), std::string::npos);
}
