// Other backbones and derived weight sets through the real CLI: `layers --model`, the install
// registry's errors, `weights classify` on real photos, a short stylize on EfficientNet-Lite0, and
// `weights normalise` followed by a run on the normalised set. Steps that need the real weights or
// ../shared/images skip with a message when those are absent.
#include "e2e_util.h"
#include "impasto/weights.h"

#include <nlohmann/json.hpp>

namespace impasto::e2e {
namespace {

constexpr int kConfigOrInput = 2;

class CliModels : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::create_directories(scratch_);
        fs::create_directories(out_);
    }
    CliRun run(const std::string& args) { return run_cli(args, scratch_); }

    // The real weights folder holds `name` (installed by the developer, never by a test).
    static bool installed(const std::string& name) {
        std::error_code ec;
        return fs::exists(default_weights_dir() / (name + ".json"), ec);
    }

    TempDir dir_;
    fs::path scratch_ = dir_ / "scratch";
    fs::path out_ = dir_ / "out";
};

TEST_F(CliModels, LayersListsEachBackbone) {
    const CliRun lite = run("layers --model efficientnet-lite0");
    ASSERT_EQ(lite.exit_code, 0) << lite.err;
    for (const char* expected : {"efficientnet-lite0", "stem ", "block2_expand", "block16 ", "head "}) {
        EXPECT_NE(lite.out.find(expected), std::string::npos) << expected << " missing from:\n" << lite.out;
    }
    EXPECT_NE(lite.out.find("block5_expand        240      8  content"), std::string::npos) << lite.out;
    EXPECT_NE(lite.out.find("block6_dw            240     16  style"), std::string::npos) << lite.out;
    EXPECT_NE(lite.out.find("--pooling does not apply"), std::string::npos);
    const CliRun vgg16 = run("layers --model vgg16");
    ASSERT_EQ(vgg16.exit_code, 0);
    EXPECT_EQ(vgg16.out.find("conv5_4"), std::string::npos);
    const CliRun unknown = run("layers --model resnet50");
    EXPECT_EQ(unknown.exit_code, kConfigOrInput);
    EXPECT_NE(unknown.err.find("known: vgg19, vgg16, efficientnet-lite0"), std::string::npos) << unknown.err;
}

TEST_F(CliModels, HelpOfTheNewSubcommandsRenders) {
    for (const std::string command : {"weights normalise", "weights classify", "weights install", "layers"}) {
        SCOPED_TRACE(command);
        const CliRun help = run(command + " --help");
        EXPECT_EQ(help.exit_code, 0) << help.err;
        EXPECT_NE(help.out.find("Usage: impasto"), std::string::npos);
    }
    const CliRun normalise = run("weights normalise --help");
    for (const char* option : {"--data", "--source", "--name", "--size", "--limit", "--pooling"}) {
        EXPECT_NE(normalise.out.find(option), std::string::npos) << option;
    }
}

TEST_F(CliModels, InstallAndNormaliseErrors) {
    const CliRun unknown = run("--weights-dir " + shell_quote((dir_ / "w").string()) + " weights install resnet50");
    EXPECT_EQ(unknown.exit_code, kConfigOrInput);
    EXPECT_NE(unknown.err.find("installable: vgg19.caffe, efficientnet-lite0"), std::string::npos) << unknown.err;
    const fs::path empty = dir_ / "empty";
    fs::create_directories(empty);
    const CliRun no_images = run("--weights-dir " + shell_quote((dir_ / "w").string()) + " weights normalise --data " +
                                 shell_quote(empty.string()));
    EXPECT_EQ(no_images.exit_code, kConfigOrInput);
    EXPECT_NE(no_images.err.find("holds no image"), std::string::npos) << no_images.err;
}

TEST_F(CliModels, ClassifiesRealPhotosSensibly) {
    if (!installed("efficientnet-lite0") || !have_shared_images()) {
        GTEST_SKIP() << "needs `impasto weights install efficientnet-lite0` and ../shared/images";
    }
    const fs::path content = shared_dir() / "images" / "content";
    const CliRun classified = run("weights classify " + shell_quote((content / "kodim04.png").string()) + " " +
                                  shell_quote((content / "kodim05.png").string()) + " --threads 1");
    ASSERT_EQ(classified.exit_code, 0) << classified.err;
    // kodim04, a girl in a red hat: bonnet (452), cowboy hat (515); kodim05, motocross riders:
    // mountain bike (671), moped (665).
    const std::string first = classified.out.substr(0, classified.out.find('\n'));
    const std::string second = classified.out.substr(classified.out.find('\n') + 1);
    for (const char* index : {" 452(", " 515("}) {
        EXPECT_NE(first.find(index), std::string::npos) << classified.out;
    }
    for (const char* index : {" 671(", " 665("}) {
        EXPECT_NE(second.find(index), std::string::npos) << classified.out;
    }
}

TEST_F(CliModels, StylizeOnEfficientNetLite0) {
    if (!installed("efficientnet-lite0")) {
        GTEST_SKIP() << "efficientnet-lite0 is not installed; run `impasto weights install efficientnet-lite0`";
    }
    write_synthetic(dir_ / "content.png", 64, 48, 21);
    write_synthetic(dir_ / "style.png", 48, 48, 22);
    const fs::path output = out_ / "lite0.png";
    const CliRun stylized =
        run("stylize " + shell_quote((dir_ / "content.png").string()) + " " +
            shell_quote((dir_ / "style.png").string()) + " -o " + shell_quote(output.string()) +
            " --weights efficientnet-lite0 --size 48 --schedule none --iterations 4 --threads 1 --quiet"
            " --content-layers block5_expand --style-layers stem,block2_expand,block2_dw,block4_dw,block6_dw");
    ASSERT_EQ(stylized.exit_code, 0) << stylized.err;
    const auto record = nlohmann::json::parse(read_text(fs::path(output).replace_extension(".json")));
    EXPECT_EQ(record["status"], "complete");
    EXPECT_NE(record.dump().find("efficientnet-lite0"), std::string::npos);
    // Without layer options the backbone's own defaults apply (the presets name VGG layers)...
    const fs::path defaults = out_ / "defaults.png";
    const CliRun with_defaults =
        run("stylize " + shell_quote((dir_ / "content.png").string()) + " " +
            shell_quote((dir_ / "style.png").string()) + " -o " + shell_quote(defaults.string()) +
            " --weights efficientnet-lite0 --size 48 --schedule none --iterations 2 --threads 1 --quiet");
    ASSERT_EQ(with_defaults.exit_code, 0) << with_defaults.err;
    const auto parameters =
        nlohmann::json::parse(read_text(fs::path(defaults).replace_extension(".json")))["parameters"];
    EXPECT_EQ(parameters["content_layers"], nlohmann::json::array({"block5_expand"}));
    EXPECT_EQ(parameters["style_layers"].size(), 5U);
    // ...and VGG layer names are refused with the backbone's own list.
    const CliRun vgg_layers =
        run("stylize " + shell_quote((dir_ / "content.png").string()) + " " +
            shell_quote((dir_ / "style.png").string()) + " -o " + shell_quote((out_ / "bad.png").string()) +
            " --weights efficientnet-lite0 --size 48 --quiet --content-layers relu4_2");
    EXPECT_EQ(vgg_layers.exit_code, kConfigOrInput);
    EXPECT_NE(vgg_layers.err.find("block5_expand"), std::string::npos) << vgg_layers.err;
}

TEST_F(CliModels, NormaliseThenStylizeWithTheNormalisedSet) {
    if (!installed(kDefaultWeightSet)) {
        GTEST_SKIP() << "the real VGG19 weights are not installed; run `impasto weights install`";
    }
    // A private weights folder that links to the real vgg19.caffe, so the test writes nothing outside.
    const fs::path weights = dir_ / "weights";
    fs::create_directories(weights);
    for (const char* extension : {".json", ".safetensors"}) {
        const std::string file = std::string(kDefaultWeightSet) + extension;
        fs::create_symlink(default_weights_dir() / file, weights / file);
    }
    const fs::path data = dir_ / "photos" / "nested";
    fs::create_directories(data);
    write_synthetic(data / "a.png", 40, 30, 31);
    write_synthetic(data / "b.png", 36, 36, 32);
    write_synthetic(dir_ / "photos" / "c.png", 30, 40, 33);
    const std::string dir_option = "--weights-dir " + shell_quote(weights.string());
    const CliRun normalised = run(dir_option + " weights normalise --data " + shell_quote((dir_ / "photos").string()) +
                                  " --size 32 --limit 2 --threads 1");
    ASSERT_EQ(normalised.exit_code, 0) << normalised.err;
    EXPECT_NE(normalised.out.find("conv5_4"), std::string::npos) << normalised.out;
    const auto manifest = nlohmann::json::parse(read_text(weights / "vgg19.caffe-normalised.json"));
    EXPECT_EQ(manifest["architecture"], "vgg19");
    EXPECT_EQ(manifest["details"]["images"], 2);
    EXPECT_EQ(manifest["details"]["size"], 32);
    EXPECT_EQ(manifest["details"]["layers"].size(), 16U);
    EXPECT_EQ(manifest["details"]["source_set"], kDefaultWeightSet);

    write_synthetic(dir_ / "content.png", 40, 32, 34);
    write_synthetic(dir_ / "style.png", 32, 32, 35);
    const CliRun stylized =
        run(dir_option + " stylize " + shell_quote((dir_ / "content.png").string()) + " " +
            shell_quote((dir_ / "style.png").string()) + " -o " + shell_quote((out_ / "n.png").string()) +
            " --weights vgg19.caffe-normalised --size 32 --schedule none --iterations 2"
            " --threads 1 --quiet");
    ASSERT_EQ(stylized.exit_code, 0) << stylized.err;
    EXPECT_TRUE(fs::exists(out_ / "n.png"));
}

} // namespace
} // namespace impasto::e2e
