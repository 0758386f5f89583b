// The probe against the decoder on many mutated headers: small valid images of each format the
// probe accepts, with one to three header bytes changed (fixed seed). For every mutant the probe
// must refuse it or report the size cv::imdecode decodes; a mutant it accepts without a size, or
// at a size the decoder disagrees with, is a way past the pixel limit.
#include "io_image_oracle.h"

#include <gtest/gtest.h>
#include <random>
#include <zlib.h>

namespace impasto {
namespace {
using namespace impasto::testing;

// Byte positions worth mutating: the header, and for TIFF the first directory wherever it is.
std::vector<std::size_t> header_positions(const Bytes& bytes, bool tiff) {
    std::vector<std::size_t> positions;
    for (std::size_t i = 0; i < std::min<std::size_t>(bytes.size(), 64); ++i) {
        positions.push_back(i);
    }
    if (tiff) {
        const std::size_t ifd =
            bytes[4] | (bytes[5] << 8) | (bytes[6] << 16) | (static_cast<std::size_t>(bytes[7]) << 24);
        const std::size_t entries = bytes[ifd] | (bytes[ifd + 1] << 8);
        for (std::size_t i = ifd; i < std::min(bytes.size(), ifd + 2 + entries * 12); ++i) {
            positions.push_back(i);
        }
    }
    return positions;
}

// libpng checks IHDR's CRC, so a mutated IHDR would only ever test the CRC check: recompute it
// (over the chunk as its possibly mutated length field now delimits it).
void fix_png_header_crc(Bytes& png) {
    const std::size_t length = (std::size_t{png[8]} << 24) | (png[9] << 16) | (png[10] << 8) | png[11];
    if (length > 64 || 16 + length + 4 > png.size()) {
        return;
    }
    const auto crc = static_cast<std::uint32_t>(crc32(0, png.data() + 12, static_cast<uInt>(4 + length)));
    for (int i = 0; i < 4; ++i) {
        png[16 + length + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
    }
}

void check_mutants(const Bytes& original, bool tiff, unsigned seed, int count, bool png = false) {
    ASSERT_TRUE(probe_agrees_with_decoder(original));
    std::mt19937 rng(seed);
    const std::vector<std::size_t> positions = header_positions(original, tiff);
    // Values that make sizes and types interesting, besides random bytes.
    const std::uint8_t special[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x06, 0x08, 0x09, 0x10, 0x11,
                                    0x12, 0x24, 0x28, 0x7F, 0x80, 0xC0, 0xC2, 0xDA, 0xFE, 0xFF};
    int accepted = 0;
    for (int m = 0; m < count; ++m) {
        Bytes mutant = original;
        const int changes = 1 + static_cast<int>(rng() % 3);
        for (int c = 0; c < changes; ++c) {
            const std::size_t at = positions[rng() % positions.size()];
            mutant[at] = rng() % 2 == 0 ? static_cast<std::uint8_t>(rng()) : special[rng() % sizeof special];
        }
        if (png) {
            fix_png_header_crc(mutant);
        }
        const ::testing::AssertionResult agrees = probe_agrees_with_decoder(mutant);
        EXPECT_TRUE(agrees) << "mutant " << m << " of seed " << seed;
        accepted += probe_or_refuse(mutant).has_value() ? 1 : 0;
    }
    // Most single-byte header changes leave a readable file: the oracle must have had work to do.
    EXPECT_GT(accepted, count / 10);
}

} // namespace

TEST(ImageProbeOracle, MutatedPngHeaders) {
    check_mutants(encoded(".png", 16, 12), false, 1, 300, true);
    check_mutants(encoded(".png", 16, 12, 4), false, 2, 300, true);
}

TEST(ImageProbeOracle, MutatedJpegHeaders) {
    check_mutants(encoded(".jpg", 16, 12), false, 3, 300);
    check_mutants(encoded(".jpg", 16, 12, 3, {cv::IMWRITE_JPEG_PROGRESSIVE, 1}), false, 4, 300);
}

TEST(ImageProbeOracle, MutatedBmpHeaders) {
    check_mutants(encoded(".bmp", 16, 12), false, 5, 300);
    check_mutants(encoded(".bmp", 16, 12, 1), false, 6, 300);
}

TEST(ImageProbeOracle, MutatedTiffDirectories) {
    check_mutants(encoded(".tif", 16, 12), true, 7, 400);
    check_mutants(encoded(".tif", 16, 12, 1), true, 8, 400);
}

TEST(ImageProbeOracle, MutatedWebpHeaders) {
    check_mutants(encoded(".webp", 16, 12, 3, {cv::IMWRITE_WEBP_QUALITY, 80}), false, 9, 300);
    check_mutants(encoded(".webp", 16, 12, 3, {cv::IMWRITE_WEBP_QUALITY, 101}), false, 10, 300); // lossless
}

} // namespace impasto
