// safetensors: round trip, dtype conversions and the corruptions the reader must refuse.
#include "impasto/error.h"
#include "impasto/safetensors.h"
#include "testutil.h"

#include <cstring>
#include <fstream>
#include <gtest/gtest.h>

namespace impasto {
namespace {

TensorMap sample_tensors() {
    TensorMap tensors;
    tensors["conv1_1.weight"] = RawTensor::from_float({2, 3, 1, 1}, {1.5f, -2, 3, 0.25f, 5, 6});
    tensors["conv1_1.bias"] = RawTensor::from_float({2}, {0.5f, -0.5f});
    RawTensor q;
    q.dtype = DType::UInt8;
    q.shape = {3};
    q.bytes = {0, 7, 255};
    tensors["q"] = q;
    return tensors;
}

std::string header_of(const std::string& bytes) {
    std::uint64_t size = 0;
    std::memcpy(&size, bytes.data(), 8);
    return bytes.substr(8, size);
}

std::string with_header(const std::string& header, const std::string& data) {
    std::string out(8, '\0');
    const std::uint64_t size = header.size();
    std::memcpy(out.data(), &size, 8);
    return out + header + data;
}

void expect_weights_error(const std::string& bytes, const std::string& needle) {
    try {
        parse_safetensors(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), "x.safetensors");
        FAIL() << "no error for: " << needle;
    } catch (const WeightsError& e) {
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("reading 'x.safetensors'"), std::string::npos) << e.what();
    }
}

} // namespace

TEST(Safetensors, RoundTripWithMetadata) {
    impasto::testing::TempDir dir;
    const auto path = dir / "w.safetensors";
    write_safetensors(path, sample_tensors(), {{"format", "impasto-weights/1"}, {"name", "t"}});
    StringMap metadata;
    const TensorMap back = read_safetensors(path, &metadata);
    EXPECT_EQ(metadata.at("format"), "impasto-weights/1");
    EXPECT_EQ(metadata.at("name"), "t");
    ASSERT_EQ(back.size(), 3u);
    const auto original = sample_tensors();
    for (const auto& [name, tensor] : original) {
        EXPECT_EQ(back.at(name).dtype, tensor.dtype) << name;
        EXPECT_EQ(back.at(name).shape, tensor.shape) << name;
        EXPECT_EQ(back.at(name).bytes, tensor.bytes) << name;
    }
    EXPECT_EQ(back.at("q").to_float(), (std::vector<float>{0, 7, 255}));
    // The data section starts 8-byte aligned, as the reference implementation writes it.
    EXPECT_EQ(header_of(serialize_safetensors(original)).size() % 8, 0u);
}

TEST(Safetensors, HalfAndBfloat16ConvertToFloat) {
    RawTensor half;
    half.dtype = DType::Float16;
    half.shape = {4};
    half.bytes = {0x00, 0x3c, 0x00, 0xc0, 0x00, 0x35, 0x01, 0x00}; // 1, -2, 0.3125, smallest subnormal
    const auto values = half.to_float();
    EXPECT_EQ(values[0], 1.0f);
    EXPECT_EQ(values[1], -2.0f);
    EXPECT_EQ(values[2], 0.3125f);
    EXPECT_FLOAT_EQ(values[3], 5.9604645e-8f);
    RawTensor bf16;
    bf16.dtype = DType::BFloat16;
    bf16.shape = {2};
    bf16.bytes = {0x80, 0x3f, 0x40, 0xc0}; // 1, -3
    EXPECT_EQ(bf16.to_float(), (std::vector<float>{1.0f, -3.0f}));
}

TEST(Safetensors, RejectsCorruption) {
    const std::string good = serialize_safetensors(sample_tensors());
    expect_weights_error(good.substr(0, 5), "too short");
    expect_weights_error(good.substr(0, 20), "exceeds the file size");
    expect_weights_error(good.substr(0, good.size() - 1), "data_offsets out of range");
    expect_weights_error(with_header("{not json", ""), "not valid JSON");
    expect_weights_error(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", "12345678"),
                         "shape needs 8");
    expect_weights_error(with_header(R"({"a":{"dtype":"Q9","shape":[1],"data_offsets":[0,1]}})", "1"),
                         "unsupported dtype");
    expect_weights_error(with_header(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                                     R"("b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}})",
                                     "123"),
                         "overlap");
    expect_weights_error(with_header(R"({"a":{"dtype":"U8","shape":[1]}})", "1"), "malformed entry");
    expect_weights_error(with_header(R"({"__metadata__":{"k":1}})", ""), "is not a string");
}

TEST(Safetensors, MissingFileIsWeightsError) {
    EXPECT_THROW(read_safetensors("/nonexistent/impasto/w.safetensors"), WeightsError);
}

} // namespace impasto
