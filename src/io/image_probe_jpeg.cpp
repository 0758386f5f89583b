// JPEG: the size from the first frame header, as libjpeg reads it (see image_checks.h).
#include "impasto/error.h"
#include "io/image_probe_formats.h"

#include <fmt/format.h>

namespace impasto::detail {
namespace {

std::uint32_t be16(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 8) | p[1];
}

bool is_sof_marker(std::uint8_t m) {
    // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC), which share the range.
    return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

// The frame header at `segment` (after the marker and its length): precision, height, width,
// components. libjpeg takes the first one and fails on any other (JERR_SOF_DUPLICATE), so a
// second frame header is refused here rather than believed; a height of 0 defers the height to a
// DNL marker, which libjpeg does not support either.
void read_frame_header(const std::uint8_t* segment, std::size_t length, std::size_t at, ImageProbe& probe) {
    if (length < 8) {
        throw InputError(fmt::format("corrupt JPEG (frame header of {} bytes at byte {})", length, at));
    }
    const std::int64_t height = be16(segment + 3);
    const std::int64_t width = be16(segment + 5);
    if (width == 0 || height == 0) {
        throw InputError(fmt::format("corrupt JPEG (frame header gives a size of {}x{}; a height of 0 defers it to a "
                                     "DNL marker, which decoders do not support)",
                                     width, height));
    }
    set_image_size(probe, width, height, "JPEG");
    probe.jpeg_components = segment[7];
}

// Skips entropy-coded data from `pos`: it runs until an FF that is not stuffing (FF 00), a
// restart marker or a fill byte. Returns the position of that FF, or `size` when none.
std::size_t skip_scan(const std::uint8_t* data, std::size_t size, std::size_t pos) {
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
            return pos;
        }
    }
    return size;
}

} // namespace

// Walks the marker segments and the entropy-coded scans up to EOI. Walking (rather than looking
// for FF D9 near the end) accepts trailers after EOI (motion photos append whole videos) and is
// not fooled by the EOI of an embedded EXIF thumbnail, which sits inside a skipped APP1 segment.
// Up to the first scan the walk consumes bytes exactly as libjpeg's marker reader does (stray
// bytes, fill bytes, FF 00, length-less markers), so both see the same first frame header.
void probe_jpeg(const std::uint8_t* data, std::size_t size, ImageProbe& probe) {
    bool seen_frame = false;
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
            if (!seen_frame) {
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
        if (is_sof_marker(marker)) {
            if (seen_frame) {
                throw InputError(
                    fmt::format("corrupt JPEG (a second frame header at byte {}; decoders read only one)", pos));
            }
            read_frame_header(data + pos, length, pos, probe);
            seen_frame = true;
        }
        pos += length;
        if (marker == 0xDA) {
            if (!seen_frame) {
                throw InputError("corrupt JPEG (a scan before any frame header)");
            }
            pos = skip_scan(data, size, pos);
            if (pos + 1 >= size) {
                break;
            }
        }
    }
    throw InputError("truncated JPEG (no end-of-image marker)");
}

} // namespace impasto::detail
