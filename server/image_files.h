#pragma once
// Pieces the image library's two halves share (image_library.cpp: the gallery, lookups and
// thumbnails; image_uploads.cpp: storing and removing uploads). Not for use elsewhere.
#include "impasto/error.h"
#include "server/image_library.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace impasto::studio::image_files {

// The file's bytes; InputError when it cannot be read or is over `limit`.
inline std::string read_bytes(const std::filesystem::path& file, std::size_t limit = SIZE_MAX) {
    std::error_code ec;
    if (limit != SIZE_MAX && std::filesystem::file_size(file, ec) > limit) {
        throw InputError("'" + file.filename().string() + "' is over " + std::to_string(limit) + " bytes");
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw InputError("cannot read " + file.string());
    }
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// The entries of one source ("upload", "gallery", "sample"), in id order.
inline std::vector<ImageEntry> select(const std::map<std::string, ImageEntry>& entries, const std::string& source) {
    std::vector<ImageEntry> out;
    for (const auto& [id, entry] : entries) {
        if (entry.source == source) {
            out.push_back(entry);
        }
    }
    return out;
}

} // namespace impasto::studio::image_files
