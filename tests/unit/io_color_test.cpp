// Colour controls: histogram matching takes the reference's mean and covariance; luminance
// transfer round-trips; luminance matching takes the reference's mean and std.
#include "impasto/color.h"
#include "impasto/error.h"
#include "io_image_fixtures.h"

#include <array>
#include <cmath>
#include <gtest/gtest.h>
#include <random>

namespace impasto {
namespace {
using namespace impasto::testing;

struct Stats {
    std::array<double, 3> mean{};
    std::array<std::array<double, 3>, 3> cov{};
};

Stats stats(const Image& image) {
    Stats s;
    const std::size_t n = image.rgb.size() / 3;
    for (std::size_t i = 0; i < n; ++i) {
        for (int c = 0; c < 3; ++c) {
            s.mean[c] += image.rgb[i * 3 + c] / static_cast<double>(n);
        }
    }
    for (std::size_t i = 0; i < n; ++i) {
        for (int a = 0; a < 3; ++a) {
            for (int b = 0; b < 3; ++b) {
                s.cov[a][b] += (image.rgb[i * 3 + a] - s.mean[a]) * (image.rgb[i * 3 + b] - s.mean[b]) / n;
            }
        }
    }
    return s;
}

// Correlated colours around `centre`, spread small enough that nothing is clipped.
Image random_image(int width, int height, std::array<double, 3> centre, double spread, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> normal(0.0, 1.0);
    Image image = solid_image(width, height, 0, 0, 0);
    for (std::size_t i = 0; i < image.rgb.size(); i += 3) {
        const double u = normal(rng);
        const double v = normal(rng);
        const double w = normal(rng);
        const std::array<double, 3> d = {u, 0.6 * u + 0.8 * v, -0.3 * u + 0.2 * v + 0.5 * w};
        for (int c = 0; c < 3; ++c) {
            image.rgb[i + c] = static_cast<float>(std::clamp(centre[c] + spread * d[c], 0.0, 1.0));
        }
    }
    return image;
}

TEST(Color, HistogramMatchingTakesReferenceStatistics) {
    const Image source = random_image(37, 29, {0.3, 0.5, 0.6}, 0.08, 1);
    const Image reference = random_image(31, 23, {0.6, 0.4, 0.35}, 0.05, 2);
    const Image matched = match_color_histogram(source, reference);
    ASSERT_EQ(matched.width, 37);
    const Stats want = stats(reference);
    const Stats got = stats(matched);
    for (int a = 0; a < 3; ++a) {
        EXPECT_NEAR(got.mean[a], want.mean[a], 1e-4);
        for (int b = 0; b < 3; ++b) {
            // The regularising epsilon (1e-5 on variances of ~2.5e-3) bounds the agreement.
            EXPECT_NEAR(got.cov[a][b], want.cov[a][b], 2e-5) << a << "," << b;
        }
    }
}

TEST(Color, HistogramMatchingOfAFlatImageIsFinite) {
    const Image flat = solid_image(9, 9, 0.2F, 0.2F, 0.2F);
    const Image matched = match_color_histogram(flat, random_image(9, 9, {0.5, 0.5, 0.5}, 0.1, 3));
    for (float v : matched.rgb) {
        ASSERT_TRUE(std::isfinite(v));
        ASSERT_GE(v, 0.0F);
        ASSERT_LE(v, 1.0F);
    }
}

TEST(Color, LuminanceImageIsReplicatedY) {
    const Image image = solid_image(8, 8, 1.0F, 0.5F, 0.25F);
    const Image y = luminance_image(image);
    const float expected = 0.299F + 0.587F * 0.5F + 0.114F * 0.25F;
    for (int c = 0; c < 3; ++c) {
        EXPECT_NEAR(y.pixel(3, 3)[c], expected, 1e-6F);
    }
}

TEST(Color, CombineLuminanceRoundTrips) {
    const Image image = gradient_image(21, 13);
    const Image same = combine_luminance(image, image);
    for (std::size_t i = 0; i < image.rgb.size(); ++i) {
        ASSERT_NEAR(same.rgb[i], image.rgb[i], 1e-5F) << i;
    }
    // A luminance image (Y replicated) has the same Y, so it combines back to the original too.
    const Image back = combine_luminance(luminance_image(image), image);
    for (std::size_t i = 0; i < image.rgb.size(); ++i) {
        ASSERT_NEAR(back.rgb[i], image.rgb[i], 1e-5F) << i;
    }
}

TEST(Color, CombineLuminanceTakesYFromOneAndChromaFromTheOther) {
    const Image grey = solid_image(8, 8, 0.4F, 0.4F, 0.4F);
    const Image tinted = solid_image(8, 8, 0.5F, 0.45F, 0.4F);
    const Image combined = combine_luminance(grey, tinted);
    const float* p = combined.pixel(2, 2);
    EXPECT_NEAR(0.299F * p[0] + 0.587F * p[1] + 0.114F * p[2], 0.4F, 1e-5F);
    // The chroma difference (R-B) of the tinted image survives.
    EXPECT_NEAR(p[0] - p[2], 0.1F, 1e-3F);
    EXPECT_THROW(combine_luminance(grey, solid_image(9, 8, 0, 0, 0)), ConfigError);
}

TEST(Color, MatchLuminanceTakesMeanAndStd) {
    const Image source = luminance_image(random_image(30, 20, {0.3, 0.3, 0.3}, 0.05, 4));
    const Image reference = random_image(25, 25, {0.6, 0.55, 0.5}, 0.08, 5);
    const Image matched = match_luminance(source, reference);
    auto luma_stats = [](const Image& image) {
        double sum = 0;
        double squares = 0;
        const std::size_t n = image.rgb.size() / 3;
        for (std::size_t i = 0; i < n; ++i) {
            const double y = 0.299 * image.rgb[i * 3] + 0.587 * image.rgb[i * 3 + 1] + 0.114 * image.rgb[i * 3 + 2];
            sum += y;
            squares += y * y;
        }
        const double mean = sum / n;
        return std::array<double, 2>{mean, std::sqrt(squares / n - mean * mean)};
    };
    const auto want = luma_stats(reference);
    const auto got = luma_stats(matched);
    EXPECT_NEAR(got[0], want[0], 1e-5);
    EXPECT_NEAR(got[1], want[1], 1e-5);
    EXPECT_FLOAT_EQ(matched.pixel(4, 4)[0], matched.pixel(4, 4)[2]); // still a luminance image
}

TEST(Color, EmptyImagesAreConfigErrors) {
    EXPECT_THROW(match_color_histogram(Image{}, gradient_image(8, 8)), ConfigError);
    EXPECT_THROW(luminance_image(Image{}), ConfigError);
    EXPECT_THROW(match_luminance(gradient_image(8, 8), Image{}), ConfigError);
}

} // namespace
} // namespace impasto
