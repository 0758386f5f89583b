#pragma once
// Running one job with the library: loads its images, calls the method, and describes the run
// for the sidecar. Knows nothing of queues or HTTP.
#include "impasto/image.h"
#include "server/image_library.h"
#include "server/job_request.h"
#include "server/model_cache.h"
#include "server/studio_options.h"

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace impasto::studio {

// Receives the progress object of the API and, now and then, an intermediate image (else nullptr).
// Returns false to stop the run.
using JobProgress = std::function<bool(const nlohmann::json& progress, const Image* preview)>;

struct JobOutput {
    Image image;
    nlohmann::json sidecar; // every parameter, versions, losses and times
    bool cancelled = false;
    double seconds = 0;
};

// Throws the library's errors (InputError, ConfigError, WeightsError, ResourceError, ...).
JobOutput execute_job(const std::string& job_id, const JobRequest& request, const ImageLibrary& images,
                      ModelCache& models, const StudioOptions& options, const JobProgress& on_progress);

} // namespace impasto::studio
