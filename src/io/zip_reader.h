#pragma once
// Reads single members of a zip archive (a Python wheel, a zip-format torch.save file) through its
// central directory. Stored and deflated members are supported, each checked against its CRC-32.
// No zip64. serialize_zip_stored() writes the simplest archive, for tests and export.
//
// The archive is hostile until checked: the constructor checks every directory entry against the
// file (offsets inside it, local header agreeing with the central one, members not overlapping,
// names given once) and every claimed size against what its compressed bytes can inflate to and
// against the caps in file_limits.h, so read() never allocates more than a checked, declared size.
// We keep our own reader (on zlib) because the two members we read need nothing more; issue 15
// may replace it with libzip or minizip.
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace impasto::io {

class ZipArchive {
  public:
    // Reads the whole archive into memory; throws WeightsError when it is not a readable zip.
    explicit ZipArchive(const std::filesystem::path& path);
    ZipArchive(std::string bytes, std::string origin);

    std::vector<std::string> member_names() const;
    bool contains(const std::string& name) const;
    // The member's uncompressed size as checked from the directory; throws WeightsError when absent.
    std::uint64_t uncompressed_size(const std::string& name) const;
    // The uncompressed member; throws WeightsError when absent, corrupt, inflating to another size
    // than declared, or when its CRC does not match.
    std::string read(const std::string& name) const;

  private:
    struct Entry {
        std::string name;
        int method = 0;
        std::uint32_t flags = 0;
        std::uint32_t crc32 = 0;
        std::uint64_t compressed_size = 0;
        std::uint64_t uncompressed_size = 0;
        std::uint64_t local_header_offset = 0;
        std::uint64_t data_offset = 0; // after the local header, its name and extra field
    };
    void parse_central_directory();
    void check_entry_sizes(const Entry& entry, const std::string& context) const;
    void check_local_header(Entry& entry, std::uint64_t directory_offset) const;
    void check_layout() const;
    const Entry& find_entry(const std::string& name) const;

    std::string bytes_;
    std::string origin_;
    std::vector<Entry> entries_;
};

// An archive holding `members` (name, bytes) uncompressed, in order, with CRC-32s.
std::string serialize_zip_stored(const std::vector<std::pair<std::string, std::string>>& members);

} // namespace impasto::io
