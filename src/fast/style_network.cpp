// Loading trained transformer networks and stylising with them, tiled when the image is large.
#include "core/tensor_image.h"
#include "fast/guided_upsample.h"
#include "fast/style_network_impl.h"
#include "fast/tiling.h"
#include "gatys/objective.h"
#include "impasto/color.h"
#include "impasto/error.h"
#include "impasto/stylize.h"
#include "nn/vgg.h"

#include <cmath>
#include <fmt/format.h>
#include <numeric>

namespace impasto {
namespace {

void require(bool ok, const std::string& field, const std::string& value, const std::string& allowed) {
    if (!ok) {
        throw ConfigError(fmt::format("{} = {} is out of range; allowed: {}", field, value, allowed));
    }
}

// A private copy for runs that capture normalisation statistics, so the shared net stays stateless.
nn::TransformerNet private_copy(nn::TransformerNetImpl& shared, const torch::Device& device) {
    nn::TransformerNet copy(shared.config());
    copy->to(device);
    copy->eval();
    torch::NoGradGuard no_grad;
    const auto source = shared.named_parameters();
    for (auto& item : copy->named_parameters()) {
        item.value().copy_(source[item.key()]);
    }
    return copy;
}

// A trained network cannot recolour its style beforehand (Gatys et al. 2017 recolour the style
// image), so colour control acts on the output: histogram matching maps the output's colour mean
// and covariance onto the content's; luminance keeps the output's luminance with the content's
// chrominance (YIQ), which keeps the content's colours exactly.
Image apply_color(const Image& stylised, const Image& content, ColorControl color) {
    switch (color) {
    case ColorControl::Luminance:
        return combine_luminance(stylised, content);
    case ColorControl::Histogram:
        return match_color_histogram(stylised, content);
    case ColorControl::None:
        break;
    }
    return stylised;
}

} // namespace

namespace fast {

// Peak working memory per image pixel. The widest full-resolution moment is the last upsampling
// stage: the upsampled c2-channel map, its padded copy, the c1-channel conv output and its norm,
// then the padded c1 map for the output conv; oneDNN adds reorder buffers. Calibrated on the peak
// RSS growth of a first 1024x683 forward pass (2 threads): fp32 578 B/px at width 0.5 and 1157 at
// width 1 (model: 640, 1216); bf16 227 and 548 (model: 316, 568).
double transformer_bytes_per_pixel(const nn::TransformerNetConfig& config, Precision precision) {
    const double c1 = std::max(4.0, std::round(32 * config.width));
    const double c2 = std::max(4.0, std::round(64 * config.width));
    const double element = precision == Precision::Fp32 ? 4.0 : 1.75;
    return 3.0 * (c1 + c2) * element + 64.0; // + input, output, blend buffers (float)
}

} // namespace fast

void TilingOptions::validate() const {
    // The transformer net's tiles start on multiples of 4 (its stride); 16 px of core leaves room for that.
    require(tile == 0 || (tile >= 2 * overlap + 16 && tile <= kMaxImageSide), "tiling tile", std::to_string(tile),
            fmt::format("0 (automatic) or {}..{} (>= 2 * overlap + 16)", 2 * overlap + 16, kMaxImageSide));
    require(overlap >= 0 && overlap <= 512, "tiling overlap", std::to_string(overlap), "0..512 px");
    require(memory_budget_bytes >= 0 && memory_budget_bytes <= (std::int64_t{1} << 40), "tiling memory budget",
            std::to_string(memory_budget_bytes), "0..2^40 bytes (0 = half the available memory)");
    require(statistics_size >= 16 && statistics_size <= 16384, "tiling statistics size",
            std::to_string(statistics_size), "16..16384 px");
}

void FastStylizeOptions::validate(int style_count) const {
    require(style_weights.empty() || static_cast<int>(style_weights.size()) == style_count, "style weights",
            fmt::format("{} values", style_weights.size()),
            fmt::format("one per style of the network ({}) or none", style_count));
    for (double w : style_weights) {
        require(std::isfinite(w) && w >= 0, "style weight", fmt::format("{}", w), ">= 0");
    }
    require(style_weights.empty() || std::accumulate(style_weights.begin(), style_weights.end(), 0.0) > 0,
            "style weights", "all 0", "at least one weight > 0");
    require(size >= 0 && size <= kMaxImageSide, "size", std::to_string(size),
            fmt::format("0 (the content's size) or 1..{} px", kMaxImageSide));
    require(work_size == 0 || (work_size >= 16 && work_size <= kMaxImageSide), "work size", std::to_string(work_size),
            fmt::format("0 (the output's size) or 16..{} px", kMaxImageSide));
    require(max_pixels >= 256 && max_pixels <= (std::int64_t{1} << 40), "max pixels", std::to_string(max_pixels),
            "256..2^40");
    require(masks.empty() || static_cast<int>(masks.size()) == style_count, "masks",
            fmt::format("{} masks", masks.size()),
            fmt::format("one per style of the network ({}) or none", style_count));
    tiling.validate();
}

StyleNetwork::StyleNetwork(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StyleNetwork::~StyleNetwork() = default;

std::shared_ptr<const StyleNetwork> StyleNetwork::from_file(const StyleModelFile& file, const Device& device) {
    auto impl = std::make_unique<Impl>();
    impl->kind = file.kind == StyleModelKind::StyleBank ? StyleModelKind::StyleBank : StyleModelKind::Transformer;
    torch::nn::Module* module = nullptr;
    if (impl->kind == StyleModelKind::StyleBank) {
        impl->bank = nn::load_stylebank_net(file, &impl->style_names);
        impl->bank->set_norm_statistics(nn::NormStatistics::Live);
        module = impl->bank.get();
    } else {
        impl->net = nn::load_transformer_net(file, &impl->style_names); // refuses the other kinds
        impl->net->set_norm_statistics(nn::NormStatistics::Live);
        module = impl->net.get();
    }
    module->to(nn::to_torch(device));
    impl->card = file.card;
    impl->device = device;
    for (const auto& p : module->parameters()) {
        impl->parameters += p.numel();
    }
    return std::shared_ptr<const StyleNetwork>(new StyleNetwork(std::move(impl)));
}

std::shared_ptr<const StyleNetwork> StyleNetwork::load(const std::filesystem::path& file, const Device& device) {
    const StyleModelFile model = read_style_model(file);
    const std::string context = fmt::format("loading style network '{}'", file.string());
    try {
        return from_file(model, device);
    } catch (const InputError& e) {
        rethrow_with_context(e, context);
    } catch (const WeightsError& e) {
        rethrow_with_context(e, context);
    }
}

const std::vector<std::string>& StyleNetwork::style_names() const {
    return impl_->style_names;
}
StyleModelKind StyleNetwork::kind() const {
    return impl_->kind;
}
double StyleNetwork::width() const {
    return impl_->kind == StyleModelKind::StyleBank ? impl_->bank->config().width : impl_->net->config().width;
}
std::int64_t StyleNetwork::parameter_count() const {
    return impl_->parameters;
}
const ModelCard& StyleNetwork::card() const {
    return impl_->card;
}
const Device& StyleNetwork::device() const {
    return impl_->device;
}

namespace fast {

torch::Tensor run_transformer(const StyleNetwork::Impl& impl, const Image& input, const torch::Tensor& x,
                              const FastStylizeOptions& options, std::int64_t budget) {
    const torch::Device device = x.device();
    torch::Tensor mix;
    if (!options.style_weights.empty()) {
        std::vector<float> weights(options.style_weights.begin(), options.style_weights.end());
        mix = torch::tensor(weights, torch::kFloat);
        mix = (mix / mix.sum()).to(device);
    }

    // Tile when asked to, or when the whole image's working memory exceeds the budget.
    const TilingOptions& tiling = options.tiling;
    const double bytes_per_pixel = fast::transformer_bytes_per_pixel(impl.net->config(), options.precision);
    const int long_side = std::max(input.width, input.height);
    const double pixels = static_cast<double>(input.width) * input.height;
    const bool over_budget = pixels * bytes_per_pixel > static_cast<double>(budget);
    const bool tile_requested = tiling.tile > 0 && tiling.tile < long_side;

    torch::Tensor out;
    if (!over_budget && !tile_requested) {
        out = impl.net->forward(x, mix);
    } else {
        const int tile =
            tiling.tile > 0 ? tiling.tile : fast::choose_tile_size(budget, bytes_per_pixel, tiling.overlap);
        if (static_cast<double>(tile) * tile * bytes_per_pixel > static_cast<double>(budget) && tiling.tile == 0) {
            throw ResourceError(fmt::format(
                "stylize: even the smallest tile ({0}x{0} px, about {1} MB) exceeds the memory budget of {2} MB", tile,
                static_cast<std::int64_t>(tile * tile * bytes_per_pixel / 1e6), budget / 1000000));
        }
        nn::TransformerNet net = private_copy(*impl.net, device);
        // Statistics from the whole picture, downscaled as far as needed to fit the budget too.
        const int fitting = static_cast<int>(std::sqrt(static_cast<double>(budget) / bytes_per_pixel));
        const int stats_side = std::max(16, std::min({tiling.statistics_size, long_side, fitting}));
        const torch::Tensor stats_input =
            stats_side < long_side ? detail::image_to_tensor(resize_long_side(input, stats_side), device) : x;
        net->set_norm_statistics(nn::NormStatistics::Capture);
        net->forward(stats_input, mix);
        net->set_norm_statistics(nn::NormStatistics::Fixed);
        out = fast::run_tiled(
            x, tile, tiling.overlap,
            [&](const torch::Tensor& piece) { return net->forward(piece, mix).to(torch::kFloat); }, 4);
        net->clear_captured_statistics();
    }
    return out;
}

} // namespace fast

Image stylize_fast(const StyleNetwork& network, const Image& content, const FastStylizeOptions& options) {
    const StyleNetwork::Impl& impl = network.impl();
    const auto style_count = static_cast<int>(impl.style_names.size());
    options.validate(style_count);
    if (content.empty()) {
        throw InputError("stylize: the content image is empty");
    }
    if (options.precision == Precision::Fp16 && impl.device.kind == DeviceKind::Cpu) {
        throw ConfigError("precision fp16 needs a CUDA device; on CPU use bf16 or fp32");
    }
    const torch::Device device = nn::to_torch(impl.device);
    const ImageSize output = options.size > 0 ? scaled_to_long_side({content.width, content.height}, options.size)
                                              : ImageSize{content.width, content.height};
    if (static_cast<std::int64_t>(output.width) * output.height > options.max_pixels) {
        throw ResourceError(
            fmt::format("stylize: the output {}x{} has more than {} pixels (max pixels); lower the size", output.width,
                        output.height, options.max_pixels));
    }
    const Image input = options.size > 0 ? resize_long_side(content, options.size) : content;

    if (!options.masks.empty() && impl.kind != StyleModelKind::StyleBank) {
        throw ConfigError("masks need a stylebank model (region fusion of its banks); this is a transformer network");
    }
    if (const int work = fast::working_long_side(options.work_size, input.width, input.height); work > 0) {
        // The network at the work size, then up to the output size with the photo's edges. Colour
        // control acts on the output, so it follows at full size, as below.
        FastStylizeOptions low = options;
        low.size = 0;
        low.work_size = 0;
        low.color = ColorControl::None;
        const Image small = resize_long_side(input, work);
        const Image stylised = stylize_fast(network, small, low);
        return apply_color(fast::guided_upsample(stylised, small, input, device), input, options.color);
    }
    const torch::InferenceMode inference;
    const detail::AutocastGuard autocast(device.type(), gatys::autocast_dtype(options.precision));
    const torch::Tensor x = detail::image_to_tensor(input, device);
    const std::int64_t budget = options.tiling.memory_budget_bytes > 0 ? options.tiling.memory_budget_bytes
                                                                       : available_memory_bytes(impl.device) / 2;
    const torch::Tensor out = impl.kind == StyleModelKind::StyleBank
                                  ? fast::run_stylebank(impl, input, x, options, budget)
                                  : fast::run_transformer(impl, input, x, options, budget);
    return apply_color(detail::tensor_to_image(out), input, options.color);
}

} // namespace impasto
