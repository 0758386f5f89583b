// Loading, saving and resampling images through OpenCV, with the checks that make damaged or
// unsuitable files fail clearly (see image_checks.h).
#include "impasto/atomic_file.h"
#include "impasto/error.h"
#include "impasto/image.h"
#include "io/checked_math.h"
#include "io/file_limits.h"
#include "io/image_checks.h"
#include "io/regular_file.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h> // fmt::join lives here from fmt 11 (LibTorch 2.x bundles it)
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <unistd.h>

namespace impasto {
namespace fs = std::filesystem;
using detail::ImageFormat;

namespace {

std::string lower_extension(const fs::path& file) {
    std::string ext = file.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext;
}

bool is_known_extension(const std::string& ext) {
    const auto& known = known_image_extensions();
    return std::find(known.begin(), known.end(), ext) != known.end();
}

std::string allowed_extensions_text() {
    return fmt::format("{}", fmt::join(known_image_extensions(), ", "));
}

// Only a regular file, at most kMaxImageFileBytes long: /dev/zero or a FIFO would never end.
std::string read_image_bytes(const fs::path& file) {
    std::string bytes = io::read_regular_file(file, io::kMaxImageFileBytes);
    if (bytes.empty()) {
        throw InputError("empty file (0 bytes)");
    }
    return bytes;
}

// width and height are at most kMaxImageSide (the probe's guarantee; OpenCV's too), so the
// product cannot overflow; the checks below still do not rely on it.
void check_dimensions(std::int64_t width, std::int64_t height, const ImageLoadLimits& limits) {
    const auto pixels = io::checked_mul<std::int64_t>(width, height);
    if (!pixels || *pixels > limits.max_pixels) {
        throw InputError(fmt::format("image is {}x{} ({} pixels), over the decode limit of {} pixels", width, height,
                                     pixels ? fmt::to_string(*pixels) : std::string("too many"), limits.max_pixels));
    }
    if (width < limits.min_side || height < limits.min_side) {
        throw InputError(fmt::format("image is {}x{} pixels, smaller than the minimum of {} pixels per side", width,
                                     height, limits.min_side));
    }
}

// Everything the decoder will allocate from the header, checked before it runs: the image, and a
// strip or tile buffer whose size the file states separately (TIFF).
void check_probe(const detail::ImageProbe& probe, const ImageLoadLimits& limits) {
    check_dimensions(probe.width, probe.height, limits);
    if (probe.scratch_pixels > limits.max_pixels) {
        throw InputError(fmt::format("{} strips or tiles of {} pixels each, over the decode limit of {} pixels",
                                     detail::format_name(probe.format), probe.scratch_pixels, limits.max_pixels));
    }
}

// Alpha is only asked for where the header announces it. IMREAD_UNCHANGED skips the EXIF
// orientation, which matters for JPEG (never has alpha) but is rare in PNG and WebP.
int decode_flags(const detail::ImageProbe& probe) {
    const int color = cv::IMREAD_COLOR | cv::IMREAD_ANYDEPTH;
    switch (probe.format) {
    case ImageFormat::Png:
    case ImageFormat::Webp:
        return probe.has_alpha ? cv::IMREAD_UNCHANGED : color;
    case ImageFormat::Tiff:
        return cv::IMREAD_UNCHANGED; // alpha is only known after reading the IFD
    default:
        return color;
    }
}

// Unit-range float of any decoded sample type.
cv::Mat to_unit_float(const cv::Mat& decoded) {
    cv::Mat out;
    switch (decoded.depth()) {
    case CV_8U:
        decoded.convertTo(out, CV_32F, 1.0 / 255.0);
        break;
    case CV_16U:
        decoded.convertTo(out, CV_32F, 1.0 / 65535.0);
        break;
    case CV_32F:
    case CV_64F:
        decoded.convertTo(out, CV_32F); // float TIFF: taken as [0,1], clamped below
        cv::patchNaNs(out, 0.0);
        break;
    default:
        throw InputError(fmt::format("unsupported sample type (OpenCV depth {})", decoded.depth()));
    }
    return out;
}

// Grey, grey+alpha, BGR or BGRA (OpenCV's channel order) to interleaved RGB; transparent
// pixels are composited over white, which is how the image looks in a viewer.
Image to_rgb_image(const cv::Mat& decoded) {
    const cv::Mat unit = to_unit_float(decoded);
    const int channels = unit.channels();
    if (channels < 1 || channels > 4) {
        throw InputError(fmt::format("unsupported channel count {}", channels));
    }
    Image image;
    image.width = unit.cols;
    image.height = unit.rows;
    image.rgb.resize(static_cast<std::size_t>(unit.cols) * unit.rows * 3);
    for (int y = 0; y < unit.rows; ++y) {
        const float* row = unit.ptr<float>(y);
        for (int x = 0; x < unit.cols; ++x) {
            const float* in = row + static_cast<std::ptrdiff_t>(x) * channels;
            float r = in[0];
            float g = in[0];
            float b = in[0];
            float alpha = 1.0F;
            if (channels >= 3) {
                b = in[0];
                g = in[1];
                r = in[2];
            }
            if (channels == 2 || channels == 4) {
                alpha = std::clamp(in[channels - 1], 0.0F, 1.0F);
            }
            float* out = image.pixel(x, y);
            out[0] = std::clamp(r * alpha + (1.0F - alpha), 0.0F, 1.0F);
            out[1] = std::clamp(g * alpha + (1.0F - alpha), 0.0F, 1.0F);
            out[2] = std::clamp(b * alpha + (1.0F - alpha), 0.0F, 1.0F);
        }
    }
    return image;
}

Image load_image_unchecked(const fs::path& file, const ImageLoadLimits& limits) {
    const std::string bytes = read_image_bytes(file);
    const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
    const detail::ImageProbe probe = detail::probe_image(data, bytes.size());
    check_probe(probe, limits); // before any pixel memory is allocated
    cv::Mat decoded;
    const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8U, const_cast<std::uint8_t*>(data));
    try {
        decoded = cv::imdecode(buffer, decode_flags(probe));
    } catch (const cv::Exception& e) {
        throw InputError(fmt::format("corrupt {} (decoder error: {})", detail::format_name(probe.format), e.err));
    }
    if (decoded.empty()) {
        throw InputError(
            fmt::format("corrupt or truncated {} (the decoder could not read it)", detail::format_name(probe.format)));
    }
    // The decoder must have read the size the probe read (EXIF orientation may swap the sides):
    // a disagreement means the limit above was checked against the wrong numbers.
    const bool same = (decoded.cols == probe.width && decoded.rows == probe.height) ||
                      (decoded.cols == probe.height && decoded.rows == probe.width);
    if (!same) {
        throw InputError(fmt::format("corrupt {} (the header says {}x{}, the decoder read {}x{})",
                                     detail::format_name(probe.format), probe.width, probe.height, decoded.cols,
                                     decoded.rows));
    }
    check_dimensions(decoded.cols, decoded.rows, limits);
    return to_rgb_image(decoded);
}

void check_image(const Image& image, const char* what) {
    if (image.empty() || image.width < 0 || image.height < 0 ||
        image.rgb.size() != static_cast<std::size_t>(image.width) * image.height * 3) {
        throw ConfigError(fmt::format("{}: image is {}x{} with {} values, expected width*height*3 > 0", what,
                                      image.width, image.height, image.rgb.size()));
    }
}

// 8-bit BGR, what every OpenCV encoder takes; rounding and saturation come from convertTo.
cv::Mat to_bgr8(const Image& image) {
    const cv::Mat rgb(image.height, image.width, CV_32FC3, const_cast<float*>(image.rgb.data()));
    cv::Mat bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    cv::Mat bgr8;
    bgr.convertTo(bgr8, CV_8U, 255.0);
    return bgr8;
}

std::vector<std::uint8_t> encode(const Image& image, const std::string& ext, const std::vector<int>& params,
                                 const fs::path& file) {
    std::vector<std::uint8_t> bytes;
    bool ok = false;
    try {
        ok = cv::imencode(ext, to_bgr8(image), bytes, params);
    } catch (const cv::Exception& e) {
        throw OutputError(fmt::format("encoding '{}': {}", file.string(), e.err));
    }
    if (!ok || bytes.empty()) {
        throw OutputError(fmt::format("encoding '{}': the {} encoder failed", file.string(), ext));
    }
    return bytes;
}

std::string folder_text(const fs::path& file) {
    return file.parent_path().empty() ? std::string(".") : file.parent_path().string();
}

bool same_file(const fs::path& a, const fs::path& b) {
    std::error_code ec;
    if (fs::exists(a, ec) && fs::exists(b, ec)) {
        const bool same = fs::equivalent(a, b, ec); // follows links, catches hard links too
        return !ec && same;
    }
    const fs::path ca = fs::weakly_canonical(a, ec);
    if (ec) {
        return false;
    }
    const fs::path cb = fs::weakly_canonical(b, ec);
    return !ec && ca == cb;
}

} // namespace

const std::vector<std::string>& known_image_extensions() {
    static const std::vector<std::string> known = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"};
    return known;
}

Image load_image(const fs::path& file, const ImageLoadLimits& limits) {
    if (limits.max_pixels < 1 || limits.min_side < 1) {
        throw ConfigError(fmt::format("image load limits: max_pixels {} and min_side {} must both be at least 1",
                                      limits.max_pixels, limits.min_side));
    }
    try {
        return load_image_unchecked(file, limits);
    } catch (const InputError& e) {
        rethrow_with_context(e, fmt::format("loading '{}'", file.string()));
    }
}

void save_image(const Image& image, const fs::path& file, int jpeg_quality) {
    const std::string ext = lower_extension(file);
    if (!is_known_extension(ext)) {
        throw OutputError(fmt::format("saving '{}': unknown image extension '{}' (allowed: {})", file.string(), ext,
                                      allowed_extensions_text()));
    }
    if (jpeg_quality < 1 || jpeg_quality > 100) {
        throw ConfigError(fmt::format("saving '{}': jpeg quality {} is outside 1..100", file.string(), jpeg_quality));
    }
    check_image(image, "saving image");
    std::vector<int> params;
    if (ext == ".jpg" || ext == ".jpeg") {
        params = {cv::IMWRITE_JPEG_QUALITY, jpeg_quality};
    } else if (ext == ".webp") {
        params = {cv::IMWRITE_WEBP_QUALITY, jpeg_quality};
    } else if (ext == ".png") {
        params = {cv::IMWRITE_PNG_COMPRESSION, 6};
    }
    const std::vector<std::uint8_t> bytes = encode(image, ext, params, file);
    write_file_atomic(file, bytes.data(), bytes.size());
}

std::vector<std::uint8_t> encode_png(const Image& image) {
    check_image(image, "encoding PNG");
    // Level 1: previews are sent often and thrown away; speed matters more than size.
    return encode(image, ".png", {cv::IMWRITE_PNG_COMPRESSION, 1}, "preview.png");
}

std::vector<std::uint8_t> encode_jpeg(const Image& image, int quality) {
    if (quality < 1 || quality > 100) {
        throw ConfigError(fmt::format("encoding JPEG: quality {} is outside 1..100", quality));
    }
    check_image(image, "encoding JPEG");
    return encode(image, ".jpg", {cv::IMWRITE_JPEG_QUALITY, quality}, "thumbnail.jpg");
}

void check_output_path(const fs::path& file, const std::vector<fs::path>& inputs) {
    const std::string name = file.string();
    const std::string ext = lower_extension(file);
    if (!is_known_extension(ext)) {
        throw OutputError(fmt::format("output '{}': unknown image extension '{}' (allowed: {})", name, ext,
                                      allowed_extensions_text()));
    }
    const std::string folder = folder_text(file);
    std::error_code ec;
    const fs::file_status folder_status = fs::status(folder, ec);
    if (!fs::exists(folder_status)) {
        throw OutputError(fmt::format("output folder '{}' does not exist", folder));
    }
    if (!fs::is_directory(folder_status)) {
        throw OutputError(fmt::format("output folder '{}' is not a folder", folder));
    }
    if (fs::is_directory(file, ec)) {
        throw OutputError(fmt::format("output '{}' is a folder", name));
    }
    for (const fs::path& input : inputs) {
        if (same_file(file, input)) {
            throw OutputError(fmt::format("output '{}' is the same file as input '{}'", name, input.string()));
        }
    }
    // access() alone is not enough: root passes it everywhere except read-only mounts, so a real
    // temporary file is created (and removed) in the folder.
    if (::access(folder.c_str(), W_OK) != 0) {
        throw OutputError(fmt::format("output folder '{}' is not writable ({})", folder, std::strerror(errno)));
    }
    const fs::path probe = temporary_sibling(file);
    const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        throw OutputError(fmt::format("output folder '{}' is not writable ({})", folder, std::strerror(errno)));
    }
    ::close(fd);
    ::unlink(probe.c_str());
}

Image resize_image(const Image& image, int width, int height) {
    check_image(image, "resizing image");
    if (width < 1 || height < 1) {
        throw ConfigError(fmt::format("resizing image: target size {}x{} must be at least 1x1", width, height));
    }
    if (width == image.width && height == image.height) {
        return image;
    }
    // Area averaging is the alias-free choice for shrinking; cubic is sharper for growing.
    const bool shrinking = width <= image.width && height <= image.height;
    const cv::Mat src(image.height, image.width, CV_32FC3, const_cast<float*>(image.rgb.data()));
    Image out;
    out.width = width;
    out.height = height;
    out.rgb.resize(static_cast<std::size_t>(width) * height * 3);
    cv::Mat dst(height, width, CV_32FC3, out.rgb.data());
    cv::resize(src, dst, cv::Size(width, height), 0, 0, shrinking ? cv::INTER_AREA : cv::INTER_CUBIC);
    // Cubic overshoots at edges; the rest of the library expects [0,1].
    cv::min(dst, 1.0, dst);
    cv::max(dst, 0.0, dst);
    return out;
}

Image resize_long_side(const Image& image, int long_side) {
    check_image(image, "resizing image");
    if (long_side < 1) {
        throw ConfigError(fmt::format("resizing image: long side {} must be at least 1", long_side));
    }
    const double scale = static_cast<double>(long_side) / std::max(image.width, image.height);
    const int width = std::max(1, static_cast<int>(std::lround(image.width * scale)));
    const int height = std::max(1, static_cast<int>(std::lround(image.height * scale)));
    return resize_image(image, width, height);
}

} // namespace impasto
