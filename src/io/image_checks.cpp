// Format sniffing and structural checks, see image_checks.h.
#include "io/image_checks.h"

#include "impasto/error.h"

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

bool is_sof_marker(std::uint8_t m) {
    // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC), which share the range.
    return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

// Walks the marker segments and the entropy-coded scans up to EOI. Walking (rather than looking
// for FF D9 near the end) accepts trailers after EOI (motion photos append whole videos) and is
// not fooled by the EOI of an embedded EXIF thumbnail, which sits inside a skipped APP1 segment.
void probe_jpeg(const std::uint8_t* data, std::size_t size, ImageProbe& probe) {
    std::size_t pos = 2;
    while (pos < size) {
        if (data[pos] != 0xFF) {
            ++pos; // stray bytes before a marker: libjpeg skips them too (with a warning)
            continue;
        }
        while (pos < size && data[pos] == 0xFF) {
            ++pos; // fill bytes
        }
        if (pos >= size) {
            break;
        }
        const std::uint8_t marker = data[pos++];
        if (marker == 0xD9) {
            if (probe.width == 0 && probe.height == 0 && probe.jpeg_components == 0) {
                throw InputError("corrupt JPEG (end-of-image marker before any frame header)");
            }
            return;
        }
        if (marker == 0x00 || marker == 0x01 || marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7)) {
            continue; // markers without a length field
        }
        if (pos + 2 > size) {
            break;
        }
        const std::size_t length = be16(data + pos);
        if (length < 2) {
            throw InputError(fmt::format("corrupt JPEG (bad segment length at byte {})", pos));
        }
        if (pos + length > size) {
            break;
        }
        if (is_sof_marker(marker) && length >= 8) {
            probe.height = be16(data + pos + 3);
            probe.width = be16(data + pos + 5);
            probe.jpeg_components = data[pos + 7];
        }
        pos += length;
        if (marker == 0xDA) {
            // Entropy-coded data: runs until an FF that is not stuffing (FF 00), a restart marker
            // or a fill byte.
            while (pos + 1 < size) {
                if (data[pos] != 0xFF) {
                    ++pos;
                    continue;
                }
                const std::uint8_t next = data[pos + 1];
                if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
                    pos += 2;
                } else if (next == 0xFF) {
                    ++pos;
                } else {
                    break;
                }
            }
            if (pos + 1 >= size) {
                break;
            }
        }
    }
    throw InputError("truncated JPEG (no end-of-image marker)");
}

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
            if (length < 13) {
                throw InputError("corrupt PNG (IHDR chunk too short)");
            }
            probe.width = be32(data + pos + 8);
            probe.height = be32(data + pos + 12);
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

void probe_bmp(const std::uint8_t* data, std::size_t size, ImageProbe& probe) {
    // BITMAPINFOHEADER and later: 32-bit width and height (negative height = top-down rows).
    if (size < 34 || le32(data + 14) < 40) {
        return; // OS/2 headers and stubs: left to the decoder
    }
    probe.width = static_cast<std::int32_t>(le32(data + 18));
    probe.height = std::llabs(static_cast<std::int32_t>(le32(data + 22)));
    // Uncompressed rows have a known size, so a cut file is found here rather than by OpenCV,
    // which reports it on stderr.
    const std::uint32_t bits_per_pixel = le16(data + 28);
    const std::uint32_t compression = le32(data + 30);
    if (compression == 0 && probe.width > 0 && bits_per_pixel > 0 && bits_per_pixel <= 32) {
        const std::int64_t stride = (probe.width * bits_per_pixel + 31) / 32 * 4;
        const std::int64_t needed = std::int64_t{le32(data + 10)} + stride * probe.height;
        if (needed > static_cast<std::int64_t>(size)) {
            throw InputError(fmt::format("truncated BMP ({} bytes, the header needs {})", size, needed));
        }
    }
}

void probe_webp(const std::uint8_t* data, std::size_t size, ImageProbe& probe) {
    if (size < 30) {
        throw InputError("truncated WebP (header incomplete)");
    }
    const char* chunk = reinterpret_cast<const char*>(data + 12);
    if (std::memcmp(chunk, "VP8X", 4) == 0) {
        probe.has_alpha = (data[20] & 0x10) != 0;
        probe.width = std::int64_t{le24(data + 24)} + 1;
        probe.height = std::int64_t{le24(data + 27)} + 1;
    } else if (std::memcmp(chunk, "VP8L", 4) == 0 && data[20] == 0x2F) {
        const std::uint32_t bits = le32(data + 21);
        probe.width = std::int64_t{bits & 0x3FFF} + 1;
        probe.height = std::int64_t{(bits >> 14) & 0x3FFF} + 1;
        probe.has_alpha = ((bits >> 28) & 1) != 0;
    } else if (std::memcmp(chunk, "VP8 ", 4) == 0 && data[23] == 0x9D && data[24] == 0x01 && data[25] == 0x2A) {
        probe.width = le16(data + 26) & 0x3FFF;
        probe.height = le16(data + 28) & 0x3FFF;
    }
}

// The first image's size from IFD0 (tags ImageWidth 256 and ImageLength 257), so the pixel limit
// holds before decoding here too. Anything unusual is left at 0: the limit is then checked after decoding.
void probe_tiff(const std::uint8_t* data, std::size_t size, ImageProbe& probe) {
    const bool little = data[0] == 'I';
    const auto u16 = [&](std::size_t at) { return little ? le16(data + at) : be16(data + at); };
    const auto u32 = [&](std::size_t at) { return little ? le32(data + at) : be32(data + at); };
    if (size < 8) {
        throw InputError("truncated TIFF (header incomplete)");
    }
    const std::size_t ifd = u32(4);
    if (ifd < 8 || ifd + 2 > size) {
        throw InputError(fmt::format("corrupt TIFF (first directory at byte {} of {})", ifd, size));
    }
    const std::size_t entries = u16(ifd);
    for (std::size_t i = 0; i < entries && ifd + 2 + (i + 1) * 12 <= size; ++i) {
        const std::size_t entry = ifd + 2 + i * 12;
        const std::uint32_t tag = u16(entry);
        const std::uint32_t type = u16(entry + 2);
        if (tag != 256 && tag != 257) {
            continue;
        }
        // SHORT (3) values sit in the first two bytes of the value field, LONG (4) fill it.
        const std::int64_t value = type == 3 ? u16(entry + 8) : type == 4 ? u32(entry + 8) : 0;
        (tag == 256 ? probe.width : probe.height) = value;
    }
    if (probe.width == 0 || probe.height == 0) {
        probe.width = 0;
        probe.height = 0;
    }
}

} // namespace

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
