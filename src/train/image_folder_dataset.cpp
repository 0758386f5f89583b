#include "train/image_folder_dataset.h"

#include "impasto/error.h"
#include "impasto/image.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fmt/format.h>
#include <numeric>

namespace impasto::train {
namespace fs = std::filesystem;
namespace {

constexpr const char* kExtensions[] = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"};

bool is_image_file(const fs::path& file) {
    std::string ext = file.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return std::find(std::begin(kExtensions), std::end(kExtensions), ext) != std::end(kExtensions);
}

std::string quoted_list(const std::vector<fs::path>& folders) {
    std::string text;
    for (const fs::path& folder : folders) {
        text += (text.empty() ? "'" : ", '") + folder.string() + "'";
    }
    return text;
}

// SplitMix64: our own generator so that the sample sequence is the same with every standard library
// (std::uniform_*_distribution and std::shuffle are implementation-defined).
std::uint64_t mix(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27U)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31U);
}

class Random {
  public:
    Random(std::uint64_t seed, std::uint64_t stream, std::uint64_t salt) : state_(mix(mix(seed ^ salt) + stream)) {}
    std::uint64_t next() { return state_ = mix(state_); }
    double uniform() { return static_cast<double>(next() >> 11U) * (1.0 / 9007199254740992.0); } // [0,1)
    std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }

  private:
    std::uint64_t state_;
};

constexpr std::uint64_t kOrderSalt = 0x6f72646572ULL; // "order"
constexpr std::uint64_t kAugmentSalt = 0x6175676dULL; // "augm"
constexpr std::uint64_t kColorSalt = 0x636f6c72ULL;   // "colr": its own stream, so crops stay as without it

// Rec. 601 luma weights: saturation is scaled around this grey.
constexpr float kLuma[3] = {0.299F, 0.587F, 0.114F};

// A random colour transform for one crop: one of the six channel orders, then the saturation
// scaled by 2^U(-1,1) around the luma (clipped to [0,1]). Every hue and a wider range of
// saturations than a photo collection holds, with the image's structure untouched.
void jitter_colors(float* planar, std::size_t plane, Random& random) {
    static constexpr int kOrders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    const int* order = kOrders[random.below(6)];
    const float saturation = static_cast<float>(std::exp2(2.0 * random.uniform() - 1.0));
    for (std::size_t i = 0; i < plane; ++i) {
        const float in[3] = {planar[i], planar[plane + i], planar[2 * plane + i]};
        const float rgb[3] = {in[order[0]], in[order[1]], in[order[2]]};
        const float luma = kLuma[0] * rgb[0] + kLuma[1] * rgb[1] + kLuma[2] * rgb[2];
        for (int c = 0; c < 3; ++c) {
            planar[static_cast<std::size_t>(c) * plane + i] =
                std::clamp(luma + saturation * (rgb[c] - luma), 0.0F, 1.0F);
        }
    }
}

} // namespace

std::vector<fs::path> list_training_images(const std::vector<fs::path>& folders) {
    if (folders.empty()) {
        throw InputError("no data folder given");
    }
    std::vector<fs::path> files;
    for (const fs::path& folder : folders) {
        std::error_code ec;
        if (!fs::is_directory(folder, ec)) {
            throw InputError(fmt::format("data folder '{}' does not exist or is not a folder", folder.string()));
        }
        fs::recursive_directory_iterator it(folder, fs::directory_options::follow_directory_symlink, ec);
        if (ec) {
            throw InputError(fmt::format("data folder '{}': {}", folder.string(), ec.message()));
        }
        for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
            if (ec) {
                throw InputError(fmt::format("data folder '{}': {}", folder.string(), ec.message()));
            }
            if (it->is_regular_file(ec) && is_image_file(it->path())) {
                files.push_back(it->path());
            }
        }
    }
    std::sort(files.begin(), files.end());
    files.erase(std::unique(files.begin(), files.end()), files.end());
    if (files.empty()) {
        throw InputError(fmt::format("no images (jpg, jpeg, png, bmp, tif, webp) in the data folder{} {}",
                                     folders.size() > 1 ? "s" : "", quoted_list(folders)));
    }
    return files;
}

ImageFolderDataset::ImageFolderDataset(std::vector<fs::path> files, const DatasetOptions& options)
    : files_(std::move(files)), options_(options) {
    if (files_.empty()) {
        throw InputError("no training images");
    }
}

std::size_t ImageFolderDataset::file_index(std::int64_t index) const {
    const auto n = static_cast<std::int64_t>(files_.size());
    const std::int64_t epoch = index / n;
    std::shared_ptr<const std::vector<std::uint32_t>> order;
    {
        const std::lock_guard<std::mutex> lock(order_mutex_);
        const auto found = orders_.find(epoch);
        if (found != orders_.end()) {
            order = found->second;
        }
    }
    if (!order) {
        auto shuffled = std::make_shared<std::vector<std::uint32_t>>(static_cast<std::size_t>(n));
        std::iota(shuffled->begin(), shuffled->end(), 0U);
        Random random(options_.seed, static_cast<std::uint64_t>(epoch), kOrderSalt);
        for (std::int64_t i = n - 1; i > 0; --i) { // Fisher-Yates
            const auto j = static_cast<std::int64_t>(random.below(static_cast<std::uint64_t>(i + 1)));
            std::swap((*shuffled)[static_cast<std::size_t>(i)], (*shuffled)[static_cast<std::size_t>(j)]);
        }
        order = shuffled;
        const std::lock_guard<std::mutex> lock(order_mutex_);
        // Workers are at most a few batches apart, so two epochs cover them.
        while (orders_.size() >= 2) {
            orders_.erase(orders_.begin());
        }
        orders_[epoch] = order;
    }
    return (*order)[static_cast<std::size_t>(index % n)];
}

void ImageFolderDataset::sample(std::int64_t index, float* planar) const {
    const fs::path& file = files_[file_index(index)];
    Image image;
    try {
        image = load_image(file);
    } catch (const Error& e) {
        throw InputError(fmt::format("training image: {}", e.what()));
    }
    const int crop = options_.crop;
    Random random(options_.seed, static_cast<std::uint64_t>(index), kAugmentSalt);
    // Scale jitter: the short side to U[crop, 1.5 crop] shows each photo at several scales, and
    // photos smaller than the crop are upscaled to fit.
    const double short_side = crop * (1.0 + 0.5 * random.uniform());
    const double scale = short_side / std::min(image.width, image.height);
    const int width = std::max(crop, static_cast<int>(std::lround(image.width * scale)));
    const int height = std::max(crop, static_cast<int>(std::lround(image.height * scale)));
    const Image resized = resize_image(image, width, height);
    const int x0 = static_cast<int>(random.below(static_cast<std::uint64_t>(width - crop + 1)));
    const int y0 = static_cast<int>(random.below(static_cast<std::uint64_t>(height - crop + 1)));
    const bool flip = random.uniform() < 0.5;
    const std::size_t plane = static_cast<std::size_t>(crop) * crop;
    for (int y = 0; y < crop; ++y) {
        for (int x = 0; x < crop; ++x) {
            const float* p = resized.pixel(x0 + (flip ? crop - 1 - x : x), y0 + y);
            const std::size_t at = static_cast<std::size_t>(y) * crop + x;
            planar[at] = p[0];
            planar[plane + at] = p[1];
            planar[2 * plane + at] = p[2];
        }
    }
    if (options_.color_jitter > 0) {
        Random colors(options_.seed, static_cast<std::uint64_t>(index), kColorSalt);
        if (colors.uniform() < options_.color_jitter) {
            jitter_colors(planar, plane, colors);
        }
    }
}

std::vector<float> ImageFolderDataset::batch(std::int64_t step) const {
    const std::size_t per_image = 3U * static_cast<std::size_t>(options_.crop) * options_.crop;
    std::vector<float> data(per_image * static_cast<std::size_t>(options_.batch));
    for (int b = 0; b < options_.batch; ++b) {
        sample(step * options_.batch + b, data.data() + per_image * static_cast<std::size_t>(b));
    }
    return data;
}

BatchLoader::BatchLoader(const ImageFolderDataset& dataset, std::int64_t first_step, std::int64_t end_step, int threads,
                         int prefetch)
    : dataset_(dataset), end_step_(end_step), prefetch_(std::max(1, prefetch)), next_claim_(first_step),
      next_consume_(first_step) {
    const int count = std::max(1, threads);
    workers_.reserve(static_cast<std::size_t>(count));
    try {
        for (int i = 0; i < count; ++i) {
            workers_.emplace_back([this] { work(); });
        }
    } catch (...) {
        stop();
        throw;
    }
}

BatchLoader::~BatchLoader() {
    stop();
}

void BatchLoader::stop() {
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    room_.notify_all();
    ready_.notify_all();
    for (std::thread& worker : workers_) {
        if (worker.joinable()) {
            worker.join();
        }
    }
    workers_.clear();
}

void BatchLoader::work() {
    for (;;) {
        std::int64_t step = 0;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            room_.wait(
                lock, [&] { return stopping_ || next_claim_ >= end_step_ || next_claim_ < next_consume_ + prefetch_; });
            if (stopping_ || next_claim_ >= end_step_) {
                return;
            }
            step = next_claim_++;
        }
        Slot slot;
        try {
            slot.data = dataset_.batch(step);
        } catch (...) {
            slot.error = std::current_exception();
        }
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            done_[step] = std::move(slot);
        }
        ready_.notify_all();
    }
}

std::vector<float> BatchLoader::next() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (next_consume_ >= end_step_) {
        throw std::logic_error("BatchLoader::next called past the last step");
    }
    ready_.wait(lock, [&] { return done_.count(next_consume_) > 0; });
    Slot slot = std::move(done_[next_consume_]);
    done_.erase(next_consume_);
    ++next_consume_;
    lock.unlock();
    room_.notify_all();
    if (slot.error) {
        std::rethrow_exception(slot.error);
    }
    return std::move(slot.data);
}

} // namespace impasto::train
