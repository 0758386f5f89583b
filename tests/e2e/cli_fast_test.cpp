// `impasto stylize --model` and `--method adain|wct` end to end: errors, one photo at an odd size with
// its sidecar, a folder with a broken file in it, and `impasto models`. Runs that need a trained
// model use the committed models/ and skip when there are none.
#include "e2e_util.h"

#include <nlohmann/json.hpp>

namespace impasto::e2e {
namespace {

constexpr int kConfigOrInput = 2;

// The first committed transformer model, or nothing.
fs::path committed_transformer() {
    const fs::path dir = fs::path(IMPASTO_SOURCE_DIR) / "models";
    std::error_code ec;
    std::vector<fs::path> found;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.path().extension() == ".impasto") {
            found.push_back(entry.path());
        }
    }
    std::sort(found.begin(), found.end());
    return found.empty() ? fs::path() : found.front();
}

bool committed_decoders() {
    std::error_code ec;
    return fs::exists(fs::path(IMPASTO_SOURCE_DIR) / "models" / "decoders" / "vgg19-relu4_1.impasto", ec);
}

class CliFast : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::create_directories(dir_);
        fs::create_directories(out_);
        write_synthetic(dir_ / "content.png", 61, 47, 3);
        write_synthetic(dir_ / "style.png", 40, 40, 9);
    }
    CliRun run(const std::string& args) { return run_cli(args, tmp_.path()); }
    std::string q(const fs::path& path) const { return shell_quote(path.string()); }

    TempDir tmp_;
    fs::path dir_ = tmp_ / "in";
    fs::path out_ = tmp_ / "out";
};

TEST_F(CliFast, RefusesContradictoryOrIncompleteRequests) {
    const std::string content = q(dir_ / "content.png");
    const std::string style = q(dir_ / "style.png");
    const std::string output = q(out_ / "o.png");
    expect_one_line_error(run("stylize " + content + " -o " + output), kConfigOrInput, "at least one style image");
    expect_one_line_error(run("stylize " + content + " " + style + " --model a --method adain -o " + output),
                          kConfigOrInput, "exclude each other");
    expect_one_line_error(run("stylize " + content + " --model no-such-model -o " + output), kConfigOrInput,
                          "no-such-model");
    expect_one_line_error(run("stylize " + content + " " + style + " --method pointillism -o " + output),
                          kConfigOrInput, "pointillism");
    expect_one_line_error(run("stylize " + content + " --model a --iterations 5 -o " + output), kConfigOrInput,
                          "--iterations");
    expect_one_line_error(run("stylize " + content + " --method adain -o " + output), kConfigOrInput,
                          "needs at least one style image");
    expect_one_line_error(run("stylize " + content + " " + style + " --method adain --mask " + content + " --mask " +
                              content + " -o " + output),
                          kConfigOrInput, "--mask");
    EXPECT_TRUE(list_dir(out_).empty()) << joined(list_dir(out_));
}

TEST_F(CliFast, ModelStylizesOnePhotoAtItsOwnSize) {
    const fs::path model = committed_transformer();
    if (model.empty()) {
        GTEST_SKIP() << "no committed model in models/";
    }
    const CliRun ok = run("stylize " + q(dir_ / "content.png") + " --model " + q(model) + " -o " + q(out_ / "o.png") +
                          " --threads 2");
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
    const cv::Mat image = cv::imread((out_ / "o.png").string());
    EXPECT_EQ(image.cols, 61);
    EXPECT_EQ(image.rows, 47);
    const auto sidecar = nlohmann::json::parse(read_text(out_ / "o.json"));
    EXPECT_EQ(sidecar["method"], "model");
    EXPECT_EQ(sidecar["width"], 61);
    EXPECT_GT(sidecar["seconds"]["network"].get<double>(), 0.0);
    // A weight per style of the network, no more.
    expect_one_line_error(run("stylize " + q(dir_ / "content.png") + " --model " + q(model) +
                              " --style-weights 1,1,1,1,1,1,1,1,1 -o " + q(out_ / "p.png")),
                          kConfigOrInput, "one per style of the network");
    // The model's card is readable.
    const CliRun show = run("models show " + q(model));
    ASSERT_EQ(show.exit_code, 0) << show.err;
    const auto card = nlohmann::json::parse(show.out);
    EXPECT_TRUE(card.contains("card")) << show.out;
}

TEST_F(CliFast, WorkSizeRunsTheNetworkSmallerAndKeepsTheOutputSize) {
    const fs::path model = committed_transformer();
    if (model.empty()) {
        GTEST_SKIP() << "no committed model in models/";
    }
    const std::string content = q(dir_ / "content.png");
    expect_one_line_error(run("stylize " + content + " --model " + q(model) + " --work-size 8 -o " + q(out_ / "b.png")),
                          kConfigOrInput, "work size = 8");
    const CliRun ok = run("stylize " + content + " --model " + q(model) + " --size 96 --work-size 32 -o " +
                          q(out_ / "w.png") + " --threads 2");
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
    const cv::Mat image = cv::imread((out_ / "w.png").string());
    EXPECT_EQ(image.cols, 96);
    EXPECT_NEAR(image.rows, 47 * 96 / 61.0, 1.0);
    const auto sidecar = nlohmann::json::parse(read_text(out_ / "w.json"));
    EXPECT_EQ(sidecar["work_size"], 32);
}

TEST_F(CliFast, FolderRunWritesEveryGoodPhotoAndNamesTheBadOne) {
    const fs::path model = committed_transformer();
    if (model.empty()) {
        GTEST_SKIP() << "no committed model in models/";
    }
    const fs::path photos = tmp_ / "photos";
    fs::create_directories(photos);
    write_synthetic(photos / "a.png", 33, 29, 1);
    write_synthetic(photos / "b.jpg", 40, 24, 2);
    write_text(photos / "c.jpg", "not a jpeg");
    const CliRun batch =
        run("stylize " + q(photos) + " --model " + q(model) + " -o " + q(out_ / "styled") + " --format png");
    EXPECT_EQ(batch.exit_code, 1) << batch.err;
    EXPECT_EQ(list_dir(out_ / "styled"), (std::set<std::string>{"a.png", "b.png"}));
    EXPECT_NE(batch.err.find("c.jpg"), std::string::npos) << batch.err;
    EXPECT_NE(batch.err.find("2 written, 0 skipped, 1 failed"), std::string::npos) << batch.err;
    // Again with --skip-existing: nothing is redone.
    const CliRun again = run("stylize " + q(photos) + " --model " + q(model) + " -o " + q(out_ / "styled") +
                             " --format png --skip-existing");
    EXPECT_NE(again.err.find("0 written, 2 skipped, 1 failed"), std::string::npos) << again.err;
}

TEST_F(CliFast, ArbitraryStyleWithAdainAndWct) {
    IMPASTO_REQUIRE_WEIGHTS();
    if (!committed_decoders()) {
        GTEST_SKIP() << "no committed decoders in models/decoders";
    }
    for (const char* method : {"adain", "wct"}) {
        const fs::path output = out_ / (std::string(method) + ".png");
        const CliRun ok = run("stylize " + q(dir_ / "content.png") + " " + q(dir_ / "style.png") + " --method " +
                              method + " --alpha 0.8 --style-size 64 -o " + q(output) + " --threads 2");
        ASSERT_EQ(ok.exit_code, 0) << ok.err;
        const cv::Mat image = cv::imread(output.string());
        EXPECT_EQ(image.cols, 61) << method;
        EXPECT_EQ(image.rows, 47) << method;
    }
}

} // namespace
} // namespace impasto::e2e
