#pragma once
// The style names of a multi-style model file (transformer or StyleBank), shared by their loaders.
#include "impasto/style_model_file.h"

#include <string>
#include <vector>

namespace impasto::nn {

// One name per style: the config's "style_names", and where a file (older or hand-made) lacks
// some, the card's style images, then "style<i>". Throws InputError naming `context` when the names
// are not strings or are more than `styles`.
std::vector<std::string> model_style_names(const StyleModelFile& file, int styles, const std::string& context);

} // namespace impasto::nn
