// `impasto models list` with the quality column and `impasto models measure` end to end: figures in
// a card show in the listing (no weights needed); mistakes are one line before the weights load;
// with the real weights, measuring a copy of the committed relu1_1 decoder gives exactly what
// `impasto stylize ... --alpha 0` then `impasto evaluate --reference` give, writes it into the
// card and leaves the tensors bit for bit.
#include "e2e_util.h"
#include "impasto/safetensors.h"
#include "impasto/style_model_file.h"

#include <cstring>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace impasto::e2e {
namespace {

constexpr int kConfigOrInput = 2;

StyleModelFile tiny_model(StyleModelKind kind) {
    StyleModelFile model;
    model.kind = kind;
    model.config = kind == StyleModelKind::Decoder ? R"({"level":"relu1_1","encoder":"vgg19"})"
                                                   : R"({"width":0.5,"styles":1,"style_names":["wave"]})";
    model.card.style_images = {{"wave", ""}};
    model.card.iterations = 10;
    model.tensors["w"] = RawTensor::from_float({2}, {1.0F, 2.0F});
    return model;
}

std::string data_section(const fs::path& file) {
    const std::string bytes = read_file_bytes(file);
    std::uint64_t header = 0;
    std::memcpy(&header, bytes.data(), 8);
    return bytes.substr(8 + header);
}

class CliModelsMeasure : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::create_directories(scratch_);
        fs::create_directories(models_);
        fs::create_directories(images_);
    }
    CliRun run(const std::string& args) { return run_cli(args, scratch_); }
    std::string q(const fs::path& path) const { return shell_quote(path.string()); }

    TempDir dir_;
    fs::path scratch_ = dir_ / "scratch";
    fs::path models_ = dir_ / "models";
    fs::path images_ = dir_ / "images";
};

TEST_F(CliModelsMeasure, ListShowsTheQualityColumn) {
    StyleModelFile decoder = tiny_model(StyleModelKind::Decoder);
    ModelQuality psnr;
    psnr.figures = {{"reconstruction_psnr_db", 26.45}, {"reconstruction_psnr_db_worst", 18.68}};
    psnr.tensors_sha256 = tensors_sha256(decoder.tensors);
    decoder.card.quality = psnr;
    write_style_model(models_ / "dec.impasto", decoder, DType::Float32); // F32: the tensors hashed are the ones stored

    StyleModelFile style = tiny_model(StyleModelKind::Transformer);
    ModelQuality ratios;
    ratios.figures = {{"style_loss_ratio", 6.3}, {"content_loss_ratio", 1.1}};
    QualityRow seen;
    seen.image = "tubingen.jpg";
    seen.style = "wave";
    seen.seen_in_training = true;
    ratios.rows = {seen};
    style.card.quality = ratios;
    write_style_model(models_ / "style.impasto", style);

    StyleModelFile stale = tiny_model(StyleModelKind::Decoder);
    ModelQuality old = psnr;
    old.tensors_sha256 = std::string(64, '0'); // measured on other tensors
    stale.card.quality = old;
    write_style_model(models_ / "stale.impasto", stale);
    write_style_model(models_ / "plain.impasto", tiny_model(StyleModelKind::Transformer));

    const CliRun list = run("models list --dir " + q(models_));
    ASSERT_EQ(list.exit_code, 0) << list.err;
    const auto line_of = [&](const std::string& name) {
        const auto start = list.out.find("  " + name + " ");
        return start == std::string::npos ? std::string() : list.out.substr(start, list.out.find('\n', start) - start);
    };
    EXPECT_NE(line_of("dec").find(" 26.4 dB "), std::string::npos) << list.out; // 26.45 is 26.4499... in binary
    EXPECT_EQ(line_of("dec").find("stale"), std::string::npos) << list.out;
    EXPECT_NE(line_of("style").find("style 6.3x content 1.1x *"), std::string::npos) << list.out;
    EXPECT_NE(line_of("stale").find("26.4 dB (stale)"), std::string::npos) << list.out;
    EXPECT_NE(line_of("plain").find(" - "), std::string::npos) << list.out;
    EXPECT_NE(list.out.find("* measured partly or wholly on images the model was trained on"), std::string::npos);

    const CliRun show = run("models show " + q(models_ / "dec.impasto"));
    ASSERT_EQ(show.exit_code, 0) << show.err;
    EXPECT_EQ(nlohmann::json::parse(show.out)["card"]["quality"]["figures"]["reconstruction_psnr_db"], 26.45);
}

TEST_F(CliModelsMeasure, MistakesAreOneLineBeforeTheWeightsLoad) {
    write_style_model(models_ / "dec.impasto", tiny_model(StyleModelKind::Decoder));
    const std::string no_weights = "--weights-dir " + q(dir_ / "no-weights") + " ";
    expect_one_line_error(run(no_weights + "models measure " + q(models_ / "dec.impasto") + " --size 8"),
                          kConfigOrInput, "size = 8");
    expect_one_line_error(run(no_weights + "models measure no-such-model --dir " + q(models_)), kConfigOrInput,
                          "no-such-model");
    expect_one_line_error(run(no_weights + "models measure " + q(models_ / "dec.impasto") + " --precision fp16"),
                          kConfigOrInput, "fp16");
    const CliRun help = run("models measure --help");
    EXPECT_EQ(help.exit_code, 0);
    for (const char* option : {"--images", "--content", "--styles", "--size", "--no-write", "--json"}) {
        EXPECT_NE(help.out.find(option), std::string::npos) << option;
    }
}

TEST_F(CliModelsMeasure, DecoderFigureIsStylizeThenEvaluate) {
    IMPASTO_REQUIRE_WEIGHTS();
    const fs::path committed = fs::path(IMPASTO_SOURCE_DIR) / "models" / "decoders" / "vgg19-relu1_1.impasto";
    if (!fs::exists(committed)) {
        GTEST_SKIP() << "no committed relu1_1 decoder";
    }
    const fs::path decoders = dir_ / "decoders";
    fs::create_directories(decoders);
    const fs::path model = decoders / "vgg19-relu1_1.impasto";
    fs::copy_file(committed, model);
    write_synthetic(images_ / "a.png", 70, 52, 41);
    write_synthetic(images_ / "b.png", 48, 64, 42);
    const std::string tensors_before = data_section(model);

    const CliRun measured = run("models measure " + q(model) + " --images " + q(images_) + " --size 64 --threads 1");
    ASSERT_EQ(measured.exit_code, 0) << measured.err;
    EXPECT_NE(measured.out.find(" dB"), std::string::npos) << measured.out;
    EXPECT_NE(measured.out.find("written into its card"), std::string::npos) << measured.out;
    EXPECT_NE(measured.err.find("[2/2] b.png:"), std::string::npos) << measured.err;
    EXPECT_EQ(data_section(model), tensors_before);
    const StyleModelFile back = read_style_model(model);
    ASSERT_TRUE(back.card.quality.has_value());
    const ModelQuality& quality = *back.card.quality;
    ASSERT_EQ(quality.rows.size(), 2U);
    EXPECT_EQ(quality.size, 64);

    // The same figures from the two commands the measurement stands for.
    for (const QualityRow& row : quality.rows) {
        SCOPED_TRACE(row.image);
        const fs::path output = dir_ / ("recon-" + row.image);
        const CliRun stylized = run("stylize " + q(images_ / row.image) + " " + q(images_ / row.image) +
                                    " --method adain --alpha 0 --levels relu1_1 --size 64 --decoders " + q(decoders) +
                                    " --threads 1 -q -o " + q(output));
        ASSERT_EQ(stylized.exit_code, 0) << stylized.err;
        const CliRun evaluated = run("evaluate " + q(output) + " --reference " + q(images_ / row.image) + " --json");
        ASSERT_EQ(evaluated.exit_code, 0) << evaluated.err;
        const auto json = nlohmann::json::parse(evaluated.out).at(0);
        EXPECT_NEAR(row.figures.at("psnr_db"), std::min(100.0, json.at("psnr_db").get<double>()), 1e-9);
        EXPECT_NEAR(row.figures.at("edge_ratio"), json.at("edge_ratio").get<double>(), 1e-9);
    }

    const CliRun list = run("models list --dir " + q(decoders));
    ASSERT_EQ(list.exit_code, 0) << list.err;
    EXPECT_NE(list.out.find(fmt::format("{:.1f} dB", quality.figures.at("reconstruction_psnr_db"))), std::string::npos)
        << list.out;
    // --no-write --json: the record on stdout, the file untouched.
    const std::string file_before = read_file_bytes(model);
    const CliRun dry = run("models measure " + q(model) + " --images " + q(images_ / "a.png") +
                           " --size 64 --threads 1 --no-write --json -q");
    ASSERT_EQ(dry.exit_code, 0) << dry.err;
    EXPECT_TRUE(dry.err.empty()) << dry.err;
    const auto records = nlohmann::json::parse(dry.out);
    EXPECT_EQ(records.at(0).at("written"), false);
    EXPECT_EQ(records.at(0).at("quality").at("rows").size(), 1U);
    EXPECT_EQ(read_file_bytes(model), file_before);
}

} // namespace
} // namespace impasto::e2e
