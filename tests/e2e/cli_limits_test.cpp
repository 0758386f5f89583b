// Caps on work and memory through the real CLI (issue 11): a schedule of too many steps or too
// many iterations, a style scale that makes the style image too large, and --max-pixels on the
// style images (at decode and after scaling) each give one error line and a non-zero exit before
// the weights load (--weights-dir is an empty folder), and leave nothing in the output folder.
#include "e2e_util.h"

namespace impasto::e2e {
namespace {

constexpr int kConfigOrInput = 2;
constexpr int kResource = 5;

class CliLimits : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::create_directories(in_);
        fs::create_directories(out_);
        fs::create_directories(scratch_);
        fs::create_directories(no_weights_);
        write_synthetic(content_, 64, 48, 1);
        write_synthetic(style_, 40, 56, 2);
    }

    CliRun run(const std::string& args) {
        return run_cli("--weights-dir " + shell_quote(no_weights_.string()) + " " + args, scratch_);
    }
    CliRun stylize(const std::string& options, const fs::path& style) {
        return run("stylize " + shell_quote(content_.string()) + " " + shell_quote(style.string()) + " -o " +
                   shell_quote((out_ / "result.png").string()) + " " + options);
    }
    void expect_error(const CliRun& result, int code, const std::string& needle) {
        expect_one_line_error(result, code, needle);
        EXPECT_TRUE(list_dir(out_).empty()) << "left in the output folder: " << joined(list_dir(out_));
    }

    TempDir dir_;
    fs::path in_ = dir_ / "in";
    fs::path out_ = dir_ / "out";
    fs::path scratch_ = dir_ / "scratch";
    fs::path no_weights_ = dir_ / "no-weights";
    fs::path content_ = in_ / "content.png";
    fs::path style_ = in_ / "style.png";
};

TEST_F(CliLimits, ScheduleWithTooManySteps) {
    std::string schedule = "16:1";
    for (int i = 0; i < 5000; ++i) {
        schedule += ",16:1";
    }
    expect_error(stylize("--size 64 --schedule " + schedule, style_), kConfigOrInput, "more than 16 steps");
}

TEST_F(CliLimits, ScheduleWithTooManyIterationsInAll) {
    expect_error(stylize("--size 64 --iterations 100000 --schedule 16:100000,32:100000,64:100000", style_),
                 kConfigOrInput, "total iterations = 300000");
}

TEST_F(CliLimits, StyleScaleBeyondTheLargestSide) {
    const CliRun result = stylize("--size 4096 --style-scale 8", style_);
    expect_error(result, kConfigOrInput, "style scale = 8");
    EXPECT_NE(result.err.find("32768"), std::string::npos) << result.err;
}

TEST_F(CliLimits, MaxPixelsCoversTheScaledStyleImage) {
    // The 40x56 style file is small, but at style scale 4 the network would see it at 183x256.
    ASSERT_EQ(stylize("--size 64 --max-pixels 5000", style_).exit_code, 3) << "expected to get as far as the weights";
    const CliRun result = stylize("--size 64 --max-pixels 5000 --style-scale 4", style_);
    expect_error(result, kResource, "style image #1");
    EXPECT_NE(result.err.find("5000"), std::string::npos) << result.err;
}

TEST_F(CliLimits, MaxPixelsIsTheStyleImagesDecodeLimit) {
    const fs::path big_style = in_ / "big-style.png";
    write_synthetic(big_style, 100, 80, 3); // 8000 px; the content has 3072
    const CliRun result = stylize("--size 32 --max-pixels 5000", big_style);
    expect_error(result, kConfigOrInput, "style image");
    EXPECT_NE(result.err.find("big-style.png"), std::string::npos) << result.err;
}

TEST_F(CliLimits, MaxPixelsRange) {
    expect_error(stylize("--max-pixels 0", style_), kConfigOrInput, "max-pixels = 0");
}

} // namespace
} // namespace impasto::e2e
