// The CLI's error contract, end to end: each bad input, option or output path gives the
// documented exit code, exactly one "impasto: error:" line on stderr, and leaves nothing behind
// in the output folder (no image, no sidecar, no temporary file). Every run here points
// --weights-dir at an empty folder, so these errors are shown to come before the weights load
// and the tests need no real weights.
#include "e2e_util.h"

#include <regex>

namespace impasto::e2e {
namespace {

constexpr int kConfigOrInput = 2;
constexpr int kWeights = 3;
constexpr int kOutput = 4;
constexpr int kResource = 5;

class CliErrors : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::create_directories(in_);
        fs::create_directories(out_);
        fs::create_directories(scratch_);
        fs::create_directories(no_weights_);
        write_synthetic(content_, 64, 48, 1);
        write_synthetic(style_, 40, 56, 2);
        in_listing_ = list_dir(in_);
    }

    // `impasto stylize ARGS` with no weights installed.
    CliRun stylize(const std::string& args, const std::string& prefix = "") {
        return run_cli("--weights-dir " + shell_quote(no_weights_.string()) + " stylize " + args, scratch_, prefix);
    }
    std::string inputs() const { return shell_quote(content_.string()) + " " + shell_quote(style_.string()); }
    std::string to_out() const { return " -o " + shell_quote((out_ / "result.png").string()); }

    // Exit code, one error line naming `needle`, nothing on stdout, and the output folder untouched.
    void expect_error(const CliRun& run, int code, const std::string& needle) {
        expect_one_line_error(run, code, needle);
        EXPECT_TRUE(list_dir(out_).empty()) << "left in the output folder: " << joined(list_dir(out_));
        EXPECT_EQ(list_dir(in_), in_listing_) << joined(list_dir(in_));
    }

    TempDir dir_;
    fs::path in_ = dir_ / "in";
    fs::path out_ = dir_ / "out";
    fs::path scratch_ = dir_ / "scratch";
    fs::path no_weights_ = dir_ / "no-weights";
    fs::path content_ = in_ / "content.png";
    fs::path style_ = in_ / "style.png";
    std::set<std::string> in_listing_;
};

// ---- inputs ----

TEST_F(CliErrors, MissingContent) {
    const fs::path missing = scratch_ / "missing.png";
    expect_error(stylize(shell_quote(missing.string()) + " " + shell_quote(style_.string()) + to_out()), kConfigOrInput,
                 "missing.png");
}

TEST_F(CliErrors, MissingStyle) {
    const fs::path missing = scratch_ / "missing-style.jpg";
    const CliRun run = stylize(shell_quote(content_.string()) + " " + shell_quote(missing.string()) + to_out());
    expect_error(run, kConfigOrInput, "missing-style.jpg");
    EXPECT_NE(run.err.find("style"), std::string::npos) << run.err;
}

TEST_F(CliErrors, ZeroByteContent) {
    const fs::path empty = scratch_ / "empty.png";
    write_text(empty, "");
    expect_error(stylize(shell_quote(empty.string()) + " " + shell_quote(style_.string()) + to_out()), kConfigOrInput,
                 "empty.png");
}

TEST_F(CliErrors, TruncatedJpegContent) {
    std::vector<unsigned char> bytes;
    ASSERT_TRUE(cv::imencode(".jpg", synthetic_mat(64, 48, 3), bytes));
    const fs::path truncated = scratch_ / "truncated.jpg";
    write_text(truncated, std::string(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(bytes.size() / 2)));
    expect_error(stylize(shell_quote(truncated.string()) + " " + shell_quote(style_.string()) + to_out()),
                 kConfigOrInput, "truncated.jpg");
}

TEST_F(CliErrors, TextFileNamedPng) {
    const fs::path text = scratch_ / "notes.png";
    write_text(text, "this is not an image, only text that ends in .png\n");
    expect_error(stylize(shell_quote(text.string()) + " " + shell_quote(style_.string()) + to_out()), kConfigOrInput,
                 "notes.png");
}

// ---- options ----

struct OptionCase {
    const char* name;
    const char* args;
    const char* needle;
};

TEST_F(CliErrors, BadOptionsAreConfigErrors) {
    const OptionCase cases[] = {
        {"unknown content layer", "--content-layers relu9_9", "relu9_9"},
        {"unknown style layer", "--style-layers relu1_1,relu9_9", "relu9_9"},
        {"negative style weight", "--style-weight -1", "-1"},
        {"negative content weight", "--content-weight -1", "-1"},
        {"negative style layer weight", "--style-layer-weights 1,1,-0.5,1,1", "-0.5"},
        {"size 0", "--size 0", "0"},
        {"size abc", "--size abc", "abc"},
        {"unknown preset", "--preset nosuch", "nosuch"},
        {"bad schedule", "--schedule 256x200", "256x200"},
        {"bad schedule numbers", "--schedule 256:abc", "256:abc"},
    };
    for (const OptionCase& c : cases) {
        SCOPED_TRACE(c.name);
        expect_error(stylize(inputs() + to_out() + " " + c.args), kConfigOrInput, c.needle);
    }
}

// ---- output paths ----

TEST_F(CliErrors, OutputFolderMissing) {
    const CliRun run = stylize(inputs() + " -o " + shell_quote((out_ / "nosuch" / "result.png").string()));
    expect_error(run, kOutput, "nosuch");
}

TEST_F(CliErrors, OutputFolderNotWritable) {
    // The tests may run as root, who can write anywhere a real folder is: /proc is not.
    expect_error(stylize(inputs() + " -o /proc/impasto/out.png"), kOutput, "/proc/impasto");
    expect_error(stylize(inputs() + " -o /proc/out.png"), kOutput, "/proc");
}

TEST_F(CliErrors, OutputFolderIsAFile) {
    const fs::path file = scratch_ / "plain-file";
    write_text(file, "x");
    expect_error(stylize(inputs() + " -o " + shell_quote((file / "result.png").string())), kOutput, "plain-file");
}

TEST_F(CliErrors, OutputEqualsAnInput) {
    const std::string before = read_text(content_);
    // The same path, the style image, and the content by another spelling (run from its folder).
    expect_error(stylize(inputs() + " -o " + shell_quote(content_.string())), kOutput, "same file");
    expect_error(stylize(inputs() + " -o " + shell_quote(style_.string())), kOutput, "same file");
    fs::create_directories(in_ / "sub");
    in_listing_ = list_dir(in_);
    const CliRun run =
        stylize("content.png style.png -o ./sub/../content.png", "cd " + shell_quote(in_.string()) + " && ");
    expect_error(run, kOutput, "same file");
    const CliRun absolute =
        stylize(inputs() + " -o " + shell_quote((in_ / "." / ".." / "in" / "content.png").string()));
    expect_error(absolute, kOutput, "same file");
    EXPECT_EQ(read_text(content_), before);
}

TEST_F(CliErrors, UnknownOutputExtension) {
    expect_error(stylize(inputs() + " -o " + shell_quote((out_ / "result.xyz").string())), kOutput, ".xyz");
    expect_error(stylize(inputs() + " -o " + shell_quote((out_ / "result").string())), kOutput, "extension");
}

// ---- resources and weights ----

TEST_F(CliErrors, TooLargeNamesASizeThatFits) {
    const CliRun run = stylize(inputs() + to_out() + " --size 16000 --schedule none --iterations 1");
    expect_error(run, kResource, "would fit");
    std::smatch match;
    ASSERT_TRUE(std::regex_search(run.err, match, std::regex("--size ([0-9]+) would fit"))) << run.err;
    const int fits = std::stoi(match[1]);
    EXPECT_GE(fits, 16);
    EXPECT_LT(fits, 16000);
}

TEST_F(CliErrors, TooLargeCoarseStepsNeverRun) {
    // With a coarse-to-fine schedule the final size is refused up front, not after the coarse steps.
    const CliRun run = stylize(inputs() + to_out() + " --size 16000 --schedule 32:5,16000:1");
    expect_error(run, kResource, "would fit");
    EXPECT_EQ(run.err.find("it 1/"), std::string::npos) << run.err;
}

TEST_F(CliErrors, NoWeightsInstalled) {
    const CliRun run = stylize(inputs() + to_out() + " --size 32 --schedule none --iterations 1");
    expect_error(run, kWeights, "run `impasto weights install`");
}

TEST_F(CliErrors, NoWeightsInstalledViaEnvironment) {
    const std::string prefix = "IMPASTO_WEIGHTS_DIR=" + shell_quote(no_weights_.string());
    const CliRun run =
        run_cli("stylize " + inputs() + to_out() + " --size 32 --schedule none --iterations 1", scratch_, prefix);
    expect_error(run, kWeights, "run `impasto weights install`");
}

TEST_F(CliErrors, EvaluateMissingOutputImage) {
    const CliRun run = run_cli("--weights-dir " + shell_quote(no_weights_.string()) + " evaluate " +
                                   shell_quote((scratch_ / "nosuch.png").string()) + " --content " +
                                   shell_quote(content_.string()) + " --style " + shell_quote(style_.string()),
                               scratch_);
    expect_error(run, kConfigOrInput, "nosuch.png");
}

} // namespace
} // namespace impasto::e2e
