// Reader for the legacy torch.save format: five pickles (see torch_legacy_pickle.h for the VM)
// followed by the raw storages, assembled into contiguous tensors.
#include "io/torch_legacy.h"

#include "impasto/error.h"
#include "impasto/safetensors.h"
#include "io/torch_legacy_pickle.h"

#include <cstring>
#include <map>
#include <utility>
#include <vector>

namespace impasto::io {
namespace {

using pickle::Unpickler;
using pickle::Value;
using pickle::ValuePtr;

// torch.save's magic number 0x1950a86a20f9469cfc6c as the little-endian bytes of LONG1.
constexpr std::uint8_t kMagic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
constexpr std::int64_t kProtocolVersion = 1001;

bool is_contiguous(const std::vector<std::int64_t>& shape, const std::vector<std::int64_t>& stride) {
    std::int64_t expected = 1;
    for (std::size_t i = shape.size(); i-- > 0;) {
        if (shape[i] != 1 && stride[i] != expected) {
            return false;
        }
        expected *= shape[i];
    }
    return true;
}

} // namespace

namespace pickle {

TensorMap tensors_from_dict(const Value& object, const StorageMap& storages, const std::string& context) {
    TensorMap tensors;
    for (const auto& [key, value] : object.entries) {
        if (key->kind != Value::Kind::String || value->kind != Value::Kind::Tensor) {
            throw WeightsError(context + ": the saved dict holds something other than name -> tensor");
        }
        const std::string tensor_context = context + ": tensor '" + key->text + "'";
        const auto storage = storages.find(value->text);
        if (storage == storages.end()) {
            throw WeightsError(tensor_context + ": storage '" + value->text + "' missing from the file");
        }
        if (value->shape.size() != value->stride.size()) {
            throw WeightsError(tensor_context + ": shape and stride differ in rank");
        }
        RawTensor tensor;
        tensor.dtype = value->dtype;
        tensor.shape = value->shape;
        const std::int64_t count = tensor.numel();
        // The last element a view reaches; strides are never negative in a saved tensor.
        std::int64_t last = value->storage_offset;
        for (std::size_t d = 0; d < value->shape.size(); ++d) {
            if (value->shape[d] < 0 || value->stride[d] < 0) {
                throw WeightsError(tensor_context + ": negative size or stride");
            }
            last += value->shape[d] > 0 ? (value->shape[d] - 1) * value->stride[d] : 0;
        }
        if (value->storage_offset < 0 || (count > 0 && static_cast<std::uint64_t>(last) >= storage->second.second)) {
            throw WeightsError(tensor_context + ": offset and size exceed its storage");
        }
        const std::size_t element_size = dtype_size(tensor.dtype);
        const std::uint8_t* base = storage->second.first + value->storage_offset * element_size;
        if (is_contiguous(value->shape, value->stride)) {
            tensor.bytes.assign(base, base + count * element_size);
        } else {
            // A view with other strides (e.g. a permuted TensorFlow kernel): gather it in row-major order.
            tensor.bytes.resize(static_cast<std::size_t>(count) * element_size);
            std::vector<std::int64_t> index(value->shape.size(), 0);
            for (std::int64_t i = 0; i < count; ++i) {
                std::int64_t offset = 0;
                for (std::size_t d = 0; d < index.size(); ++d) {
                    offset += index[d] * value->stride[d];
                }
                std::memcpy(tensor.bytes.data() + i * element_size, base + offset * element_size, element_size);
                for (std::size_t d = index.size(); d-- > 0;) {
                    if (++index[d] < value->shape[d]) {
                        break;
                    }
                    index[d] = 0;
                }
            }
        }
        tensors.emplace(key->text, std::move(tensor));
    }
    return tensors;
}

} // namespace pickle

bool looks_like_torch_legacy(const std::uint8_t* data, std::size_t size) {
    return size >= 14 && data[0] == 0x80 && data[1] == 0x02 && data[2] == 0x8a && data[3] == 10 &&
           std::memcmp(data + 4, kMagic, sizeof kMagic) == 0;
}

TensorMap parse_torch_legacy(const std::uint8_t* data, std::size_t size, const std::string& origin) {
    const std::string context = "reading '" + origin + "'";
    if (!looks_like_torch_legacy(data, size)) {
        throw WeightsError(context + ": not a legacy torch.save file (magic number missing)");
    }
    std::size_t pos = 0;
    auto unpickle = [&](const char* what) { return Unpickler(data, size, pos, context + " (" + what + ")").run(); };
    unpickle("magic number");
    const ValuePtr version = unpickle("protocol version");
    if (version->kind != Value::Kind::Int || version->integer != kProtocolVersion) {
        throw WeightsError(context + ": unsupported torch.save protocol version");
    }
    unpickle("sys_info"); // little-endian and type sizes; every torch since 2017 writes the same
    const ValuePtr object = unpickle("object");
    const ValuePtr keys = unpickle("storage keys");
    if (object->kind != Value::Kind::Dict || keys->kind != Value::Kind::List) {
        throw WeightsError(context + ": the saved object is not a dict of tensors");
    }

    std::map<std::string, DType> storage_types;
    for (const auto& entry : object->entries) {
        if (entry.second->kind == Value::Kind::Tensor) {
            storage_types[entry.second->text] = entry.second->dtype;
        }
    }
    // Storages follow in key order, each an int64 element count and its raw data.
    pickle::StorageMap storages;
    for (const auto& key : keys->items) {
        const auto type = storage_types.find(key->text);
        const std::size_t element_size = type == storage_types.end() ? 1 : dtype_size(type->second);
        std::uint64_t count = 0;
        if (size - pos >= 8) {
            std::memcpy(&count, data + pos, 8);
        }
        if (size - pos < 8 || count > (size - pos - 8) / element_size) {
            throw WeightsError(context + ": truncated storage data (storage '" + key->text + "')");
        }
        storages[key->text] = {data + pos + 8, static_cast<std::size_t>(count)};
        pos += 8 + count * element_size;
    }

    return pickle::tensors_from_dict(*object, storages, context);
}

TensorMap read_torch_legacy(const std::filesystem::path& path) {
    const std::string bytes = read_file_bytes(path);
    return parse_torch_legacy(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), path.string());
}

} // namespace impasto::io
