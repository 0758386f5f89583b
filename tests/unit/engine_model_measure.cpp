// `models measure` in the library, on synthetic VGG weights, random networks and synthetic images:
// the figures are the computations they claim to be, they land in the card with the tensors left
// bit for bit, optimisation references are shared, and cancellation, changed files and missing
// style images are handled. These check the machinery, not the look.
#include "engine_fixtures.h"
#include "impasto/arbitrary_style.h"
#include "impasto/error.h"
#include "impasto/image_metrics.h"
#include "impasto/model_measure.h"
#include "impasto/safetensors.h"
#include "io/sha256.h"
#include "nn/transformer_net.h"
#include "nn/vgg_decoder.h"
#include "testutil.h"
#include "train/measure_inputs.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace impasto;
namespace fs = std::filesystem;

namespace {

using impasto::testing::TempDir;

std::shared_ptr<const FeatureModel> vgg() {
    static const auto model = FeatureModel::create(impasto::testing::synthetic_vgg19_weights(), Device{});
    return model;
}

StyleModelFile decoder_file() {
    torch::manual_seed(3);
    nn::VggDecoder decoder("relu1_1");
    StyleModelFile file;
    file.kind = StyleModelKind::Decoder;
    file.config = R"({"level": "relu1_1", "encoder": "vgg19"})";
    file.card.training_options = R"({"data": ["/somewhere/else/photos/style"]})"; // names the "style" folder
    file.tensors = decoder->export_tensors();
    return file;
}

StyleModelFile transformer_file(const std::vector<StyleImageRecord>& styles, const std::string& data) {
    torch::manual_seed(5);
    nn::TransformerNetConfig config;
    config.width = 0.125;
    config.styles = static_cast<int>(styles.size());
    config.residual_blocks = 1;
    nn::TransformerNet net(config);
    net->eval();
    std::vector<std::string> names;
    for (const auto& style : styles) {
        names.push_back(style.name);
    }
    ModelCard card;
    card.style_images = styles;
    card.training_options = nlohmann::json{{"data", {data}}}.dump();
    return nn::make_transformer_model_file(*net, names, card);
}

std::string data_section(const fs::path& file) {
    const std::string bytes = read_file_bytes(file);
    std::uint64_t header = 0;
    std::memcpy(&header, bytes.data(), 8);
    return bytes.substr(8 + header);
}

Image as_8_bit(Image image) {
    for (float& v : image.rgb) {
        v = std::nearbyint(std::clamp(v * 255.0F, 0.0F, 255.0F)) * static_cast<float>(1.0 / 255.0);
    }
    return image;
}

class Measure : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::create_directories(dir_ / "images" / "style");
        fs::create_directories(dir_ / "images" / "content");
        fs::create_directories(dir_ / "styles");
        save_image(impasto::testing::synthetic_image(45, 38, 1), dir_ / "images" / "style" / "a.png");
        save_image(impasto::testing::synthetic_image(40, 40, 2), dir_ / "images" / "content" / "b.png");
        save_image(impasto::testing::synthetic_image(44, 44, 3), dir_ / "images" / "content" / "c.png");
        save_image(impasto::testing::synthetic_image(36, 36, 4), dir_ / "styles" / "wave.png");
        save_image(impasto::testing::synthetic_image(38, 38, 5), dir_ / "styles" / "swirl.png");
        options_.shared_dir = dir_.path();
        options_.size = 64;
    }
    StyleImageRecord record(const std::string& name) const {
        return {name, io::sha256_file_hex(dir_ / "styles" / (name + ".png"))};
    }

    TempDir dir_;
    MeasureOptions options_;
};

TEST_F(Measure, DecoderPsnrIsStylizeThenEvaluateAndLandsInTheCard) {
    const fs::path model = dir_ / "decoder.impasto";
    write_style_model(model, decoder_file(), DType::Float32);
    const std::string tensors_before = data_section(model);
    std::vector<MeasureStage> stages;
    const auto results = measure_models(*vgg(), {model}, options_, [&](const MeasureEvent& event) {
        stages.push_back(event.stage);
        EXPECT_EQ(event.kind, StyleModelKind::Decoder);
        return true;
    });
    ASSERT_EQ(results.size(), 1U);
    EXPECT_TRUE(results[0].written);
    EXPECT_FALSE(results[0].cancelled);
    const ModelQuality& quality = results[0].quality;
    ASSERT_EQ(quality.rows.size(), 3U); // the default images: images/style then images/content
    EXPECT_EQ(stages.front(), MeasureStage::Model);
    EXPECT_EQ(stages.back(), MeasureStage::Finished);
    EXPECT_EQ(std::count(stages.begin(), stages.end(), MeasureStage::Row), 3);

    // Each row is `stylize x x --method adain --alpha 0 --levels relu1_1 --size 64`, written as 8
    // bits, then `evaluate --reference x`.
    const auto decoders = DecoderSet::from_files({decoder_file()}, Device{});
    ArbitraryOptions arbitrary;
    arbitrary.alpha = 0;
    arbitrary.levels = {"relu1_1"};
    arbitrary.size = 64;
    double sum = 0;
    double worst = 1e9;
    for (const QualityRow& row : quality.rows) {
        const Image image = load_image(dir_ / "images" / row.group / row.image);
        const Image output = as_8_bit(stylize_arbitrary(*vgg(), *decoders, image, {{image, 1.0, {}}}, arbitrary));
        EXPECT_EQ(std::max(output.width, output.height), 64);
        const Fidelity expected = compare_images(output, resize_image(image, output.width, output.height));
        EXPECT_NEAR(row.figures.at("psnr_db"), std::min(expected.psnr_db, 100.0), 1e-9) << row.image;
        EXPECT_NEAR(row.figures.at("edge_ratio"), expected.edge_ratio, 1e-9) << row.image;
        // The card's training data names a folder "photos/style": only that last pair of names counts.
        EXPECT_FALSE(row.seen_in_training) << row.image;
        sum += row.figures.at("psnr_db");
        worst = std::min(worst, row.figures.at("psnr_db"));
    }
    EXPECT_NEAR(quality.figures.at("reconstruction_psnr_db"), sum / 3, 1e-9);
    EXPECT_EQ(quality.figures.at("reconstruction_psnr_db_worst"), worst);
    EXPECT_EQ(quality.figures.count("reconstruction_psnr_db_style"), 1U);
    EXPECT_EQ(quality.figures.count("reconstruction_psnr_db_content"), 1U);
    EXPECT_NE(quality.evaluation.find("1 style + 2 content images"), std::string::npos) << quality.evaluation;
    EXPECT_NE(quality.evaluation.find("none in the model's training data"), std::string::npos) << quality.evaluation;
    EXPECT_EQ(quality.size, 64);
    EXPECT_EQ(quality.precision, "fp32");

    // Written into the card, the tensors bit for bit as they were.
    const StyleModelFile back = read_style_model(model);
    ASSERT_TRUE(back.card.quality.has_value());
    EXPECT_EQ(back.card.quality->figures, quality.figures);
    EXPECT_EQ(back.card.quality->tensors_sha256, tensors_sha256(back.tensors));
    EXPECT_EQ(data_section(model), tensors_before);
}

TEST_F(Measure, ADecoderTrainedOnAPaintingMarksItSeenByItsBytes) {
    // A decoder trained with the AdaIN objective records its paintings (name and sha256) in the card;
    // a copy of one anywhere else is still the same image.
    fs::copy_file(dir_ / "images" / "style" / "a.png", dir_ / "styles" / "elsewhere.png");
    StyleModelFile file = decoder_file();
    file.card.style_images = {{"elsewhere", io::sha256_file_hex(dir_ / "styles" / "elsewhere.png")}};
    const fs::path model = dir_ / "adain-decoder.impasto";
    write_style_model(model, file, DType::Float32);
    const auto results = measure_models(*vgg(), {model}, options_, {});
    ASSERT_EQ(results.size(), 1U);
    for (const QualityRow& row : results[0].quality.rows) {
        EXPECT_EQ(row.seen_in_training, row.image == "a.png") << row.image;
    }
    EXPECT_NE(results[0].quality.evaluation.find("1 of 3 in the model's training data"), std::string::npos)
        << results[0].quality.evaluation;
}

TEST_F(Measure, StyleModelRatiosAgainstTheOptimisationSharedBetweenModels) {
    const fs::path one = dir_ / "one.impasto";
    const fs::path two = dir_ / "two.impasto";
    // Trained (so the card says) on images/content: the default photos are then "seen".
    write_style_model(one, transformer_file({record("wave")}, (dir_ / "images" / "content").string()));
    write_style_model(two, transformer_file({record("swirl"), record("wave")}, "/elsewhere/bsds500"));
    options_.style_dirs = {dir_ / "styles"};
    // 32 px, so that the optimisation references (200 L-BFGS iterations each) take seconds.
    options_.size = 32;
    int optimisations = 0;
    std::string last_label;
    const auto results = measure_models(*vgg(), {one, two}, options_, [&](const MeasureEvent& event) {
        if (event.stage == MeasureStage::Optimizing && event.label != last_label) {
            ++optimisations;
            last_label = event.label;
            EXPECT_NE(event.optimization, nullptr);
        }
        return true;
    });
    ASSERT_EQ(results.size(), 2U);
    // 2 photos: wave x 2 for the first model; swirl x 2 more for the second, whose wave rows reuse them.
    EXPECT_EQ(optimisations, 4);
    const ModelQuality& first = results[0].quality;
    ASSERT_EQ(first.rows.size(), 2U);
    for (const QualityRow& row : first.rows) {
        EXPECT_TRUE(row.seen_in_training) << row.image;
        EXPECT_EQ(row.style, "wave");
        EXPECT_NEAR(row.figures.at("style_loss_ratio"),
                    row.figures.at("style_loss") / row.figures.at("style_loss_optimisation"), 1e-12);
        EXPECT_NEAR(row.figures.at("content_loss_ratio"),
                    row.figures.at("content_loss") / row.figures.at("content_loss_optimisation"), 1e-12);
    }
    const double geometric =
        std::sqrt(first.rows[0].figures.at("style_loss_ratio") * first.rows[1].figures.at("style_loss_ratio"));
    EXPECT_NEAR(first.figures.at("style_loss_ratio"), geometric, 1e-9 * geometric);
    EXPECT_NE(first.evaluation.find("all 2 in the model's training data"), std::string::npos) << first.evaluation;
    EXPECT_NE(first.reference.find("default preset"), std::string::npos);

    const ModelQuality& second = results[1].quality;
    ASSERT_EQ(second.styles.size(), 2U);
    EXPECT_EQ(second.styles[0].name, "swirl");
    EXPECT_EQ(second.styles[1].name, "wave");
    ASSERT_EQ(second.rows.size(), 4U);
    EXPECT_FALSE(second.rows[0].seen_in_training);
    EXPECT_NE(second.evaluation.find("none in the model's training data"), std::string::npos) << second.evaluation;
    // The same reference for the same photo and style, whichever model asked for it.
    EXPECT_EQ(second.rows[2].figures.at("style_loss_optimisation"),
              first.rows[0].figures.at("style_loss_optimisation"));
    EXPECT_TRUE(read_style_model(two).card.quality.has_value());
    EXPECT_EQ(quality_summary(*read_style_model(one).card.quality).rfind("style ", 0), 0U);
}

TEST_F(Measure, CancelledOrChangedModelsAreNotWritten) {
    const fs::path model = dir_ / "decoder.impasto";
    write_style_model(model, decoder_file(), DType::Float32);
    const std::string before = read_file_bytes(model);
    const auto cancelled = measure_models(*vgg(), {model}, options_, [](const MeasureEvent& event) {
        return event.stage != MeasureStage::Row; // stop after the first image
    });
    ASSERT_EQ(cancelled.size(), 1U);
    EXPECT_TRUE(cancelled[0].cancelled);
    EXPECT_FALSE(cancelled[0].written);
    EXPECT_EQ(read_file_bytes(model), before);

    // Retrained under the measurement: the new tensors stay, the old figures do not land on them.
    StyleModelFile other = decoder_file();
    other.tensors.begin()->second.bytes[0] ^= 1U;
    bool replaced = false;
    EXPECT_THROW(measure_models(*vgg(), {model}, options_,
                                [&](const MeasureEvent& event) {
                                    if (event.stage == MeasureStage::Row && !replaced) {
                                        write_style_model(model, other, DType::Float32);
                                        replaced = true;
                                    }
                                    return true;
                                }),
                 OutputError);
    EXPECT_FALSE(read_style_model(model).card.quality.has_value());
    EXPECT_EQ(tensors_sha256(read_style_model(model).tensors), tensors_sha256(other.tensors));

    // --no-write: figures come back, the file stays.
    options_.write = false;
    const std::string unchanged = read_file_bytes(model);
    const auto dry = measure_models(*vgg(), {model}, options_);
    EXPECT_FALSE(dry[0].written);
    EXPECT_FALSE(dry[0].quality.figures.empty());
    EXPECT_EQ(read_file_bytes(model), unchanged);
}

TEST_F(Measure, StyleImagesMustMatchTheCardAndOptionsAreChecked) {
    const fs::path model = dir_ / "one.impasto";
    write_style_model(model, transformer_file({{"wave", std::string(64, 'c')}}, "/x/y"));
    options_.style_dirs = {dir_ / "styles"};
    try {
        measure_models(*vgg(), {model}, options_);
        FAIL() << "expected InputError";
    } catch (const InputError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("style 'wave'"), std::string::npos) << message;
        EXPECT_NE(message.find("another sha256"), std::string::npos) << message;
        EXPECT_NE(message.find(model.string()), std::string::npos) << message;
    }
    // A photo too narrow for VGG19 at the optimisation's first step: refused by name before any run.
    write_style_model(model, transformer_file({record("wave")}, "/x/y"));
    save_image(impasto::testing::synthetic_image(200, 20, 6), dir_ / "narrow.png");
    MeasureOptions narrow = options_;
    narrow.photos = {dir_ / "narrow.png"};
    try {
        measure_models(*vgg(), {model}, narrow);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("narrow.png"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("under the 16 px"), std::string::npos) << e.what();
    }
    write_style_model(model, transformer_file({{"nowhere", ""}}, "/x/y"));
    EXPECT_THROW(measure_models(*vgg(), {model}, options_), InputError);
    MeasureOptions small = options_;
    small.size = 16;
    EXPECT_THROW(measure_models(*vgg(), {model}, small), ConfigError);
    MeasureOptions nothing;
    EXPECT_THROW(measure_models(*vgg(), {dir_ / "decoder.impasto"}, nothing), InputError); // no such model
    write_style_model(dir_ / "decoder.impasto", decoder_file());
    EXPECT_THROW(measure_models(*vgg(), {dir_ / "decoder.impasto"}, nothing), ConfigError); // no images, no shared dir
}

TEST(MeasureInputs, TrainingDataMatchesByPathOrByTheLastTwoNames) {
    const std::vector<fs::path> folders{"/work/main/../shared/datasets/bsds500", "/other/machine/images/content"};
    EXPECT_TRUE(measure::in_training_data("/work/shared/datasets/bsds500/train/1.jpg", folders));
    EXPECT_TRUE(measure::in_training_data("/here/images/content/kodim01.png", folders));
    EXPECT_FALSE(measure::in_training_data("/here/images/style/udnie.jpg", folders));
    EXPECT_FALSE(measure::in_training_data("/here/content/kodim01.png", folders));
    ModelCard card;
    card.training_data = "datasets/bsds500, images/content (513 images)";
    const auto from_description = measure::training_folders(card);
    ASSERT_EQ(from_description.size(), 2U);
    EXPECT_EQ(from_description[1], "images/content");
    EXPECT_TRUE(measure::in_training_data("/a/images/content/x.png", from_description));
    card.training_options = R"({"data": ["/d/bsds500"]})";
    EXPECT_EQ(measure::training_folders(card), std::vector<fs::path>{"/d/bsds500"});
}

} // namespace
