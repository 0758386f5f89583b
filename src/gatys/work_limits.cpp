// The pixel cap on every image a run puts through the network. The output size alone does not
// bound the work: a small style file at a large style scale is as big as a huge one.
#include "impasto/error.h"
#include "impasto/stylize.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace impasto {

RunImageSizes run_image_sizes(const Image& content, const std::vector<StyleImage>& styles, const Image& init) {
    RunImageSizes sizes;
    sizes.content = {content.width, content.height};
    for (const StyleImage& style : styles) {
        sizes.styles.push_back({style.image.width, style.image.height});
    }
    sizes.init = {init.width, init.height};
    return sizes;
}

ImageSize scaled_to_long_side(ImageSize image, int long_side) {
    if (image.width < 1 || image.height < 1) {
        return {0, 0};
    }
    const double scale = static_cast<double>(long_side) / std::max(image.width, image.height);
    return {std::max(1, static_cast<int>(std::lround(image.width * scale))),
            std::max(1, static_cast<int>(std::lround(image.height * scale)))};
}

namespace {

std::int64_t pixels(ImageSize size) {
    return static_cast<std::int64_t>(size.width) * size.height;
}

} // namespace

void check_work_limits(const StylizeOptions& options, const RunImageSizes& images) {
    if (images.styles.size() > kMaxStyleImages) {
        throw ConfigError(
            fmt::format("style images = {} is out of range; allowed: 1..{}", images.styles.size(), kMaxStyleImages));
    }
    const std::int64_t limit = options.max_pixels;
    for (const ScaleStep& step : options.schedule()) {
        const ImageSize content = scaled_to_long_side(images.content, step.long_side);
        if (pixels(content) > limit) {
            throw ResourceError(fmt::format("the image at the {} px step is {}x{} = {} pixels, over the limit of {} "
                                            "pixels (max pixels); lower the size",
                                            step.long_side, content.width, content.height, pixels(content), limit));
        }
        const int style_side = options.style_long_side(step.long_side);
        for (std::size_t i = 0; i < images.styles.size(); ++i) {
            const ImageSize style = scaled_to_long_side(images.styles[i], style_side);
            if (pixels(style) > limit) {
                throw ResourceError(fmt::format(
                    "style image #{} at the {} px step (style scale {}) is {}x{} = {} pixels, over the limit of {} "
                    "pixels (max pixels); lower the style scale or the size",
                    i + 1, step.long_side, options.style_scale, style.width, style.height, pixels(style), limit));
            }
        }
    }
    if (pixels(images.init) > limit) {
        throw ResourceError(fmt::format("the init image is {}x{} = {} pixels, over the limit of {} pixels (max pixels)",
                                        images.init.width, images.init.height, pixels(images.init), limit));
    }
}

} // namespace impasto
