// `impasto train style|decoder` end to end: each mistake is one error line before the weights load
// (these runs point --weights-dir at an empty folder); with the real weights installed, tiny runs
// write a model and a checkpoint, --resume continues, and Ctrl-C saves and exits 130.
#include "e2e_process.h"
#include "e2e_util.h"
#include "impasto/style_model_file.h"

namespace impasto::e2e {
namespace {

constexpr int kConfigOrInput = 2;
constexpr int kWeights = 3;
constexpr int kOutput = 4;

class CliTrain : public ::testing::Test {
  protected:
    void SetUp() override {
        for (const fs::path& dir : {data_, empty_, out_, scratch_, no_weights_}) {
            fs::create_directories(dir);
        }
        write_synthetic(data_ / "a.png", 96, 72, 1);
        write_synthetic(data_ / "b.jpg", 80, 100, 2);
        write_synthetic(data_ / "c.png", 70, 70, 3);
        write_synthetic(style_, 64, 64, 4);
    }
    // `impasto train ARGS` with no weights installed.
    CliRun train(const std::string& args) {
        return run_cli("--weights-dir " + shell_quote(no_weights_.string()) + " train " + args, scratch_);
    }
    std::string style_args(const fs::path& data, const fs::path& style, const fs::path& output) const {
        return "style --style " + shell_quote(style.string()) + " --data " + shell_quote(data.string()) + " -o " +
               shell_quote(output.string());
    }
    std::string good() const { return style_args(data_, style_, model_); }

    TempDir dir_;
    fs::path data_ = dir_ / "data";
    fs::path empty_ = dir_ / "empty";
    fs::path out_ = dir_ / "out";
    fs::path scratch_ = dir_ / "scratch";
    fs::path no_weights_ = dir_ / "no-weights";
    fs::path style_ = dir_ / "style.png";
    fs::path model_ = out_ / "model.impasto";
};

TEST_F(CliTrain, MissingDataFolder) {
    expect_one_line_error(train(style_args(dir_ / "nowhere", style_, model_)), kConfigOrInput, "nowhere");
    EXPECT_TRUE(list_dir(out_).empty());
}

TEST_F(CliTrain, EmptyDataFolder) {
    const CliRun run = train(style_args(empty_, style_, model_));
    expect_one_line_error(run, kConfigOrInput, "no images");
    EXPECT_NE(run.err.find("empty"), std::string::npos) << run.err;
}

TEST_F(CliTrain, BadWidth) {
    expect_one_line_error(train(good() + " --width 9"), kConfigOrInput, "width = 9");
}

TEST_F(CliTrain, MissingStyleFile) {
    expect_one_line_error(train(style_args(data_, dir_ / "nostyle.png", model_)), kConfigOrInput, "nostyle.png");
}

TEST_F(CliTrain, OutputInMissingFolder) {
    expect_one_line_error(train(style_args(data_, style_, dir_ / "no-folder" / "m.impasto")), kOutput, "no-folder");
}

TEST_F(CliTrain, OutputNotImpasto) {
    expect_one_line_error(train(style_args(data_, style_, out_ / "m.png")), kOutput, ".impasto");
}

TEST_F(CliTrain, DecoderBadLevel) {
    const std::string args =
        "decoder --level relu4_2 --data " + shell_quote(data_.string()) + " -o " + shell_quote(model_.string());
    expect_one_line_error(train(args), kConfigOrInput, "relu4_2");
}

TEST_F(CliTrain, GoodInputsWithoutWeights) {
    // Good inputs and no weights: the weights are the first thing missing.
    expect_one_line_error(train(good()), kWeights, "vgg19");
    EXPECT_TRUE(list_dir(out_).empty());
}

TEST_F(CliTrain, HelpShowsDefaults) {
    const CliRun style = run_cli("train style --help", scratch_);
    ASSERT_EQ(style.exit_code, 0) << style.err;
    for (const char* text : {"--width FLOAT", "[default: 0.5]", "[default: 2000]", "[default: relu3_1]", "--resume"}) {
        EXPECT_NE(style.out.find(text), std::string::npos) << text << " missing in:\n" << style.out;
    }
    const CliRun decoder = run_cli("train decoder --help", scratch_);
    ASSERT_EQ(decoder.exit_code, 0) << decoder.err;
    EXPECT_NE(decoder.out.find("[default: relu4_1]"), std::string::npos) << decoder.out;
}

// ---- real runs (need the installed VGG19 weights) ----

constexpr const char* kTiny = " --crop 64 --batch 1 --width 0.25 --style-size 64 --threads 1 --precision fp32";

TEST_F(CliTrain, RealStyleRunWritesModelAndResumes) {
    IMPASTO_REQUIRE_WEIGHTS();
    CliRun run = run_cli("train " + good() + kTiny + " --steps 3 -q", scratch_);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_TRUE(run.err.empty()) << "--quiet printed: " << run.err;
    EXPECT_EQ(list_dir(out_), (std::set<std::string>{"model.impasto", "model.impasto.ckpt"}));
    EXPECT_EQ(read_style_model(model_).card.iterations, 3);

    run = run_cli("train " + good() + kTiny + " --steps 5 --resume", scratch_);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_NE(run.err.find("step 5/5"), std::string::npos) << run.err;
    const StyleModelFile model = read_style_model(model_);
    EXPECT_EQ(model.card.iterations, 5);
    EXPECT_EQ(model.card.data_license, "unspecified");
    EXPECT_NE(model.card.command.find("--resume"), std::string::npos);

    // Other options than the checkpoint's: refused, naming the option.
    run = run_cli("train " + good() + kTiny + " --steps 6 --resume --seed 9", scratch_);
    expect_one_line_error(run, kConfigOrInput, "seed");
}

TEST_F(CliTrain, RealDecoderRun) {
    IMPASTO_REQUIRE_WEIGHTS();
    const std::string args = "train decoder --level relu2_1 --data " + shell_quote(data_.string()) + " -o " +
                             shell_quote(model_.string()) + " --crop 64 --batch 1 --steps 3 --threads 1 -q";
    const CliRun run = run_cli(args, scratch_);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const StyleModelFile model = read_style_model(model_);
    EXPECT_EQ(model.kind, StyleModelKind::Decoder);
    EXPECT_NE(model.config.find("vgg19.caffe"), std::string::npos) << model.config;
}

TEST_F(CliTrain, RealInterruptSavesAndExits130) {
    IMPASTO_REQUIRE_WEIGHTS();
    const fs::path log = scratch_ / "log.txt";
    const pid_t pid = spawn_cli({"train",       "style",
                                 "--style",     style_.string(),
                                 "--data",      data_.string(),
                                 "-o",          model_.string(),
                                 "--crop",      "64",
                                 "--batch",     "1",
                                 "--width",     "0.25",
                                 "--steps",     "100000",
                                 "--threads",   "1",
                                 "--precision", "fp32"},
                                log);
    ASSERT_GT(pid, 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (read_text(log).find("step 1/") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, WNOHANG), 0) << "exited early:\n" << read_text(log);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(::kill(pid, SIGINT), 0);
    EXPECT_EQ(wait_for(pid, std::chrono::seconds(60)), 130) << read_text(log);
    EXPECT_NE(read_text(log).find("--resume"), std::string::npos) << read_text(log);
    EXPECT_EQ(list_dir(out_), (std::set<std::string>{"model.impasto", "model.impasto.ckpt"}));
}

} // namespace
} // namespace impasto::e2e
