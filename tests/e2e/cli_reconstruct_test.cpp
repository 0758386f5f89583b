// `impasto reconstruct content|style|features`, end to end: errors come before the weights load
// (one line, documented exit code, nothing written), and, with the real VGG19 weights installed,
// short runs at 64 px write every image with its sidecar.
#include "e2e_util.h"

#include <map>
#include <nlohmann/json.hpp>

namespace impasto::e2e {
namespace {

class CliReconstruct : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::create_directories(in_);
        fs::create_directories(scratch_);
        fs::create_directories(no_weights_);
        write_synthetic(photo_, 64, 48, 21);
        write_synthetic(painting_, 40, 56, 22);
    }
    // `impasto [--weights-dir EMPTY] reconstruct ARGS`.
    CliRun reconstruct(const std::string& args, bool real_weights = false) {
        const std::string weights = real_weights ? "" : "--weights-dir " + shell_quote(no_weights_.string()) + " ";
        return run_cli(weights + "reconstruct " + args, scratch_);
    }
    static std::string q(const fs::path& path) { return shell_quote(path.string()); }
    void expect_error(const CliRun& run, int code, const std::string& needle) {
        expect_one_line_error(run, code, needle);
        EXPECT_FALSE(fs::exists(out_)) << "left behind: " << joined(list_dir(out_));
    }
    static nlohmann::json json_of(const fs::path& file) { return nlohmann::json::parse(read_text(file)); }

    TempDir dir_;
    fs::path in_ = dir_ / "in";
    fs::path out_ = dir_ / "out";
    fs::path scratch_ = dir_ / "scratch";
    fs::path no_weights_ = dir_ / "no-weights";
    fs::path photo_ = in_ / "photo.png";
    fs::path painting_ = in_ / "painting.png";
};

TEST_F(CliReconstruct, HelpRendersForEverySubcommand) {
    const std::map<std::string, std::string> shows_default{
        {"content", "relu1_2,relu2_2,relu3_2,relu4_2,relu5_2"}, {"style", "growing"}, {"features", "relu3_1"}};
    for (const auto& [sub, needle] : shows_default) {
        SCOPED_TRACE(sub);
        const CliRun run = reconstruct(sub + " --help");
        EXPECT_EQ(run.exit_code, 0) << run.err;
        for (const std::string& expected : {std::string("--output"), std::string("--size"), needle}) {
            EXPECT_NE(run.out.find(expected), std::string::npos) << expected << " missing from:\n" << run.out;
        }
    }
}

TEST_F(CliReconstruct, MissingImageIsAnInputError) {
    const fs::path missing = in_ / "missing.jpg";
    expect_error(reconstruct("content " + q(missing) + " -o " + q(out_)), 2, "missing.jpg");
    expect_error(reconstruct("style " + q(missing) + " -o " + q(out_)), 2, "missing.jpg");
    expect_error(reconstruct("features " + q(missing) + " -o " + q(out_ / "f.png")), 4, "out");
}

TEST_F(CliReconstruct, UnknownLayersAndBadValuesAreConfigErrors) {
    expect_error(reconstruct("content " + q(photo_) + " --layers relu1_2,relu9_9 -o " + q(out_)), 2, "relu9_9");
    expect_error(reconstruct("style " + q(painting_) + " --sets relu1_1,relu1_1+conv9_1 -o " + q(out_)), 2, "conv9_1");
    expect_error(reconstruct("style " + q(painting_) + " --sets relu1_1++relu2_1 -o " + q(out_)), 2,
                 "relu1_1++relu2_1");
    expect_error(reconstruct("content " + q(photo_) + " --iterations 0 -o " + q(out_)), 2, "iterations");
    expect_error(reconstruct("content " + q(photo_) + " --pooling median -o " + q(out_)), 2, "median");
    fs::create_directories(out_);
    const CliRun run = reconstruct("features " + q(photo_) + " --layer relu9_9 -o " + q(out_ / "f.png"));
    EXPECT_EQ(run.exit_code, 2) << run.err;
    EXPECT_NE(run.err.find("relu9_9"), std::string::npos) << run.err;
    EXPECT_TRUE(list_dir(out_).empty());
}

TEST_F(CliReconstruct, OutputParentMissingIsAnOutputError) {
    expect_error(reconstruct("content " + q(photo_) + " -o " + q(out_ / "deeper")), 4, "out");
}

TEST_F(CliReconstruct, WithoutWeightsExitsThreeAndWritesNothing) {
    expect_error(reconstruct("content " + q(photo_) + " -o " + q(out_)), 3, "vgg19");
}

// ---- real weights: 64 px, 20 iterations ----

constexpr const char* kShort = " --size 64 --iterations 20 --threads 1 --quiet";

TEST_F(CliReconstruct, RealContentRunWritesOneImagePerLayer) {
    IMPASTO_REQUIRE_WEIGHTS();
    const CliRun run = reconstruct("content " + q(photo_) + " --layers relu1_2,relu4_2 -o " + q(out_) + kShort, true);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_TRUE(run.err.empty()) << "--quiet printed: " << run.err;
    EXPECT_EQ(list_dir(out_), (std::set<std::string>{"content_relu1_2.json", "content_relu1_2.png",
                                                     "content_relu4_2.json", "content_relu4_2.png"}));
    const cv::Mat image = cv::imread((out_ / "content_relu1_2.png").string());
    EXPECT_EQ(image.cols, 64);
    EXPECT_EQ(image.rows, 48);
    const nlohmann::json record = json_of(out_ / "content_relu1_2.json");
    EXPECT_EQ(record["status"], "complete");
    EXPECT_EQ(record["reconstruction"]["kind"], "content");
    EXPECT_EQ(record["reconstruction"]["layers"], nlohmann::json::array({"relu1_2"}));
    EXPECT_EQ(record["iterations_done"], 20);
    EXPECT_LT(record["reconstruction"]["final_loss"].get<double>(),
              0.5 * record["reconstruction"]["initial_loss"].get<double>());
}

TEST_F(CliReconstruct, RealStyleRunKeepsTheStyleAspect) {
    IMPASTO_REQUIRE_WEIGHTS();
    const CliRun run =
        reconstruct("style " + q(painting_) + " --sets relu1_1,relu1_1+relu2_1 -o " + q(out_) + kShort, true);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(list_dir(out_), (std::set<std::string>{"style_1.json", "style_1.png", "style_2.json", "style_2.png"}));
    const cv::Mat image = cv::imread((out_ / "style_2.png").string());
    EXPECT_EQ(image.rows, 64);
    EXPECT_EQ(image.cols, 46);
    const nlohmann::json record = json_of(out_ / "style_2.json");
    EXPECT_EQ(record["reconstruction"]["layers"], nlohmann::json::array({"relu1_1", "relu2_1"}));
    EXPECT_LT(record["reconstruction"]["final_loss"].get<double>(),
              0.5 * record["reconstruction"]["initial_loss"].get<double>());
}

TEST_F(CliReconstruct, RealFeatureMapsGrid) {
    IMPASTO_REQUIRE_WEIGHTS();
    fs::create_directories(out_);
    const fs::path grid = out_ / "maps.png";
    const CliRun run =
        reconstruct("features " + q(photo_) + " --layer relu2_1 --count 6 --size 64 -o " + q(grid) + " -q", true);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    // relu2_1 at 64x48: 32x24 maps, magnified 2x; 6 tiles in 3 columns and 2 rows, 2 px apart.
    const cv::Mat image = cv::imread(grid.string());
    EXPECT_EQ(image.cols, 3 * 64 + 2 * 2);
    EXPECT_EQ(image.rows, 2 * 48 + 2);
    const nlohmann::json record = json_of(out_ / "maps.json");
    ASSERT_EQ(record["channels"].size(), 6U);
    EXPECT_GE(record["channels"][0]["mean_activation"].get<double>(),
              record["channels"][5]["mean_activation"].get<double>());
}

} // namespace
} // namespace impasto::e2e
