#pragma once
// SHA-256 (FIPS 180-4), our own so that checksumming weights needs no OpenSSL.
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace impasto::io {

class Sha256 {
  public:
    Sha256();
    void update(const void* data, std::size_t size);
    std::array<std::uint8_t, 32> finish();
    std::string finish_hex();

  private:
    void compress(const std::uint8_t* block);

    std::array<std::uint32_t, 8> state_{};
    std::array<std::uint8_t, 64> buffer_{};
    std::size_t buffered_ = 0;
    std::uint64_t total_bytes_ = 0;
};

std::string sha256_hex(const void* data, std::size_t size);
std::string sha256_hex(const std::string& data);
// Throws WeightsError when the file cannot be read.
std::string sha256_file_hex(const std::filesystem::path& path);

} // namespace impasto::io
