// zip reading on zlib: raw inflate for deflated members, crc32 to catch corruption.
#include "io/zip_reader.h"

#include "impasto/error.h"
#include "impasto/safetensors.h"

#include <algorithm>
#include <cstdint>
#include <zlib.h>

namespace impasto::io {
namespace {

constexpr std::uint32_t kEndOfCentralDirectory = 0x06054b50;
constexpr std::uint32_t kCentralHeader = 0x02014b50;
constexpr std::uint32_t kLocalHeader = 0x04034b50;
constexpr std::size_t kEndRecordSize = 22;

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
    const std::uint64_t count = read_le(bytes_, end_record + 10, 2);
    const std::uint64_t directory_size = read_le(bytes_, end_record + 12, 4);
    const std::uint64_t directory_offset = read_le(bytes_, end_record + 16, 4);
    if (directory_offset == 0xffffffffu || count == 0xffffu) {
        throw WeightsError(context + ": zip64 archives are not supported");
    }
    if (directory_offset + directory_size > end_record) {
        throw WeightsError(context + ": central directory lies outside the file (truncated)");
    }
    std::size_t pos = directory_offset;
    for (std::uint64_t i = 0; i < count; ++i) {
        if (pos + 46 > end_record || read_le(bytes_, pos, 4) != kCentralHeader) {
            throw WeightsError(context + ": corrupt central directory entry " + std::to_string(i));
        }
        Entry entry;
        entry.method = static_cast<int>(read_le(bytes_, pos + 10, 2));
        entry.crc32 = static_cast<std::uint32_t>(read_le(bytes_, pos + 16, 4));
        entry.compressed_size = read_le(bytes_, pos + 20, 4);
        entry.uncompressed_size = read_le(bytes_, pos + 24, 4);
        const std::size_t name_length = read_le(bytes_, pos + 28, 2);
        const std::size_t extra_length = read_le(bytes_, pos + 30, 2);
        const std::size_t comment_length = read_le(bytes_, pos + 32, 2);
        entry.local_header_offset = read_le(bytes_, pos + 42, 4);
        if (pos + 46 + name_length > end_record) {
            throw WeightsError(context + ": corrupt central directory entry " + std::to_string(i));
        }
        entry.name = bytes_.substr(pos + 46, name_length);
        entries_.push_back(std::move(entry));
        pos += 46 + name_length + extra_length + comment_length;
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

std::string ZipArchive::read(const std::string& name) const {
    const Entry& entry = find_entry(name);
    const std::string context = "reading '" + name + "' from zip '" + origin_ + "'";
    const std::uint64_t header = entry.local_header_offset;
    if (header + 30 > bytes_.size() || read_le(bytes_, header, 4) != kLocalHeader) {
        throw WeightsError(context + ": corrupt local header");
    }
    const std::uint64_t data_offset = header + 30 + read_le(bytes_, header + 26, 2) + read_le(bytes_, header + 28, 2);
    if (data_offset + entry.compressed_size > bytes_.size()) {
        throw WeightsError(context + ": member data runs past the end of the archive (truncated)");
    }
    std::string out;
    if (entry.method == 0) {
        out = bytes_.substr(data_offset, entry.compressed_size);
    } else if (entry.method == 8) {
        out.resize(entry.uncompressed_size);
        z_stream stream{};
        if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) { // raw deflate: zip has no zlib header
            throw WeightsError(context + ": zlib inflateInit2 failed");
        }
        stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes_.data() + data_offset));
        stream.avail_in = static_cast<uInt>(entry.compressed_size);
        stream.next_out = reinterpret_cast<Bytef*>(out.data());
        stream.avail_out = static_cast<uInt>(out.size());
        const int status = inflate(&stream, Z_FINISH);
        const auto produced = stream.total_out;
        inflateEnd(&stream);
        if (status != Z_STREAM_END || produced != entry.uncompressed_size) {
            throw WeightsError(context + ": corrupt deflate data (zlib status " + std::to_string(status) + ")");
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

namespace {

void put_le(std::string& out, std::uint64_t value, int count) {
    for (int i = 0; i < count; ++i) {
        out += static_cast<char>((value >> (8 * i)) & 0xff);
    }
}

} // namespace

std::string serialize_zip_stored(const std::vector<std::pair<std::string, std::string>>& members) {
    std::string out;
    std::string directory;
    for (const auto& [name, data] : members) {
        const auto crc = crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size()));
        const std::size_t offset = out.size();
        put_le(out, kLocalHeader, 4);
        put_le(out, 20, 2); // version needed
        put_le(out, 0, 2);  // flags
        put_le(out, 0, 2);  // stored
        put_le(out, 0, 4);  // time, date
        put_le(out, crc, 4);
        put_le(out, data.size(), 4);
        put_le(out, data.size(), 4);
        put_le(out, name.size(), 2);
        put_le(out, 0, 2); // extra length
        out += name;
        out += data;

        put_le(directory, kCentralHeader, 4);
        put_le(directory, 20, 2); // version made by
        put_le(directory, 20, 2); // version needed
        put_le(directory, 0, 2);
        put_le(directory, 0, 2);
        put_le(directory, 0, 4);
        put_le(directory, crc, 4);
        put_le(directory, data.size(), 4);
        put_le(directory, data.size(), 4);
        put_le(directory, name.size(), 2);
        put_le(directory, 0, 2); // extra
        put_le(directory, 0, 2); // comment
        put_le(directory, 0, 2); // disk
        put_le(directory, 0, 2); // internal attributes
        put_le(directory, 0, 4); // external attributes
        put_le(directory, offset, 4);
        directory += name;
    }
    const std::size_t directory_offset = out.size();
    out += directory;
    put_le(out, kEndOfCentralDirectory, 4);
    put_le(out, 0, 2);
    put_le(out, 0, 2);
    put_le(out, members.size(), 2);
    put_le(out, members.size(), 2);
    put_le(out, directory.size(), 4);
    put_le(out, directory_offset, 4);
    put_le(out, 0, 2); // comment length
    return out;
}

} // namespace impasto::io
