// The pickle VM for legacy torch.save files: see torch_legacy_pickle.h.
#include "io/torch_legacy_pickle.h"

#include "impasto/error.h"

#include <cstdio>
#include <cstring>
#include <map>

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

ValuePtr make(Value::Kind kind) {
    auto value = std::make_shared<Value>();
    value->kind = kind;
    return value;
}

ValuePtr Unpickler::persistent_load(const ValuePtr& pid) {
    // Legacy: ('storage', storage_type, key, location, numel, view_metadata);
    // zip format: ('storage', storage_type, key, location, numel).
    if (pid->kind != Value::Kind::Tuple || (pid->items.size() != 6 && pid->items.size() != 5) ||
        pid->items[0]->text != "storage") {
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
    auto storage = make(Value::Kind::Storage);
    storage->dtype = storage_dtype(items[1]->text, context_);
    storage->text = items[2]->text;
    storage->integer = items[4]->integer;
    return storage;
}

ValuePtr Unpickler::reduce(const ValuePtr& callable, const ValuePtr& args) {
    if (callable->kind != Value::Kind::Global || args->kind != Value::Kind::Tuple) {
        fail("REDUCE on something other than a global");
    }
    if (callable->text == "collections.OrderedDict") {
        return make(Value::Kind::Dict);
    }
    if (callable->text == "torch._utils._rebuild_tensor_v2" || callable->text == "torch._utils._rebuild_tensor") {
        // (storage, storage_offset, size, stride[, requires_grad, backward_hooks[, metadata]])
        const auto& a = args->items;
        if (a.size() < 4 || a[0]->kind != Value::Kind::Storage || a[1]->kind != Value::Kind::Int ||
            a[2]->kind != Value::Kind::Tuple || a[3]->kind != Value::Kind::Tuple) {
            fail("malformed arguments to " + callable->text);
        }
        auto tensor = make(Value::Kind::Tensor);
        tensor->dtype = a[0]->dtype;
        tensor->text = a[0]->text;
        tensor->storage_offset = a[1]->integer;
        for (const auto& dim : a[2]->items) {
            tensor->shape.push_back(dim->integer);
        }
        for (const auto& step : a[3]->items) {
            tensor->stride.push_back(step->integer);
        }
        return tensor;
    }
    fail("unsupported callable " + callable->text + " (only tensors in a dict can be read)");
}

void Unpickler::set_items(const ValuePtr& dict, const std::vector<ValuePtr>& items) {
    if (dict->kind != Value::Kind::Dict || items.size() % 2 != 0) {
        fail("SETITEMS on something other than a dict");
    }
    for (std::size_t i = 0; i < items.size(); i += 2) {
        dict->entries.emplace_back(items[i], items[i + 1]);
    }
}

ValuePtr Unpickler::run() {
    using K = Value::Kind;
    for (;;) {
        const std::uint8_t opcode = *take(1);
        switch (opcode) {
        case 0x80: // PROTO
            if (*take(1) > 2) {
                fail("pickle protocol above 2");
            }
            break;
        case '.': // STOP
            if (stack_.size() != 1) {
                fail("pickle ended with " + std::to_string(stack_.size()) + " values on the stack");
            }
            return stack_.back();
        case 'c': { // GLOBAL
            auto v = make(K::Global);
            const std::string module = read_line();
            v->text = module + "." + read_line();
            stack_.push_back(std::move(v));
            break;
        }
        case 'q': // BINPUT
            memo_[read_le(1)] = top();
            break;
        case 'r': // LONG_BINPUT
            memo_[read_le(4)] = top();
            break;
        case 'h': // BINGET
            stack_.push_back(memo_get(read_le(1)));
            break;
        case 'j': // LONG_BINGET
            stack_.push_back(memo_get(read_le(4)));
            break;
        case '(': // MARK
            marks_.push_back(stack_.size());
            break;
        case '}': // EMPTY_DICT
            stack_.push_back(make(K::Dict));
            break;
        case ']': // EMPTY_LIST
            stack_.push_back(make(K::List));
            break;
        case ')': // EMPTY_TUPLE
            stack_.push_back(make(K::Tuple));
            break;
        case 't': { // TUPLE
            auto v = make(K::Tuple);
            v->items = pop_to_mark();
            stack_.push_back(std::move(v));
            break;
        }
        case 0x85:   // TUPLE1
        case 0x86:   // TUPLE2
        case 0x87: { // TUPLE3
            auto v = make(K::Tuple);
            v->items.resize(static_cast<std::size_t>(opcode - 0x84));
            for (auto it = v->items.rbegin(); it != v->items.rend(); ++it) {
                *it = pop();
            }
            stack_.push_back(std::move(v));
            break;
        }
        case 'X': // BINUNICODE
        case 'T': // BINSTRING
            push_string(read_le(4));
            break;
        case 'U': // SHORT_BINSTRING
            push_string(read_le(1));
            break;
        case 'J': // BININT
            push_int(static_cast<std::int32_t>(read_le(4)));
            break;
        case 'K': // BININT1
            push_int(static_cast<std::int64_t>(read_le(1)));
            break;
        case 'M': // BININT2
            push_int(static_cast<std::int64_t>(read_le(2)));
            break;
        case 0x8a: { // LONG1: little-endian two's complement of n bytes
            const std::size_t n = read_le(1);
            if (n > 8) {
                auto v = make(K::BigInt);
                v->text.assign(reinterpret_cast<const char*>(take(n)), n);
                stack_.push_back(std::move(v));
                break;
            }
            std::uint64_t bits = n == 0 ? 0 : read_le(n);
            if (n > 0 && n < 8 && (bits >> (8 * n - 1)) & 1) {
                bits |= ~std::uint64_t{0} << (8 * n); // sign-extend
            }
            push_int(static_cast<std::int64_t>(bits));
            break;
        }
        case 'G': { // BINFLOAT: big-endian double
            const std::uint8_t* p = take(8);
            std::uint64_t bits = 0;
            for (int i = 0; i < 8; ++i) {
                bits = (bits << 8) | p[i];
            }
            auto v = make(K::Float);
            std::memcpy(&v->real, &bits, sizeof bits);
            stack_.push_back(std::move(v));
            break;
        }
        case 'N': // NONE
            stack_.push_back(make(K::None));
            break;
        case 0x88:   // NEWTRUE
        case 0x89: { // NEWFALSE
            auto v = make(K::Bool);
            v->integer = opcode == 0x88 ? 1 : 0;
            stack_.push_back(std::move(v));
            break;
        }
        case 'R': { // REDUCE
            ValuePtr args = pop();
            ValuePtr callable = pop();
            stack_.push_back(reduce(callable, args));
            break;
        }
        case 'b': // BUILD: the state of a tensor or dict carries nothing we need
            pop();
            top();
            break;
        case 's': { // SETITEM
            ValuePtr value = pop();
            ValuePtr key = pop();
            set_items(top(), {key, value});
            break;
        }
        case 'u': { // SETITEMS
            std::vector<ValuePtr> items = pop_to_mark();
            set_items(top(), items);
            break;
        }
        case 'a': { // APPEND
            ValuePtr value = pop();
            if (top()->kind != K::List) {
                fail("APPEND on something other than a list");
            }
            top()->items.push_back(std::move(value));
            break;
        }
        case 'e': { // APPENDS
            std::vector<ValuePtr> items = pop_to_mark();
            if (top()->kind != K::List) {
                fail("APPENDS on something other than a list");
            }
            top()->items.insert(top()->items.end(), items.begin(), items.end());
            break;
        }
        case 'Q': // BINPERSID
            stack_.push_back(persistent_load(pop()));
            break;
        default: {
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02x", opcode);
            fail(std::string("unsupported pickle opcode ") + hex);
        }
        }
    }
}

} // namespace impasto::io::pickle
