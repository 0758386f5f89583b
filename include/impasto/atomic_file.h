#pragma once
// Writing a file so that readers see either the old contents or the complete new ones, never a
// half-written file: a temporary file in the same folder, fsync, then rename over the target.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace impasto {

// Throws OutputError naming the file and the reason; the temporary file is removed on failure
// and an existing `file` is left untouched.
void write_file_atomic(const std::filesystem::path& file, const std::string& bytes);
void write_file_atomic(const std::filesystem::path& file, const std::uint8_t* data, std::size_t size);

// The name of a fresh temporary sibling of `file`: "<name>.tmp-<random>" in the same folder
// (same filesystem, so the final rename is atomic).
std::filesystem::path temporary_sibling(const std::filesystem::path& file);

} // namespace impasto
