#pragma once
// Helpers for the end-to-end tests: the CLI path, synthetic images, running the CLI with
// stdout and stderr apart, and listing a folder.
#include "testutil.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace impasto::e2e {

namespace fs = std::filesystem;
using impasto::testing::run_command;
using impasto::testing::shell_quote;
using impasto::testing::TempDir;

inline std::string cli() {
    return shell_quote(IMPASTO_CLI_PATH);
}

inline fs::path shared_dir() {
    return fs::path(IMPASTO_SHARED_DIR);
}

inline bool have_shared_images() {
    std::error_code ec;
    return fs::exists(shared_dir() / "images" / "content" / "tubingen.jpg", ec);
}

inline std::string read_text(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_text(const fs::path& file, const std::string& text) {
    std::ofstream out(file, std::ios::binary);
    out << text;
}

// A smooth gradient plus seeded noise: structure for the content loss, texture for the style loss.
// `depth` is CV_8U or CV_16U; `channels` 1 or 3.
inline cv::Mat synthetic_mat(int width, int height, unsigned seed, int depth = CV_8U, int channels = 3) {
    cv::Mat image(height, width, CV_MAKETYPE(CV_32F, channels));
    cv::RNG rng(seed);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            for (int c = 0; c < channels; ++c) {
                const double base = 0.5 + 0.35 * std::sin(0.21 * x * (c + 1) + 0.13 * y + seed);
                const double value = std::min(1.0, std::max(0.0, base + rng.gaussian(0.12)));
                image.ptr<float>(y)[x * channels + c] = static_cast<float>(value);
            }
        }
    }
    cv::Mat converted;
    image.convertTo(converted, CV_MAKETYPE(depth, channels), depth == CV_16U ? 65535.0 : 255.0);
    return converted;
}

inline void write_synthetic(const fs::path& file, int width, int height, unsigned seed, int depth = CV_8U,
                            int channels = 3) {
    ASSERT_TRUE(cv::imwrite(file.string(), synthetic_mat(width, height, seed, depth, channels))) << file;
}

struct CliRun {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs `impasto ARGS` (ARGS already shell-quoted where needed) with stdout and stderr in separate
// files of `scratch`, which must not be the output folder under test. `prefix` goes before the
// program (e.g. "cd X &&" or "VAR=value").
inline CliRun run_cli(const std::string& args, const fs::path& scratch, const std::string& prefix = "") {
    const fs::path out = scratch / "stdout.txt";
    const fs::path err = scratch / "stderr.txt";
    // Braces: run_command appends its own 2>&1, which must not undo ours.
    const auto result = run_command("{ " + prefix + " " + cli() + " " + args + " >" + shell_quote(out.string()) +
                                    " 2>" + shell_quote(err.string()) + "; }");
    CliRun run;
    run.exit_code = result.exit_code;
    run.out = read_text(out);
    run.err = read_text(err);
    return run;
}

// A failed run's contract: exit `code`, nothing on stdout, and one "impasto: error:" line on
// stderr that names `needle`.
inline void expect_one_line_error(const CliRun& run, int code, const std::string& needle) {
    EXPECT_EQ(run.exit_code, code) << run.err;
    EXPECT_TRUE(run.out.empty()) << run.out;
    ASSERT_FALSE(run.err.empty());
    EXPECT_EQ(run.err.rfind("impasto: error: ", 0), 0U) << run.err;
    EXPECT_EQ(run.err.find('\n'), run.err.size() - 1) << "more than one line on stderr:\n" << run.err;
    EXPECT_NE(run.err.find(needle), std::string::npos) << "expected '" << needle << "' in: " << run.err;
}

inline std::set<std::string> list_dir(const fs::path& dir) {
    std::set<std::string> names;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        names.insert(entry.path().filename().string());
    }
    return names;
}

inline std::string joined(const std::set<std::string>& names) {
    std::string text;
    for (const auto& name : names) {
        text += (text.empty() ? "" : " ") + name;
    }
    return text;
}

// True when the real weights are installed in the default folder (checked once).
inline bool weights_installed() {
    static const bool installed = [] {
        const auto result = run_command(cli() + " weights status");
        return result.exit_code == 0 && result.output.find("vgg19.caffe ") != std::string::npos &&
               result.output.find("no weight sets are installed") == std::string::npos;
    }();
    return installed;
}

#define IMPASTO_REQUIRE_WEIGHTS()                                                                                      \
    do {                                                                                                               \
        if (!::impasto::e2e::weights_installed()) {                                                                    \
            GTEST_SKIP() << "the real VGG19 weights are not installed; run `impasto weights install`";                 \
        }                                                                                                              \
    } while (0)

} // namespace impasto::e2e
