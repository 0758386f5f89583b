// Tensors of a torch.save dict materialised from their storages (legacy and zip format alike):
// each tensor is a view (offset, shape, stride) on a storage whose bytes came from the file, and
// every number of the view is checked before a byte is copied.
#include "impasto/error.h"
#include "io/checked_math.h"
#include "io/file_limits.h"
#include "io/torch_legacy_pickle.h"

#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace impasto::io::pickle {
namespace {

bool is_contiguous(const std::vector<std::int64_t>& shape, const std::vector<std::int64_t>& stride) {
    std::int64_t expected = 1;
    for (std::size_t i = shape.size(); i-- > 0;) {
        if (shape[i] != 1 && stride[i] != expected) {
            return false;
        }
        expected *= shape[i]; // bounded: the element count was checked before
    }
    return true;
}

std::string numbers_text(const std::vector<std::int64_t>& values) {
    std::string text = "[";
    for (std::size_t i = 0; i < values.size(); ++i) {
        text += (i > 0 ? "," : "") + std::to_string(values[i]);
    }
    return text + "]";
}

// The index of the last storage element the view reaches, or nothing when the arithmetic
// overflows. Sizes and strides are non-negative here and the view has at least one element.
std::optional<std::int64_t> last_element(const Value& view) {
    std::int64_t last = view.storage_offset;
    for (std::size_t d = 0; d < view.shape.size(); ++d) {
        const auto reach = checked_mul<std::int64_t>(view.shape[d] - 1, view.stride[d]);
        const auto sum = reach ? checked_add<std::int64_t>(last, *reach) : std::nullopt;
        if (!sum) {
            return std::nullopt;
        }
        last = *sum;
    }
    return last;
}

// Copies the view's elements in row-major order (a permuted TensorFlow kernel, a stride-0 broadcast).
void gather(const Value& view, const std::uint8_t* base, std::size_t element_size, std::int64_t count,
            std::vector<std::uint8_t>& out) {
    std::vector<std::int64_t> index(view.shape.size(), 0);
    for (std::int64_t i = 0; i < count; ++i) {
        std::int64_t offset = 0; // <= last_element, checked by the caller
        for (std::size_t d = 0; d < index.size(); ++d) {
            offset += index[d] * view.stride[d];
        }
        std::memcpy(out.data() + i * element_size, base + offset * element_size, element_size);
        for (std::size_t d = index.size(); d-- > 0;) {
            if (++index[d] < view.shape[d]) {
                break;
            }
            index[d] = 0;
        }
    }
}

// One dict entry, checked: its storage and byte size, nothing copied yet.
struct CheckedView {
    const std::string* name;
    const Value* view;
    const StorageBytes* storage;
    std::int64_t count;
    std::uint64_t size;
};

CheckedView check_view(const std::string& name, const Value& view, const StorageMap& storages,
                       const std::string& context) {
    const std::string tensor_context = context + ": tensor '" + name + "'";
    const auto storage = storages.find(view.text);
    if (storage == storages.end()) {
        throw WeightsError(tensor_context + ": storage '" + view.text + "' missing from the file");
    }
    const StorageBytes& bytes = storage->second;
    if (view.dtype != bytes.dtype) {
        throw WeightsError(tensor_context + ": reads storage '" + view.text + "' as " + dtype_name(view.dtype) +
                           " but it holds " + dtype_name(bytes.dtype));
    }
    if (view.shape.size() != view.stride.size() || view.shape.size() > kMaxTensorRank) {
        throw WeightsError(tensor_context + ": shape " + numbers_text(view.shape) + " and stride " +
                           numbers_text(view.stride) + " (at most " + std::to_string(kMaxTensorRank) +
                           " dimensions, one stride each)");
    }
    for (std::size_t d = 0; d < view.shape.size(); ++d) {
        if (view.shape[d] < 0 || view.stride[d] < 0) {
            throw WeightsError(tensor_context + ": negative size or stride (shape " + numbers_text(view.shape) +
                               ", stride " + numbers_text(view.stride) + ")");
        }
    }
    // The offset on its own: even an empty view must start inside its storage.
    if (view.storage_offset < 0 || view.storage_offset > bytes.numel) {
        throw WeightsError(tensor_context + ": storage offset " + std::to_string(view.storage_offset) +
                           " outside its storage of " + std::to_string(bytes.numel) + " elements");
    }
    const auto count = checked_element_count(view.shape);
    const auto size = count ? checked_byte_count(*count, dtype_size(bytes.dtype)) : std::nullopt;
    if (!size || *size > kMaxTensorBytes) {
        throw WeightsError(tensor_context + ": shape " + numbers_text(view.shape) + " needs " +
                           (size ? std::to_string(*size) + " bytes" : std::string("more bytes than 64 bits count")) +
                           ", over the limit of " + std::to_string(kMaxTensorBytes) + " bytes per tensor");
    }
    if (*count > 0) {
        const auto last = last_element(view);
        if (!last || *last >= bytes.numel) {
            throw WeightsError(tensor_context + ": offset " + std::to_string(view.storage_offset) + ", shape " +
                               numbers_text(view.shape) + " and stride " + numbers_text(view.stride) +
                               " reach past its storage of " + std::to_string(bytes.numel) + " elements");
        }
    }
    return {&name, &view, &bytes, *count, *size};
}

} // namespace

TensorMap tensors_from_dict(const Value& object, const StorageMap& storages, const std::string& context) {
    // Every view is checked, and the bytes of all of them summed, before the first is copied: a
    // file over the total cap allocates nothing.
    std::vector<CheckedView> views;
    std::set<std::string> names;
    std::uint64_t total_bytes = 0;
    for (const auto& [key, value] : object.entries) {
        if (key->kind != Value::Kind::String || value->kind != Value::Kind::Tensor) {
            throw WeightsError(context + ": the saved dict holds something other than name -> tensor");
        }
        if (!names.insert(key->text).second) {
            throw WeightsError(context + ": tensor '" + key->text + "' appears twice in the saved dict");
        }
        views.push_back(check_view(key->text, *value, storages, context));
        total_bytes += views.back().size; // each at most kMaxTensorBytes: no overflow
        if (total_bytes > kMaxTotalTensorBytes) {
            throw WeightsError(context + ": the tensors need more than the limit of " +
                               std::to_string(kMaxTotalTensorBytes) + " bytes per file (at tensor '" + key->text +
                               "')");
        }
    }
    TensorMap tensors;
    for (const CheckedView& checked : views) {
        const Value& view = *checked.view;
        const std::size_t element_size = dtype_size(checked.storage->dtype);
        RawTensor tensor;
        tensor.dtype = checked.storage->dtype;
        tensor.shape = view.shape;
        const std::uint8_t* base =
            checked.storage->data + view.storage_offset * static_cast<std::int64_t>(element_size);
        if (is_contiguous(view.shape, view.stride)) {
            tensor.bytes.assign(base, base + checked.size);
        } else {
            tensor.bytes.resize(static_cast<std::size_t>(checked.size));
            gather(view, base, element_size, checked.count, tensor.bytes);
        }
        tensors.emplace(*checked.name, std::move(tensor));
    }
    return tensors;
}

} // namespace impasto::io::pickle
