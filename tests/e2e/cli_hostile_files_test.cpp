// The CLI given things that are not image or weight files: /dev/zero (never ends), a FIFO with no
// writer (blocks whoever opens it), a folder, and a sparse file over the size cap. Each gives one
// error line and exit code 2, at once, and writes nothing. Runs are wrapped in `timeout`, so a
// regression shows as exit code 124 instead of a hung test.
#include "e2e_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace impasto::e2e {
namespace {

constexpr int kConfigOrInput = 2;

class CliHostileFiles : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::create_directories(in_);
        fs::create_directories(out_);
        fs::create_directories(scratch_);
        fs::create_directories(no_weights_);
        write_synthetic(content_, 64, 48, 1);
        write_synthetic(style_, 40, 56, 2);
        ASSERT_EQ(::mkfifo(fifo_.c_str(), 0600), 0);
    }

    CliRun run(const std::string& args) {
        return run_cli("--weights-dir " + shell_quote(no_weights_.string()) + " " + args, scratch_, "timeout 60");
    }
    CliRun stylize(const std::string& content, const std::string& style, const std::string& extra = "") {
        return run("stylize " + shell_quote(content) + " " + shell_quote(style) + " -o " +
                   shell_quote((out_ / "result.png").string()) + extra);
    }
    void expect_refused(const CliRun& result, const std::string& path, const std::string& reason) {
        expect_one_line_error(result, kConfigOrInput, path);
        EXPECT_NE(result.err.find(reason), std::string::npos) << result.err;
        EXPECT_TRUE(list_dir(out_).empty()) << "left in the output folder: " << joined(list_dir(out_));
    }

    TempDir dir_;
    fs::path in_ = dir_ / "in";
    fs::path out_ = dir_ / "out";
    fs::path scratch_ = dir_ / "scratch";
    fs::path no_weights_ = dir_ / "no-weights";
    fs::path content_ = in_ / "content.png";
    fs::path style_ = in_ / "style.png";
    fs::path fifo_ = in_ / "pipe.png";
};

TEST_F(CliHostileFiles, DevZeroAsContent) {
    expect_refused(stylize("/dev/zero", style_.string()), "/dev/zero", "character device");
}

TEST_F(CliHostileFiles, FifoAsStyle) {
    expect_refused(stylize(content_.string(), fifo_.string()), "pipe.png", "FIFO");
}

TEST_F(CliHostileFiles, FolderAsContent) {
    expect_refused(stylize(in_.string(), style_.string()), in_.string(), "folder");
}

// The initial image is read by the engine after the weights load, so this one needs them.
TEST_F(CliHostileFiles, DevZeroAsInitImage) {
    IMPASTO_REQUIRE_WEIGHTS();
    const CliRun result =
        run_cli("stylize " + shell_quote(content_.string()) + " " + shell_quote(style_.string()) + " -o " +
                    shell_quote((out_ / "result.png").string()) + " --size 64 --iterations 1 --init-image /dev/zero",
                scratch_, "timeout 120");
    expect_refused(result, "/dev/zero", "character device");
}

TEST_F(CliHostileFiles, ImageOverTheFileSizeCap) {
    const fs::path huge = in_ / "huge.png";
    const int fd = ::open(huge.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, (off_t{1} << 30) + 1), 0); // sparse: no disk, no memory
    ::close(fd);
    expect_refused(stylize(huge.string(), style_.string()), "huge.png", "over the limit of 1073741824 bytes");
}

TEST_F(CliHostileFiles, WeightsImportOfDevZeroAndFifo) {
    const CliRun zero = run("weights import /dev/zero --name hostile");
    expect_one_line_error(zero, kConfigOrInput, "/dev/zero");
    EXPECT_NE(zero.err.find("character device"), std::string::npos) << zero.err;
    const CliRun fifo = run("weights import " + shell_quote(fifo_.string()) + " --name hostile");
    expect_one_line_error(fifo, kConfigOrInput, "pipe.png");
    EXPECT_NE(fifo.err.find("FIFO"), std::string::npos) << fifo.err;
    EXPECT_TRUE(list_dir(no_weights_).empty()) << joined(list_dir(no_weights_));
}

} // namespace
} // namespace impasto::e2e
