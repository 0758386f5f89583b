// Short real runs of `impasto stylize` with the installed VGG19 weights (skipped without them):
// determinism, interruption, --save-every, several styles with colour control, grey and 16-bit
// content, and --size auto. Each run is a few iterations on images of 32-128 px.
#include "e2e_process.h"
#include "e2e_util.h"

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <thread>
#include <unistd.h>

namespace impasto::e2e {
namespace {

class CliRealRun : public ::testing::Test {
  protected:
    void SetUp() override {
        IMPASTO_REQUIRE_WEIGHTS();
        fs::create_directories(in_);
        fs::create_directories(out_);
        fs::create_directories(scratch_);
        write_synthetic(content_, 64, 48, 11);
        write_synthetic(style_, 48, 48, 12);
    }
    std::string inputs() const { return shell_quote(content_.string()) + " " + shell_quote(style_.string()); }
    CliRun stylize(const std::string& args) { return run_cli("stylize " + args, scratch_); }
    static nlohmann::json sidecar(const fs::path& output) {
        return nlohmann::json::parse(read_text(fs::path(output).replace_extension(".json")));
    }

    TempDir dir_;
    fs::path in_ = dir_ / "in";
    fs::path out_ = dir_ / "out";
    fs::path scratch_ = dir_ / "scratch";
    fs::path content_ = in_ / "content.png";
    fs::path style_ = in_ / "style.png";
};

constexpr const char* kTiny = " --schedule none --precision fp32 --threads 1 --init noise --quiet";

TEST_F(CliRealRun, SameSeedGivesIdenticalBytesOtherSeedDiffers) {
    const fs::path a = out_ / "a.png";
    const fs::path b = out_ / "b.png";
    const fs::path c = out_ / "c.png";
    const std::string common = inputs() + kTiny + " --size 40 --iterations 10";
    for (const auto& [file, seed] : {std::pair{a, 5}, std::pair{b, 5}, std::pair{c, 6}}) {
        const CliRun run = stylize(common + " --seed " + std::to_string(seed) + " -o " + shell_quote(file.string()));
        ASSERT_EQ(run.exit_code, 0) << run.err;
        EXPECT_TRUE(run.err.empty()) << "--quiet printed: " << run.err;
    }
    ASSERT_FALSE(read_text(a).empty());
    EXPECT_EQ(read_text(a), read_text(b)) << "same seed, different bytes";
    EXPECT_NE(read_text(a), read_text(c)) << "different seeds, same image";
    const nlohmann::json record = sidecar(a);
    EXPECT_EQ(record["status"], "complete");
    EXPECT_EQ(record["parameters"]["seed"], 5);
    EXPECT_EQ(record["iterations_done"], 10);
    EXPECT_EQ(list_dir(out_), (std::set<std::string>{"a.json", "a.png", "b.json", "b.png", "c.json", "c.png"}));
}

void interrupt_run(const fs::path& content, const fs::path& style, const fs::path& out_dir, const fs::path& log,
                   int signal) {
    const fs::path output = out_dir / "long.png";
    const pid_t pid = spawn_cli({"stylize", content.string(), style.string(), "-o", output.string(), "--size", "128",
                                 "--iterations", "400", "--schedule", "none", "--precision", "fp32", "--threads", "1"},
                                log);
    ASSERT_GT(pid, 0);
    // Non-terminal progress prints a line at iteration 1: the optimisation is running.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (read_text(log).find(" it 1/400") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, WNOHANG), 0) << "exited early:\n" << read_text(log);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_NE(read_text(log).find(" it 1/400"), std::string::npos) << read_text(log);
    ASSERT_EQ(::kill(pid, signal), 0);
    const int code = wait_for(pid, std::chrono::seconds(60));
    const std::string text = read_text(log);
    EXPECT_EQ(code, 130) << text;
    EXPECT_NE(text.find("interrupted"), std::string::npos) << text;
    ASSERT_TRUE(fs::exists(output)) << text;
    EXPECT_EQ(list_dir(out_dir), (std::set<std::string>{"long.json", "long.png"})) << "temporary files left?";
    const nlohmann::json record = nlohmann::json::parse(read_text(out_dir / "long.json"));
    EXPECT_EQ(record["status"], "interrupted");
    EXPECT_GE(record["iterations_done"].get<int>(), 1);
    EXPECT_LT(record["iterations_done"].get<int>(), 400);
    const cv::Mat image = cv::imread(output.string(), cv::IMREAD_UNCHANGED);
    EXPECT_EQ(std::max(image.cols, image.rows), 128);
}

TEST_F(CliRealRun, SigintSavesAndExits130) {
    interrupt_run(content_, style_, out_, scratch_ / "sigint.log", SIGINT);
}

TEST_F(CliRealRun, SigtermSavesAndExits130) {
    interrupt_run(content_, style_, out_, scratch_ / "sigterm.log", SIGTERM);
}

TEST_F(CliRealRun, SaveEveryWritesSnapshots) {
    const fs::path output = out_ / "snap.png";
    const CliRun run =
        stylize(inputs() + kTiny + " --size 32 --iterations 10 --save-every 5 -o " + shell_quote(output.string()));
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(list_dir(out_),
              (std::set<std::string>{"snap.iter00005.png", "snap.iter00010.png", "snap.json", "snap.png"}));
    const cv::Mat snapshot = cv::imread((out_ / "snap.iter00005.png").string());
    EXPECT_EQ(std::max(snapshot.cols, snapshot.rows), 32);
}

TEST_F(CliRealRun, SeveralStylesWithColourControl) {
    const fs::path second = in_ / "style2.png";
    write_synthetic(second, 56, 40, 13);
    for (const char* mode : {"luminance", "histogram"}) {
        SCOPED_TRACE(mode);
        const fs::path output = out_ / (std::string(mode) + ".jpg");
        const CliRun run = stylize(inputs() + " " + shell_quote(second.string()) + kTiny +
                                   " --size 48 --iterations 3 --style-blend 1,0.5 --preserve-color " + mode + " -o " +
                                   shell_quote(output.string()));
        ASSERT_EQ(run.exit_code, 0) << run.err;
        const cv::Mat image = cv::imread(output.string());
        EXPECT_EQ(image.cols, 48);
        EXPECT_EQ(image.rows, 36);
        const nlohmann::json record = sidecar(output);
        ASSERT_EQ(record["inputs"]["styles"].size(), 2U);
        EXPECT_EQ(record["inputs"]["styles"][1]["blend_weight"], 0.5);
        EXPECT_EQ(record["parameters"]["color"], mode) << record["parameters"].dump();
    }
    // One blend weight per style, or the run is refused before it starts.
    const CliRun bad =
        stylize(inputs() + " " + shell_quote(second.string()) + kTiny +
                " --size 48 --iterations 3 --style-blend 1 -o " + shell_quote((out_ / "x.png").string()));
    EXPECT_EQ(bad.exit_code, 2) << bad.err;
    EXPECT_FALSE(fs::exists(out_ / "x.png"));
}

TEST_F(CliRealRun, GreyAndSixteenBitContent) {
    write_synthetic(in_ / "grey.png", 40, 30, 21, CV_8U, 1);
    write_synthetic(in_ / "deep.png", 40, 30, 22, CV_16U, 3);
    ASSERT_EQ(cv::imread((in_ / "grey.png").string(), cv::IMREAD_UNCHANGED).channels(), 1);
    ASSERT_EQ(cv::imread((in_ / "deep.png").string(), cv::IMREAD_UNCHANGED).depth(), CV_16U);
    for (const char* name : {"grey", "deep"}) {
        SCOPED_TRACE(name);
        const fs::path output = out_ / (std::string(name) + "-out.png");
        const CliRun run =
            stylize(shell_quote((in_ / (std::string(name) + ".png")).string()) + " " + shell_quote(style_.string()) +
                    kTiny + " --size 40 --iterations 2 -o " + shell_quote(output.string()));
        ASSERT_EQ(run.exit_code, 0) << run.err;
        const cv::Mat image = cv::imread(output.string(), cv::IMREAD_UNCHANGED);
        EXPECT_EQ(image.cols, 40);
        EXPECT_EQ(image.rows, 30);
        EXPECT_EQ(image.channels(), 3);
    }
}

TEST_F(CliRealRun, SizeAutoFitsAndNeverUpscales) {
    // --size 16000 is refused with a size that fits (see cli_errors_test); auto picks one itself.
    const fs::path output = out_ / "auto.png";
    const CliRun too_large =
        stylize(inputs() + kTiny + " --size 16000 --iterations 1 -o " + shell_quote(output.string()));
    EXPECT_EQ(too_large.exit_code, 5) << too_large.err;
    const CliRun run = stylize(inputs() + kTiny + " --size auto --iterations 1 -o " + shell_quote(output.string()));
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const cv::Mat image = cv::imread(output.string());
    EXPECT_LE(std::max(image.cols, image.rows), 64);
    EXPECT_GE(std::max(image.cols, image.rows), 16);
    EXPECT_EQ(sidecar(output)["parameters"]["size"], std::max(image.cols, image.rows));
}

} // namespace
} // namespace impasto::e2e
