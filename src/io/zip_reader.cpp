// zip reading on zlib: raw inflate for deflated members, crc32 to catch corruption. Every number
// in the directory is checked in the constructor (see zip_reader.h).
#include "io/zip_reader.h"

#include "impasto/error.h"
#include "impasto/safetensors.h"
#include "io/file_limits.h"

#include <algorithm>
#include <cstdint>
#include <zlib.h>

namespace impasto::io {
namespace {

constexpr std::uint32_t kEndOfCentralDirectory = 0x06054b50;
constexpr std::uint32_t kCentralHeader = 0x02014b50;
constexpr std::uint32_t kLocalHeader = 0x04034b50;
constexpr std::size_t kEndRecordSize = 22;
constexpr std::size_t kCentralHeaderSize = 46;
constexpr std::size_t kLocalHeaderSize = 30;
constexpr std::uint32_t kFlagEncrypted = 1U << 0U;
constexpr std::uint32_t kFlagDataDescriptor = 1U << 3U;
constexpr std::uint64_t kSaturated16 = 0xffff;
constexpr std::uint64_t kSaturated32 = 0xffffffff;

// Callers check that [pos, pos + count) lies inside `bytes`.
std::uint64_t read_le(const std::string& bytes, std::size_t pos, int count) {
    std::uint64_t value = 0;
    for (int i = 0; i < count; ++i) {
        value |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(bytes[pos + i])) << (8 * i);
    }
    return value;
}

} // namespace

ZipArchive::ZipArchive(const std::filesystem::path& path) : bytes_(read_file_bytes(path)), origin_(path.string()) {
    parse_central_directory();
}

ZipArchive::ZipArchive(std::string bytes, std::string origin) : bytes_(std::move(bytes)), origin_(std::move(origin)) {
    parse_central_directory();
}

void ZipArchive::parse_central_directory() {
    const std::string context = "reading zip '" + origin_ + "'";
    if (bytes_.size() < kEndRecordSize) {
        throw WeightsError(context + ": too short for a zip archive");
    }
    // The end record sits at the end, after a comment of at most 65535 bytes.
    std::size_t end_record = std::string::npos;
    const std::size_t lowest = bytes_.size() > kEndRecordSize + 65535 ? bytes_.size() - kEndRecordSize - 65535 : 0;
    for (std::size_t pos = bytes_.size() - kEndRecordSize + 1; pos-- > lowest;) {
        if (read_le(bytes_, pos, 4) == kEndOfCentralDirectory) {
            end_record = pos;
            break;
        }
    }
    if (end_record == std::string::npos) {
        throw WeightsError(context + ": end of central directory not found (not a zip, or truncated)");
    }
    const std::uint64_t disk = read_le(bytes_, end_record + 4, 2);
    const std::uint64_t directory_disk = read_le(bytes_, end_record + 6, 2);
    const std::uint64_t count_on_disk = read_le(bytes_, end_record + 8, 2);
    const std::uint64_t count = read_le(bytes_, end_record + 10, 2);
    const std::uint64_t directory_size = read_le(bytes_, end_record + 12, 4);
    const std::uint64_t directory_offset = read_le(bytes_, end_record + 16, 4);
    const std::uint64_t comment_length = read_le(bytes_, end_record + 20, 2);
    if (directory_offset == kSaturated32 || directory_size == kSaturated32 || count == kSaturated16) {
        throw WeightsError(context + ": zip64 archives are not supported");
    }
    if (disk != 0 || directory_disk != 0 || count_on_disk != count) {
        throw WeightsError(context + ": multi-volume archives are not supported");
    }
    if (end_record + kEndRecordSize + comment_length > bytes_.size()) {
        throw WeightsError(context + ": the archive comment runs past the end of the file (truncated)");
    }
    if (directory_offset + directory_size > end_record) {
        throw WeightsError(context + ": central directory lies outside the file (truncated)");
    }
    if (count > directory_size / kCentralHeaderSize) {
        throw WeightsError(context + ": " + std::to_string(count) + " entries cannot fit in a central directory of " +
                           std::to_string(directory_size) + " bytes");
    }
    const std::uint64_t directory_end = directory_offset + directory_size;
    std::uint64_t total_uncompressed = 0;
    std::size_t pos = directory_offset;
    for (std::uint64_t i = 0; i < count; ++i) {
        const std::string entry_context = context + ": central directory entry " + std::to_string(i);
        if (pos + kCentralHeaderSize > directory_end || read_le(bytes_, pos, 4) != kCentralHeader) {
            throw WeightsError(entry_context + " is corrupt");
        }
        Entry entry;
        entry.flags = static_cast<std::uint32_t>(read_le(bytes_, pos + 8, 2));
        entry.method = static_cast<int>(read_le(bytes_, pos + 10, 2));
        entry.crc32 = static_cast<std::uint32_t>(read_le(bytes_, pos + 16, 4));
        entry.compressed_size = read_le(bytes_, pos + 20, 4);
        entry.uncompressed_size = read_le(bytes_, pos + 24, 4);
        const std::size_t name_length = read_le(bytes_, pos + 28, 2);
        const std::size_t extra_length = read_le(bytes_, pos + 30, 2);
        const std::size_t comment_length_entry = read_le(bytes_, pos + 32, 2);
        entry.local_header_offset = read_le(bytes_, pos + 42, 4);
        const std::size_t entry_end = pos + kCentralHeaderSize + name_length + extra_length + comment_length_entry;
        if (entry_end > directory_end) {
            throw WeightsError(entry_context + " runs past the central directory");
        }
        entry.name = bytes_.substr(pos + kCentralHeaderSize, name_length);
        check_entry_sizes(entry, context + ": member '" + entry.name + "'");
        check_local_header(entry, directory_offset);
        total_uncompressed += entry.uncompressed_size; // each is below 2^32: no overflow in 65535 entries
        if (total_uncompressed > kMaxZipTotalBytes) {
            throw WeightsError(context + ": the members together claim more than " + std::to_string(kMaxZipTotalBytes) +
                               " bytes uncompressed");
        }
        entries_.push_back(std::move(entry));
        pos = entry_end;
    }
    check_layout();
}

void ZipArchive::check_entry_sizes(const Entry& entry, const std::string& context) const {
    if (entry.compressed_size == kSaturated32 || entry.uncompressed_size == kSaturated32 ||
        entry.local_header_offset == kSaturated32) {
        throw WeightsError(context + ": zip64 members are not supported");
    }
    if ((entry.flags & kFlagEncrypted) != 0) {
        throw WeightsError(context + ": encrypted members are not supported");
    }
    if (entry.uncompressed_size > kMaxZipMemberBytes) {
        throw WeightsError(context + ": " + std::to_string(entry.uncompressed_size) +
                           " bytes uncompressed, over the limit of " + std::to_string(kMaxZipMemberBytes));
    }
    if (entry.method == 0 && entry.compressed_size != entry.uncompressed_size) {
        throw WeightsError(context + ": stored (uncompressed) but its sizes differ (" +
                           std::to_string(entry.compressed_size) + " and " + std::to_string(entry.uncompressed_size) +
                           " bytes)");
    }
    if (entry.method == 8 && entry.uncompressed_size > entry.compressed_size * kMaxDeflateRatio) {
        throw WeightsError(context + ": " + std::to_string(entry.compressed_size) +
                           " deflated bytes cannot inflate to the claimed " + std::to_string(entry.uncompressed_size) +
                           " (deflate expands at most " + std::to_string(kMaxDeflateRatio) + ":1)");
    }
}

// The local header repeats the central one; a reader that trusts one and a writer that used the
// other is how one archive shows two different contents. Both must agree here.
void ZipArchive::check_local_header(Entry& entry, std::uint64_t directory_offset) const {
    const std::string context = "reading zip '" + origin_ + "': member '" + entry.name + "'";
    const std::uint64_t header = entry.local_header_offset;
    if (header + kLocalHeaderSize > directory_offset || read_le(bytes_, header, 4) != kLocalHeader) {
        throw WeightsError(context + ": corrupt local header (at byte " + std::to_string(header) + ")");
    }
    const std::uint64_t name_length = read_le(bytes_, header + 26, 2);
    const std::uint64_t extra_length = read_le(bytes_, header + 28, 2);
    entry.data_offset = header + kLocalHeaderSize + name_length + extra_length;
    if (entry.data_offset + entry.compressed_size > directory_offset) {
        throw WeightsError(context + ": member data runs past the central directory (truncated)");
    }
    const bool sizes_follow = (read_le(bytes_, header + 6, 2) & kFlagDataDescriptor) != 0;
    const bool same = read_le(bytes_, header + 8, 2) == static_cast<std::uint64_t>(entry.method) &&
                      bytes_.compare(header + kLocalHeaderSize, name_length, entry.name) == 0 &&
                      name_length == entry.name.size() &&
                      (sizes_follow || (read_le(bytes_, header + 14, 4) == entry.crc32 &&
                                        read_le(bytes_, header + 18, 4) == entry.compressed_size &&
                                        read_le(bytes_, header + 22, 4) == entry.uncompressed_size));
    if (!same) {
        throw WeightsError(context + ": the local header disagrees with the central directory");
    }
}

// Members may not overlap (overlapping members make a small archive expand many times over) and
// a name may not be given twice (which one a reader takes would be arbitrary).
void ZipArchive::check_layout() const {
    const std::string context = "reading zip '" + origin_ + "'";
    std::vector<const Entry*> by_offset;
    for (const Entry& entry : entries_) {
        by_offset.push_back(&entry);
    }
    std::sort(by_offset.begin(), by_offset.end(),
              [](const Entry* a, const Entry* b) { return a->local_header_offset < b->local_header_offset; });
    for (std::size_t i = 1; i < by_offset.size(); ++i) {
        const Entry& before = *by_offset[i - 1];
        if (by_offset[i]->local_header_offset < before.data_offset + before.compressed_size) {
            throw WeightsError(context + ": members '" + before.name + "' and '" + by_offset[i]->name + "' overlap");
        }
    }
    std::vector<const std::string*> names;
    for (const Entry& entry : entries_) {
        names.push_back(&entry.name);
    }
    std::sort(names.begin(), names.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
    for (std::size_t i = 1; i < names.size(); ++i) {
        if (*names[i] == *names[i - 1]) {
            throw WeightsError(context + ": member '" + *names[i] + "' appears twice");
        }
    }
}

std::vector<std::string> ZipArchive::member_names() const {
    std::vector<std::string> names;
    for (const auto& entry : entries_) {
        names.push_back(entry.name);
    }
    return names;
}

bool ZipArchive::contains(const std::string& name) const {
    return std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.name == name; });
}

const ZipArchive::Entry& ZipArchive::find_entry(const std::string& name) const {
    for (const auto& entry : entries_) {
        if (entry.name == name) {
            return entry;
        }
    }
    throw WeightsError("reading zip '" + origin_ + "': member '" + name + "' not found");
}

std::uint64_t ZipArchive::uncompressed_size(const std::string& name) const {
    return find_entry(name).uncompressed_size;
}

std::string ZipArchive::read(const std::string& name) const {
    const Entry& entry = find_entry(name);
    const std::string context = "reading '" + name + "' from zip '" + origin_ + "'";
    std::string out;
    if (entry.method == 0) {
        out = bytes_.substr(entry.data_offset, entry.compressed_size);
    } else if (entry.method == 8) {
        // The output buffer is the declared size, checked against the caps and the deflate ratio:
        // inflate stops there, and a stream that would go on is refused rather than grown into.
        out.resize(entry.uncompressed_size);
        z_stream stream{};
        if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) { // raw deflate: zip has no zlib header
            throw WeightsError(context + ": zlib inflateInit2 failed");
        }
        stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes_.data() + entry.data_offset));
        stream.avail_in = static_cast<uInt>(entry.compressed_size);
        stream.next_out = reinterpret_cast<Bytef*>(out.data());
        stream.avail_out = static_cast<uInt>(out.size());
        const int status = inflate(&stream, Z_FINISH);
        const auto produced = stream.total_out;
        inflateEnd(&stream);
        if (status == Z_BUF_ERROR && produced == entry.uncompressed_size) {
            throw WeightsError(context + ": inflates to more than the declared " +
                               std::to_string(entry.uncompressed_size) + " bytes");
        }
        if (status != Z_STREAM_END || produced != entry.uncompressed_size) {
            throw WeightsError(context + ": corrupt deflate data (zlib status " + std::to_string(status) + ", " +
                               std::to_string(produced) + " of " + std::to_string(entry.uncompressed_size) + " bytes)");
        }
    } else {
        throw WeightsError(context + ": unsupported compression method " + std::to_string(entry.method));
    }
    const auto crc = crc32(0L, reinterpret_cast<const Bytef*>(out.data()), static_cast<uInt>(out.size()));
    if (crc != entry.crc32) {
        throw WeightsError(context + ": CRC-32 mismatch (corrupt archive)");
    }
    return out;
}

} // namespace impasto::io
