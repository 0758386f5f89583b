// `impasto train stylebank` and StyleBank models in `impasto stylize --model` and `impasto models`,
// end to end: mistakes are one error line before the weights load; with the real weights, a tiny
// model trains on synthetic photos, stylises with weights and masks, and takes a new bank (--base).
#include "e2e_util.h"
#include "impasto/style_model_file.h"

#include <nlohmann/json.hpp>

namespace impasto::e2e {
namespace {

constexpr int kConfigOrInput = 2;

class CliStyleBank : public ::testing::Test {
  protected:
    void SetUp() override {
        for (const fs::path& dir : {data_, out_, scratch_, no_weights_}) {
            fs::create_directories(dir);
        }
        write_synthetic(data_ / "a.png", 72, 56, 1);
        write_synthetic(data_ / "b.jpg", 60, 80, 2);
        write_synthetic(style_a_, 48, 48, 4);
        write_synthetic(style_b_, 48, 48, 5);
        write_synthetic(style_c_, 48, 48, 6);
        write_synthetic(content_, 61, 45, 7);
        write_mask(left_, 30, 20, true);
        write_mask(right_, 30, 20, false);
    }
    static void write_mask(const fs::path& file, int width, int height, bool left) {
        cv::Mat mask(height, width, CV_8UC3, cv::Scalar(0, 0, 0));
        mask(cv::Rect(left ? 0 : width / 2, 0, width / 2, height)).setTo(cv::Scalar(255, 255, 255));
        cv::imwrite(file.string(), mask);
    }
    std::string q(const fs::path& path) const { return shell_quote(path.string()); }
    CliRun run(const std::string& args) { return run_cli(args, scratch_); }
    // `impasto train stylebank ARGS` with no weights installed: only mistakes found before they load.
    CliRun train_without_weights(const std::string& args) {
        return run_cli("--weights-dir " + q(no_weights_) + " train stylebank " + args, scratch_);
    }
    std::string basic(const fs::path& output) const {
        return "--style " + q(style_a_) + " --style " + q(style_b_) + " --data " + q(data_) + " -o " + q(output);
    }

    TempDir dir_;
    fs::path data_ = dir_ / "data";
    fs::path out_ = dir_ / "out";
    fs::path scratch_ = dir_ / "scratch";
    fs::path no_weights_ = dir_ / "no-weights";
    fs::path style_a_ = dir_ / "alpha.png";
    fs::path style_b_ = dir_ / "beta.png";
    fs::path style_c_ = dir_ / "gamma.png";
    fs::path content_ = dir_ / "content.png";
    fs::path left_ = dir_ / "left.png";
    fs::path right_ = dir_ / "right.png";
    fs::path model_ = out_ / "bank.impasto";
};

TEST_F(CliStyleBank, MistakesAreOneLineBeforeTheWeightsLoad) {
    expect_one_line_error(train_without_weights(basic(model_) + " --bank-layers 9"), kConfigOrInput, "bank_layers = 9");
    expect_one_line_error(train_without_weights(basic(model_) + " --stylise-steps 0"), kConfigOrInput,
                          "stylise_steps = 0");
    expect_one_line_error(train_without_weights(basic(model_) + " --identity-weight 0"), kConfigOrInput,
                          "identity_weight");
    expect_one_line_error(train_without_weights(basic(model_) + " --base " + q(dir_ / "nowhere.impasto")),
                          kConfigOrInput, "nowhere.impasto");
    // A base of another kind: a transformer network (from the committed models) cannot take banks.
    const fs::path transformer = fs::path(IMPASTO_SOURCE_DIR) / "models" / "starry_night.impasto";
    if (fs::exists(transformer)) {
        expect_one_line_error(train_without_weights(basic(model_) + " --base " + q(transformer)), kConfigOrInput,
                              "banks can only be added to a stylebank model");
        // ... and masks are for stylebank models only.
        expect_one_line_error(run("stylize " + q(content_) + " --model " + q(transformer) + " --mask " + q(left_) +
                                  " -o " + q(out_ / "x.png")),
                              kConfigOrInput, "needs a stylebank model");
    }
    // Good inputs, no weights: the weights are the first thing missing.
    expect_one_line_error(train_without_weights(basic(model_)), 3, "vgg19");
    EXPECT_TRUE(list_dir(out_).empty()) << joined(list_dir(out_));
}

TEST_F(CliStyleBank, HelpShowsTheBankOptions) {
    const CliRun help = run("train stylebank --help");
    ASSERT_EQ(help.exit_code, 0) << help.err;
    for (const char* text : {"--bank-layers", "--stylise-steps", "--identity-weight", "--base", "[default: 3]",
                             "[default: 2]", "--init", "--resume"}) {
        EXPECT_NE(help.out.find(text), std::string::npos) << text << " missing in:\n" << help.out;
    }
}

// ---- real runs (need the installed VGG19 weights) ----

constexpr const char* kTiny =
    " --crop 32 --batch 1 --width 0.25 --bank-layers 2 --style-size 32 --threads 1 --precision fp32 -q";

TEST_F(CliStyleBank, RealTrainStylizeAndAddABank) {
    IMPASTO_REQUIRE_WEIGHTS();
    CliRun trained = run("train stylebank " + basic(model_) + kTiny + " --steps 4");
    ASSERT_EQ(trained.exit_code, 0) << trained.err;
    const StyleModelFile model = read_style_model(model_);
    EXPECT_EQ(model.kind, StyleModelKind::StyleBank);
    EXPECT_EQ(model.card.iterations, 4);
    EXPECT_EQ(model.card.style_images.size(), 2U);

    // Listed and described as a stylebank model.
    const CliRun list = run("models list --dir " + q(out_));
    ASSERT_EQ(list.exit_code, 0) << list.err;
    EXPECT_NE(list.out.find("stylebank"), std::string::npos) << list.out;
    EXPECT_NE(list.out.find("2 banks"), std::string::npos) << list.out;
    const CliRun show = run("models show " + q(model_));
    ASSERT_EQ(show.exit_code, 0) << show.err;
    const auto described = nlohmann::json::parse(show.out);
    EXPECT_EQ(described.at("kind"), "stylebank");
    EXPECT_EQ(described.at("config").at("style_names"), (nlohmann::json{"alpha", "beta"}));

    // Stylised with one bank, a mix, and masks (at another size than the photo).
    for (const std::string& extra :
         {std::string(), std::string(" --style-weights 1,3"), " --mask " + q(left_) + " --mask " + q(right_)}) {
        const fs::path output = out_ / "styled.png";
        const CliRun styled =
            run("stylize " + q(content_) + " --model " + q(model_) + extra + " -o " + q(output) + " -q");
        ASSERT_EQ(styled.exit_code, 0) << extra << ": " << styled.err;
        const cv::Mat image = cv::imread(output.string());
        EXPECT_EQ(image.cols, 61);
        EXPECT_EQ(image.rows, 45);
        const auto sidecar = nlohmann::json::parse(read_text(out_ / "styled.json"));
        EXPECT_EQ(sidecar.at("kind"), "stylebank");
    }
    expect_one_line_error(
        run("stylize " + q(content_) + " --model " + q(model_) + " --mask " + q(left_) + " -o " + q(out_ / "x.png")),
        kConfigOrInput, "--mask was given 1 times for a model of 2 styles");
    expect_one_line_error(
        run("stylize " + q(content_) + " --model " + q(model_) + " --style-weights 1,1,1 -o " + q(out_ / "x.png")),
        kConfigOrInput, "style weights");

    // A third bank, trained alone: the first two and the auto-encoder stay as they were.
    const fs::path added = out_ / "added.impasto";
    const CliRun add = run("train stylebank --base " + q(model_) + " --style " + q(style_c_) + " --data " + q(data_) +
                           " -o " + q(added) + kTiny + " --steps 2");
    ASSERT_EQ(add.exit_code, 0) << add.err;
    const StyleModelFile grown = read_style_model(added);
    ASSERT_EQ(grown.card.style_images.size(), 3U);
    EXPECT_EQ(grown.card.style_images[2].name, "gamma");
    for (const auto& [name, tensor] : model.tensors) {
        EXPECT_EQ(tensor.bytes, grown.tensors.at(name).bytes) << name;
    }
    const CliRun third = run("stylize " + q(content_) + " --model " + q(added) + " --style-weights 0,0,1 -o " +
                             q(out_ / "third.png") + " -q");
    EXPECT_EQ(third.exit_code, 0) << third.err;
}

} // namespace
} // namespace impasto::e2e
