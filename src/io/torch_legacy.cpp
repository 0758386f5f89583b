// Reader for the legacy torch.save format: five pickles (see torch_legacy_pickle.h for the VM)
// followed by the raw storages, assembled into contiguous tensors (torch_tensor_views.cpp).
#include "io/torch_legacy.h"

#include "impasto/error.h"
#include "impasto/safetensors.h"
#include "io/torch_legacy_pickle.h"

#include <cstring>
#include <string>

namespace impasto::io {
namespace {

using pickle::Unpickler;
using pickle::Value;
using pickle::ValuePtr;

// torch.save's magic number 0x1950a86a20f9469cfc6c as the little-endian bytes of LONG1.
constexpr std::uint8_t kMagic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
constexpr std::int64_t kProtocolVersion = 1001;

} // namespace

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
    Unpickler object_pickle(data, size, pos, context + " (object)");
    const ValuePtr object = object_pickle.run();
    const pickle::StorageDeclarations& declarations = object_pickle.storages();
    const ValuePtr keys = unpickle("storage keys");
    if (object->kind != Value::Kind::Dict || keys->kind != Value::Kind::List) {
        throw WeightsError(context + ": the saved object is not a dict of tensors");
    }

    // Storages follow in key order, each an int64 element count and its raw data. Each is sized
    // by its own declaration (the persistent id), and the count written here must agree with it.
    pickle::StorageMap storages;
    for (const auto& key : keys->items) {
        if (key->kind != Value::Kind::String) {
            throw WeightsError(context + ": a storage key that is not a string");
        }
        const auto declared = declarations.find(key->text);
        if (declared == declarations.end()) {
            throw WeightsError(context + ": storage '" + key->text + "' is listed but no tensor declares it");
        }
        if (storages.count(key->text) != 0) {
            throw WeightsError(context + ": storage '" + key->text + "' is listed twice");
        }
        const std::size_t element_size = dtype_size(declared->second.dtype);
        std::uint64_t count = 0;
        if (size - pos >= 8) {
            std::memcpy(&count, data + pos, 8);
        }
        if (size - pos < 8 || count > (size - pos - 8) / element_size) {
            throw WeightsError(context + ": truncated storage data (storage '" + key->text + "')");
        }
        if (count != static_cast<std::uint64_t>(declared->second.numel)) {
            throw WeightsError(context + ": storage '" + key->text + "' holds " + std::to_string(count) +
                               " elements but is declared with " + std::to_string(declared->second.numel));
        }
        storages[key->text] = {data + pos + 8, declared->second.numel, declared->second.dtype};
        pos += 8 + count * element_size;
    }

    return pickle::tensors_from_dict(*object, storages, context);
}

TensorMap read_torch_legacy(const std::filesystem::path& path) {
    const std::string bytes = read_file_bytes(path);
    return parse_torch_legacy(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), path.string());
}

} // namespace impasto::io
