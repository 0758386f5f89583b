// Writing the simplest zip archive (stored members), for tests and export: see zip_reader.h.
#include "io/zip_reader.h"

#include <cstdint>
#include <zlib.h>

namespace impasto::io {
namespace {

constexpr std::uint32_t kEndOfCentralDirectory = 0x06054b50;
constexpr std::uint32_t kCentralHeader = 0x02014b50;
constexpr std::uint32_t kLocalHeader = 0x04034b50;

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
