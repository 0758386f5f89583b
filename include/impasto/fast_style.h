#pragma once
// Feed-forward style transfer with a trained network: a transformer network (Johnson, Alahi &
// Fei-Fei 2016), one style or several in one network through conditional instance norm (Dumoulin,
// Shlens & Kudlur 2017), or a StyleBank network (Chen et al. 2017: a shared auto-encoder and one
// filter bank per style, fused linearly or by region). The loaded network is immutable and may
// serve many threads.
#include "impasto/device.h"
#include "impasto/image.h"
#include "impasto/style_model_file.h"
#include "impasto/stylize_options.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace impasto {

// Images larger than a tile are processed tile by tile; tiles overlap by `overlap` pixels on
// each side and are blended with a linear ramp. Normalisation statistics come from the whole
// image (a downscaled pass), so tiles agree with each other and with an untiled run.
struct TilingOptions {
    int tile = 0;                         // tile long side in px, up to kMaxImageSide; 0 = from the memory budget
    int overlap = 32;                     // px on each side, at least the receptive field's reach
    std::int64_t memory_budget_bytes = 0; // 0 = half the available memory; at most 2^40 (1 TiB)
    int statistics_size = 1024;           // long side of the pass that measures normalisation statistics
    void validate() const;                // throws ConfigError naming the field
};

struct FastStylizeOptions {
    // One weight per style of the network, mixed into its conditional norms (Dumoulin et al.
    // Sec. 4), or for a StyleBank network its banks' outputs mixed (Chen et al. Sec. 4.4); empty =
    // the first style (with masks: every style, equally). Weights >= 0, at least one > 0; normalised.
    std::vector<double> style_weights;
    // StyleBank networks only: one mask per style (channel 0, 0..1, any size; resampled to the
    // content), white where that style applies (region fusion, Chen et al. Sec. 4.4). Where masks
    // overlap their styles mix by mask x weight; where none covers, the photo stays (reconstructed).
    // Empty = no masks. A black mask leaves its style out; all black is refused.
    std::vector<Image> masks;
    int size = 0; // long side of the output, up to kMaxImageSide; 0 = the content's own size
    // Long side the network runs at when the output is larger, then guided upsampling to the output
    // size with the photo as the guide (as ArbitraryOptions::work_size); 0 = always at the output
    // size; 0 or 16..kMaxImageSide.
    int work_size = 0;
    // The largest output in pixels; a larger one is refused (ResourceError) before it is made.
    std::int64_t max_pixels = kDefaultMaxPixels;
    Precision precision = Precision::Fp32;
    ColorControl color = ColorControl::None; // keep the content's colours (luminance or histogram)
    TilingOptions tiling;
    void validate(int style_count) const; // throws ConfigError (masks: their count only)
};

class StyleNetwork {
  public:
    struct Impl;
    // Throws InputError (not a transformer or stylebank model) or WeightsError (tensors do not fit the config).
    static std::shared_ptr<const StyleNetwork> load(const std::filesystem::path& file, const Device& device);
    static std::shared_ptr<const StyleNetwork> from_file(const StyleModelFile& file, const Device& device);
    ~StyleNetwork();
    StyleNetwork(const StyleNetwork&) = delete;
    StyleNetwork& operator=(const StyleNetwork&) = delete;

    const std::vector<std::string>& style_names() const;
    StyleModelKind kind() const; // Transformer or StyleBank
    double width() const;        // width multiplier: 1 = Johnson's 32/64/128 channels
    std::int64_t parameter_count() const;
    const ModelCard& card() const;
    const Device& device() const;
    const Impl& impl() const { return *impl_; }

  private:
    explicit StyleNetwork(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// Runs under InferenceMode. Throws ConfigError (bad options, masks for a transformer network or all
// black), InputError (an empty content image or mask) or ResourceError (a tile does not fit).
Image stylize_fast(const StyleNetwork& network, const Image& content, const FastStylizeOptions& options);

} // namespace impasto
