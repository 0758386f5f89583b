#pragma once
// The loaded networks, shared by every worker (STYLE.md: the immutable model apart from the
// per-run state). Each is loaded on first use, once, and kept for the life of the server.
#include "impasto/arbitrary_style.h"
#include "impasto/fast_style.h"
#include "impasto/model.h"
#include "server/job_request.h"
#include "server/studio_options.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace impasto::studio {

class ModelCache {
  public:
    ModelCache(const StudioOptions& options, const StudioCatalog& catalog);

    // Throw WeightsError (not installed), InputError (bad model file) or StudioError 400 (unknown name).
    std::shared_ptr<const FeatureModel> feature_model();
    std::shared_ptr<const StyleNetwork> network(const std::string& name);
    std::shared_ptr<const DecoderSet> decoders();

  private:
    const StudioOptions& options_;
    const StudioCatalog& catalog_;
    std::mutex mutex_;
    std::shared_ptr<const FeatureModel> feature_model_;
    std::shared_ptr<const DecoderSet> decoders_;
    std::map<std::string, std::shared_ptr<const StyleNetwork>> networks_;
};

} // namespace impasto::studio
