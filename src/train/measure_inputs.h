#pragma once
// What `models measure` measures on: image lists, whether an image was in a model's training data,
// and where a style's image is. Torch-free.
#include "impasto/model_measure.h"
#include "impasto/style_model_file.h"

#include <filesystem>
#include <string>
#include <vector>

namespace impasto::measure {

// Files as given; folders expanded to their images (not recursive, sorted by name). Throws
// InputError for a path that does not exist, or a folder without images; `what` names the option.
std::vector<std::filesystem::path> expand_images(const std::vector<std::filesystem::path>& paths,
                                                 const std::string& what);

// The folders a model was trained on, as its card records them: the training options' "data"
// paths, else the folder names of its training_data description ("datasets/bsds500, images/content
// (513 images)"). Empty when the card says nothing.
std::vector<std::filesystem::path> training_folders(const ModelCard& card);
// `image` lies in one of `folders`: under it on this machine, or under a folder whose last two
// names are the same (the same data set reached by another path, or on the machine that trained).
bool in_training_data(const std::filesystem::path& image, const std::vector<std::filesystem::path>& folders);

// The name of the folder an image is in ("content"), with "." and ".." resolved: a row's group.
std::string folder_name(const std::filesystem::path& image);

// The decoders' images and the style models' photos, from options or their defaults.
std::vector<std::filesystem::path> reconstruction_images(const MeasureOptions& options);
std::vector<std::filesystem::path> style_photos(const MeasureOptions& options, const ModelCard& card);

// The image of a style of the card: a path of its training options or <dir>/<name>.<ext> in the
// style folders, whose sha256 is the card's. Throws InputError saying where it looked.
std::filesystem::path find_style_image(const StyleImageRecord& style, const ModelCard& card,
                                       const MeasureOptions& options);

// "8 style + 13 content images (/work/shared/images)" or "3 photos (a.jpg, b.png, c.png; /x/content)";
// then ", none in the training data", ", 2 of 3 in the training data" or ", training data not recorded".
std::string describe_images(const std::vector<std::filesystem::path>& files, const std::vector<bool>& seen, bool photos,
                            bool training_known);

} // namespace impasto::measure
