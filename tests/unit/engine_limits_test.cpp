// Caps on the work and memory one call may ask for (issue 11): every knob that drives time or
// memory has a range, the memory model counts every image that goes through VGG (the styles at
// their scaled size), max_pixels covers the style images, and JSON inside model files, checkpoints
// and weight manifests is bounded before anything recurses into it.
#include "engine_fixtures.h"
#include "impasto/arbitrary_style.h"
#include "impasto/error.h"
#include "impasto/fast_style.h"
#include "impasto/reconstruct.h"
#include "impasto/safetensors.h"
#include "impasto/style_model_file.h"
#include "impasto/stylize.h"
#include "impasto/train.h"
#include "impasto/weights.h"
#include "nn/transformer_net.h"
#include "nn/vgg_decoder.h"
#include "testutil.h"
#include "train/checkpoint.h"

#include <fstream>
#include <gtest/gtest.h>

using namespace impasto;

namespace {

// Nested arrays of this depth overflow the stack of any recursive walk (dump, copy, compare) yet
// stay under the 1 MiB size limit, so that the depth check is what refuses them.
constexpr int kDeep = 200'000;

std::string deep_array(int depth) {
    return std::string(static_cast<std::size_t>(depth), '[') + std::string(static_cast<std::size_t>(depth), ']');
}

template <class E, class F> std::string error_of(F&& call) {
    try {
        call();
    } catch (const E& error) {
        return error.what();
    }
    ADD_FAILURE() << "expected an exception";
    return {};
}

bool contains(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

std::shared_ptr<const FeatureModel> synthetic_model() {
    static const auto model = FeatureModel::create(impasto::testing::synthetic_vgg19_weights(), Device{});
    return model;
}

StylizeOptions tiny_options() {
    StylizeOptions options = preset_options("default");
    options.size = 32;
    options.iterations = 1;
    options.scales = {};
    options.precision = Precision::Fp32;
    return options;
}

} // namespace

// ---- every knob that drives time or memory has a range ----

TEST(Limits, ScheduleOfMillionsOfStepsIsRefused) {
    StylizeOptions options;
    options.scales.assign(2'000'000, ScaleStep{256, 1});
    const std::string what = error_of<ConfigError>([&] { options.validate(); });
    EXPECT_TRUE(contains(what, "schedule")) << what;
    EXPECT_TRUE(contains(what, "2000000 steps")) << what;

    // The parser stops at the cap instead of building the list.
    std::string text = "16:1";
    for (int i = 0; i < 1'000'000; ++i) {
        text += ",16:1";
    }
    const std::string parsed = error_of<ConfigError>([&] { parse_schedule(text); });
    EXPECT_TRUE(contains(parsed, "more than 16 steps")) << parsed;
    EXPECT_EQ(parse_schedule("16:1,32:1,64:1,128:1,256:1,512:1,1024:1,2048:1,4096:1,8192:1,16384:1").size(), 11U);
    // Spaces around the numbers are fine; anything else after a number is not.
    EXPECT_EQ(parse_schedule("256 : 150 , 512:50").back().iterations, 50);
    EXPECT_THROW(parse_schedule("256:150x,512:50"), ConfigError);
}

TEST(Limits, TotalIterationsOverTheWholeScheduleAreCapped) {
    StylizeOptions options;
    options.size = 512;
    options.iterations = kMaxIterations;
    options.scales = {{256, kMaxIterations}, {512, kMaxIterations}};
    const std::string what = error_of<ConfigError>([&] { options.validate(); });
    EXPECT_TRUE(contains(what, "total iterations")) << what;
    EXPECT_TRUE(contains(what, "200000")) << what;
    options.scales = {{256, 60'000}, {512, 0}};
    options.iterations = 40'000;
    EXPECT_NO_THROW(options.validate());
}

TEST(Limits, RescaledScheduleStepsObeyTheSideCap) {
    // Each raw step is in range, but the schedule is scaled so its last step is `size`: the first
    // step would be 16384 * 1024 px long.
    StylizeOptions options;
    options.size = 16384;
    options.scales = {{16384, 10}, {16, 10}};
    const std::string what = error_of<ConfigError>([&] { options.validate(); });
    EXPECT_TRUE(contains(what, "schedule size")) << what;
    EXPECT_TRUE(contains(what, "16777216")) << what;
}

TEST(Limits, StyleScaleMayNotPushTheStyleBeyondTheSideCap) {
    StylizeOptions options;
    options.scales = {};
    options.size = 4096;
    options.style_scale = 8; // a 32768 px style image
    const std::string what = error_of<ConfigError>([&] { options.validate(); });
    EXPECT_TRUE(contains(what, "style scale")) << what;
    EXPECT_TRUE(contains(what, "32768")) << what;
    options.style_scale = 4;
    EXPECT_NO_THROW(options.validate());
    options.style_scale = 1e300;
    EXPECT_THROW(options.validate(), ConfigError);
}

TEST(Limits, LayerListsPreviewsAndPixelCapHaveRanges) {
    StylizeOptions options;
    options.style_layers.assign(100'000, "relu1_1"); // a Gram matrix each, every evaluation
    EXPECT_TRUE(contains(error_of<ConfigError>([&] { options.validate(); }), "style layers"));
    options = {};
    options.content_layers.assign(65, "relu4_2");
    EXPECT_TRUE(contains(error_of<ConfigError>([&] { options.validate(); }), "content layers"));
    options = {};
    options.preview_every = 2'000'000'000;
    EXPECT_TRUE(contains(error_of<ConfigError>([&] { options.validate(); }), "preview every"));
    options = {};
    options.lbfgs_history = kMaxLbfgsHistory + 1;
    EXPECT_TRUE(contains(error_of<ConfigError>([&] { options.validate(); }), "lbfgs history"));
    options = {};
    options.max_pixels = 0;
    EXPECT_TRUE(contains(error_of<ConfigError>([&] { options.validate(); }), "max pixels"));
    // Print sizes still work.
    options = {};
    options.size = 8192;
    options.scales = {{2048, 150}, {4096, 80}, {8192, 40}};
    EXPECT_NO_THROW(options.validate());
}

TEST(Limits, OtherOptionStructsHaveRanges) {
    TilingOptions tiling;
    tiling.tile = 1'000'000'000; // one tile = no tiling, past the memory budget
    EXPECT_TRUE(contains(error_of<ConfigError>([&] { tiling.validate(); }), "tiling tile"));
    tiling = {};
    tiling.memory_budget_bytes = std::int64_t{1} << 50U;
    EXPECT_TRUE(contains(error_of<ConfigError>([&] { tiling.validate(); }), "memory budget"));

    FastStylizeOptions fast;
    fast.size = 32768;
    EXPECT_TRUE(contains(error_of<ConfigError>([&] { fast.validate(1); }), "size"));

    ArbitraryOptions arbitrary;
    arbitrary.max_pixels = -1;
    EXPECT_TRUE(contains(error_of<ConfigError>([&] { arbitrary.validate(); }), "max pixels"));

    ReconstructOptions reconstruct;
    reconstruct.preview_every = -1;
    EXPECT_THROW(reconstruct.validate(), ConfigError);
    reconstruct = {};
    reconstruct.max_pixels = 1;
    EXPECT_TRUE(contains(error_of<ConfigError>([&] { reconstruct.validate(); }), "max pixels"));

    TrainStyleOptions train;
    train.common.data = {"data"};
    train.common.output = "out.impasto";
    train.styles = {"style.png"};
    EXPECT_NO_THROW(train.validate());
    train.common.batch = 1024;
    train.common.crop = 4096; // 17 Gpx per step
    const std::string what = error_of<ConfigError>([&] { train.validate(); });
    EXPECT_TRUE(contains(what, "batch x crop^2")) << what;
    train.common.batch = 16;
    train.common.crop = 2048;
    EXPECT_NO_THROW(train.validate());
    train.common.prefetch_batches = 64; // 64 batches of 67 Mpx waiting in the queue
    EXPECT_TRUE(contains(error_of<ConfigError>([&] { train.validate(); }), "prefetch_batches"));
}

// ---- the memory model counts every image that goes through VGG ----

TEST(Limits, MemoryEstimateGrowsWithTheStyleSize) {
    StylizeOptions options;
    options.scales = {};
    options.size = 512;
    const RunImageSizes small{{512, 384}, {{256, 256}}, {}};
    const RunImageSizes large{{512, 384}, {{4096, 4096}}, {}};
    const std::int64_t with_small = estimate_peak_memory(options, 512, 384, small);
    const std::int64_t with_large = estimate_peak_memory(options, 512, 384, large);
    EXPECT_GT(with_large, with_small);
    options.style_scale = 8; // 4096 px styles through VGG
    EXPECT_GT(estimate_peak_memory(options, 512, 384, small), 2 * with_small);
    // Several styles are each held.
    const RunImageSizes two{{512, 384}, {{4096, 4096}, {4096, 4096}}, {}};
    EXPECT_GT(estimate_peak_memory(options, 512, 384, two), estimate_peak_memory(options, 512, 384, large));
}

TEST(Limits, HugeStyleScaleIsRefusedUnderABudgetTheContentAloneFits) {
    StylizeOptions options;
    options.scales = {};
    options.size = 512;
    const RunImageSizes content_only{{512, 384}, {}, {}};
    const std::int64_t budget = estimate_peak_memory(options, 512, 384, content_only) + 200'000'000;
    const RunImageSizes with_style{{512, 384}, {{600, 600}}, {}};
    EXPECT_NO_THROW(check_memory_fits(options, with_style, budget));
    options.style_scale = 8;
    const std::string what = error_of<ResourceError>([&] { check_memory_fits(options, with_style, budget); });
    EXPECT_TRUE(contains(what, "style images up to 4096x4096")) << what;
    // The size it proposes really fits.
    const int fits = largest_size_that_fits(options, with_style, budget);
    options.size = fits;
    EXPECT_NO_THROW(check_memory_fits(options, with_style, budget));
    EXPECT_LT(fits, 512);
    // The style-blind overload assumes a square style at the style scale, so it refuses too.
    options.size = 512;
    EXPECT_THROW(check_memory_fits(options, 512, 384, budget), ResourceError);
}

TEST(Limits, StylizeRefusesAStyleTooLargeForTheMemoryItHas) {
    StylizeOptions options = tiny_options();
    options.size = 1024;
    options.style_scale = 8; // 8192 px: about 54 GB for the style's forward pass alone
    const std::vector<StyleImage> styles{{impasto::testing::synthetic_image(40, 40, 3), 1.0}};
    const Image content = impasto::testing::synthetic_image(48, 40, 0);
    const std::int64_t available = available_memory_bytes(Device{});
    const RunImageSizes content_only{{48, 40}, {}, {}};
    if (estimate_peak_memory(options, 1024, 853, content_only) > available ||
        estimate_peak_memory(options, 1024, 853, run_image_sizes(content, styles)) <= available) {
        GTEST_SKIP() << "needs a machine that holds the content at 1024 px but not an 8192 px style pass";
    }
    EXPECT_THROW(stylize(*synthetic_model(), content, styles, options), ResourceError);
}

// ---- max_pixels covers the style images, after scaling ----

TEST(Limits, MaxPixelsCoversStyleImagesAfterScaling) {
    StylizeOptions options;
    options.scales = {};
    options.size = 64;
    options.max_pixels = 5000;
    RunImageSizes sizes{{64, 48}, {{40, 56}}, {}};
    EXPECT_NO_THROW(check_work_limits(options, sizes)); // the style at 64 px: 46x64
    options.style_scale = 4;                            // a small file made large: 183x256
    const std::string what = error_of<ResourceError>([&] { check_work_limits(options, sizes); });
    EXPECT_TRUE(contains(what, "style image #1")) << what;
    EXPECT_TRUE(contains(what, "5000")) << what;
    // The content at each step counts too.
    options.style_scale = 1;
    options.size = 128;
    EXPECT_TRUE(contains(error_of<ResourceError>([&] { check_work_limits(options, sizes); }), "128 px step"));
    // More style images than the cap.
    options.size = 64;
    sizes.styles.assign(kMaxStyleImages + 1, ImageSize{40, 56});
    EXPECT_TRUE(contains(error_of<ConfigError>([&] { check_work_limits(options, sizes); }), "style images"));
}

TEST(Limits, StylizeCarriesMaxPixelsForEveryCaller) {
    StylizeOptions options = tiny_options();
    options.max_pixels = 2000;
    const Image content = impasto::testing::synthetic_image(32, 24, 0); // 768 px
    std::vector<StyleImage> styles{{impasto::testing::synthetic_image(40, 40, 3), 1.0}};
    EXPECT_NO_THROW(stylize(*synthetic_model(), content, styles, options));
    options.style_scale = 2; // 64x64 = 4096 px
    EXPECT_THROW(stylize(*synthetic_model(), content, styles, options), ResourceError);
    options.style_scale = 1;
    styles.assign(kMaxStyleImages + 1, styles.front());
    EXPECT_THROW(stylize(*synthetic_model(), content, styles, options), ConfigError);
}

TEST(Limits, InitImageIsDecodedUnderMaxPixels) {
    impasto::testing::TempDir dir;
    const auto file = dir / "init.png";
    save_image(impasto::testing::synthetic_image(80, 80, 1), file); // 6400 px
    StylizeOptions options = tiny_options();
    options.init = InitKind::File;
    options.init_file = file;
    options.max_pixels = 5000;
    const Image content = impasto::testing::synthetic_image(32, 24, 0);
    const std::vector<StyleImage> styles{{impasto::testing::synthetic_image(40, 40, 3), 1.0}};
    const std::string what = error_of<InputError>([&] { stylize(*synthetic_model(), content, styles, options); });
    EXPECT_TRUE(contains(what, "init image")) << what;
    options.max_pixels = 10000;
    EXPECT_NO_THROW(stylize(*synthetic_model(), content, styles, options));
}

TEST(Limits, FeedForwardPathsCarryMaxPixels) {
    const Image content = impasto::testing::synthetic_image(32, 24, 0);
    // Arbitrary style: every style image is encoded whole at style_size.
    nn::VggDecoder decoder("relu1_1");
    StyleModelFile decoder_file;
    decoder_file.kind = StyleModelKind::Decoder;
    decoder_file.config = R"({"level": "relu1_1", "encoder": "vgg19"})";
    decoder_file.tensors = decoder->export_tensors();
    const auto decoders = DecoderSet::from_files({decoder_file}, Device{});
    ArbitraryOptions arbitrary;
    arbitrary.levels = {"relu1_1"};
    arbitrary.style_size = 64;
    arbitrary.max_pixels = 4000;
    std::vector<ArbitraryStyle> styles{{impasto::testing::synthetic_image(40, 36, 3), 1.0, {}}};
    EXPECT_NO_THROW(stylize_arbitrary(*synthetic_model(), *decoders, content, styles, arbitrary)); // 64x58
    arbitrary.style_size = 4096; // a 40 px file made 15 Mpx
    std::string what =
        error_of<ResourceError>([&] { stylize_arbitrary(*synthetic_model(), *decoders, content, styles, arbitrary); });
    EXPECT_TRUE(contains(what, "style #1")) << what;
    arbitrary.style_size = 64;
    arbitrary.size = 256; // the output
    EXPECT_THROW(stylize_arbitrary(*synthetic_model(), *decoders, content, styles, arbitrary), ResourceError);
    arbitrary.size = 0;
    styles.assign(kMaxStyleImages + 1, styles.front());
    EXPECT_THROW(stylize_arbitrary(*synthetic_model(), *decoders, content, styles, arbitrary), ConfigError);

    // A trained network: the output.
    nn::TransformerNetConfig config;
    config.width = 0.125;
    nn::TransformerNet net(config);
    const auto network = StyleNetwork::from_file(nn::make_transformer_model_file(*net, {"a"}, ModelCard{}), Device{});
    FastStylizeOptions fast;
    fast.max_pixels = 4000;
    EXPECT_NO_THROW(stylize_fast(*network, content, fast));
    fast.size = 128;
    what = error_of<ResourceError>([&] { stylize_fast(*network, content, fast); });
    EXPECT_TRUE(contains(what, "128x96")) << what;
}

TEST(Limits, FeatureMapsAreBoundedByMaxPixels) {
    const Image photo = impasto::testing::synthetic_image(48, 40, 0);
    EXPECT_NO_THROW(feature_maps(*synthetic_model(), photo, "relu1_1", 16, 64, Pooling::Average));
    // The image at size 64 is 64x53; sixteen of its relu1_1 maps tiled make a 262x218 grid.
    std::string what = error_of<ResourceError>(
        [&] { feature_maps(*synthetic_model(), photo, "relu1_1", 16, 64, Pooling::Average, 5000); });
    EXPECT_TRUE(contains(what, "grid")) << what;
    what = error_of<ResourceError>(
        [&] { feature_maps(*synthetic_model(), photo, "relu1_1", 1, 64, Pooling::Average, 3000); });
    EXPECT_TRUE(contains(what, "64x53")) << what;
}

// ---- JSON from files is bounded before anything recurses into it ----

TEST(Limits, DeepConfigInAModelFileIsRefused) {
    impasto::testing::TempDir dir;
    const auto write_model = [&](const std::string& config, const std::string& card) {
        const StringMap metadata{
            {"format", "impasto.style-model"}, {"format_version", "1"}, {"config", config}, {"card", card}};
        TensorMap tensors;
        tensors["w"] = RawTensor::from_float({1}, {1.0F});
        std::ofstream(dir / "deep.impasto", std::ios::binary) << serialize_safetensors(tensors, metadata);
        return dir / "deep.impasto";
    };
    const std::string deep = deep_array(kDeep);
    const auto config_file = write_model(R"({"kind": "decoder", "level": )" + deep + "}", "{}");
    std::string what = error_of<InputError>([&] { read_style_model(config_file); });
    EXPECT_TRUE(contains(what, "nests deeper")) << what;
    const auto card_file = write_model(R"({"kind": "decoder"})", R"({"training_options": )" + deep + "}");
    what = error_of<InputError>([&] { read_style_model(card_file); });
    EXPECT_TRUE(contains(what, "nests deeper")) << what;
    // A config that is too deep to write is refused too (ConfigError, not a crash).
    StyleModelFile model;
    model.kind = StyleModelKind::Decoder;
    model.config = R"({"level": )" + deep + "}";
    EXPECT_THROW(write_style_model(dir / "out.impasto", model), ConfigError);
}

TEST(Limits, DeepCheckpointFingerprintIsUnreadableNotACrash) {
    const std::string saved = R"({"steps": 10, "styles": )" + deep_array(kDeep) + "}";
    EXPECT_EQ(train::fingerprint_differences(saved, R"({"steps": 10})"), "unreadable fingerprint");
}

TEST(Limits, DeepWeightManifestIsAWeightsError) {
    impasto::testing::TempDir dir;
    std::ofstream(dir / "deep.json") << R"({"name": "deep", "file": "deep.safetensors", "sha256": "0", )"
                                     << R"("normalization": "caffe-bgr-255", "details": {"x": )" << deep_array(kDeep)
                                     << "}}";
    const WeightStore store(dir.path());
    const std::string what = error_of<WeightsError>([&] { store.find("deep"); });
    EXPECT_TRUE(contains(what, "nests deeper")) << what;
    EXPECT_TRUE(store.installed().empty());
}
