// The most active feature maps of one layer, tiled into a grid image.
#include "core/tensor_image.h"
#include "impasto/error.h"
#include "impasto/layers.h"
#include "impasto/reconstruct.h"
#include "impasto/stylize.h"
#include "nn/vgg.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <numeric>

namespace impasto {
namespace {

constexpr int kMinTileSide = 64;

// Copies map `c` of `maps` ([C,h,w], CPU float, contiguous) into the grid cell at (col, row),
// scaled to [0,1] and magnified `zoom` times (nearest neighbour). A constant map is drawn black.
void draw_tile(const float* map, int map_w, int map_h, int zoom, int col, int row, Image& grid) {
    const std::size_t n = static_cast<std::size_t>(map_w) * map_h;
    const auto [lo, hi] = std::minmax_element(map, map + n);
    const float range = *hi - *lo;
    const int x0 = col * (map_w * zoom + kFeatureGridGap);
    const int y0 = row * (map_h * zoom + kFeatureGridGap);
    for (int y = 0; y < map_h * zoom; ++y) {
        for (int x = 0; x < map_w * zoom; ++x) {
            const float v = map[static_cast<std::size_t>(y / zoom) * map_w + x / zoom];
            const float value = range > 1e-12F ? (v - *lo) / range : 0.0F;
            float* p = grid.pixel(x0 + x, y0 + y);
            p[0] = p[1] = p[2] = value;
        }
    }
}

int zoom_for(int map_w, int map_h) {
    return std::max(1, (kMinTileSide + std::max(map_w, map_h) - 1) / std::max(map_w, map_h));
}

// Before anything is allocated: the image through VGG, all the layer's maps (kept for the ranking)
// and the grid of `count` tiles all grow with `size`.
void check_feature_map_work(const FeatureModel& model, ImageSize image, const std::string& layer, int count, int size,
                            std::int64_t max_pixels) {
    const ImageSize scaled = scaled_to_long_side(image, size);
    const std::int64_t pixels = static_cast<std::int64_t>(scaled.width) * scaled.height;
    if (pixels > max_pixels) {
        throw ResourceError(fmt::format("feature maps: the image at size {} is {}x{} = {} pixels, over the limit of {} "
                                        "pixels (max pixels)",
                                        size, scaled.width, scaled.height, pixels, max_pixels));
    }
    const int stride = layer_stride(layer, model.architecture());
    const int map_w = std::max(1, scaled.width / stride);
    const int map_h = std::max(1, scaled.height / stride);
    const int zoom = zoom_for(map_w, map_h);
    const auto columns = static_cast<std::int64_t>(std::ceil(std::sqrt(static_cast<double>(count))));
    const std::int64_t rows = (count + columns - 1) / columns;
    const std::int64_t grid = (columns * map_w * zoom + (columns - 1) * kFeatureGridGap) *
                              (rows * map_h * zoom + (rows - 1) * kFeatureGridGap);
    if (grid > max_pixels) {
        throw ResourceError(fmt::format("feature maps: a grid of {} maps of {}x{} has {} pixels, over the limit of {} "
                                        "pixels (max pixels); lower the size or the count",
                                        count, map_w * zoom, map_h * zoom, grid, max_pixels));
    }
    const double maps_bytes = 4.0 * layer_channels(layer, model.architecture()) * map_w * map_h;
    const double needed = static_cast<double>(estimate_forward_memory(scaled.width, scaled.height)) + maps_bytes +
                          12.0 * static_cast<double>(grid);
    const std::int64_t available = available_memory_bytes(model.device());
    if (needed > static_cast<double>(available)) {
        throw ResourceError(fmt::format("feature maps at size {} need about {:.1f} GB but {:.1f} GB is available", size,
                                        needed / 1e9, static_cast<double>(available) / 1e9));
    }
}

} // namespace

FeatureMaps feature_maps(const FeatureModel& model, const Image& image, const std::string& layer, int count, int size,
                         Pooling pooling, std::int64_t max_pixels) {
    check_layer_names({layer}, "feature map layer", model.architecture());
    const int channels = layer_channels(layer, model.architecture());
    if (count < 1 || count > channels) {
        throw ConfigError(fmt::format("feature map count = {} is out of range; allowed: 1..{} (the channels of {})",
                                      count, channels, layer));
    }
    if (size < 16 || size > kMaxImageSide) {
        throw ConfigError(fmt::format("size = {} is out of range; allowed: 16..{}", size, kMaxImageSide));
    }
    if (image.empty()) {
        throw InputError("feature map image is empty");
    }
    check_feature_map_work(model, {image.width, image.height}, layer, count, size, max_pixels);
    const Image scaled = resize_long_side(image, size);
    torch::Tensor maps;
    {
        torch::InferenceMode inference;
        const torch::Device device = nn::to_torch(model.device());
        maps = nn::extract_features(model.impl(), detail::image_to_tensor(scaled, device), {layer}, pooling)
                   .at(layer)
                   .to(torch::kCPU, torch::kFloat)
                   .squeeze(0)
                   .contiguous();
    }
    const int map_h = static_cast<int>(maps.size(1));
    const int map_w = static_cast<int>(maps.size(2));
    if (map_h < 1 || map_w < 1) {
        throw ConfigError(fmt::format("size = {} is too small for {} (stride {}); allowed: >= {}", size, layer,
                                      layer_stride(layer, model.architecture()),
                                      layer_stride(layer, model.architecture()) * 2));
    }
    const torch::Tensor means = maps.mean({1, 2});
    std::vector<int> order(static_cast<std::size_t>(channels));
    std::iota(order.begin(), order.end(), 0);
    const float* mean = means.data_ptr<float>();
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return mean[a] > mean[b]; });

    FeatureMaps result;
    result.map_width = map_w;
    result.map_height = map_h;
    const int zoom = zoom_for(map_w, map_h);
    result.tile_width = map_w * zoom;
    result.tile_height = map_h * zoom;
    result.columns = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(count))));
    result.rows = (count + result.columns - 1) / result.columns;
    Image& grid = result.grid;
    grid.width = result.columns * result.tile_width + (result.columns - 1) * kFeatureGridGap;
    grid.height = result.rows * result.tile_height + (result.rows - 1) * kFeatureGridGap;
    grid.rgb.assign(static_cast<std::size_t>(grid.width) * grid.height * 3, 1.0F); // white separators
    const float* data = maps.data_ptr<float>();
    for (int i = 0; i < count; ++i) {
        const int channel = order[static_cast<std::size_t>(i)];
        result.channels.push_back(channel);
        result.mean_activation.push_back(mean[channel]);
        draw_tile(data + static_cast<std::size_t>(channel) * map_w * map_h, map_w, map_h, zoom, i % result.columns,
                  i / result.columns, grid);
    }
    return result;
}

} // namespace impasto
