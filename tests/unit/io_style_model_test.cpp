// .impasto model files: round trip, float16 storage, foreign files and name resolution.
#include "impasto/error.h"
#include "impasto/safetensors.h"
#include "impasto/style_model_file.h"
#include "testutil.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <gtest/gtest.h>
#include <limits>
#include <nlohmann/json.hpp>

namespace impasto {
namespace {

using impasto::testing::TempDir;

StyleModelFile sample_model() {
    StyleModelFile model;
    model.kind = StyleModelKind::Transformer;
    model.config = R"({"width":0.5,"styles":2,"style_names":["a","b"]})";
    ModelCard& card = model.card;
    card.training_data = "BSDS500 (500 photos)";
    card.data_license = "research use only";
    card.style_images = {{"starry_night", "ab12"}, {"wave", "cd34"}};
    card.iterations = 40000;
    card.images_seen = 160000;
    card.wall_seconds = 1234.5;
    card.hardware = "cpu: test (2 threads, bf16)";
    card.final_losses = {{"content", 1.25}, {"style", 0.5}, {"total", 1.75}};
    card.training_options = R"({"lr":0.001,"batch":4})";
    card.command = "impasto train --style a.png";
    card.created_utc = "2024-01-02T03:04:05Z";
    card.impasto_version = "0.1.0";
    card.notes = "unit test";
    std::vector<float> values;
    for (int i = 0; i < 24; ++i) {
        values.push_back(std::sin(static_cast<float>(i)) * 3.0f + 1e-3f * static_cast<float>(i));
    }
    model.tensors["conv1.weight"] = RawTensor::from_float({2, 3, 2, 2}, values);
    model.tensors["norm1.gamma"] = RawTensor::from_float({2, 2}, {1.0f, 0.5f, -0.25f, 65504.0f});
    RawTensor counter;
    counter.dtype = DType::Int64;
    counter.shape = {1};
    counter.bytes.assign(8, 0);
    counter.bytes[0] = 7;
    model.tensors["steps"] = counter;
    return model;
}

float half_round_trip(float value) {
    const std::uint16_t bits = float_to_half(value);
    RawTensor half;
    half.dtype = DType::Float16;
    half.shape = {1};
    half.bytes = {static_cast<std::uint8_t>(bits & 0xff), static_cast<std::uint8_t>(bits >> 8)};
    return half.to_float()[0];
}

void expect_input_error(const std::function<void()>& action, const std::string& needle) {
    try {
        action();
        FAIL() << "expected InputError containing '" << needle << "'";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
}

TEST(StyleModelFile, RoundTripKeepsConfigCardAndTensors) {
    TempDir dir;
    const StyleModelFile model = sample_model();
    for (DType storage : {DType::Float16, DType::Float32}) {
        const auto file = dir / (std::string("m_") + dtype_name(storage) + ".impasto");
        write_style_model(file, model, storage);
        const StyleModelFile back = read_style_model(file);
        EXPECT_EQ(back.kind, StyleModelKind::Transformer);
        const auto config = nlohmann::json::parse(back.config);
        EXPECT_EQ(config.at("kind"), "transformer");
        EXPECT_EQ(config.at("width"), 0.5);
        EXPECT_EQ(config.at("style_names"), nlohmann::json::array({"a", "b"}));

        const ModelCard& a = model.card;
        const ModelCard& b = back.card;
        EXPECT_EQ(b.training_data, a.training_data);
        EXPECT_EQ(b.data_license, a.data_license);
        ASSERT_EQ(b.style_images.size(), 2u);
        EXPECT_EQ(b.style_images[1].name, "wave");
        EXPECT_EQ(b.style_images[1].sha256, "cd34");
        EXPECT_EQ(b.iterations, a.iterations);
        EXPECT_EQ(b.images_seen, a.images_seen);
        EXPECT_EQ(b.wall_seconds, a.wall_seconds);
        EXPECT_EQ(b.hardware, a.hardware);
        EXPECT_EQ(b.final_losses, a.final_losses);
        EXPECT_EQ(nlohmann::json::parse(b.training_options), nlohmann::json::parse(a.training_options));
        EXPECT_EQ(b.command, a.command);
        EXPECT_EQ(b.created_utc, a.created_utc);
        EXPECT_EQ(b.impasto_version, a.impasto_version);
        EXPECT_EQ(b.notes, a.notes);

        ASSERT_EQ(back.tensors.size(), 3u);
        EXPECT_EQ(back.tensors.at("steps").dtype, DType::Int64); // integers are never converted
        EXPECT_EQ(back.tensors.at("steps").bytes, model.tensors.at("steps").bytes);
        for (const char* name : {"conv1.weight", "norm1.gamma"}) {
            const RawTensor& stored = back.tensors.at(name);
            EXPECT_EQ(stored.dtype, storage);
            EXPECT_EQ(stored.shape, model.tensors.at(name).shape);
            const auto expected = model.tensors.at(name).to_float();
            const auto actual = stored.to_float();
            for (std::size_t i = 0; i < expected.size(); ++i) {
                if (storage == DType::Float32) {
                    EXPECT_EQ(actual[i], expected[i]);
                } else {
                    EXPECT_NEAR(actual[i], expected[i], std::abs(expected[i]) * 0x1p-11f + 1e-7f) << name << i;
                }
            }
        }
    }
}

TEST(StyleModelFile, Float16ConversionEdgeCases) {
    const float inf = std::numeric_limits<float>::infinity();
    EXPECT_EQ(float_to_half(0.0f), 0x0000);
    EXPECT_EQ(float_to_half(-0.0f), 0x8000);
    EXPECT_EQ(float_to_half(1.0f), 0x3c00);
    EXPECT_EQ(float_to_half(-2.0f), 0xc000);
    EXPECT_EQ(float_to_half(65504.0f), 0x7bff); // largest half
    EXPECT_EQ(float_to_half(65520.0f), 0x7c00); // halfway to the next step: rounds (to even) to inf
    EXPECT_EQ(float_to_half(65519.0f), 0x7bff);
    EXPECT_EQ(float_to_half(1e10f), 0x7c00);
    EXPECT_EQ(float_to_half(inf), 0x7c00);
    EXPECT_EQ(float_to_half(-inf), 0xfc00);
    const std::uint16_t nan = float_to_half(std::numeric_limits<float>::quiet_NaN());
    EXPECT_EQ(nan & 0x7c00, 0x7c00);
    EXPECT_NE(nan & 0x03ff, 0);
    EXPECT_TRUE(std::isnan(half_round_trip(std::numeric_limits<float>::signaling_NaN())));
    // Ties go to even: 1 + 2^-11 is exactly between 1 and 1 + 2^-10.
    EXPECT_EQ(float_to_half(1.0f + 0x1p-11f), 0x3c00);
    EXPECT_EQ(float_to_half(1.0f + 3 * 0x1p-11f), 0x3c02);
    EXPECT_EQ(float_to_half(1.0f + 0x1p-11f + 0x1p-20f), 0x3c01);
    // Subnormals: the smallest is 2^-24; half of it ties to zero (even), a bit more rounds up.
    EXPECT_EQ(float_to_half(0x1p-24f), 0x0001);
    EXPECT_EQ(float_to_half(0x1p-25f), 0x0000);
    EXPECT_EQ(float_to_half(0x1p-25f * 1.001f), 0x0001);
    EXPECT_EQ(float_to_half(3 * 0x1p-25f), 0x0002); // 1.5 ulp ties to 2
    EXPECT_EQ(float_to_half(-0x1p-20f), 0x8010);
    EXPECT_EQ(float_to_half(0x1p-14f), 0x0400);            // smallest normal
    EXPECT_EQ(float_to_half(0x1p-14f - 0x1p-25f), 0x0400); // rounds up out of the subnormals
    EXPECT_EQ(float_to_half(1e-30f), 0x0000);
    EXPECT_EQ(float_to_half(std::numeric_limits<float>::denorm_min()), 0x0000);
    // Every half value survives half -> float -> half.
    for (std::uint32_t bits = 0; bits < 0x10000u; ++bits) {
        if ((bits & 0x7c00u) == 0x7c00u && (bits & 0x3ffu) != 0) {
            continue; // NaN payloads are not kept bit for bit
        }
        RawTensor half;
        half.dtype = DType::Float16;
        half.shape = {1};
        half.bytes = {static_cast<std::uint8_t>(bits & 0xff), static_cast<std::uint8_t>(bits >> 8)};
        ASSERT_EQ(float_to_half(half.to_float()[0]), bits);
    }
}

TEST(StyleModelFile, RefusesFilesThatAreNotImpastoModels) {
    TempDir dir;
    const auto plain = dir / "plain.safetensors";
    write_safetensors(plain, {{"w", RawTensor::from_float({1}, {1.0f})}});
    expect_input_error([&] { read_style_model(plain); }, "is not an impasto model");
    const auto junk = dir / "junk.impasto";
    {
        std::ofstream out(junk);
        out << "hello, this is text";
    }
    expect_input_error([&] { read_style_model(junk); }, "is not an impasto model");
    expect_input_error([&] { read_style_model(dir / "missing.impasto"); }, "does not exist");
    write_safetensors(
        dir / "bad_kind.impasto", {},
        {{"format", "impasto.style-model"}, {"format_version", "1"}, {"config", R"({"kind":"vae"})"}, {"card", "{}"}});
    expect_input_error([&] { read_style_model(dir / "bad_kind.impasto"); }, "unknown style model kind 'vae'");
}

TEST(StyleModelFile, RefusesBadStorageDtype) {
    TempDir dir;
    EXPECT_THROW(write_style_model(dir / "x.impasto", sample_model(), DType::UInt8), ConfigError);
    EXPECT_FALSE(std::filesystem::exists(dir / "x.impasto"));
}

TEST(StyleModelFile, ResolvesNamesAndPaths) {
    TempDir dir;
    std::filesystem::create_directories(dir / "decoders");
    write_style_model(dir / "mosaic.impasto", sample_model());
    write_style_model(dir / "decoders" / "relu4_1.impasto", sample_model());
    EXPECT_EQ(resolve_style_model("mosaic", dir.path()), dir / "mosaic.impasto");
    EXPECT_EQ(resolve_style_model("mosaic.impasto", dir.path()), dir / "mosaic.impasto");
    EXPECT_EQ(resolve_style_model("relu4_1", dir.path()), dir / "decoders" / "relu4_1.impasto");
    const auto path = (dir / "mosaic.impasto").string();
    EXPECT_EQ(resolve_style_model(path, "/nonexistent"), path);
    try {
        resolve_style_model("candy", dir.path());
        FAIL() << "expected InputError";
    } catch (const InputError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("'candy'"), std::string::npos) << message;
        EXPECT_NE(message.find("mosaic"), std::string::npos) << message;
        EXPECT_NE(message.find("relu4_1"), std::string::npos) << message;
    }
    expect_input_error([&] { resolve_style_model("candy", dir / "nope"); }, "does not exist");
}

TEST(StyleModelFile, DescribeShowsConfigCardAndCounts) {
    const auto json = nlohmann::json::parse(describe_style_model(sample_model()));
    EXPECT_EQ(json.at("kind"), "transformer");
    EXPECT_EQ(json.at("config").at("width"), 0.5);
    EXPECT_EQ(json.at("card").at("iterations"), 40000);
    EXPECT_EQ(json.at("card").at("training_options").at("batch"), 4);
    EXPECT_EQ(json.at("tensors"), 3);
    EXPECT_EQ(json.at("parameters"), 24 + 4 + 1);
}

TEST(StyleModelFile, DefaultModelsDirHonoursEnvironment) {
    const char* old = std::getenv("IMPASTO_MODELS_DIR");
    const std::string saved = old != nullptr ? old : "";
    setenv("IMPASTO_MODELS_DIR", "/tmp/somewhere/models", 1);
    EXPECT_EQ(default_models_dir(), "/tmp/somewhere/models");
    if (old != nullptr) {
        setenv("IMPASTO_MODELS_DIR", saved.c_str(), 1);
    } else {
        unsetenv("IMPASTO_MODELS_DIR");
    }
    EXPECT_FALSE(default_models_dir().empty());
}

} // namespace
} // namespace impasto
