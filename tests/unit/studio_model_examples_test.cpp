// The method tabs' examples: the loader keeps what is well formed in models/examples and leaves out,
// with a reason, whatever names a path, a link, a file too large or no JPEG; /api/defaults offers an
// example only for a model, style and transform the server has. The committed folder loads whole.
#include "impasto/image.h"
#include "server/job_request.h"
#include "testutil.h"
#include "unit/io_image_fixtures.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <gtest/gtest.h>

namespace impasto::studio {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

void write_file(const fs::path& file, const std::string& bytes) {
    std::ofstream out(file, std::ios::binary);
    out << bytes;
}

std::string jpeg_bytes(int width, int height) {
    const std::vector<std::uint8_t> bytes = encode_jpeg(testing::gradient_image(width, height), 80);
    return {bytes.begin(), bytes.end()};
}

bool mentions(const std::vector<std::string>& lines, const std::string& part) {
    return std::any_of(lines.begin(), lines.end(),
                       [&](const std::string& l) { return l.find(part) != std::string::npos; });
}

json entry(const std::string& method, const std::string& model, const std::string& transform, const std::string& style,
           const std::string& file) {
    json item{{"method", method}, {"style", style}, {"file", file}};
    if (!model.empty()) {
        item["model"] = model;
    }
    if (!transform.empty()) {
        item["transform"] = transform;
    }
    return item;
}

TEST(StudioModelExamples, NoFolderOrNoIndexGivesNone) {
    testing::TempDir temp;
    const ModelExamples none = load_model_examples(temp / "absent");
    EXPECT_TRUE(none.items.empty());
    EXPECT_TRUE(none.skipped.empty());
    fs::create_directories(temp / "examples");
    write_file(temp / "examples" / "fast-a-b.jpg", jpeg_bytes(20, 10)); // a picture without an index
    EXPECT_TRUE(load_model_examples(temp / "examples").items.empty());
}

TEST(StudioModelExamples, WellFormedEntriesLoadAndTheRestAreLeftOutWithAReason) {
    testing::TempDir temp;
    const fs::path dir = temp / "examples";
    fs::create_directories(dir);
    const std::string jpeg = jpeg_bytes(32, 24);
    write_file(dir / "fast-wave-great_wave.jpg", jpeg);
    write_file(dir / "adain-udnie.jpg", jpeg_bytes(24, 32));
    write_file(dir / "not-a-jpeg.jpg", "PNG? no: plain text");
    write_file(dir / "truncated.jpg", jpeg.substr(0, jpeg.size() / 2));
    write_file(dir / "huge.jpg", jpeg + std::string(kMaxExampleBytes, '\0'));
    write_file(temp / "secret.jpg", jpeg); // beside the folder, not in it
    fs::create_symlink(temp / "secret.jpg", dir / "link.jpg");
    const json index{{"examples",
                      {entry("fast", "wave", "", "great_wave", "fast-wave-great_wave.jpg"),
                       entry("arbitrary", "", "adain", "udnie", "adain-udnie.jpg"),
                       entry("fast", "wave", "", "great_wave", "fast-wave-great_wave.jpg"), // twice
                       entry("fast", "wave", "", "x", "../secret.jpg"), entry("fast", "wave", "", "x", "/etc/passwd"),
                       entry("fast", "wave", "", "x", "sub/dir.jpg"), entry("fast", "wave", "", "x", ".hidden.jpg"),
                       entry("fast", "wave", "", "x", "link.jpg"), entry("fast", "wave", "", "x", "missing.jpg"),
                       entry("fast", "wave", "", "x", "not-a-jpeg.jpg"),
                       entry("fast", "wave", "", "x", "truncated.jpg"), entry("fast", "wave", "", "x", "huge.jpg"),
                       entry("fast", "", "", "x", "fast-wave-great_wave.jpg"),  // no model
                       entry("arbitrary", "", "magic", "x", "adain-udnie.jpg"), // an unknown transform
                       entry("paint", "", "", "x", "adain-udnie.jpg"),          // an unknown method
                       entry("optimisation", "", "", "", "adain-udnie.jpg"),    // no style
                       json("a string, not an object")}}};
    write_file(dir / "index.json", index.dump());

    const ModelExamples examples = load_model_examples(dir);
    ASSERT_EQ(examples.items.size(), 2U);
    const ModelExample* wave = examples.find("fast-wave-great_wave.jpg");
    ASSERT_NE(wave, nullptr);
    EXPECT_EQ(wave->model, "wave");
    EXPECT_EQ(wave->style, "great_wave");
    EXPECT_EQ(wave->width, 32);
    EXPECT_EQ(wave->height, 24);
    EXPECT_EQ(wave->jpeg, jpeg);
    EXPECT_EQ(wave->version.size(), 16U);
    EXPECT_EQ(wave->url(), "/api/examples/fast-wave-great_wave.jpg?v=" + wave->version);
    ASSERT_NE(examples.find("adain-udnie.jpg"), nullptr);
    EXPECT_EQ(examples.find("adain-udnie.jpg")->transform, "adain");
    for (const char* left_out : {"../secret.jpg", "/etc/passwd", "sub/dir.jpg", ".hidden.jpg", "link.jpg",
                                 "missing.jpg", "not-a-jpeg.jpg", "truncated.jpg", "huge.jpg", "secret.jpg"}) {
        EXPECT_EQ(examples.find(left_out), nullptr) << left_out;
    }
    EXPECT_EQ(examples.skipped.size(), 15U) << ::testing::PrintToString(examples.skipped);
    EXPECT_TRUE(mentions(examples.skipped, "listed twice"));
    EXPECT_TRUE(mentions(examples.skipped, "not a plain NAME.jpg"));
    EXPECT_TRUE(mentions(examples.skipped, "symbolic link"));
    EXPECT_TRUE(mentions(examples.skipped, "not adain or wct"));
}

TEST(StudioModelExamples, AMalformedOrOversizedIndexGivesNoneAndSaysWhy) {
    testing::TempDir temp;
    for (const std::string& text :
         {std::string("{not json"), std::string("[]"), std::string(R"({"examples": 3})"),
          std::string(R"({"examples": [)") + std::string(kMaxExampleIndexBytes, ' ') + "]}",
          std::string(R"({"examples": )") + std::string(100, '[') + std::string(100, ']') + "}"}) {
        write_file(temp / "index.json", text);
        const ModelExamples examples = load_model_examples(temp.path());
        EXPECT_TRUE(examples.items.empty()) << text.substr(0, 40);
        EXPECT_EQ(examples.skipped.size(), 1U) << text.substr(0, 40);
    }
}

TEST(StudioModelExamples, DefaultsOfferExamplesOnlyForWhatTheServerHas) {
    testing::TempDir temp;
    const std::string jpeg = jpeg_bytes(16, 12);
    json list = json::array();
    for (const auto& [method, model, transform, style] :
         std::vector<std::array<std::string, 4>>{{"fast", "duo", "", "b"},
                                                 {"fast", "duo", "", "a"},
                                                 {"fast", "duo", "", "c"},  // not one of duo's styles
                                                 {"fast", "gone", "", "a"}, // a model this server does not have
                                                 {"arbitrary", "", "wct", "udnie"},
                                                 {"optimisation", "", "", "udnie"}}) {
        const std::string file = method + "-" + model + transform + "-" + style + ".jpg";
        write_file(temp / file, jpeg);
        list.push_back(entry(method, model, transform, style, file));
    }
    write_file(temp / "index.json", json{{"examples", list}}.dump());

    StudioCatalog catalog;
    catalog.models.push_back({"duo", {"a", "b"}, "duo.impasto"});
    catalog.models.push_back({"solo", {"s"}, "solo.impasto"});
    catalog.decoder_levels = {"relu4_1"};
    catalog.examples = load_model_examples(temp.path());
    ASSERT_EQ(catalog.examples.items.size(), 6U);
    const json defaults = defaults_json(catalog);
    const json& models = defaults.at("fast").at("models");
    ASSERT_EQ(models.size(), 2U);
    const json& duo = models.at(0).at("examples");
    ASSERT_EQ(duo.size(), 2U) << duo.dump();
    EXPECT_EQ(duo.at(0).at("style"), "a") << "in the model's order of styles";
    EXPECT_EQ(duo.at(1).at("style"), "b");
    EXPECT_EQ(duo.at(0).at("url"), catalog.examples.find("fast-duo-a.jpg")->url());
    EXPECT_EQ(duo.at(0).at("width"), 16);
    EXPECT_EQ(duo.at(0).at("height"), 12);
    EXPECT_EQ(models.at(1).at("examples"), json::array()) << "a model without an example has none";
    const json& arbitrary = defaults.at("arbitrary").at("examples");
    ASSERT_EQ(arbitrary.size(), 1U);
    EXPECT_EQ(arbitrary.at(0).at("transform"), "wct");
    ASSERT_EQ(defaults.at("optimisation").at("examples").size(), 1U);
    EXPECT_EQ(defaults.at("optimisation").at("examples").at(0).at("style"), "udnie");

    catalog.decoder_levels.clear(); // no decoders: arbitrary style is not offered, nor its examples
    EXPECT_EQ(defaults_json(catalog).at("arbitrary").at("examples"), json::array());
}

TEST(StudioModelExamples, TheCommittedExamplesCoverEveryCommittedModelAndStyle) {
    const StudioCatalog catalog = scan_catalog(IMPASTO_MODELS_DIR, Precision::Fp32, 2048);
    if (!fs::exists(fs::path(IMPASTO_MODELS_DIR) / "examples" / "index.json")) {
        GTEST_SKIP() << "no models/examples/index.json (tools/make_model_examples.sh makes it)";
    }
    EXPECT_TRUE(catalog.examples.skipped.empty()) << ::testing::PrintToString(catalog.examples.skipped);
    const json defaults = defaults_json(catalog);
    for (const json& model : defaults.at("fast").at("models")) {
        EXPECT_EQ(model.at("examples").size(), model.at("styles").size())
            << model.at("name") << ": rerun tools/make_model_examples.sh after training";
        for (const json& example : model.at("examples")) {
            const std::string url = example.at("url");
            const ModelExample* found = catalog.examples.find(url.substr(14, url.find('?') - 14));
            ASSERT_NE(found, nullptr) << url;
            EXPECT_LE(std::max(found->width, found->height), 256) << url << ": a thumbnail, not a picture";
            EXPECT_LE(found->jpeg.size(), 32U * 1024U) << url;
        }
    }
    EXPECT_FALSE(defaults.at("arbitrary").at("examples").empty());
}

} // namespace
} // namespace impasto::studio
