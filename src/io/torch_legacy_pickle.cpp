// The pickle VM for legacy torch.save files: see torch_legacy_pickle.h.
#include "io/torch_legacy_pickle.h"

#include "impasto/error.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace impasto::io::pickle {
ValuePtr make(Value::Kind kind) {
    auto value = std::make_shared<Value>();
    value->kind = kind;
    return value;
}

void Unpickler::fail(const std::string& what) const {
    throw WeightsError(context_ + ": " + what + " at byte " + std::to_string(pos_));
}

const std::uint8_t* Unpickler::take(std::size_t n) {
    if (n > size_ - pos_) {
        fail("truncated pickle stream (" + std::to_string(n) + " bytes wanted, " + std::to_string(size_ - pos_) +
             " left)");
    }
    const std::uint8_t* p = data_ + pos_;
    pos_ += n;
    return p;
}

std::uint64_t Unpickler::read_le(std::size_t n) {
    const std::uint8_t* p = take(n);
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
    }
    return v;
}

std::string Unpickler::read_line() {
    const auto* start = data_ + pos_;
    const auto* newline = static_cast<const std::uint8_t*>(std::memchr(start, '\n', size_ - pos_));
    if (newline == nullptr) {
        fail("truncated pickle stream (GLOBAL without newline)");
    }
    std::string line(reinterpret_cast<const char*>(start), static_cast<std::size_t>(newline - start));
    pos_ += line.size() + 1;
    return line;
}

ValuePtr Unpickler::make_value(Value::Kind kind) {
    if (++values_made_ > kMaxValues) {
        fail("pickle makes more than " + std::to_string(kMaxValues) + " values");
    }
    return make(kind);
}

void Unpickler::count_items(std::size_t n) {
    items_ += n;
    if (items_ > kMaxItems) {
        fail("pickle holds more than " + std::to_string(kMaxItems) + " memo entries, marks and container items");
    }
}

void Unpickler::push(ValuePtr value) {
    // BINGET pushes a memo entry again without making a value: two bytes of input each.
    if (stack_.size() >= kMaxItems) {
        fail("pickle stack deeper than " + std::to_string(kMaxItems) + " values");
    }
    stack_.push_back(std::move(value));
}

ValuePtr Unpickler::pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) {
        fail("pickle stack underflow");
    }
    ValuePtr v = std::move(stack_.back());
    stack_.pop_back();
    return v;
}

std::vector<ValuePtr> Unpickler::pop_to_mark() {
    if (marks_.empty()) {
        fail("pickle MARK missing");
    }
    std::vector<ValuePtr> items(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
}

ValuePtr& Unpickler::top() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) {
        fail("pickle stack underflow");
    }
    return stack_.back();
}

void Unpickler::adopt(Value& parent, Value& child) {
    child.sealed = true; // first: a container nested in itself is then sealed and refused below
    if (parent.sealed) {
        fail("pickle changes a container after nesting it in another");
    }
    parent.depth = std::max(parent.depth, child.depth + 1);
    if (parent.depth > kMaxNesting) {
        fail("pickle nests deeper than " + std::to_string(kMaxNesting) + " levels");
    }
}

void Unpickler::push_string(std::size_t length) {
    auto v = make_value(Value::Kind::String);
    const std::uint8_t* p = take(length); // the length is checked against the bytes left
    v->text.assign(reinterpret_cast<const char*>(p), length);
    push(std::move(v));
}

void Unpickler::push_int(std::int64_t integer) {
    auto v = make_value(Value::Kind::Int);
    v->integer = integer;
    push(std::move(v));
}

void Unpickler::memo_put(std::uint64_t index) {
    const ValuePtr& value = top();
    const auto [slot, inserted] = memo_.try_emplace(index, value);
    if (inserted) {
        count_items(1);
    } else {
        slot->second = value;
    }
}

ValuePtr Unpickler::memo_get(std::uint64_t index) {
    const auto found = memo_.find(index);
    if (found == memo_.end()) {
        fail("pickle memo entry " + std::to_string(index) + " missing");
    }
    return found->second;
}

void Unpickler::make_tuple(std::vector<ValuePtr> items) {
    auto tuple = make_value(Value::Kind::Tuple);
    count_items(items.size());
    for (const ValuePtr& item : items) {
        adopt(*tuple, *item);
    }
    tuple->items = std::move(items);
    push(std::move(tuple));
}

void Unpickler::set_items(const ValuePtr& dict, const std::vector<ValuePtr>& items) {
    if (dict->kind != Value::Kind::Dict || items.size() % 2 != 0) {
        fail("SETITEMS on something other than a dict");
    }
    count_items(items.size());
    for (std::size_t i = 0; i < items.size(); i += 2) {
        adopt(*dict, *items[i]);
        adopt(*dict, *items[i + 1]);
        dict->entries.emplace_back(items[i], items[i + 1]);
    }
}

void Unpickler::append(const ValuePtr& list, const std::vector<ValuePtr>& items) {
    if (list->kind != Value::Kind::List) {
        fail("APPEND on something other than a list");
    }
    count_items(items.size());
    for (const ValuePtr& item : items) {
        adopt(*list, *item);
        list->items.push_back(item);
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
            if (stack_.size() != 1 || !marks_.empty()) {
                fail("pickle ended with " + std::to_string(stack_.size()) + " values and " +
                     std::to_string(marks_.size()) + " marks on the stack");
            }
            return stack_.back();
        case 'c': { // GLOBAL
            auto v = make_value(K::Global);
            const std::string module = read_line();
            v->text = module + "." + read_line();
            push(std::move(v));
            break;
        }
        case 'q': // BINPUT
            memo_put(read_le(1));
            break;
        case 'r': // LONG_BINPUT
            memo_put(read_le(4));
            break;
        case 'h': // BINGET
            push(memo_get(read_le(1)));
            break;
        case 'j': // LONG_BINGET
            push(memo_get(read_le(4)));
            break;
        case '(': // MARK
            count_items(1);
            marks_.push_back(stack_.size());
            break;
        case '}': // EMPTY_DICT
            push(make_value(K::Dict));
            break;
        case ']': // EMPTY_LIST
            push(make_value(K::List));
            break;
        case ')': // EMPTY_TUPLE
            push(make_value(K::Tuple));
            break;
        case 't': // TUPLE
            make_tuple(pop_to_mark());
            break;
        case 0x85:   // TUPLE1
        case 0x86:   // TUPLE2
        case 0x87: { // TUPLE3
            std::vector<ValuePtr> items(static_cast<std::size_t>(opcode - 0x84));
            for (auto it = items.rbegin(); it != items.rend(); ++it) {
                *it = pop();
            }
            make_tuple(std::move(items));
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
                auto v = make_value(K::BigInt);
                v->text.assign(reinterpret_cast<const char*>(take(n)), n);
                push(std::move(v));
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
            auto v = make_value(K::Float);
            std::memcpy(&v->real, &bits, sizeof bits);
            push(std::move(v));
            break;
        }
        case 'N': // NONE
            push(make_value(K::None));
            break;
        case 0x88:   // NEWTRUE
        case 0x89: { // NEWFALSE
            auto v = make_value(K::Bool);
            v->integer = opcode == 0x88 ? 1 : 0;
            push(std::move(v));
            break;
        }
        case 'R': { // REDUCE
            ValuePtr args = pop();
            ValuePtr callable = pop();
            push(reduce(callable, args));
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
            append(top(), {value});
            break;
        }
        case 'e': { // APPENDS
            std::vector<ValuePtr> items = pop_to_mark();
            append(top(), items);
            break;
        }
        case 'Q': // BINPERSID
            push(persistent_load(pop()));
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
