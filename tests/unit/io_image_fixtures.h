#pragma once
// Synthetic images for the image IO tests: small, deterministic, at odd sizes.
#include "impasto/image.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <string>
#include <vector>

// gmock's HasSubstr without linking gmock.
#define IMPASTO_EXPECT_CONTAINS(text, part) EXPECT_TRUE(::impasto::testing::contains((text), (part)))

namespace impasto::testing {

// A smooth gradient with a different ramp per channel, so that channel swaps and flips show.
inline Image gradient_image(int width, int height) {
    Image image;
    image.width = width;
    image.height = height;
    image.rgb.resize(static_cast<std::size_t>(width) * height * 3);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            float* p = image.pixel(x, y);
            p[0] = static_cast<float>(x) / static_cast<float>(width - 1);
            p[1] = static_cast<float>(y) / static_cast<float>(height - 1);
            p[2] = 0.25F + 0.5F * static_cast<float>((x + 2 * y) % 7) / 6.0F;
        }
    }
    return image;
}

inline Image solid_image(int width, int height, float r, float g, float b) {
    Image image;
    image.width = width;
    image.height = height;
    image.rgb.resize(static_cast<std::size_t>(width) * height * 3);
    for (std::size_t i = 0; i < image.rgb.size(); i += 3) {
        image.rgb[i] = r;
        image.rgb[i + 1] = g;
        image.rgb[i + 2] = b;
    }
    return image;
}

inline std::vector<std::uint8_t> read_bytes(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::filesystem::path& file, const std::vector<std::uint8_t>& bytes) {
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline void write_text(const std::filesystem::path& file, const std::string& text) {
    std::ofstream out(file, std::ios::binary);
    out << text;
}

inline ::testing::AssertionResult contains(const std::string& text, const std::string& part) {
    if (text.find(part) != std::string::npos) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

// The message of the exception of type E that `action` throws; a test failure if it throws none.
template <class E, class F> std::string error_message(F&& action) {
    try {
        action();
    } catch (const E& error) {
        return error.what();
    }
    ADD_FAILURE() << "expected an exception";
    return {};
}

} // namespace impasto::testing
