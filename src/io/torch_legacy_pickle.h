#pragma once
// The pickle virtual machine behind the legacy torch.save reader. It knows the protocol-2 opcodes
// torch.save emits for a dict of tensors, resolves only the globals that rebuild tensors and
// OrderedDicts, and refuses everything else, so reading a file can never run code.
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
    std::int64_t integer = 0;
    double real = 0;
    std::string text;                                   // String; Global "module.name"; Storage key; BigInt raw bytes
    std::vector<ValuePtr> items;                        // Tuple, List
    std::vector<std::pair<ValuePtr, ValuePtr>> entries; // Dict, in insertion order
    // Storage: dtype + element count. Tensor: storage key + offset + shape + stride.
    DType dtype = DType::Float32;
    std::int64_t storage_offset = 0;
    std::vector<std::int64_t> shape, stride;
};

ValuePtr make(Value::Kind kind);

// A storage's bytes and its element count, by storage key.
using StorageMap = std::map<std::string, std::pair<const std::uint8_t*, std::size_t>>;

// The tensors of an unpickled dict whose values are tensors on `storages`; throws WeightsError
// (prefixed with `context`) for other values, missing storages and non-contiguous tensors.
TensorMap tensors_from_dict(const Value& object, const StorageMap& storages, const std::string& context);

// Runs one pickle starting at `pos` up to its STOP and leaves `pos` after it.
class Unpickler {
  public:
    Unpickler(const std::uint8_t* data, std::size_t size, std::size_t& pos, std::string context)
        : data_(data), size_(size), pos_(pos), context_(std::move(context)) {}

    ValuePtr run();

  private:
    [[noreturn]] void fail(const std::string& what) const {
        throw WeightsError(context_ + ": " + what + " at byte " + std::to_string(pos_));
    }
    const std::uint8_t* take(std::size_t n) {
        if (n > size_ - pos_) {
            fail("truncated pickle stream");
        }
        const std::uint8_t* p = data_ + pos_;
        pos_ += n;
        return p;
    }
    std::uint64_t read_le(std::size_t n) {
        const std::uint8_t* p = take(n);
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
        }
        return v;
    }
    std::string read_line() {
        const std::size_t start = pos_;
        while (pos_ < size_ && data_[pos_] != '\n') {
            ++pos_;
        }
        if (pos_ >= size_) {
            fail("truncated pickle stream (GLOBAL without newline)");
        }
        std::string line(reinterpret_cast<const char*>(data_ + start), pos_ - start);
        ++pos_;
        return line;
    }
    ValuePtr pop() {
        if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) {
            fail("pickle stack underflow");
        }
        ValuePtr v = std::move(stack_.back());
        stack_.pop_back();
        return v;
    }
    std::vector<ValuePtr> pop_to_mark() {
        if (marks_.empty()) {
            fail("pickle MARK missing");
        }
        std::vector<ValuePtr> items(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()), stack_.end());
        stack_.resize(marks_.back());
        marks_.pop_back();
        return items;
    }
    ValuePtr& top() {
        if (stack_.empty()) {
            fail("pickle stack underflow");
        }
        return stack_.back();
    }
    void push_string(std::size_t length) {
        auto v = make(Value::Kind::String);
        const std::uint8_t* p = take(length);
        v->text.assign(reinterpret_cast<const char*>(p), length);
        stack_.push_back(std::move(v));
    }
    void push_int(std::int64_t integer) {
        auto v = make(Value::Kind::Int);
        v->integer = integer;
        stack_.push_back(std::move(v));
    }
    ValuePtr memo_get(std::uint64_t index) {
        const auto found = memo_.find(index);
        if (found == memo_.end()) {
            fail("pickle memo entry " + std::to_string(index) + " missing");
        }
        return found->second;
    }
    ValuePtr persistent_load(const ValuePtr& pid);
    ValuePtr reduce(const ValuePtr& callable, const ValuePtr& args);
    void set_items(const ValuePtr& dict, const std::vector<ValuePtr>& items);

    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t& pos_;
    std::string context_;
    std::vector<ValuePtr> stack_;
    std::vector<std::size_t> marks_;
    std::unordered_map<std::uint64_t, ValuePtr> memo_;
};

} // namespace impasto::io::pickle
