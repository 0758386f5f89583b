#include "server/model_cache.h"

#include "impasto/weights.h"
#include "server/studio_error.h"

#include <algorithm>

namespace impasto::studio {

ModelCache::ModelCache(const StudioOptions& options, const StudioCatalog& catalog)
    : options_(options), catalog_(catalog) {}

// Loading holds the lock: two workers asking at once must not load the weights twice.
std::shared_ptr<const FeatureModel> ModelCache::feature_model() {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (!feature_model_) {
        const WeightStore store(options_.weights_dir);
        const WeightSetInfo info = store.require(options_.weight_set);
        feature_model_ = FeatureModel::create(load_weight_set(info), options_.device);
    }
    return feature_model_;
}

std::shared_ptr<const StyleNetwork> ModelCache::network(const std::string& name) {
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto cached = networks_.find(name);
    if (cached != networks_.end()) {
        return cached->second;
    }
    const auto model = std::find_if(catalog_.models.begin(), catalog_.models.end(),
                                    [&](const FastModelInfo& m) { return m.name == name; });
    if (model == catalog_.models.end()) {
        throw StudioError(400, "bad_request", "model '" + name + "' is not installed");
    }
    auto network = StyleNetwork::load(model->file, options_.device);
    networks_[name] = network;
    return network;
}

std::shared_ptr<const DecoderSet> ModelCache::decoders() {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (!decoders_) {
        decoders_ = DecoderSet::load(catalog_.decoders_dir, options_.device);
    }
    return decoders_;
}

} // namespace impasto::studio
