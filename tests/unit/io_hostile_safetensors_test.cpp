// Hostile safetensors headers (and so .impasto models, which are safetensors): shapes whose
// element count overflows, numbers that are not integers, names given twice, headers too large or
// too deep. Each file is a few dozen bytes of JSON.
#include "impasto/error.h"
#include "impasto/safetensors.h"
#include "impasto/style_model_file.h"
#include "testutil.h"

#include <cstring>
#include <fstream>
#include <gtest/gtest.h>
#include <string>

namespace impasto {
namespace {

std::string with_header(const std::string& header, const std::string& data) {
    std::string out(8, '\0');
    const std::uint64_t size = header.size();
    std::memcpy(out.data(), &size, 8);
    return out + header + data;
}

std::string error_of(const std::string& bytes) {
    try {
        parse_safetensors(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), "hostile.safetensors");
    } catch (const WeightsError& e) {
        return e.what();
    }
    return "(no WeightsError)";
}

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

} // namespace

// 2^62 x 4 floats is 2^66 bytes, which wrapped to 0 and matched data_offsets [0, 0]: a tensor of
// 2^64 elements in no bytes at all.
TEST(HostileSafetensors, ElementCountOverflowIsRefused) {
    EXPECT_CONTAINS(
        error_of(with_header(R"({"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}})", "")),
        "more elements than 64 bits can count");
    EXPECT_CONTAINS(
        error_of(with_header(R"({"a":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", "")),
        "more elements than 64 bits can count");
}

// nlohmann's get<int64_t>() truncates 1.5 to 1 and casts 1e30 with undefined behaviour.
TEST(HostileSafetensors, ShapesAndOffsetsMustBeNonNegativeIntegers) {
    EXPECT_CONTAINS(error_of(with_header(R"({"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}})", "1")),
                    "shape dimension 1.5 is not an integer");
    EXPECT_CONTAINS(error_of(with_header(R"({"a":{"dtype":"U8","shape":[1e30],"data_offsets":[0,1]}})", "1")),
                    "is not an integer");
    EXPECT_CONTAINS(error_of(with_header(R"({"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}})", "1")),
                    "is not an integer");
    EXPECT_CONTAINS(
        error_of(with_header(R"({"a":{"dtype":"U8","shape":[9223372036854775808],"data_offsets":[0,1]}})", "1")),
        "is not an integer");
    EXPECT_CONTAINS(error_of(with_header(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0.5,1]}})", "1")),
                    "data offset 0.5 is not an integer");
    EXPECT_CONTAINS(error_of(with_header(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}})", "1")),
                    "is not an integer");
}

TEST(HostileSafetensors, ShapeRankIsBounded) {
    std::string shape = "[";
    for (int i = 0; i < 17; ++i) {
        shape += i > 0 ? ",1" : "1";
    }
    shape += "]";
    EXPECT_CONTAINS(error_of(with_header(R"({"a":{"dtype":"U8","shape":)" + shape + R"(,"data_offsets":[0,1]}})", "1")),
                    "17 dimensions");
}

// nlohmann keeps the last of two equal keys; another reader may take the first.
TEST(HostileSafetensors, NamesGivenTwiceAreRefused) {
    EXPECT_CONTAINS(error_of(with_header(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                                         R"("a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                                         "12")),
                    "names 'a' twice");
    // Equal keys inside an entry are not tensor names and stay nlohmann's business.
    EXPECT_EQ(error_of(with_header(R"({"a":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "1")),
              "(no WeightsError)");
}

TEST(HostileSafetensors, HeaderSizeAndNestingAreBounded) {
    EXPECT_CONTAINS(error_of(with_header(std::string(100000, '[') + std::string(100000, ']'), "")),
                    "nests deeper than 4 levels");
    const std::string big = R"({"__metadata__":{"k":")" + std::string(17U << 20U, 'x') + R"("}})";
    EXPECT_CONTAINS(error_of(with_header(big, "")), "over the limit of 16777216");
}

TEST(HostileSafetensors, EntriesMustBeObjectsWithTheirFields) {
    EXPECT_CONTAINS(error_of(with_header(R"({"a":[1,2]})", "")), "malformed entry");
    EXPECT_CONTAINS(error_of(with_header(R"({"a":{"dtype":3,"shape":[1],"data_offsets":[0,1]}})", "1")),
                    "malformed entry");
    EXPECT_CONTAINS(error_of(with_header(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}})", "1")),
                    "malformed entry");
}

// A .impasto model is read through the same checks.
TEST(HostileSafetensors, StyleModelFilesAreCheckedTheSameWay) {
    impasto::testing::TempDir dir;
    const std::string bytes = with_header(
        R"({"__metadata__":{"format":"impasto.style-model","format_version":"1","config":"{\"kind\":\"transformer\"}","card":"{}"},)"
        R"("a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}})",
        "");
    std::ofstream(dir / "m.impasto", std::ios::binary) << bytes;
    try {
        read_style_model(dir / "m.impasto");
        FAIL() << "an overflowing shape was accepted";
    } catch (const InputError& e) {
        EXPECT_CONTAINS(std::string(e.what()), "more elements than 64 bits can count");
    }
}

} // namespace impasto
