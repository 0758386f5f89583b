// PSNR and the edge-sharpness ratio on synthetic images with known answers.
#include "impasto/error.h"
#include "impasto/image_metrics.h"
#include "io_image_fixtures.h"

#include <cmath>
#include <gtest/gtest.h>

using namespace impasto;

namespace {

// A vertical step edge (0.2 | 0.8) with a ramp of `blur` pixels between the two sides.
Image step_edge(int width, int height, int blur) {
    Image image;
    image.width = width;
    image.height = height;
    image.rgb.resize(static_cast<std::size_t>(width) * height * 3);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            const double t =
                blur == 0 ? (x < width / 2 ? 0.0 : 1.0) : std::clamp((x - width / 2 + blur / 2.0) / blur, 0.0, 1.0);
            for (int c = 0; c < 3; ++c) {
                image.pixel(x, y)[c] = static_cast<float>(0.2 + 0.6 * t);
            }
        }
    }
    return image;
}

} // namespace

TEST(ImageMetrics, PsnrOfAKnownError) {
    Image a = step_edge(40, 30, 0);
    EXPECT_TRUE(std::isinf(compare_images(a, a).psnr_db));
    EXPECT_DOUBLE_EQ(compare_images(a, a).edge_ratio, 1.0);
    Image b = a;
    for (float& v : b.rgb) {
        v += 0.01F; // MSE 1e-4: 40 dB
    }
    EXPECT_NEAR(compare_images(b, a).psnr_db, 40.0, 1e-3);
}

TEST(ImageMetrics, BlurLowersTheEdgeRatio) {
    const Image sharp = step_edge(64, 32, 0);
    const double slight = compare_images(step_edge(64, 32, 4), sharp).edge_ratio;
    const double strong = compare_images(step_edge(64, 32, 16), sharp).edge_ratio;
    EXPECT_LT(slight, 1.0);
    EXPECT_LT(strong, slight);
    // A flat image has no edges where the reference has them.
    Image flat = sharp;
    std::fill(flat.rgb.begin(), flat.rgb.end(), 0.5F);
    EXPECT_NEAR(compare_images(flat, sharp).edge_ratio, 0.0, 1e-9);
}

TEST(ImageMetrics, SizesMustMatch) {
    EXPECT_THROW(compare_images(step_edge(40, 30, 0), step_edge(30, 40, 0)), ConfigError);
    EXPECT_THROW(compare_images(Image{}, Image{}), InputError);
}
