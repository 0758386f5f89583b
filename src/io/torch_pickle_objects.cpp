// The objects torch.save pickles, as the VM rebuilds them: storages from persistent ids (each
// declared once, with one dtype and size), tensors from _rebuild_tensor(_v2), empty OrderedDicts.
// Nothing else is callable. See torch_legacy_pickle.h.
#include "impasto/error.h"
#include "io/file_limits.h"
#include "io/torch_legacy_pickle.h"

#include <map>
#include <string>

namespace impasto::io::pickle {
namespace {

DType storage_dtype(const std::string& type_name, const std::string& context) {
    static const std::map<std::string, DType> kTypes = {{"torch.FloatStorage", DType::Float32},
                                                        {"torch.HalfStorage", DType::Float16},
                                                        {"torch.BFloat16Storage", DType::BFloat16},
                                                        {"torch.ByteStorage", DType::UInt8},
                                                        {"torch.LongStorage", DType::Int64}};
    const auto found = kTypes.find(type_name);
    if (found == kTypes.end()) {
        throw WeightsError(context + ": unsupported storage type " + type_name);
    }
    return found->second;
}

} // namespace

ValuePtr Unpickler::persistent_load(const ValuePtr& pid) {
    // Legacy: ('storage', storage_type, key, location, numel, view_metadata);
    // zip format: ('storage', storage_type, key, location, numel).
    if (pid->kind != Value::Kind::Tuple || (pid->items.size() != 6 && pid->items.size() != 5) ||
        pid->items[0]->kind != Value::Kind::String || pid->items[0]->text != "storage") {
        fail("unexpected persistent id (not a storage tuple)");
    }
    const auto& items = pid->items;
    if (items[1]->kind != Value::Kind::Global || items[2]->kind != Value::Kind::String ||
        items[4]->kind != Value::Kind::Int) {
        fail("malformed storage persistent id");
    }
    if (items.size() == 6 && items[5]->kind != Value::Kind::None) {
        fail("storage views (view_metadata) are not supported");
    }
    if (items[4]->integer < 0) {
        fail("storage '" + items[2]->text + "' declares " + std::to_string(items[4]->integer) + " elements");
    }
    const StorageDeclaration declared{storage_dtype(items[1]->text, context_), items[4]->integer};
    // Every tensor on a storage must read it with the dtype and size the storage was saved with:
    // the bytes are sized from one declaration, so a second, different one would read past them.
    const auto [known, inserted] = storages_.try_emplace(items[2]->text, declared);
    if (!inserted && (known->second.dtype != declared.dtype || known->second.numel != declared.numel)) {
        fail("storage '" + items[2]->text + "' is declared twice, as " + std::to_string(known->second.numel) + " " +
             dtype_name(known->second.dtype) + " and as " + std::to_string(declared.numel) + " " +
             dtype_name(declared.dtype) + " elements");
    }
    auto storage = make_value(Value::Kind::Storage);
    storage->dtype = declared.dtype;
    storage->text = items[2]->text;
    storage->integer = declared.numel;
    return storage;
}

ValuePtr Unpickler::rebuild_tensor(const std::string& callable, const Value& args) {
    // (storage, storage_offset, size, stride[, requires_grad, backward_hooks[, metadata]])
    const auto& a = args.items;
    if (a.size() < 4 || a[0]->kind != Value::Kind::Storage || a[1]->kind != Value::Kind::Int ||
        a[2]->kind != Value::Kind::Tuple || a[3]->kind != Value::Kind::Tuple) {
        fail("malformed arguments to " + callable);
    }
    if (a[2]->items.size() > kMaxTensorRank || a[3]->items.size() != a[2]->items.size()) {
        fail("tensor of rank " + std::to_string(a[2]->items.size()) + " with " + std::to_string(a[3]->items.size()) +
             " strides (at most " + std::to_string(kMaxTensorRank) + " dimensions, one stride each)");
    }
    auto tensor = make_value(Value::Kind::Tensor);
    tensor->dtype = a[0]->dtype;
    tensor->text = a[0]->text;
    tensor->storage_offset = a[1]->integer;
    for (std::size_t d = 0; d < a[2]->items.size(); ++d) {
        if (a[2]->items[d]->kind != Value::Kind::Int || a[3]->items[d]->kind != Value::Kind::Int) {
            fail("a tensor size or stride that is not an integer");
        }
        tensor->shape.push_back(a[2]->items[d]->integer);
        tensor->stride.push_back(a[3]->items[d]->integer);
    }
    return tensor;
}

ValuePtr Unpickler::reduce(const ValuePtr& callable, const ValuePtr& args) {
    if (callable->kind != Value::Kind::Global || args->kind != Value::Kind::Tuple) {
        fail("REDUCE on something other than a global");
    }
    if (callable->text == "collections.OrderedDict") {
        if (!args->items.empty()) {
            fail("OrderedDict built with arguments");
        }
        return make_value(Value::Kind::Dict);
    }
    if (callable->text == "torch._utils._rebuild_tensor_v2" || callable->text == "torch._utils._rebuild_tensor") {
        return rebuild_tensor(callable->text, *args);
    }
    fail("unsupported callable " + callable->text + " (only tensors in a dict can be read)");
}

} // namespace impasto::io::pickle
