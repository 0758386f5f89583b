#pragma once
// The studio's HTTP routes, one file per API family; they share this context and nothing else.
#include "server/event_hub.h"
#include "server/image_library.h"
#include "server/job_queue.h"
#include "server/job_request.h"
#include "server/job_runner.h"
#include "server/storage_keeper.h"
#include "server/studio_options.h"
#include "server/vote_store.h"

#include <httplib.h>

namespace impasto::studio {

struct StudioContext {
    const StudioOptions& options;
    const StudioCatalog& catalog;
    JobQueue& queue;
    VoteStore& votes;
    EventHub& hub;
    ImageLibrary& images;
    JobRunner& runner;
    StorageKeeper& storage;
};

void add_image_routes(httplib::Server& server, StudioContext& context);
void add_job_routes(httplib::Server& server, StudioContext& context);
void add_event_routes(httplib::Server& server, StudioContext& context);
void add_vote_routes(httplib::Server& server, StudioContext& context);
void add_info_routes(httplib::Server& server, StudioContext& context);
void add_static_routes(httplib::Server& server);

// The pattern of a job id in a route: "j_" and 24 hex digits, nothing that could name a path.
inline constexpr const char* kJobIdPattern = "(j_[0-9a-f]{24})";

} // namespace impasto::studio
