// Training StyleBank networks on synthetic VGG weights and photos: the branches alternate and each
// step moves only what its branch trains, a resumed run equals a straight one, adding banks leaves
// the auto-encoder and the old banks bit for bit, and bad options name the field.
#include "engine_fixtures.h"
#include "impasto/error.h"
#include "impasto/style_model_file.h"
#include "impasto/train.h"
#include "nn/stylebank.h"
#include "testutil.h"
#include "train/checkpoint.h"
#include "train/train_common.h"

#include <gtest/gtest.h>

using namespace impasto;
using impasto::testing::error_of;
using impasto::testing::synthetic_image;
using impasto::testing::TempDir;
namespace fs = std::filesystem;

namespace {

std::shared_ptr<const FeatureModel> synthetic_model() {
    static const auto model = FeatureModel::create(impasto::testing::synthetic_vgg19_weights(), Device{});
    return model;
}

class StyleBankTrain : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::create_directories(data_);
        save_image(synthetic_image(60, 44, 0), data_ / "a.png");
        save_image(synthetic_image(44, 70, 1), data_ / "b.jpg");
        save_image(synthetic_image(50, 50, 2), data_ / "c.png");
        save_image(synthetic_image(48, 48, 5), style_a_);
        save_image(synthetic_image(48, 48, 6), style_b_);
        save_image(synthetic_image(48, 48, 7), style_c_);
    }

    TrainStyleBankOptions options(const std::string& name, int steps) const {
        TrainStyleBankOptions o;
        o.style.common.data = {data_};
        o.style.common.output = dir_ / (name + ".impasto");
        o.style.common.steps = steps;
        o.style.common.batch = 1;
        o.style.common.crop = 32;
        o.style.common.learning_rate = 1e-2;
        o.style.common.seed = 3;
        o.style.common.checkpoint_every = 0;
        o.style.common.event_every = 1;
        o.style.common.loader_threads = 1;
        o.style.styles = {style_a_, style_b_};
        o.style.width = 0.25;
        o.style.style_size = 32;
        o.bank_layers = 2;
        return o;
    }

    // The float32 parameters a checkpoint holds.
    static std::map<std::string, torch::Tensor> checkpoint_parameters(const fs::path& output) {
        torch::serialize::InputArchive archive;
        archive.load_from(train::checkpoint_path(output, {}).string());
        torch::serialize::InputArchive model;
        archive.read("model", model);
        std::map<std::string, torch::Tensor> out;
        for (const std::string& key : model.keys()) {
            torch::Tensor value;
            model.read(key, value);
            out[key] = value;
        }
        return out;
    }

    TempDir dir_;
    fs::path data_ = dir_ / "data";
    fs::path style_a_ = dir_ / "style_a.png";
    fs::path style_b_ = dir_ / "style_b.png";
    fs::path style_c_ = dir_ / "style_c.png";
};

bool starts_with(const std::string& text, const std::string& prefix) {
    return text.rfind(prefix, 0) == 0;
}

// Which groups of parameters differ between two checkpoints: "encoder", "decoder", "bank0", ...
std::set<std::string> changed_groups(const std::map<std::string, torch::Tensor>& a,
                                     const std::map<std::string, torch::Tensor>& b) {
    std::set<std::string> changed;
    for (const auto& [name, tensor] : a) {
        if (!torch::equal(tensor, b.at(name))) {
            changed.insert(name.substr(0, name.find('.')));
        }
    }
    return changed;
}

} // namespace

TEST_F(StyleBankTrain, EachStepMovesOnlyWhatItsBranchTrains) {
    // T = 2 and two styles: step 1 trains bank0, step 2 bank1, step 3 the auto-encoder, step 4 bank0.
    // One session (a resumed one would start without gradients), a checkpoint after every step.
    std::vector<std::map<std::string, torch::Tensor>> after;
    TrainStyleBankOptions o = options("branches", 4);
    o.style.common.checkpoint_every = 1;
    train_stylebank(*synthetic_model(), o, [&](const TrainEvent& event) {
        EXPECT_TRUE(event.checkpointed);
        after.push_back(checkpoint_parameters(o.style.common.output));
        return true;
    });
    ASSERT_EQ(after.size(), 4U);
    using Groups = std::set<std::string>;
    EXPECT_EQ(changed_groups(after[0], after[1]), (Groups{"encoder", "bank1", "decoder"}));
    EXPECT_EQ(changed_groups(after[1], after[2]), (Groups{"encoder", "decoder"}));
    // bank0 moves again only now, by its own gradient: a zeroed gradient would have moved it at every
    // step through Adam's momentum.
    EXPECT_EQ(changed_groups(after[2], after[3]), (Groups{"encoder", "bank0", "decoder"}));
}

TEST_F(StyleBankTrain, TheFirstAutoEncoderStepIsAFreshAdamStep) {
    // The auto-encoder branch has Adam moments of its own, so its first step (the third, T = 2) moves
    // every encoder and decoder weight by the learning rate, whatever the stylising steps before did:
    // with moments shared with the stylising branch, its larger gradients and their momentum would
    // set the size and direction of the step instead.
    std::vector<std::map<std::string, torch::Tensor>> snapshots;
    TrainStyleBankOptions o = options("fresh", 3);
    o.style.styles = {style_a_};
    o.style.common.schedule = LearningRateSchedule::Constant;
    o.style.common.checkpoint_every = 1;
    train_stylebank(*synthetic_model(), o, [&](const TrainEvent&) {
        snapshots.push_back(checkpoint_parameters(o.style.common.output));
        return true;
    });
    ASSERT_EQ(snapshots.size(), 3U);
    const double rate = o.style.common.learning_rate;
    std::int64_t moved = 0;
    std::int64_t by_the_rate = 0;
    for (const auto& [name, before] : snapshots[1]) {
        if (starts_with(name, "bank")) {
            EXPECT_TRUE(torch::equal(before, snapshots[2].at(name))) << name;
            continue;
        }
        const torch::Tensor step = (snapshots[2].at(name) - before).abs();
        moved += (step > 0).sum().item<std::int64_t>();
        // Adam's first step is lr * g / (|g| + 1e-8): the rate, but for gradients near epsilon.
        by_the_rate += ((step - rate).abs() < 1e-3 * rate).sum().item<std::int64_t>();
    }
    ASSERT_GT(moved, 1000);
    EXPECT_GT(static_cast<double>(by_the_rate), 0.95 * static_cast<double>(moved)) << by_the_rate << " of " << moved;
}

TEST_F(StyleBankTrain, LossesFallAndTheCardIsComplete) {
    std::vector<TrainEvent> events;
    TrainStyleBankOptions o = options("falls", 24);
    o.style.styles = {style_a_};
    const TrainResult result = train_stylebank(*synthetic_model(), o, [&](const TrainEvent& event) {
        events.push_back(event);
        events.back().preview = nullptr;
        return true;
    });
    ASSERT_EQ(events.size(), 24U);
    for (const TrainEvent& event : events) {
        for (const char* term : {"content", "style", "tv", "identity", "total"}) {
            EXPECT_EQ(event.losses.count(term), 1U) << term << " at step " << event.step;
        }
    }
    const auto mean_of = [&](const char* term, std::size_t from) {
        double sum = 0;
        for (std::size_t i = from; i < from + 4; ++i) {
            sum += events[i].losses.at(term);
        }
        return sum / 4;
    };
    EXPECT_LT(mean_of("style", 20), 0.8 * mean_of("style", 0));
    EXPECT_LT(mean_of("identity", 20), mean_of("identity", 0));
    const StyleModelFile file = read_style_model(result.output);
    EXPECT_EQ(file.kind, StyleModelKind::StyleBank);
    EXPECT_EQ(file.card.iterations, 24);
    ASSERT_EQ(file.card.style_images.size(), 1U);
    EXPECT_EQ(file.card.style_images[0].name, "style_a");
    EXPECT_EQ(file.card.final_losses.count("identity"), 1U);
    EXPECT_NE(file.card.training_options.find("\"stylise_steps\":2"), std::string::npos) << file.card.training_options;
    EXPECT_FALSE(file.card.hardware.empty());
    ASSERT_EQ(file.card.stretches.size(), 1U);
    EXPECT_EQ(file.card.stretches[0].last_step, 24);
    EXPECT_NE(file.config.find("\"bank_layers\":2"), std::string::npos) << file.config;
}

TEST_F(StyleBankTrain, ResumedRunEqualsStraightRun) {
    train_stylebank(*synthetic_model(), options("straight", 7));
    // Interrupted after 4 of its 7 steps (any learning-rate schedule spans the 7), then resumed:
    // the cycle of branches and styles must continue where it stopped, Adam state included.
    TrainStyleBankOptions split = options("split", 7);
    const TrainResult interrupted =
        train_stylebank(*synthetic_model(), split, [](const TrainEvent& event) { return event.step < 4; });
    ASSERT_TRUE(interrupted.cancelled);
    ASSERT_EQ(interrupted.steps_done, 4);
    split.style.common.resume = true;
    train_stylebank(*synthetic_model(), split);
    const StyleModelFile a = read_style_model(dir_ / "straight.impasto");
    const StyleModelFile b = read_style_model(dir_ / "split.impasto");
    ASSERT_EQ(a.tensors.size(), b.tensors.size());
    for (const auto& [name, tensor] : a.tensors) {
        EXPECT_EQ(tensor.bytes, b.tensors.at(name).bytes) << name;
    }
    EXPECT_EQ(b.card.iterations, 7);
}

TEST_F(StyleBankTrain, AddingABankFreezesEverythingElse) {
    const TrainResult base = train_stylebank(*synthetic_model(), options("base", 3));
    TrainStyleBankOptions added = options("added", 3);
    added.style.base_model = base.output;
    added.style.styles = {style_c_};
    added.bank_layers = 5; // ignored: the base's architecture applies
    added.style.width = 1.0;
    train_stylebank(*synthetic_model(), added);

    const StyleModelFile before = read_style_model(base.output);
    const StyleModelFile after = read_style_model(added.style.common.output);
    ASSERT_EQ(after.card.style_images.size(), 3U);
    EXPECT_EQ(after.card.style_images[2].name, "style_c");
    EXPECT_EQ(after.card.iterations, 3);
    EXPECT_NE(after.card.notes.find("base.impasto"), std::string::npos) << after.card.notes;
    for (const auto& [name, tensor] : before.tensors) {
        EXPECT_EQ(tensor.bytes, after.tensors.at(name).bytes) << name << " changed";
    }
    // The new bank trained: it is not what adding it (same seed) starts from.
    nn::StyleBankNet fresh = nn::load_stylebank_net(before);
    train::with_seeded_init(3, [&] {
        fresh->add_banks(1);
        return 0;
    });
    write_style_model(dir_ / "fresh.impasto", nn::make_stylebank_model_file(*fresh, {"a", "b", "c"}, ModelCard{}));
    const TensorMap start = read_style_model(dir_ / "fresh.impasto").tensors; // fp16, as the trained file
    int new_tensors = 0;
    int trained = 0;
    for (const auto& [name, tensor] : after.tensors) {
        if (starts_with(name, "bank2.")) {
            ++new_tensors;
            trained += start.at(name).bytes == tensor.bytes ? 0 : 1;
        }
    }
    EXPECT_EQ(new_tensors, 6); // 2 layers of (conv weight, gamma, beta), as the base's banks
    EXPECT_GT(trained, 0);
}

TEST_F(StyleBankTrain, OptionsAndInputsNameTheProblem) {
    TrainStyleBankOptions o = options("bad", 2);
    o.bank_layers = 9;
    EXPECT_NE(error_of([&] { o.validate(); }).find("bank_layers = 9"), std::string::npos);
    o = options("bad", 2);
    o.stylise_steps = 0;
    EXPECT_NE(error_of([&] { o.validate(); }).find("stylise_steps = 0"), std::string::npos);
    o = options("bad", 2);
    o.identity_weight = 0;
    EXPECT_NE(error_of([&] { o.validate(); }).find("identity_weight"), std::string::npos);
    o = options("bad", 2);
    o.style.width = 9;
    EXPECT_NE(error_of([&] { o.validate(); }).find("width = 9"), std::string::npos);
    o = options("bad", 2);
    o.style.base_model = dir_ / "x.impasto";
    o.style.common.init_model = dir_ / "y.impasto";
    EXPECT_THROW(o.validate(), ConfigError);
    // A base that is not a stylebank model.
    StyleModelFile decoder;
    decoder.kind = StyleModelKind::Decoder;
    decoder.tensors["w"] = RawTensor::from_float({1}, {1.0F});
    write_style_model(dir_ / "decoder.impasto", decoder);
    o = options("bad", 2);
    o.style.base_model = dir_ / "decoder.impasto";
    EXPECT_NE(error_of([&] { check_training_inputs(o); }).find("stylebank"), std::string::npos);
    EXPECT_THROW(train_stylebank(*synthetic_model(), o), InputError);
}
