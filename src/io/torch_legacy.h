#pragma once
// The legacy (pre-1.6, non-zip) torch.save format, which torch::pickle_load cannot read, and the
// zip format that replaced it (below).
// The stream is five pickles (protocol 2) followed by raw storages:
//   magic number 0x1950a86a20f9469cfc6c, protocol version 1001, sys_info dict,
//   the object (here: a dict of tensors whose storages are persistent ids),
//   the list of storage keys, then for each key: int64 LE element count + little-endian data.
#include "impasto/raw_tensor.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace impasto::io {

// Reads a dict (or OrderedDict) of contiguous CPU tensors. Throws WeightsError naming `origin`
// on truncation, unsupported pickle opcodes or storage types, and non-contiguous tensors.
TensorMap parse_torch_legacy(const std::uint8_t* data, std::size_t size, const std::string& origin);
TensorMap read_torch_legacy(const std::filesystem::path& path);

// True when the bytes start like a legacy torch.save stream (PROTO 2 + LONG1 magic number).
bool looks_like_torch_legacy(const std::uint8_t* data, std::size_t size);

// Writes `tensors` as torch.save(dict, f, _use_new_zipfile_serialization=False) would, one storage
// per tensor. Supported dtypes: U8, F32, F16, BF16, I64. Used to make test files and for export.
std::string serialize_torch_legacy(const TensorMap& tensors);

// The zip format torch.save writes since 1.6: <archive>/data.pkl, the same dict pickled (protocol 2)
// with persistent ids ('storage', type, key, location, numel), and each storage's little-endian
// bytes in <archive>/data/<key>. Reads a dict of contiguous CPU tensors; throws WeightsError.
TensorMap parse_torch_zip(std::string bytes, const std::string& origin);
TensorMap read_torch_zip(const std::filesystem::path& path);
// True when the bytes start like a zip archive (a local file header).
bool looks_like_zip(const std::uint8_t* data, std::size_t size);
// Writes `tensors` as torch.save(dict, f) does (members stored, one storage per tensor), for tests.
std::string serialize_torch_zip(const TensorMap& tensors, const std::string& archive = "archive");

} // namespace impasto::io
