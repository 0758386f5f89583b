#pragma once
// Tiled inference for images beyond memory (waifu2x-style): overlapping tiles, each run through a
// size-preserving image-to-image function, blended with linear ramps over the overlaps. Anything
// global (normalisation statistics) must be fixed by the caller before tiling.
#include "core/torch_compat.h"

#include <cstdint>
#include <functional>

namespace impasto::fast {

using TileFunction = std::function<torch::Tensor(const torch::Tensor&)>; // [1,C,h,w] -> [1,C',h,w]

// The largest tile long side (a multiple of 16, at least 2*overlap+16) whose working memory,
// `bytes_per_pixel` per pixel of the tile, fits in `budget_bytes`.
int choose_tile_size(std::int64_t budget_bytes, double bytes_per_pixel, int overlap);

// Runs `apply` on overlapping tiles of `image` [1,C,H,W] of at most tile x tile pixels (each
// inner edge extended by `overlap` px) and blends them. When one tile covers the image, it is
// just apply(image). Throws ConfigError for tile <= 2*overlap.
// `align`: tile origins are multiples of it (a network's total stride, 4 for the transformer net), so
// every tile samples the same strided grid as the whole image; the last tile along an axis may then
// be shorter than `tile`. Throws ConfigError when align > tile - 2*overlap.
torch::Tensor run_tiled(const torch::Tensor& image, int tile, int overlap, const TileFunction& apply, int align = 1);

} // namespace impasto::fast
