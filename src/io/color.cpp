// Colour controls of Gatys et al. 2017, see color.h. All statistics are computed in double:
// covariances of near-constant images are tiny and float would lose them.
#include "impasto/color.h"

#include "impasto/error.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <fmt/format.h>
#include <opencv2/core.hpp>

namespace impasto {
namespace {

using Mat3 = std::array<std::array<double, 3>, 3>;

// NTSC YIQ (FCC 1953 coefficients). The inverse is computed from this matrix, not taken from a
// table, so that RGB -> YIQ -> RGB is the identity to rounding error.
constexpr Mat3 kRgbToYiq = {{{0.299, 0.587, 0.114}, {0.595716, -0.274453, -0.321263}, {0.211456, -0.522591, 0.311135}}};

// Regularises the covariances so that a flat (single-colour) image does not divide by zero.
constexpr double kCovarianceEpsilon = 1e-5;
constexpr double kStdEpsilon = 1e-6;

void check_image(const Image& image, const char* what) {
    if (image.empty() || image.rgb.size() != static_cast<std::size_t>(image.width) * image.height * 3) {
        throw ConfigError(fmt::format("{}: image is {}x{} with {} values, expected width*height*3 > 0", what,
                                      image.width, image.height, image.rgb.size()));
    }
}

Mat3 inverse(const Mat3& m) {
    cv::Matx33d a;
    for (int r = 0; r < 3; ++r) {
        for (int c = 0; c < 3; ++c) {
            a(r, c) = m[r][c];
        }
    }
    const cv::Matx33d inv = a.inv(cv::DECOMP_LU);
    Mat3 out{};
    for (int r = 0; r < 3; ++r) {
        for (int c = 0; c < 3; ++c) {
            out[r][c] = inv(r, c);
        }
    }
    return out;
}

const Mat3& yiq_to_rgb() {
    static const Mat3 matrix = inverse(kRgbToYiq);
    return matrix;
}

std::array<double, 3> multiply(const Mat3& m, const std::array<double, 3>& v) {
    std::array<double, 3> out{};
    for (int r = 0; r < 3; ++r) {
        out[r] = m[r][0] * v[0] + m[r][1] * v[1] + m[r][2] * v[2];
    }
    return out;
}

double luma(const float* p) {
    return kRgbToYiq[0][0] * p[0] + kRgbToYiq[0][1] * p[1] + kRgbToYiq[0][2] * p[2];
}

float unit(double v) {
    return static_cast<float>(std::clamp(v, 0.0, 1.0));
}

struct ColorStats {
    cv::Vec3d mean;
    cv::Matx33d covariance;
};

ColorStats color_stats(const Image& image) {
    const std::size_t n = static_cast<std::size_t>(image.width) * image.height;
    ColorStats stats{cv::Vec3d(0, 0, 0), cv::Matx33d::zeros()};
    for (std::size_t i = 0; i < n; ++i) {
        for (int c = 0; c < 3; ++c) {
            stats.mean[c] += image.rgb[i * 3 + c];
        }
    }
    stats.mean *= 1.0 / static_cast<double>(n);
    for (std::size_t i = 0; i < n; ++i) {
        const cv::Vec3d d(image.rgb[i * 3] - stats.mean[0], image.rgb[i * 3 + 1] - stats.mean[1],
                          image.rgb[i * 3 + 2] - stats.mean[2]);
        stats.covariance += d * d.t();
    }
    stats.covariance *= 1.0 / static_cast<double>(n);
    return stats;
}

// Symmetric matrix power through the eigen-decomposition C = V^T diag(l) V (cv::eigen returns
// the eigenvectors as rows). Eigenvalues are floored at epsilon before the power is taken.
cv::Matx33d symmetric_power(const cv::Matx33d& c, double power) {
    cv::Mat values;
    cv::Mat vectors;
    cv::eigen(cv::Mat(c), values, vectors);
    cv::Matx33d v(vectors);
    cv::Matx33d d = cv::Matx33d::zeros();
    for (int i = 0; i < 3; ++i) {
        d(i, i) = std::pow(std::max(values.at<double>(i), 0.0) + kCovarianceEpsilon, power);
    }
    return v.t() * d * v;
}

struct LumaStats {
    double mean = 0.0;
    double std = 0.0;
};

LumaStats luma_stats(const Image& image) {
    const std::size_t n = static_cast<std::size_t>(image.width) * image.height;
    double sum = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        sum += luma(&image.rgb[i * 3]);
    }
    LumaStats stats;
    stats.mean = sum / static_cast<double>(n);
    double squares = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        const double d = luma(&image.rgb[i * 3]) - stats.mean;
        squares += d * d;
    }
    stats.std = std::sqrt(squares / static_cast<double>(n));
    return stats;
}

} // namespace

Image match_color_histogram(const Image& source, const Image& reference) {
    check_image(source, "colour matching (source)");
    check_image(reference, "colour matching (reference)");
    const ColorStats s = color_stats(source);
    const ColorStats r = color_stats(reference);
    const cv::Matx33d a = symmetric_power(r.covariance, 0.5) * symmetric_power(s.covariance, -0.5);
    Image out = source;
    const std::size_t n = static_cast<std::size_t>(source.width) * source.height;
    for (std::size_t i = 0; i < n; ++i) {
        float* p = &out.rgb[i * 3];
        const cv::Vec3d mapped = a * cv::Vec3d(p[0] - s.mean[0], p[1] - s.mean[1], p[2] - s.mean[2]) + r.mean;
        for (int c = 0; c < 3; ++c) {
            p[c] = unit(mapped[c]);
        }
    }
    return out;
}

Image luminance_image(const Image& image) {
    check_image(image, "luminance");
    Image out = image;
    const std::size_t n = static_cast<std::size_t>(image.width) * image.height;
    for (std::size_t i = 0; i < n; ++i) {
        float* p = &out.rgb[i * 3];
        const float y = unit(luma(p));
        p[0] = p[1] = p[2] = y;
    }
    return out;
}

Image combine_luminance(const Image& luma_from, const Image& chroma_from) {
    check_image(luma_from, "combining luminance (luminance image)");
    check_image(chroma_from, "combining luminance (colour image)");
    if (luma_from.width != chroma_from.width || luma_from.height != chroma_from.height) {
        throw ConfigError(fmt::format("combining luminance: sizes differ ({}x{} and {}x{})", luma_from.width,
                                      luma_from.height, chroma_from.width, chroma_from.height));
    }
    const Mat3& back = yiq_to_rgb();
    Image out = chroma_from;
    const std::size_t n = static_cast<std::size_t>(out.width) * out.height;
    for (std::size_t i = 0; i < n; ++i) {
        const float* l = &luma_from.rgb[i * 3];
        float* p = &out.rgb[i * 3];
        std::array<double, 3> yiq = multiply(kRgbToYiq, {p[0], p[1], p[2]});
        yiq[0] = luma(l);
        const std::array<double, 3> rgb = multiply(back, yiq);
        for (int c = 0; c < 3; ++c) {
            p[c] = unit(rgb[c]);
        }
    }
    return out;
}

Image match_luminance(const Image& source, const Image& reference) {
    check_image(source, "luminance matching (source)");
    check_image(reference, "luminance matching (reference)");
    const LumaStats s = luma_stats(source);
    const LumaStats r = luma_stats(reference);
    // A flat source keeps its flatness and only takes the reference's mean.
    const double scale = s.std > kStdEpsilon ? r.std / s.std : 0.0;
    Image out = source;
    const std::size_t n = static_cast<std::size_t>(source.width) * source.height;
    for (std::size_t i = 0; i < n; ++i) {
        float* p = &out.rgb[i * 3];
        const float y = unit(scale * (luma(p) - s.mean) + r.mean);
        p[0] = p[1] = p[2] = y;
    }
    return out;
}

} // namespace impasto
