#pragma once
// Arbitrary style in one pass: a frozen VGG19 encoder, a feature transform, and decoders trained
// only to invert the encoder on natural photos (Li et al. 2017, "Universal Style Transfer via
// Feature Transforms"). Transforms: AdaIN (Huang & Belongie 2017) and multi-level WCT.
#include "impasto/device.h"
#include "impasto/fast_style.h"
#include "impasto/image.h"
#include "impasto/model.h"
#include "impasto/style_model_file.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace impasto {

enum class TransformMethod { Adain, Wct };
const char* to_string(TransformMethod method);                   // "adain", "wct"
TransformMethod parse_transform_method(const std::string& text); // throws ConfigError

// Decoders by level ("relu1_1" ... "relu5_1"), each from its own .impasto file (kind "decoder").
class DecoderSet {
  public:
    struct Impl;
    // Every *.impasto decoder in `folder` (models of other kinds are skipped). Config: {"level":
    // "relu4_1", "encoder": "vgg19"}. Throws InputError when there is none, for two decoders of one
    // level or a bad config, WeightsError when the tensors do not fit the level.
    static std::shared_ptr<const DecoderSet> load(const std::filesystem::path& folder, const Device& device);
    static std::shared_ptr<const DecoderSet> from_files(const std::vector<StyleModelFile>& files, const Device& device);
    ~DecoderSet();
    DecoderSet(const DecoderSet&) = delete;
    DecoderSet& operator=(const DecoderSet&) = delete;

    std::vector<std::string> levels() const; // shallow to deep
    bool has(const std::string& level) const;
    const ModelCard& card(const std::string& level) const;
    const Impl& impl() const { return *impl_; }

  private:
    explicit DecoderSet(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

struct ArbitraryStyle {
    Image image;
    double weight = 1.0; // several styles: their transformed features are mixed with these weights
    // Optional: where this style applies (channel 0, 0..1, any size; resampled to the content). Each
    // masked region takes its style's transform with the content statistics measured inside the
    // mask (Li et al. 2017, Sec. 4.2); a style without a mask applies everywhere, mixed by weight.
    Image mask;
};

struct ArbitraryOptions {
    TransformMethod method = TransformMethod::Adain;
    double alpha = 1.0; // 0 = the content reconstructed, 1 = the full transform (at every level)
    // Levels, deep to shallow. Empty = AdaIN: {"relu4_1"}; WCT: every level the decoders have, deep first.
    std::vector<std::string> levels;
    int size = 0;         // long side of the output; 0 = the content's own size
    int style_size = 512; // long side each style image is resized to
    // Long side the encoder and decoders run at when the output is larger: the result is computed
    // from the photo downscaled to it and brought to the output size by guided upsampling with the
    // full-size photo as the guide (fast/guided_upsample.h). 0 = always at the output size. The
    // network paints at the scale it runs at, so this is faster but not the full-size result (the
    // README's measurements); 0 or 16..kMaxImageSide.
    int work_size = 0;
    // The largest image in pixels the encoder sees: the output and every style image at style_size
    // (encoded whole, untiled). A larger one is refused (ResourceError) before it is made.
    std::int64_t max_pixels = kDefaultMaxPixels;
    ColorControl color = ColorControl::None; // keep the content's colours
    // WCT's eigenvalue floor, relative to each covariance's mean eigenvalue: added before whitening,
    // and directions below it dropped (see fast/feature_transforms.h).
    double wct_epsilon = 1e-5;
    Precision precision = Precision::Fp32; // encoder and decoders; the transforms always run in fp32/fp64
    TilingOptions tiling;
    void validate() const; // throws ConfigError
};

// Throws ConfigError (bad options, a level without a decoder, no style, all weights 0, a mask that
// covers nothing, fp16 on CPU, an encoder other than vgg19, more than kMaxStyleImages styles),
// InputError (empty images) or ResourceError (an image over max_pixels, a style image whose encoder
// pass does not fit in memory).
// Odd sizes are padded (reflection) to the level's stride and cropped back.
Image stylize_arbitrary(const FeatureModel& encoder, const DecoderSet& decoders, const Image& content,
                        const std::vector<ArbitraryStyle>& styles, const ArbitraryOptions& options);

} // namespace impasto
