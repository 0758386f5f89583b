// safetensors reader and writer on nlohmann-json.
#include "impasto/safetensors.h"

#include "impasto/atomic_file.h"
#include "impasto/error.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

namespace impasto {
namespace {

// Guards against absurd header lengths before allocating (the reference implementation uses 100 MB).
constexpr std::uint64_t kMaxHeaderBytes = 100u << 20;

DType parse_dtype(const std::string& name, const std::string& context) {
    for (DType dtype : {DType::Float32, DType::Float16, DType::BFloat16, DType::UInt8, DType::Int64}) {
        if (name == dtype_name(dtype)) {
            return dtype;
        }
    }
    throw WeightsError(context + ": unsupported dtype '" + name + "' (supported: F32, F16, BF16, U8, I64)");
}

} // namespace

std::string serialize_safetensors(const TensorMap& tensors, const StringMap& metadata) {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty()) {
        header["__metadata__"] = metadata;
    }
    std::uint64_t offset = 0;
    for (const auto& [name, tensor] : tensors) {
        const std::uint64_t expected = static_cast<std::uint64_t>(tensor.numel()) * dtype_size(tensor.dtype);
        if (tensor.bytes.size() != expected) {
            throw ConfigError("serialising tensor '" + name + "': " + std::to_string(tensor.bytes.size()) +
                              " bytes for a shape of " + std::to_string(tensor.numel()) + " elements");
        }
        header[name] = {{"dtype", dtype_name(tensor.dtype)},
                        {"shape", tensor.shape},
                        {"data_offsets", {offset, offset + expected}}};
        offset += expected;
    }
    std::string header_text = header.dump();
    header_text.append((8 - header_text.size() % 8) % 8, ' '); // keeps the data 8-byte aligned
    std::string out;
    out.reserve(8 + header_text.size() + offset);
    const std::uint64_t header_size = header_text.size();
    for (int i = 0; i < 8; ++i) {
        out += static_cast<char>((header_size >> (8 * i)) & 0xff);
    }
    out += header_text;
    for (const auto& [name, tensor] : tensors) {
        out.append(reinterpret_cast<const char*>(tensor.bytes.data()), tensor.bytes.size());
    }
    return out;
}

void write_safetensors(const std::filesystem::path& path, const TensorMap& tensors, const StringMap& metadata) {
    write_file_atomic(path, serialize_safetensors(tensors, metadata));
}

TensorMap parse_safetensors(const std::uint8_t* data, std::size_t size, const std::string& origin,
                            StringMap* metadata) {
    const std::string context = "reading '" + origin + "'";
    if (size < 8) {
        throw WeightsError(context + ": too short for a safetensors file (" + std::to_string(size) + " bytes)");
    }
    std::uint64_t header_size = 0;
    for (int i = 0; i < 8; ++i) {
        header_size |= static_cast<std::uint64_t>(data[i]) << (8 * i);
    }
    if (header_size > kMaxHeaderBytes || header_size > size - 8) {
        throw WeightsError(context + ": header length " + std::to_string(header_size) + " exceeds the file size " +
                           std::to_string(size) + " (truncated or not safetensors)");
    }
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(data + 8, data + 8 + header_size);
    } catch (const nlohmann::json::exception& e) {
        throw WeightsError(context + ": header is not valid JSON (" + e.what() + ")");
    }
    if (!header.is_object()) {
        throw WeightsError(context + ": header is not a JSON object");
    }
    const std::uint8_t* payload = data + 8 + header_size;
    const std::uint64_t payload_size = size - 8 - header_size;

    TensorMap tensors;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
    for (const auto& [name, entry] : header.items()) {
        if (name == "__metadata__") {
            if (!entry.is_object()) {
                throw WeightsError(context + ": __metadata__ is not an object");
            }
            for (const auto& [key, value] : entry.items()) {
                if (!value.is_string()) {
                    throw WeightsError(context + ": __metadata__['" + key + "'] is not a string");
                }
                if (metadata != nullptr) {
                    (*metadata)[key] = value.get<std::string>();
                }
            }
            continue;
        }
        const std::string tensor_context = context + ": tensor '" + name + "'";
        try {
            RawTensor tensor;
            tensor.dtype = parse_dtype(entry.at("dtype").get<std::string>(), tensor_context);
            tensor.shape = entry.at("shape").get<std::vector<std::int64_t>>();
            const auto offsets = entry.at("data_offsets").get<std::vector<std::uint64_t>>();
            if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > payload_size) {
                throw WeightsError(tensor_context + ": data_offsets out of range (data holds " +
                                   std::to_string(payload_size) + " bytes)");
            }
            std::uint64_t expected = dtype_size(tensor.dtype);
            for (std::int64_t dim : tensor.shape) {
                if (dim < 0) {
                    throw WeightsError(tensor_context + ": negative dimension in shape");
                }
                expected *= static_cast<std::uint64_t>(dim);
            }
            if (offsets[1] - offsets[0] != expected) {
                throw WeightsError(tensor_context + ": data_offsets span " + std::to_string(offsets[1] - offsets[0]) +
                                   " bytes but the shape needs " + std::to_string(expected));
            }
            tensor.bytes.assign(payload + offsets[0], payload + offsets[1]);
            ranges.emplace_back(offsets[0], offsets[1]);
            tensors.emplace(name, std::move(tensor));
        } catch (const nlohmann::json::exception& e) {
            throw WeightsError(tensor_context + ": malformed entry (" + e.what() + ")");
        }
    }
    // Overlapping tensors would alias each other's data: a sign of a corrupted or hostile header.
    std::sort(ranges.begin(), ranges.end());
    for (std::size_t i = 1; i < ranges.size(); ++i) {
        if (ranges[i].first < ranges[i - 1].second) {
            throw WeightsError(context + ": tensors overlap in the data section");
        }
    }
    return tensors;
}

std::string read_file_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw WeightsError("reading '" + path.string() + "': cannot open the file");
    }
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) {
        throw WeightsError("reading '" + path.string() + "': read error");
    }
    return bytes;
}

TensorMap read_safetensors(const std::filesystem::path& path, StringMap* metadata) {
    const std::string bytes = read_file_bytes(path);
    return parse_safetensors(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), path.string(),
                             metadata);
}

} // namespace impasto
