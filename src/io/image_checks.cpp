// Format sniffing, PNG, BMP and WebP headers; JPEG and TIFF have files of their own (see image_checks.h).
#include "io/image_checks.h"

#include "impasto/error.h"
#include "io/image_probe_formats.h"

#include <cstdlib>
#include <cstring>
#include <fmt/format.h>

namespace impasto::detail {
namespace {

std::uint32_t be16(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 8) | p[1];
}
std::uint32_t be32(const std::uint8_t* p) {
    return (be16(p) << 16) | be16(p + 2);
}
std::uint32_t le16(const std::uint8_t* p) {
    return (std::uint32_t{p[1]} << 8) | p[0];
}
std::uint32_t le24(const std::uint8_t* p) {
    return (std::uint32_t{p[2]} << 16) | le16(p);
}
std::uint32_t le32(const std::uint8_t* p) {
    return (std::uint32_t{p[3]} << 24) | le24(p);
}

constexpr std::uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

// Walks the chunks to IEND; every chunk carries its length, so a cut file is found exactly.
void probe_png(const std::uint8_t* data, std::size_t size, ImageProbe& probe) {
    std::size_t pos = 8;
    bool first = true;
    bool transparency_chunk = false;
    int color_type = -1;
    while (pos + 8 <= size) {
        const std::uint32_t length = be32(data + pos);
        const char* type = reinterpret_cast<const char*>(data + pos + 4);
        if (length > 0x7FFFFFFFu) {
            throw InputError(fmt::format("corrupt PNG (bad chunk length at byte {})", pos));
        }
        if (first && std::memcmp(type, "IHDR", 4) != 0) {
            throw InputError("corrupt PNG (first chunk is not IHDR)");
        }
        const std::size_t end = pos + 12 + std::size_t{length};
        if (end > size) {
            break;
        }
        if (first) {
            // libpng reads the size from IHDR, which must come first and be 13 bytes long.
            if (length != 13) {
                throw InputError(fmt::format("corrupt PNG (IHDR chunk of {} bytes, not 13)", length));
            }
            set_image_size(probe, be32(data + pos + 8), be32(data + pos + 12), "PNG");
            color_type = data[pos + 17];
        }
        first = false;
        if (std::memcmp(type, "tRNS", 4) == 0) {
            transparency_chunk = true;
        }
        if (std::memcmp(type, "IEND", 4) == 0) {
            // Colour types 4 and 6 carry alpha; a tRNS chunk adds it to palette and RGB images.
            probe.has_alpha =
                color_type == 4 || color_type == 6 || (transparency_chunk && (color_type == 2 || color_type == 3));
            return;
        }
        pos = end;
    }
    throw InputError("truncated PNG (no IEND chunk)");
}

// OpenCV's own BMP decoder reads a 12-byte core header (16-bit unsigned sides) or any header of
// 36 bytes or more (32-bit signed sides, a negative height meaning top-down rows); it refuses
// every other header size, a width below 1 and a height of 0.
void probe_bmp(const std::uint8_t* data, std::size_t size, ImageProbe& probe) {
    if (size < 26) {
        throw InputError("truncated BMP (header incomplete)");
    }
    const std::uint32_t header_size = le32(data + 14);
    std::int64_t width = 0;
    std::int64_t height = 0;
    if (header_size == 12) {
        width = le16(data + 18);
        height = le16(data + 20);
    } else if (header_size >= 36 && header_size <= 0x7FFFFFFFU) {
        width = static_cast<std::int32_t>(le32(data + 18));
        height = static_cast<std::int32_t>(le32(data + 22));
        if (height == INT32_MIN) {
            throw InputError("corrupt BMP (height -2^31 has no positive counterpart)");
        }
        height = std::llabs(height);
    } else {
        throw InputError(
            fmt::format("corrupt BMP (header of {} bytes; decoders read 12, or 36 and more)", header_size));
    }
    set_image_size(probe, width, height, "BMP");
    if (header_size < 40 || size < 34) {
        return;
    }
    // Uncompressed rows have a known size, so a cut file is found here rather than by OpenCV,
    // which reports it on stderr. The sides are bounded above, so this cannot overflow.
    const std::uint32_t bits_per_pixel = le16(data + 28);
    const std::uint32_t compression = le32(data + 30);
    if (compression == 0 && bits_per_pixel > 0 && bits_per_pixel <= 32) {
        const std::int64_t stride = (probe.width * bits_per_pixel + 31) / 32 * 4;
        const std::int64_t needed = std::int64_t{le32(data + 10)} + stride * probe.height;
        if (needed > static_cast<std::int64_t>(size)) {
            throw InputError(fmt::format("truncated BMP ({} bytes, the header needs {})", size, needed));
        }
    }
}

// OpenCV hands the first 32 bytes to libwebp's WebPGetFeatures, which takes the size from the
// first chunk: VP8X (the canvas), VP8 (the key frame header) or VP8L (the lossless header). It
// also accepts a bare bitstream without a chunk header and other layouts; those are refused here.
void probe_webp(const std::uint8_t* data, std::size_t size, ImageProbe& probe) {
    if (size < 30) {
        throw InputError("truncated WebP (header incomplete)");
    }
    const char* chunk = reinterpret_cast<const char*>(data + 12);
    if (std::memcmp(chunk, "VP8X", 4) == 0) {
        if (le32(data + 16) != 10) {
            throw InputError("corrupt WebP (VP8X chunk is not 10 bytes)");
        }
        if ((data[20] & 0x02) != 0) {
            throw InputError("animated WebP is not supported");
        }
        probe.has_alpha = (data[20] & 0x10) != 0;
        set_image_size(probe, std::int64_t{le24(data + 24)} + 1, std::int64_t{le24(data + 27)} + 1, "WebP");
    } else if (std::memcmp(chunk, "VP8L", 4) == 0) {
        const std::uint32_t bits = le32(data + 21);
        if (data[20] != 0x2F || (bits >> 29) != 0) {
            throw InputError("corrupt WebP (VP8L signature or version)");
        }
        set_image_size(probe, std::int64_t{bits & 0x3FFF} + 1, std::int64_t{(bits >> 14) & 0x3FFF} + 1, "WebP");
        probe.has_alpha = ((bits >> 28) & 1) != 0;
    } else if (std::memcmp(chunk, "VP8 ", 4) == 0) {
        if ((data[20] & 1) != 0 || data[23] != 0x9D || data[24] != 0x01 || data[25] != 0x2A) {
            throw InputError("corrupt WebP (VP8 chunk does not start with a key frame)");
        }
        set_image_size(probe, le16(data + 26) & 0x3FFF, le16(data + 28) & 0x3FFF, "WebP");
    } else {
        throw InputError(fmt::format("unsupported WebP layout (first chunk '{}', expected VP8X, VP8L or VP8)",
                                     std::string(chunk, 4)));
    }
}

} // namespace

void set_image_size(ImageProbe& probe, std::int64_t width, std::int64_t height, const char* format) {
    if (width < 1 || height < 1) {
        throw InputError(fmt::format("corrupt {} (header gives a size of {}x{})", format, width, height));
    }
    if (width > kMaxImageSide || height > kMaxImageSide) {
        throw InputError(fmt::format("{} of {}x{} pixels: a side is over the decoder's limit of {} pixels", format,
                                     width, height, kMaxImageSide));
    }
    probe.width = width;
    probe.height = height;
}

const char* format_name(ImageFormat format) {
    switch (format) {
    case ImageFormat::Jpeg:
        return "JPEG";
    case ImageFormat::Png:
        return "PNG";
    case ImageFormat::Bmp:
        return "BMP";
    case ImageFormat::Tiff:
        return "TIFF";
    case ImageFormat::Webp:
        return "WebP";
    case ImageFormat::Unknown:
        break;
    }
    return "unknown";
}

ImageFormat sniff_format(const std::uint8_t* data, std::size_t size) {
    if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) {
        return ImageFormat::Jpeg;
    }
    if (size >= 8 && std::memcmp(data, kPngSignature, 8) == 0) {
        return ImageFormat::Png;
    }
    if (size >= 2 && data[0] == 'B' && data[1] == 'M') {
        return ImageFormat::Bmp;
    }
    if (size >= 4 && (std::memcmp(data, "II*\0", 4) == 0 || std::memcmp(data, "MM\0*", 4) == 0)) {
        return ImageFormat::Tiff;
    }
    if (size >= 12 && std::memcmp(data, "RIFF", 4) == 0 && std::memcmp(data + 8, "WEBP", 4) == 0) {
        return ImageFormat::Webp;
    }
    return ImageFormat::Unknown;
}

ImageProbe probe_image(const std::uint8_t* data, std::size_t size) {
    ImageProbe probe;
    probe.format = sniff_format(data, size);
    switch (probe.format) {
    case ImageFormat::Jpeg:
        probe_jpeg(data, size, probe);
        break;
    case ImageFormat::Png:
        probe_png(data, size, probe);
        break;
    case ImageFormat::Bmp:
        probe_bmp(data, size, probe);
        break;
    case ImageFormat::Webp:
        probe_webp(data, size, probe);
        break;
    case ImageFormat::Tiff:
        probe_tiff(data, size, probe);
        break;
    case ImageFormat::Unknown:
        throw InputError("not an image (unrecognised format)");
    }
    return probe;
}

} // namespace impasto::detail
