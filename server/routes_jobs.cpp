// Submitting, listing, cancelling jobs and fetching their results.
#include "server/http_util.h"
#include "server/job_view.h"
#include "server/routes.h"
#include "server/studio_error.h"

#include <fstream>
#include <sstream>

namespace impasto::studio {

using nlohmann::json;

namespace {

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

std::string read_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw StudioError(404, "not_found", "the result file is missing");
    }
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
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
}

} // namespace

void add_job_routes(httplib::Server& server, StudioContext& context) {
    server.Post("/api/jobs", guarded([&context](const httplib::Request& req, httplib::Response& res) {
                    const JobRequest request = resolve_job_request(parse_json_body(req), context.catalog);
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
                    const JobRecord saved = context.queue.submit(record);
                    context.runner.wake();
                    send_json(res, 202, job_json(saved));
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
