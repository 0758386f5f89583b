// Reader for the zip-format torch.save files (PyTorch >= 1.6): the pickle VM of the legacy reader
// runs on <archive>/data.pkl, and each storage is a stored member <archive>/data/<key>.
#include "impasto/error.h"
#include "impasto/safetensors.h"
#include "io/checked_math.h"
#include "io/torch_legacy.h"
#include "io/torch_legacy_pickle.h"
#include "io/zip_reader.h"

#include <cstring>
#include <map>
#include <string_view>

namespace impasto::io {
namespace {

using pickle::Value;

constexpr std::string_view kPickleName = "data.pkl";

} // namespace

bool looks_like_zip(const std::uint8_t* data, std::size_t size) {
    return size >= 4 && data[0] == 'P' && data[1] == 'K' && data[2] == 3 && data[3] == 4;
}

TensorMap parse_torch_zip(std::string bytes, const std::string& origin) {
    const std::string context = "reading '" + origin + "'";
    const ZipArchive archive(std::move(bytes), origin);
    // The folder name inside is the file's stem (older torch) or "archive" (newer): find data.pkl.
    std::string prefix;
    bool found = false;
    for (const std::string& name : archive.member_names()) {
        const std::size_t slash = name.find('/');
        if (slash != std::string::npos && name.compare(slash + 1, std::string::npos, kPickleName) == 0) {
            prefix = name.substr(0, slash + 1);
            found = true;
            break;
        }
    }
    if (!found) {
        throw WeightsError(context + ": a zip archive but not a torch.save file (no <archive>/data.pkl)");
    }
    if (archive.contains(prefix + "byteorder") && archive.read(prefix + "byteorder") != "little") {
        throw WeightsError(context + ": big-endian torch.save files are not supported");
    }
    const std::string pickled = archive.read(prefix + std::string(kPickleName));
    std::size_t pos = 0;
    const auto* data = reinterpret_cast<const std::uint8_t*>(pickled.data());
    pickle::Unpickler unpickler(data, pickled.size(), pos, context + " (data.pkl)");
    const pickle::ValuePtr object = unpickler.run();
    if (object->kind != Value::Kind::Dict) {
        throw WeightsError(context + ": the saved object is not a dict of tensors");
    }
    // Each storage member must hold exactly what its persistent id declares. The members must
    // outlive the StorageMap's pointers: keep them here.
    std::map<std::string, std::string> members;
    pickle::StorageMap storages;
    for (const auto& [key, declared] : unpickler.storages()) {
        const std::string member = prefix + "data/" + key;
        if (!archive.contains(member)) {
            throw WeightsError(context + ": storage '" + key + "' missing from the archive");
        }
        const auto expected = checked_byte_count(declared.numel, dtype_size(declared.dtype));
        if (!expected || archive.uncompressed_size(member) != *expected) {
            throw WeightsError(context + ": storage '" + key + "' holds " +
                               std::to_string(archive.uncompressed_size(member)) + " bytes but is declared as " +
                               std::to_string(declared.numel) + " " + dtype_name(declared.dtype) + " elements");
        }
        const std::string& bytes_of_storage = members[key] = archive.read(member);
        storages[key] = {reinterpret_cast<const std::uint8_t*>(bytes_of_storage.data()), declared.numel,
                         declared.dtype};
    }
    return pickle::tensors_from_dict(*object, storages, context);
}

TensorMap read_torch_zip(const std::filesystem::path& path) {
    return parse_torch_zip(read_file_bytes(path), path.string());
}

} // namespace impasto::io
