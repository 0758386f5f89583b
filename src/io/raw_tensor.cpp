// RawTensor: the torch-free tensor shared by the weight file readers and writers.
#include "impasto/raw_tensor.h"

#include "impasto/error.h"
#include "io/checked_math.h"

#include <cstring>
#include <string>
#include <utility>

namespace impasto {
namespace {

// IEEE half to float, done by hand so that conversion works without F16C or torch.
float half_to_float(std::uint16_t half) {
    const std::uint32_t sign = static_cast<std::uint32_t>(half & 0x8000u) << 16;
    std::uint32_t exponent = (half >> 10) & 0x1fu;
    std::uint32_t mantissa = half & 0x3ffu;
    std::uint32_t bits = 0;
    if (exponent == 0x1f) { // infinity or NaN
        bits = sign | 0x7f800000u | (mantissa << 13);
    } else if (exponent != 0) {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    } else if (mantissa != 0) { // subnormal half: renormalise into a normal float
        exponent = 113;
        while ((mantissa & 0x400u) == 0) {
            mantissa <<= 1;
            --exponent;
        }
        bits = sign | (exponent << 23) | ((mantissa & 0x3ffu) << 13);
    } else {
        bits = sign;
    }
    float value = 0;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

float bfloat16_to_float(std::uint16_t bf16) {
    const std::uint32_t bits = static_cast<std::uint32_t>(bf16) << 16;
    float value = 0;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

} // namespace

std::size_t dtype_size(DType dtype) {
    switch (dtype) {
    case DType::Float32:
        return 4;
    case DType::Float16:
    case DType::BFloat16:
        return 2;
    case DType::UInt8:
        return 1;
    case DType::Int64:
        return 8;
    }
    return 0;
}

const char* dtype_name(DType dtype) {
    switch (dtype) {
    case DType::Float32:
        return "F32";
    case DType::Float16:
        return "F16";
    case DType::BFloat16:
        return "BF16";
    case DType::UInt8:
        return "U8";
    case DType::Int64:
        return "I64";
    }
    return "?";
}

std::int64_t RawTensor::numel() const {
    const auto count = io::checked_element_count(shape);
    if (!count) {
        std::string text;
        for (const std::int64_t dim : shape) {
            text += (text.empty() ? "" : ",") + std::to_string(dim);
        }
        throw WeightsError("tensor shape [" + text + "] has a negative dimension or more elements than 64 bits count");
    }
    return *count;
}

std::vector<float> RawTensor::to_float() const {
    const auto count = static_cast<std::size_t>(numel());
    const auto expected = io::checked_byte_count(numel(), dtype_size(dtype));
    if (!expected || bytes.size() != *expected) {
        throw WeightsError("tensor of " + std::to_string(count) + " " + dtype_name(dtype) + " elements holds " +
                           std::to_string(bytes.size()) + " bytes");
    }
    std::vector<float> values(count);
    switch (dtype) {
    case DType::Float32:
        if (!bytes.empty()) { // as in from_float: no memcpy from a null data()
            std::memcpy(values.data(), bytes.data(), bytes.size());
        }
        break;
    case DType::Float16:
    case DType::BFloat16:
        for (std::size_t i = 0; i < count; ++i) {
            const auto bits = static_cast<std::uint16_t>(bytes[2 * i] | (bytes[2 * i + 1] << 8));
            values[i] = dtype == DType::Float16 ? half_to_float(bits) : bfloat16_to_float(bits);
        }
        break;
    case DType::UInt8:
        for (std::size_t i = 0; i < count; ++i) {
            values[i] = static_cast<float>(bytes[i]);
        }
        break;
    case DType::Int64:
        throw WeightsError("cannot convert an I64 tensor to float32");
    }
    return values;
}

RawTensor RawTensor::from_float(std::vector<std::int64_t> shape, const std::vector<float>& values) {
    RawTensor tensor;
    tensor.dtype = DType::Float32;
    tensor.shape = std::move(shape);
    if (static_cast<std::size_t>(tensor.numel()) != values.size()) {
        throw ConfigError("RawTensor::from_float: shape holds " + std::to_string(tensor.numel()) + " elements, got " +
                          std::to_string(values.size()) + " values");
    }
    tensor.bytes.resize(values.size() * sizeof(float));
    if (!values.empty()) { // memcpy from an empty vector's null data() is undefined even for 0 bytes
        std::memcpy(tensor.bytes.data(), values.data(), tensor.bytes.size());
    }
    return tensor;
}

} // namespace impasto
