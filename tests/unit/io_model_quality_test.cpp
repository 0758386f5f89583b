// The model card's quality record: round trip, old files without it, hostile values refused by name,
// the writer's own checks, write_model_quality keeping the tensors bit for bit, and the list summary.
#include "impasto/error.h"
#include "impasto/safetensors.h"
#include "impasto/style_model_file.h"
#include "testutil.h"

#include <cstring>
#include <functional>
#include <gtest/gtest.h>
#include <limits>
#include <nlohmann/json.hpp>

namespace impasto {
namespace {

using impasto::testing::TempDir;
using ojson = nlohmann::ordered_json;

ModelQuality sample_quality() {
    ModelQuality quality;
    quality.figures = {{"style_loss_ratio", 6.3}, {"content_loss_ratio", 1.1}, {"style_loss_ratio_worst", 9.5}};
    quality.styles = {{"starry_night", {{"style_loss_ratio", 6.3}, {"content_loss_ratio", 1.1}}}};
    QualityRow row;
    row.image = "tubingen.jpg";
    row.group = "content";
    row.style = "starry_night";
    row.seen_in_training = true;
    row.figures = {{"style_loss", 1.25e-5}, {"style_loss_optimisation", 2e-6}, {"style_loss_ratio", 6.25}};
    quality.rows = {row};
    quality.evaluation = "1 photo (tubingen.jpg; /shared/images/content), all 1 in the model's training data";
    quality.reference = "optimisation with the default preset";
    quality.worst = "starry_night on tubingen.jpg";
    quality.size = 256;
    quality.precision = "bf16";
    quality.hardware = "cpu: test (1 threads, bf16)";
    quality.wall_seconds = 12.5;
    quality.tensors_sha256 = std::string(64, 'a');
    quality.measured_utc = "2026-12-07T17:00:00Z";
    quality.impasto_version = "0.1.0";
    return quality;
}

StyleModelFile sample_model() {
    StyleModelFile model;
    model.kind = StyleModelKind::Transformer;
    model.config = R"({"width":0.5,"styles":1,"style_names":["starry_night"]})";
    model.card.training_data = "datasets/bsds500 (500 images)";
    model.card.iterations = 200;
    model.card.final_losses = {{"content", 1.25}};
    model.tensors["conv1.weight"] = RawTensor::from_float({2, 3, 1, 1}, {1, 2, 3, 4, 5, 6.5F});
    model.tensors["norm1.gamma"] = RawTensor::from_float({2}, {0.5F, -0.25F});
    return model;
}

// A model file whose card is `card_json` as written, hostile or not.
std::filesystem::path write_raw_card(const TempDir& dir, const std::string& card_json, const std::string& name) {
    const auto file = dir / (name + ".impasto");
    write_safetensors(file, sample_model().tensors,
                      {{"format", "impasto.style-model"},
                       {"format_version", "1"},
                       {"config", R"({"kind":"transformer","width":0.5,"styles":1})"},
                       {"card", card_json}});
    return file;
}

// The sample card with its quality record, where "@@" in the dump is replaced by `raw` at `pointer`.
std::string card_with(const std::string& pointer, const std::string& raw) {
    ojson card = ojson::parse(describe_style_model([] {
                     StyleModelFile model = sample_model();
                     model.card.quality = sample_quality();
                     return model;
                 }()))
                     .at("card");
    card[ojson::json_pointer(pointer)] = "@@";
    std::string text = card.dump();
    text.replace(text.find("\"@@\""), 4, raw);
    return text;
}

// The tensors' bytes as the file holds them: everything after the header.
std::string data_section(const std::filesystem::path& file) {
    const std::string bytes = read_file_bytes(file);
    std::uint64_t header = 0;
    std::memcpy(&header, bytes.data(), 8);
    return bytes.substr(8 + header);
}

TEST(ModelQuality, RoundTripsThroughTheCard) {
    TempDir dir;
    StyleModelFile model = sample_model();
    model.card.quality = sample_quality();
    write_style_model(dir / "m.impasto", model, DType::Float32);
    const StyleModelFile back = read_style_model(dir / "m.impasto");
    ASSERT_TRUE(back.card.quality.has_value());
    const ModelQuality& a = *model.card.quality;
    const ModelQuality& b = *back.card.quality;
    EXPECT_EQ(b.figures, a.figures);
    ASSERT_EQ(b.styles.size(), 1U);
    EXPECT_EQ(b.styles[0].name, "starry_night");
    EXPECT_EQ(b.styles[0].figures, a.styles[0].figures);
    ASSERT_EQ(b.rows.size(), 1U);
    EXPECT_EQ(b.rows[0].image, "tubingen.jpg");
    EXPECT_EQ(b.rows[0].group, "content");
    EXPECT_EQ(b.rows[0].style, "starry_night");
    EXPECT_TRUE(b.rows[0].seen_in_training);
    EXPECT_EQ(b.rows[0].figures, a.rows[0].figures);
    EXPECT_EQ(b.evaluation, a.evaluation);
    EXPECT_EQ(b.reference, a.reference);
    EXPECT_EQ(b.worst, a.worst);
    EXPECT_EQ(b.size, 256);
    EXPECT_EQ(b.precision, "bf16");
    EXPECT_EQ(b.hardware, a.hardware);
    EXPECT_EQ(b.wall_seconds, 12.5);
    EXPECT_EQ(b.tensors_sha256, a.tensors_sha256);
    EXPECT_EQ(b.measured_utc, a.measured_utc);
    EXPECT_EQ(b.impasto_version, "0.1.0");
    // `models show` prints it as part of the card.
    const auto shown = nlohmann::json::parse(describe_style_model(back));
    EXPECT_EQ(shown.at("card").at("quality").at("figures").at("style_loss_ratio"), 6.3);
}

TEST(ModelQuality, CardsWithoutItStillLoadAndWriteNone) {
    TempDir dir;
    write_style_model(dir / "old.impasto", sample_model());
    const StyleModelFile back = read_style_model(dir / "old.impasto");
    EXPECT_FALSE(back.card.quality.has_value());
    EXPECT_FALSE(nlohmann::json::parse(describe_style_model(back)).at("card").contains("quality"));
    // A card as version 0.1.0 wrote it, with none of the newer fields at all.
    const auto file = write_raw_card(dir, R"({"training_data":"x","iterations":3})", "minimal");
    EXPECT_FALSE(read_style_model(file).card.quality.has_value());
    EXPECT_EQ(read_style_model(file).card.iterations, 3);
}

TEST(ModelQuality, HostileValuesAreRefusedByName) {
    TempDir dir;
    ASSERT_NO_THROW(read_style_model(write_raw_card(dir, card_with("/quality/size", "512"), "fine")));
    const std::string long_text = "\"" + std::string(kMaxQualityText + 1, 'x') + "\"";
    std::string many_figures = "{";
    for (std::size_t i = 0; i <= kMaxQualityFigures; ++i) {
        many_figures += (i == 0 ? "\"f" : ",\"f") + std::to_string(i) + "\":1";
    }
    many_figures += "}";
    const struct {
        const char* pointer;
        std::string raw;
        const char* needle;
    } cases[] = {
        {"/quality/figures/style_loss_ratio", "1e999", "number overflow"},            // inf: the parser refuses it
        {"/quality/figures/style_loss_ratio", "-1e999", "number overflow"},           // -inf
        {"/quality/figures/style_loss_ratio", "NaN", "not valid JSON"},               // not JSON at all
        {"/quality/figures/style_loss_ratio", "\"6.3\"", "must be a number"},         // wrong type
        {"/quality/figures/style_loss_ratio", "null", "must be a number"},            // how NaN dumps
        {"/quality/rows/0/figures/style_loss", "1e400", "number overflow"},           // inf, nested
        {"/quality/styles/0/figures/content_loss_ratio", "[1]", "styles[0] figures"}, // wrong type, nested
        {"/quality/figures", "[]", "not a JSON object"},
        {"/quality/figures", R"({"Bad Name":1})", "figure name"},
        {"/quality/figures", many_figures, "over the limit"},
        {"/quality/evaluation", long_text, "evaluation is 4097 bytes"},
        {"/quality/evaluation", "42", "evaluation must be a string"},
        {"/quality/rows/0/image", "\"" + std::string(300, 'y') + "\"", "rows[0] image"},
        {"/quality/rows/0/seen_in_training", "\"yes\"", "seen_in_training"},
        {"/quality/rows", "{}", "rows must be an array"},
        {"/quality/rows/0", "7", "rows[0]: not a JSON object"},
        {"/quality/size", "1e9", "size"},
        {"/quality/size", "99999999999999999999", "size"},
        {"/quality/size", "-512", "size"},
        {"/quality/size", "8", "size"},
        {"/quality/size", "512.5", "size"},
        {"/quality/wall_seconds", "-1", "wall_seconds"},
        {"/quality/wall_seconds", "1e999", "number overflow"},
        {"/quality/tensors_sha256", "\"xyz\"", "tensors_sha256"},
        {"/quality", "null", "not a JSON object"},
        {"/quality", "\"good\"", "not a JSON object"},
        {"/wall_seconds", "-3", "wall_seconds"}, // the card's older fields are range-checked too
        {"/final_losses/content", "\"low\"", "final_losses"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(std::string(c.pointer) + " = " + c.raw.substr(0, 60));
        const auto file = write_raw_card(dir, card_with(c.pointer, c.raw), "hostile");
        try {
            read_style_model(file);
            ADD_FAILURE() << "expected InputError";
        } catch (const InputError& e) {
            EXPECT_NE(std::string(e.what()).find(c.needle), std::string::npos) << e.what();
        }
    }
    std::string many_rows = "[";
    for (std::size_t i = 0; i <= kMaxQualityRows; ++i) {
        many_rows += i == 0 ? "{}" : ",{}";
    }
    EXPECT_THROW(read_style_model(write_raw_card(dir, card_with("/quality/rows", many_rows + "]"), "rows")),
                 InputError);
}

TEST(ModelQuality, TheWriterRefusesWhatTheReaderWould) {
    TempDir dir;
    const auto refused = [&](const std::function<void(ModelQuality&)>& spoil, const std::string& needle) {
        StyleModelFile model = sample_model();
        model.card.quality = sample_quality();
        spoil(*model.card.quality);
        try {
            write_style_model(dir / "w.impasto", model);
            ADD_FAILURE() << "expected ConfigError containing " << needle;
        } catch (const ConfigError& e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        }
        EXPECT_FALSE(std::filesystem::exists(dir / "w.impasto"));
    };
    refused([](ModelQuality& q) { q.figures["psnr"] = std::numeric_limits<double>::quiet_NaN(); }, "psnr");
    refused([](ModelQuality& q) { q.rows[0].figures["x"] = std::numeric_limits<double>::infinity(); }, "rows[0]");
    refused([](ModelQuality& q) { q.figures["Not-A-Name"] = 1; }, "figure name");
    refused([](ModelQuality& q) { q.figures[std::string(kMaxQualityName + 1, 'a')] = 1; }, "figure name");
    refused([](ModelQuality& q) { q.hardware.assign(kMaxQualityText + 1, 'h'); }, "hardware");
    refused([](ModelQuality& q) { q.size = 5; }, "size");
    refused([](ModelQuality& q) { q.wall_seconds = -2; }, "wall_seconds");
    refused([](ModelQuality& q) { q.tensors_sha256 = "ABC"; }, "tensors_sha256");
    refused([](ModelQuality& q) { q.rows.resize(kMaxQualityRows + 1); }, "rows");
}

TEST(ModelQuality, WriteModelQualityKeepsTensorsAndOtherFields) {
    TempDir dir;
    const auto file = dir / "m.impasto";
    // F32 storage: rewriting through write_style_model's default (F16) would change these bytes.
    write_style_model(file, sample_model(), DType::Float32);
    // A field a later version might write must survive the edit.
    {
        StringMap metadata;
        const TensorMap tensors = read_safetensors(file, &metadata);
        auto card = ojson::parse(metadata["card"]);
        card["from_the_future"] = {{"x", 1}};
        metadata["card"] = card.dump();
        metadata["extra"] = "kept";
        write_safetensors(file, tensors, metadata);
    }
    const std::string before = data_section(file);
    const std::string digest = tensors_sha256(read_style_model(file).tensors);
    ModelQuality quality = sample_quality();
    quality.tensors_sha256 = digest;
    write_model_quality(file, quality, digest);
    EXPECT_EQ(data_section(file), before);
    const StyleModelFile back = read_style_model(file);
    EXPECT_EQ(tensors_sha256(back.tensors), digest);
    ASSERT_TRUE(back.card.quality.has_value());
    EXPECT_EQ(back.card.quality->figures, quality.figures);
    EXPECT_EQ(back.card.iterations, 200);
    StringMap metadata;
    read_safetensors(file, &metadata);
    EXPECT_EQ(metadata["extra"], "kept");
    EXPECT_EQ(ojson::parse(metadata["card"]).at("from_the_future").at("x"), 1);

    // Another model's digest: the file changed since it was measured, so nothing is written.
    const std::string measured = read_file_bytes(file);
    EXPECT_THROW(write_model_quality(file, sample_quality(), std::string(64, 'b')), OutputError);
    EXPECT_EQ(read_file_bytes(file), measured);
    // Bad records are refused before anything is read or written.
    ModelQuality bad = sample_quality();
    bad.figures["nan"] = std::numeric_limits<double>::quiet_NaN();
    EXPECT_THROW(write_model_quality(file, bad), ConfigError);
    EXPECT_EQ(read_file_bytes(file), measured);
    // nullopt takes the record out again.
    write_model_quality(file, std::nullopt);
    EXPECT_FALSE(read_style_model(file).card.quality.has_value());
    EXPECT_EQ(data_section(file), before);
    // Not a model file.
    write_safetensors(dir / "plain.safetensors", sample_model().tensors);
    EXPECT_THROW(write_model_quality(dir / "plain.safetensors", quality), InputError);
}

TEST(ModelQuality, TensorDigestFollowsTheTensorsOnly) {
    StyleModelFile model = sample_model();
    const std::string digest = tensors_sha256(model.tensors);
    EXPECT_EQ(digest.size(), 64U);
    model.card.notes = "other metadata";
    EXPECT_EQ(tensors_sha256(model.tensors), digest);
    model.tensors["norm1.gamma"].bytes[0] ^= 1U;
    EXPECT_NE(tensors_sha256(model.tensors), digest);
    StyleModelFile reshaped = sample_model();
    reshaped.tensors["conv1.weight"].shape = {3, 2, 1, 1};
    EXPECT_NE(tensors_sha256(reshaped.tensors), digest);
}

TEST(ModelQuality, SummaryForListings) {
    ModelQuality decoder;
    decoder.figures = {{"reconstruction_psnr_db", 26.449}, {"reconstruction_psnr_db_worst", 18.68}};
    EXPECT_EQ(quality_summary(decoder), "26.4 dB");
    EXPECT_EQ(quality_summary(sample_quality()), "style 6.3x content 1.1x");
    ModelQuality big;
    big.figures = {{"style_loss_ratio", 31.7}, {"content_loss_ratio", 0.523}};
    EXPECT_EQ(quality_summary(big), "style 32x content 0.52x");
    EXPECT_EQ(quality_summary(ModelQuality{}), "-");
    const auto json = nlohmann::json::parse(describe_quality(sample_quality()));
    EXPECT_EQ(json.at("size"), 256);
    EXPECT_EQ(json.at("rows").at(0).at("style"), "starry_night");
}

} // namespace
} // namespace impasto
