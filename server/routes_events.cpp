// GET /api/jobs/{id}/events: server-sent events. Each open stream holds one HTTP worker thread,
// so their number is capped below the pool's size (StudioOptions::max_event_streams).
#include "server/bounded_http_server.h"
#include "server/http_util.h"
#include "server/job_view.h"
#include "server/public_error.h"
#include "server/routes.h"
#include "server/studio_error.h"

#include <memory>

namespace impasto::studio {

namespace {

constexpr auto kKeepAlive = std::chrono::seconds(15);

struct StreamState {
    std::string job_id;
    std::uint64_t last_seq = 0;
    bool started = false;
    bool ended = false;
};

// A job's state carries its failure, whose message may name a path: scrubbed as any reply is.
std::string frame(const std::string& type, const std::string& data) {
    if (data.find("\"error\"") == std::string::npos) {
        return "event: " + type + "\ndata: " + data + "\n\n";
    }
    nlohmann::json parsed = nlohmann::json::parse(data, nullptr, false);
    scrub_error_objects(parsed);
    return "event: " + type + "\ndata: " + (parsed.is_discarded() ? std::string("{}") : parsed.dump()) + "\n\n";
}

bool write(httplib::DataSink& sink, const std::string& text) {
    return sink.write(text.data(), text.size());
}

// Writes what the stream has next: the job's state first, then its events as they come, a
// keep-alive comment when none came. False ends the stream.
bool send_next(StudioContext& context, StreamState& state, httplib::DataSink& sink) {
    if (state.ended || context.hub.is_shut_down()) {
        sink.done();
        return true;
    }
    if (!state.started) {
        // Taken before the read: an event published in between is sent, never lost.
        state.last_seq = context.hub.current_seq();
        const auto job = context.queue.get(state.job_id);
        state.started = true;
        if (!job) {
            sink.done();
            return true;
        }
        if (!write(sink, "retry: 2000\n" + frame("state", job_json(*job).dump()))) {
            return false;
        }
        if (is_terminal(job->state)) {
            state.ended = true;
            sink.done();
        }
        return true;
    }
    const auto events = context.hub.wait(state.job_id, state.last_seq, kKeepAlive);
    if (events.empty()) {
        return write(sink, ": keep-alive\n\n");
    }
    for (const LiveEvent& event : events) {
        state.last_seq = event.seq;
        if (!write(sink, frame(event.type, event.data))) {
            return false;
        }
        if (event.type == "state") {
            const auto parsed = nlohmann::json::parse(event.data, nullptr, false);
            const auto job_state = parsed.is_object() ? parse_job_state(parsed.value("state", "")) : std::nullopt;
            if (job_state && is_terminal(*job_state)) {
                state.ended = true;
                sink.done();
                return true;
            }
        }
    }
    return true;
}

} // namespace

void add_event_routes(httplib::Server& server, StudioContext& context) {
    const std::string pattern = std::string("/api/jobs/") + kJobIdPattern + "/events";
    server.Get(pattern, guarded([&context](const httplib::Request& req, httplib::Response& res) {
                   const std::string id = req.matches[1];
                   if (!context.queue.get(id)) {
                       throw StudioError(404, "not_found", "no job with id '" + id + "'");
                   }
                   if (!context.hub.open_stream(context.options.max_event_streams)) {
                       throw StudioError(503, "busy",
                                         "too many open event streams (" +
                                             std::to_string(context.options.max_event_streams) + "); try again later");
                   }
                   BoundedHttpServer::allow_long_response(); // it ends with the job
                   auto state = std::make_shared<StreamState>();
                   state->job_id = id;
                   res.set_header("Cache-Control", "no-store");
                   res.set_header("X-Accel-Buffering", "no");
                   res.set_chunked_content_provider(
                       "text/event-stream",
                       [&context, state](std::size_t /*offset*/, httplib::DataSink& sink) {
                           // The provider runs outside the route's guard, while the reply is being
                           // written: an exception here (a failing database) would end the process.
                           // It ends the stream instead; the browser reconnects after `retry`.
                           try {
                               return send_next(context, *state, sink);
                           } catch (const std::exception& e) {
                               note_error_detail(e.what());
                               return false;
                           }
                       },
                       [&context](bool /*success*/) { context.hub.close_stream(); });
               }));
}

} // namespace impasto::studio
