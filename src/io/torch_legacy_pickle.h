#pragma once
// The pickle virtual machine behind the legacy torch.save reader. It knows the protocol-2 opcodes
// torch.save emits for a dict of tensors, resolves only the globals that rebuild tensors and
// OrderedDicts, and refuses everything else, so reading a file can never run code.
//
// The input is hostile: every length is checked against the bytes left, the number of values,
// memo entries and container items is capped, and containers nest at most kMaxNesting deep. A
// container may not change once it is inside another (torch's pickler never does that), so
// nesting depth is known when a value is nested, and no value can contain itself.
#include "impasto/error.h"
#include "impasto/raw_tensor.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace impasto::io::pickle {

struct Value;
using ValuePtr = std::shared_ptr<Value>;

struct Value {
    enum class Kind { None, Bool, Int, BigInt, Float, String, Global, Tuple, List, Dict, Storage, Tensor };
    Kind kind = Kind::None;
    std::int64_t integer = 0; // Int, Bool; Storage: its declared element count
    double real = 0;
    std::string text;                                   // String; Global "module.name"; Storage key; BigInt raw bytes
    std::vector<ValuePtr> items;                        // Tuple, List
    std::vector<std::pair<ValuePtr, ValuePtr>> entries; // Dict, in insertion order
    // Storage: dtype + element count. Tensor: storage key + offset + shape + stride.
    DType dtype = DType::Float32;
    std::int64_t storage_offset = 0;
    std::vector<std::int64_t> shape, stride;
    int depth = 1;       // 1 + the deepest child: bounded by kMaxNesting
    bool sealed = false; // inside another value: no longer changed
};

// A fresh value, for building objects outside the VM (tests); the VM counts its own.
ValuePtr make(Value::Kind kind);

// A storage as its persistent id declares it: the dtype and element count every tensor on it uses.
struct StorageDeclaration {
    DType dtype = DType::Float32;
    std::int64_t numel = 0;
};
using StorageDeclarations = std::map<std::string, StorageDeclaration>;

// A storage's bytes, as found in the file, with its declaration.
struct StorageBytes {
    const std::uint8_t* data = nullptr;
    std::int64_t numel = 0;
    DType dtype = DType::Float32;
};
using StorageMap = std::map<std::string, StorageBytes>;

// The tensors of an unpickled dict whose values are tensors on `storages`. Every shape, stride and
// offset is checked with overflow-safe arithmetic against its storage, and each tensor (and all of
// them together) against the caps in file_limits.h, before anything is copied. Throws
// WeightsError (prefixed with `context`) for other values, names given twice, missing storages
// and views that leave their storage.
TensorMap tensors_from_dict(const Value& object, const StorageMap& storages, const std::string& context);

// Runs one pickle starting at `pos` up to its STOP and leaves `pos` after it.
class Unpickler {
  public:
    static constexpr std::size_t kMaxValues = std::size_t{1} << 19U; // ~20,000 tensors; each value ~200 bytes
    static constexpr std::size_t kMaxItems = std::size_t{1} << 22U;  // memo entries, marks and container items
    static constexpr int kMaxNesting = 32;                           // a state dict nests 4 deep

    Unpickler(const std::uint8_t* data, std::size_t size, std::size_t& pos, std::string context)
        : data_(data), size_(size), pos_(pos), context_(std::move(context)) {}

    ValuePtr run();
    // The storages the persistent ids declared, by key.
    const StorageDeclarations& storages() const { return storages_; }

  private:
    [[noreturn]] void fail(const std::string& what) const;
    const std::uint8_t* take(std::size_t n);
    std::uint64_t read_le(std::size_t n);
    std::string read_line();
    ValuePtr make_value(Value::Kind kind);
    void push(ValuePtr value);
    ValuePtr pop();
    std::vector<ValuePtr> pop_to_mark();
    ValuePtr& top();
    void count_items(std::size_t n);
    // Nests `child` in `parent`: seals the child, checks the depth; the parent must not be sealed.
    void adopt(Value& parent, Value& child);
    void push_string(std::size_t length);
    void push_int(std::int64_t integer);
    void memo_put(std::uint64_t index);
    ValuePtr memo_get(std::uint64_t index);
    void make_tuple(std::vector<ValuePtr> items);
    ValuePtr persistent_load(const ValuePtr& pid);
    ValuePtr reduce(const ValuePtr& callable, const ValuePtr& args);
    ValuePtr rebuild_tensor(const std::string& callable, const Value& args);
    void set_items(const ValuePtr& dict, const std::vector<ValuePtr>& items);
    void append(const ValuePtr& list, const std::vector<ValuePtr>& items);

    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t& pos_;
    std::string context_;
    std::vector<ValuePtr> stack_;
    std::vector<std::size_t> marks_;
    std::unordered_map<std::uint64_t, ValuePtr> memo_;
    StorageDeclarations storages_;
    std::size_t values_made_ = 0;
    std::size_t items_ = 0;
};

} // namespace impasto::io::pickle
