#pragma once
// safetensors (https://github.com/huggingface/safetensors): 8-byte little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {str: str}}, then the data.
// It is impasto's own weight format: simple, mmap-friendly and readable from Python.
#include "impasto/raw_tensor.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

namespace impasto {

using StringMap = std::map<std::string, std::string>;

// The whole file as bytes; tensors are written in name order, header padded to 8 bytes.
std::string serialize_safetensors(const TensorMap& tensors, const StringMap& metadata = {});
// Writes atomically (write_file_atomic: temporary sibling, fsync, rename). Throws OutputError.
void write_safetensors(const std::filesystem::path& path, const TensorMap& tensors, const StringMap& metadata = {});

// Validates the header (size, JSON nesting, names given once), dtypes, shapes (element counts
// overflow-checked) and offsets (inside the data, not overlapping, each span equal to what its
// dtype and shape need); throws WeightsError naming `origin` on corruption.
TensorMap parse_safetensors(const std::uint8_t* data, std::size_t size, const std::string& origin,
                            StringMap* metadata = nullptr);
TensorMap read_safetensors(const std::filesystem::path& path, StringMap* metadata = nullptr);

// Reads a whole regular file of at most 2 GiB; throws WeightsError("reading '<path>': ...") when it
// cannot, and for folders, devices (/dev/zero), FIFOs and sockets, which are never read.
std::string read_file_bytes(const std::filesystem::path& path);

} // namespace impasto
