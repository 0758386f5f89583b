#pragma once
// Overflow-safe arithmetic for the sizes, offsets, strides and counts read from files. Every
// product or sum of values from outside goes through these before it sizes an allocation or
// indexes a buffer: a wrapped product is how a 1 KB file asks for 16 EB, or for 0 bytes that are
// then indexed as if they held a tensor.
#include <cstdint>
#include <optional>
#include <type_traits>
#include <vector>

namespace impasto::io {

// a * b, or nothing when the result does not fit in T.
template <class T> std::optional<T> checked_mul(T a, T b) {
    static_assert(std::is_integral_v<T>);
    T result{};
    if (__builtin_mul_overflow(a, b, &result)) {
        return std::nullopt;
    }
    return result;
}

// a + b, or nothing when the result does not fit in T.
template <class T> std::optional<T> checked_add(T a, T b) {
    static_assert(std::is_integral_v<T>);
    T result{};
    if (__builtin_add_overflow(a, b, &result)) {
        return std::nullopt;
    }
    return result;
}

// The number of elements of `shape`, or nothing when a dimension is negative or the product
// overflows 63 bits (so that it also fits the int64 element counts of RawTensor and torch).
inline std::optional<std::int64_t> checked_element_count(const std::vector<std::int64_t>& shape) {
    std::int64_t count = 1;
    for (const std::int64_t dim : shape) {
        if (dim < 0) {
            return std::nullopt;
        }
        const auto product = checked_mul<std::int64_t>(count, dim);
        if (!product) {
            return std::nullopt;
        }
        count = *product;
    }
    return count;
}

// count * element_size as a byte count, or nothing on overflow (or a negative count).
inline std::optional<std::uint64_t> checked_byte_count(std::int64_t count, std::size_t element_size) {
    if (count < 0) {
        return std::nullopt;
    }
    return checked_mul<std::uint64_t>(static_cast<std::uint64_t>(count), element_size);
}

} // namespace impasto::io
