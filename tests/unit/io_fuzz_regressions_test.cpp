// The fuzz targets of the torch-free parsers, replayed in the unit tests: every crash the fuzzers
// found (fuzz/regressions/<target>/) and every corpus input, through the fuzzers' own entry points
// (fuzz/entry_io.cpp), and the seeds checked to be valid files of their format.
#include "fuzz_entry.h"
#include "impasto/image.h"
#include "impasto/safetensors.h"
#include "impasto/style_model_file.h"
#include "io/torch_legacy.h"
#include "testutil.h"
#include "unit/fuzz_replay.h"

#include <cstdlib>
#include <filesystem>
#include <gtest/gtest.h>
#include <string>

namespace impasto {
namespace {

using testing::expect_seeds_accepted;
using testing::replay_fuzz_inputs;

const std::uint8_t* bytes_of(const std::string& text) {
    return reinterpret_cast<const std::uint8_t*>(text.data());
}

TEST(IoFuzzRegressions, TorchLegacyInputsAreRefusedCleanly) {
    EXPECT_GT(replay_fuzz_inputs("torch_legacy", fuzz::torch_legacy), 0U);
}

TEST(IoFuzzRegressions, TorchZipInputsAreRefusedCleanly) {
    EXPECT_GT(replay_fuzz_inputs("torch_zip", fuzz::torch_zip), 0U);
}

TEST(IoFuzzRegressions, SafetensorsInputsAreRefusedCleanly) {
    EXPECT_GT(replay_fuzz_inputs("safetensors", fuzz::safetensors), 0U);
}

TEST(IoFuzzRegressions, StyleModelInputsAreRefusedCleanly) {
    EXPECT_GT(replay_fuzz_inputs("style_model", fuzz::style_model), 0U);
}

TEST(IoFuzzRegressions, ImageInputsKeepProbeAndDecoderInAgreement) {
    const std::string limit = std::to_string(fuzz::kImageFuzzMaxPixels);
    const char* value = std::getenv(fuzz::kOpenCvPixelLimitVariable);
    if (value == nullptr || limit != value) {
        // OpenCV reads its pixel limit when it loads: replay in a process started with it.
        const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
        const testing::CommandResult run = testing::run_command(
            std::string(fuzz::kOpenCvPixelLimitVariable) + "=" + limit + " " + testing::shell_quote(self) +
            " --gtest_filter=IoFuzzRegressions.ImageInputsKeepProbeAndDecoderInAgreement");
        EXPECT_EQ(run.exit_code, 0) << run.output;
        EXPECT_NE(run.output.find("[  PASSED  ] 1 test"), std::string::npos) << run.output;
        return;
    }
    EXPECT_GT(replay_fuzz_inputs("image", fuzz::image), 0U);
}

TEST(IoFuzzRegressions, SeedsAreValidFiles) {
    expect_seeds_accepted("torch_legacy", [](const std::string& bytes, const auto& file) {
        EXPECT_FALSE(io::parse_torch_legacy(bytes_of(bytes), bytes.size(), file.string()).empty());
    });
    expect_seeds_accepted("torch_zip", [](const std::string& bytes, const auto& file) {
        EXPECT_FALSE(io::parse_torch_zip(bytes, file.string()).empty());
    });
    expect_seeds_accepted("safetensors", [](const std::string& bytes, const auto& file) {
        EXPECT_FALSE(parse_safetensors(bytes_of(bytes), bytes.size(), file.string()).empty());
    });
    expect_seeds_accepted("style_model", [](const std::string&, const auto& file) {
        EXPECT_FALSE(read_style_model(file).tensors.empty());
    });
    expect_seeds_accepted("image", [](const std::string&, const auto& file) {
        ImageLoadLimits limits;
        limits.max_pixels = fuzz::kImageFuzzMaxPixels;
        EXPECT_FALSE(load_image(file, limits).empty());
    });
}

} // namespace
} // namespace impasto
