// Submitting, listing, cancelling jobs and fetching their results.
#include "io/regular_file.h"
#include "server/http_util.h"
#include "server/job_view.h"
#include "server/routes.h"
#include "server/studio_error.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace impasto::studio {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxIdempotencyKey = 128;
// A result PNG at the largest output side (16-bit, no compression) and its sidecar fit well within.
constexpr std::uint64_t kMaxResultFileBytes = 256ULL << 20U;

// "Idempotency-Key: K" (draft-ietf-httpapi-idempotency-key-header): a retry of the same POST with
// the same key gets the job the first one made. "" when absent.
std::string idempotency_key(const httplib::Request& req) {
    if (!req.has_header("Idempotency-Key")) {
        return "";
    }
    std::string key = req.get_header_value("Idempotency-Key");
    const bool allowed = std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
               c == '.' || c == ':';
    });
    if (key.empty() || key.size() > kMaxIdempotencyKey || !allowed) {
        throw StudioError(400, "bad_request",
                          "Idempotency-Key: expected 1.." + std::to_string(kMaxIdempotencyKey) +
                              " letters, digits and - _ . : (a UUID will do)");
    }
    return key;
}

// Who a job counts against for --max-queued-per-client: the remote address. Behind a proxy, or
// for everyone on this machine, that is one client for all.
std::string client_of(const httplib::Request& req) {
    return req.remote_addr;
}

void send_existing(httplib::Response& res, const JobRecord& job) {
    res.set_header("Idempotent-Replayed", "true");
    send_json(res, 200, job_json(job));
}

[[noreturn]] void key_conflict(const std::string& key, const JobRecord& holder) {
    throw StudioError(409, "conflict",
                      "Idempotency-Key '" + key + "' was used for job " + holder.id +
                          " with another request; use a new key for a new job");
}

JobRecord require_job(const StudioContext& context, const std::string& id) {
    auto job = context.queue.get(id);
    if (!job) {
        throw StudioError(404, "not_found", "no job with id '" + id + "'");
    }
    return *job;
}

void require_image(const StudioContext& context, const std::string& id, const char* role) {
    if (!context.images.find(id)) {
        throw StudioError(400, "bad_request", std::string(role) + ": no image with id '" + id + "'");
    }
}

// Results are at most an image and its sidecar; anything else under the name is not served.
std::string read_file(const std::filesystem::path& file) {
    try {
        return io::read_regular_file(file, kMaxResultFileBytes);
    } catch (const InputError&) {
        throw StudioError(404, "not_found", "the result file is missing");
    }
}

void serve_result(const StudioContext& context, const httplib::Request& req, httplib::Response& res, bool image) {
    const std::string id = req.matches[1];
    const JobRecord job = require_job(context, id);
    if (job.state != JobState::Done) {
        throw StudioError(404, "not_found", "job " + id + " has no result (it is " + to_string(job.state) + ")");
    }
    const auto file = image ? context.runner.image_file(id) : context.runner.sidecar_file(id);
    if (req.has_param("download")) {
        res.set_header("Content-Disposition",
                       "attachment; filename=\"impasto-" + id + (image ? ".png" : ".json") + "\"");
    }
    res.set_header("Cache-Control", "private, max-age=86400");
    res.set_content(read_file(file), image ? "image/png" : "application/json");
    context.storage.results().touch(id);
}

} // namespace

void add_job_routes(httplib::Server& server, StudioContext& context) {
    server.Post("/api/jobs", guarded([&context](const httplib::Request& req, httplib::Response& res) {
                    const std::string key = idempotency_key(req);
                    const JobRequest request = resolve_job_request(parse_json_body(req), context.catalog);
                    // No upload is deleted between the checks below and the insert.
                    const auto references = context.storage.hold_references();
                    require_image(context, request.content, "content");
                    for (const std::string& style : request.styles) {
                        require_image(context, style, "styles");
                    }
                    if (!request.parent.empty() && !context.queue.get(request.parent)) {
                        throw StudioError(400, "bad_request", "parent: no job with id '" + request.parent + "'");
                    }
                    JobRecord record;
                    record.id = new_job_id();
                    json stored = to_json(request);
                    std::vector<std::string> style_names;
                    for (const std::string& style : request.styles) {
                        style_names.push_back(std::filesystem::path(context.images.find(style)->name).stem().string());
                    }
                    stored["label"] = settings_label(request, context.catalog, style_names);
                    record.request_json = stored.dump();
                    record.content_id = request.content;
                    record.settings_key = settings_key(request);
                    record.client = client_of(req);
                    record.idempotency_key = key;
                    // A retry of an accepted request gets its job back even when the studio is full now.
                    if (const auto holder = context.queue.find_by_key(key)) {
                        if (holder->request_json != record.request_json) {
                            key_conflict(key, *holder);
                        }
                        send_existing(res, *holder);
                        return;
                    }
                    context.storage.admit_job();
                    const SubmitLimits limits{context.options.max_queued_jobs, context.options.max_queued_per_client};
                    const SubmitResult submitted = context.queue.submit(record, limits);
                    switch (submitted.outcome) {
                    case SubmitOutcome::Created:
                        break;
                    case SubmitOutcome::Replayed:
                        send_existing(res, submitted.job);
                        return;
                    case SubmitOutcome::KeyConflict:
                        key_conflict(key, submitted.job);
                    case SubmitOutcome::QueueFull:
                        res.set_header("Retry-After", "10");
                        throw StudioError(429, "queue_full",
                                          "the queue holds " + std::to_string(submitted.unfinished) +
                                              " unfinished jobs, its limit; try again when some have run");
                    case SubmitOutcome::ClientQueueFull:
                        res.set_header("Retry-After", "10");
                        throw StudioError(429, "client_queue_full",
                                          "you have " + std::to_string(submitted.unfinished) +
                                              " unfinished jobs, the limit per client; try again when some have run");
                    }
                    for (const std::string& image : request.styles) {
                        context.images.touch(image);
                    }
                    context.images.touch(request.content);
                    context.runner.wake();
                    send_json(res, 202, job_json(submitted.job));
                }));
    server.Get("/api/jobs", guarded([&context](const httplib::Request& req, httplib::Response& res) {
                   JobFilter filter;
                   filter.limit = query_int(req, "limit", 100, 1, 1000);
                   if (req.has_param("state")) {
                       filter.state = parse_job_state(req.get_param_value("state"));
                       if (!filter.state) {
                           throw StudioError(400, "bad_request",
                                             "state '" + req.get_param_value("state") +
                                                 "' is not one of: queued, running, done, failed, cancelled");
                       }
                   }
                   filter.content_id = req.get_param_value("content");
                   json jobs = json::array();
                   for (const JobRecord& job : context.queue.list(filter)) {
                       jobs.push_back(job_json(job));
                   }
                   send_json(res, 200, json{{"jobs", jobs}});
               }));
    const std::string job = std::string("/api/jobs/") + kJobIdPattern;
    server.Get(job, guarded([&context](const httplib::Request& req, httplib::Response& res) {
                   send_json(res, 200, job_json(require_job(context, req.matches[1])));
               }));
    server.Post(job + "/cancel", guarded([&context](const httplib::Request& req, httplib::Response& res) {
                    const std::string id = req.matches[1];
                    const JobRecord before = require_job(context, id);
                    if (is_terminal(before.state)) {
                        throw StudioError(409, "conflict",
                                          "job " + id + " has already ended (" + to_string(before.state) + ")");
                    }
                    const auto after = context.queue.request_cancel(id);
                    if (!after) {
                        throw StudioError(404, "not_found", "no job with id '" + id + "'");
                    }
                    if (after->state == JobState::Running) {
                        context.runner.cancel(id);
                    } else {
                        context.hub.publish(id, "state", job_json(*after).dump(), is_terminal(after->state));
                    }
                    send_json(res, 200, job_json(*after));
                }));
    server.Delete(job, guarded([&context](const httplib::Request& req, httplib::Response& res) {
                      const std::string id = req.matches[1];
                      const DeleteResult deleted = context.storage.delete_job(id);
                      if (deleted.outcome == DeleteOutcome::InUse) {
                          throw StudioError(409, "conflict",
                                            "job " + id + " is running; cancel it first (POST /api/jobs/" + id +
                                                "/cancel), then delete it");
                      }
                      send_json(res, 200, json{{"id", id}, {"deleted", deleted.outcome == DeleteOutcome::Deleted}});
                  }));
    server.Get(job + "/image", guarded([&context](const httplib::Request& req, httplib::Response& res) {
                   serve_result(context, req, res, true);
               }));
    server.Get(job + "/sidecar", guarded([&context](const httplib::Request& req, httplib::Response& res) {
                   serve_result(context, req, res, false);
               }));
    server.Get(job + "/preview", guarded([&context](const httplib::Request& req, httplib::Response& res) {
                   const auto preview = context.hub.preview(req.matches[1]);
                   if (!preview || !preview->png) {
                       throw StudioError(404, "not_found", "no preview for this job");
                   }
                   res.set_header("Cache-Control", "no-store");
                   res.set_content(reinterpret_cast<const char*>(preview->png->data()), preview->png->size(),
                                   "image/png");
               }));
}

} // namespace impasto::studio
