// `impasto study`: spec errors on the command line, --dry-run, the shipped studies, and a real
// study stopped with SIGINT and resumed (skipped without the weights).
#include "e2e_process.h"
#include "e2e_util.h"

#include <regex>

namespace impasto::e2e {
namespace {

class CliStudy : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::create_directories(scratch_);
        write_synthetic(dir_ / "photo.png", 48, 40, 21);
        write_synthetic(dir_ / "painting.png", 40, 48, 22);
    }
    fs::path write_spec(const std::string& name, const std::string& text) const {
        const fs::path file = dir_ / name;
        write_text(file, text);
        return file;
    }
    CliRun study(const std::string& args) { return run_cli("study " + args, scratch_); }

    TempDir dir_;
    fs::path scratch_ = dir_ / "scratch";
};

TEST_F(CliStudy, BadSpecIsOneLineNamingFileLineAndKey) {
    const fs::path spec =
        write_spec("bad.toml", "contents = [\"photo.png\"]\nstyles = [\"painting.png\"]\n[grid]\nsed = [1, 2]\n");
    const CliRun run = study(shell_quote(spec.string()) + " --dry-run");
    expect_one_line_error(run, 2, "bad.toml:4: unknown key 'sed' in [grid]");
}

TEST_F(CliStudy, MissingSpecAndMissingImageFail) {
    CliRun run = study(shell_quote((dir_ / "absent.toml").string()));
    EXPECT_EQ(run.exit_code, 2) << run.err;
    EXPECT_NE(run.err.find("cannot be read"), std::string::npos) << run.err;
    const fs::path spec =
        write_spec("gone.json", "{\n  \"contents\": [\"photo.png\"],\n  \"styles\": [\"gone.jpg\"]\n}");
    run = study(shell_quote(spec.string()));
    EXPECT_EQ(run.exit_code, 2) << run.err;
    EXPECT_NE(run.err.find("gone.json:3: styles: image 'gone.jpg' is not there"), std::string::npos) << run.err;
}

TEST_F(CliStudy, DryRunListsEveryRun) {
    const fs::path spec = write_spec("grid.toml", "contents = [\"photo.png\"]\nstyles = [\"painting.png\"]\n[grid]\n"
                                                  "seed = [1, 2]\npooling = [\"max\", \"avg\"]\n");
    const CliRun run = study(shell_quote(spec.string()) + " --dry-run");
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_NE(run.out.find("4 runs"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("seed=2, pooling=avg"), std::string::npos) << run.out;
}

TEST_F(CliStudy, ShippedStudiesAreValid) {
    if (!have_shared_images()) {
        GTEST_SKIP() << "../shared/images is absent; the shipped studies use it";
    }
    int checked = 0;
    for (const auto& entry : fs::directory_iterator(fs::path(IMPASTO_SOURCE_DIR) / "studies")) {
        if (entry.path().extension() != ".toml") {
            continue;
        }
        const CliRun run = study(shell_quote(entry.path().string()) + " --dry-run");
        EXPECT_EQ(run.exit_code, 0) << entry.path() << ": " << run.err;
        EXPECT_TRUE(std::regex_search(run.out, std::regex("\\n[0-9]+ runs\\n$"))) << run.out;
        ++checked;
    }
    EXPECT_GE(checked, 6);
}

TEST_F(CliStudy, InterruptedStudyResumesWhereItStopped) {
    IMPASTO_REQUIRE_WEIGHTS();
    const fs::path spec = write_spec("seeds.toml", "contents = [\"photo.png\"]\nstyles = [\"painting.png\"]\n"
                                                   "[base]\nsize = 48\niterations = 40\nschedule = \"none\"\n"
                                                   "precision = \"fp32\"\n[grid]\nseed = [1, 2, 3]\n");
    const fs::path out = dir_ / "out";
    const fs::path log = scratch_ / "study.log";
    const pid_t pid = spawn_cli({"study", spec.string(), "-o", out.string(), "--threads", "1"}, log);
    ASSERT_GT(pid, 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
    while (read_text(log).find("[run 2/3]") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, WNOHANG), 0) << "exited early:\n" << read_text(log);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_EQ(::kill(pid, SIGINT), 0);
    EXPECT_EQ(wait_for(pid, std::chrono::seconds(60)), 130) << read_text(log);
    const std::string stopped = read_text(log);
    EXPECT_NE(stopped.find("interrupted: 1 runs"), std::string::npos) << stopped;
    EXPECT_TRUE(fs::exists(out / "report.html"));

    const CliRun resumed = study(shell_quote(spec.string()) + " -o " + shell_quote(out.string()) + " --threads 1");
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    EXPECT_NE(resumed.out.find("[run 1/3] photo × painting, seed=1 (cached)"), std::string::npos) << resumed.out;
    EXPECT_NE(resumed.out.find("done: 3 runs (2 run now, 1 cached)"), std::string::npos) << resumed.out;
    EXPECT_EQ(list_dir(out / "runs").size(), 3U);
}

} // namespace
} // namespace impasto::e2e
