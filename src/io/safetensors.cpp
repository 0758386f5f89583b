// safetensors reader and writer on nlohmann-json.
#include "impasto/safetensors.h"

#include "impasto/atomic_file.h"
#include "impasto/error.h"
#include "io/bounded_json.h"
#include "io/checked_math.h"
#include "io/file_limits.h"
#include "io/regular_file.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

namespace impasto {
namespace {

// A header lists ~100 bytes per tensor: 16 MiB is 150,000 tensors. (The reference implementation
// allows 100 MB, which nlohmann would hold in about ten times that.)
constexpr std::size_t kMaxHeaderBytes = 16U << 20U;
// {name: {"shape": [...]}} and {"__metadata__": {...}} nest three levels.
constexpr int kMaxHeaderDepth = 4;

DType parse_dtype(const std::string& name, const std::string& context) {
    for (DType dtype : {DType::Float32, DType::Float16, DType::BFloat16, DType::UInt8, DType::Int64}) {
        if (name == dtype_name(dtype)) {
            return dtype;
        }
    }
    throw WeightsError(context + ": unsupported dtype '" + name + "' (supported: F32, F16, BF16, U8, I64)");
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
    std::string text = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        text += (i > 0 ? "," : "") + std::to_string(shape[i]);
    }
    return text + "]";
}

// The header as JSON, after its size and nesting are checked; a name given twice is refused
// (nlohmann would keep the last silently, and another reader might take the first).
nlohmann::json parse_header(std::string_view text, const std::string& context) {
    check_json_limits<WeightsError>(text, JsonLimits{kMaxHeaderBytes, kMaxHeaderDepth}, context + ": header");
    std::set<std::string> names;
    const auto reject_duplicates = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
        if (depth == 1 && event == nlohmann::json::parse_event_t::key &&
            !names.insert(parsed.get<std::string>()).second) {
            throw WeightsError(context + ": the header names '" + parsed.get<std::string>() + "' twice");
        }
        return true;
    };
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(text.begin(), text.end(), reject_duplicates);
    } catch (const nlohmann::json::exception& e) {
        throw WeightsError(context + ": header is not valid JSON (" + e.what() + ")");
    }
    if (!header.is_object()) {
        throw WeightsError(context + ": header is not a JSON object");
    }
    return header;
}

void read_metadata(const nlohmann::json& entry, const std::string& context, StringMap* metadata) {
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
}

// Only non-negative JSON integers: get<int64_t>() would silently truncate 1.5 and cast 1e30 (undefined).
std::uint64_t read_unsigned(const nlohmann::json& value, std::uint64_t max, const std::string& what,
                            const std::string& context) {
    if (!value.is_number_unsigned() || value.get<std::uint64_t>() > max) {
        throw WeightsError(context + ": " + what + " " + value.dump() + " is not an integer in 0.." +
                           std::to_string(max));
    }
    return value.get<std::uint64_t>();
}

std::vector<std::int64_t> read_shape(const nlohmann::json& entry, const std::string& context) {
    const auto shape = entry.find("shape");
    if (shape == entry.end() || !shape->is_array()) {
        throw WeightsError(context + ": malformed entry (no \"shape\" array)");
    }
    if (shape->size() > io::kMaxTensorRank) {
        throw WeightsError(context + ": shape has " + std::to_string(shape->size()) +
                           " dimensions, over the limit of " + std::to_string(io::kMaxTensorRank));
    }
    std::vector<std::int64_t> dims;
    for (const auto& dim : *shape) {
        dims.push_back(static_cast<std::int64_t>(
            read_unsigned(dim, std::numeric_limits<std::int64_t>::max(), "shape dimension", context)));
    }
    return dims;
}

std::pair<std::uint64_t, std::uint64_t> read_offsets(const nlohmann::json& entry, const std::string& context) {
    const auto offsets = entry.find("data_offsets");
    if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2) {
        throw WeightsError(context + ": malformed entry (no \"data_offsets\" pair)");
    }
    const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    return {read_unsigned((*offsets)[0], max, "data offset", context),
            read_unsigned((*offsets)[1], max, "data offset", context)};
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
    if (header_size > size - 8) {
        throw WeightsError(context + ": header length " + std::to_string(header_size) + " exceeds the file size " +
                           std::to_string(size) + " (truncated or not safetensors)");
    }
    const std::string_view header_text(reinterpret_cast<const char*>(data + 8), static_cast<std::size_t>(header_size));
    const nlohmann::json header = parse_header(header_text, context);
    const std::uint8_t* payload = data + 8 + header_size;
    const std::uint64_t payload_size = size - 8 - header_size;

    TensorMap tensors;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
    for (const auto& [name, entry] : header.items()) {
        if (name == "__metadata__") {
            read_metadata(entry, context, metadata);
            continue;
        }
        const std::string tensor_context = context + ": tensor '" + name + "'";
        if (!entry.is_object()) {
            throw WeightsError(tensor_context + ": malformed entry (not an object)");
        }
        const auto dtype = entry.find("dtype");
        if (dtype == entry.end() || !dtype->is_string()) {
            throw WeightsError(tensor_context + ": malformed entry (no \"dtype\" string)");
        }
        RawTensor tensor;
        tensor.dtype = parse_dtype(dtype->get<std::string>(), tensor_context);
        tensor.shape = read_shape(entry, tensor_context);
        const auto [begin, end] = read_offsets(entry, tensor_context);
        if (begin > end || end > payload_size) {
            throw WeightsError(tensor_context + ": data_offsets out of range ([" + std::to_string(begin) + ", " +
                               std::to_string(end) + "], the data holds " + std::to_string(payload_size) + " bytes)");
        }
        const auto count = io::checked_element_count(tensor.shape);
        const auto expected = count ? io::checked_byte_count(*count, dtype_size(tensor.dtype)) : std::nullopt;
        if (!expected) {
            throw WeightsError(tensor_context + ": shape " + shape_text(tensor.shape) +
                               " has more elements than 64 bits can count");
        }
        if (end - begin != *expected) {
            throw WeightsError(tensor_context + ": data_offsets span " + std::to_string(end - begin) +
                               " bytes but the shape needs " + std::to_string(*expected));
        }
        tensor.bytes.assign(payload + begin, payload + end);
        ranges.emplace_back(begin, end);
        tensors.emplace(name, std::move(tensor));
    }
    // Overlapping tensors would alias each other's data: a sign of a corrupted or hostile header.
    // Disjoint ranges also bound the bytes of all tensors together by the file's size.
    std::sort(ranges.begin(), ranges.end());
    for (std::size_t i = 1; i < ranges.size(); ++i) {
        if (ranges[i].first < ranges[i - 1].second) {
            throw WeightsError(context + ": tensors overlap in the data section");
        }
    }
    return tensors;
}

std::string read_file_bytes(const std::filesystem::path& path) {
    try {
        return io::read_regular_file(path, io::kMaxWeightFileBytes);
    } catch (const InputError& e) {
        throw WeightsError("reading '" + path.string() + "': " + e.what());
    }
}

TensorMap read_safetensors(const std::filesystem::path& path, StringMap* metadata) {
    const std::string bytes = read_file_bytes(path);
    return parse_safetensors(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), path.string(),
                             metadata);
}

} // namespace impasto
