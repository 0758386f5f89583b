#pragma once
// A torch-free tensor used by the file readers and writers (safetensors, legacy torch.save,
// Keras HDF5), so that weight conversion needs neither LibTorch nor a GPU.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace impasto {

enum class DType { Float32, Float16, BFloat16, UInt8, Int64 };

std::size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype); // safetensors spelling: "F32", "U8", ...

struct RawTensor {
    DType dtype = DType::Float32;
    std::vector<std::int64_t> shape;
    std::vector<std::uint8_t> bytes; // little-endian, row-major

    // Throws WeightsError for a negative dimension or a count beyond int64 (shapes from files).
    std::int64_t numel() const;
    // Copy out as float32 (F32, F16, BF16 and U8 are accepted).
    std::vector<float> to_float() const;
    static RawTensor from_float(std::vector<std::int64_t> shape, const std::vector<float>& values);
};

using TensorMap = std::map<std::string, RawTensor>;

} // namespace impasto
