#include "server/event_hub.h"

namespace impasto::studio {

namespace {
// A stream that connects just after its job ended still finds the final events here.
constexpr auto kKeepEndedJobs = std::chrono::seconds(120);
} // namespace

EventHub::EventHub(std::size_t history) : history_(history == 0 ? 1 : history) {}

void EventHub::publish(const std::string& job_id, const std::string& type, const std::string& data, bool ends_job) {
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        drop_ended_locked();
        JobEvents& job = jobs_[job_id];
        job.events.push_back(LiveEvent{++seq_, type, data});
        while (job.events.size() > history_) {
            job.events.pop_front();
        }
        if (ends_job) {
            job.has_ended = true;
            job.ended = std::chrono::steady_clock::now();
            job.preview.reset();
        }
    }
    changed_.notify_all();
}

std::uint64_t EventHub::set_preview(const std::string& job_id, std::vector<std::uint8_t> png) {
    const std::lock_guard<std::mutex> lock(mutex_);
    const std::uint64_t seq = ++seq_;
    jobs_[job_id].preview = Preview{seq, std::make_shared<const std::vector<std::uint8_t>>(std::move(png))};
    return seq;
}

std::optional<Preview> EventHub::preview(const std::string& job_id) const {
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto it = jobs_.find(job_id);
    if (it == jobs_.end()) {
        return std::nullopt;
    }
    return it->second.preview;
}

std::uint64_t EventHub::current_seq() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return seq_;
}

std::vector<LiveEvent> EventHub::wait(const std::string& job_id, std::uint64_t after_seq,
                                      std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    std::vector<LiveEvent> found;
    auto collect = [&] {
        if (shut_down_) {
            return true;
        }
        const auto it = jobs_.find(job_id);
        if (it == jobs_.end()) {
            return false;
        }
        for (const LiveEvent& event : it->second.events) {
            if (event.seq > after_seq) {
                found.push_back(event);
            }
        }
        return !found.empty();
    };
    changed_.wait_for(lock, timeout, collect);
    return found;
}

void EventHub::shutdown() {
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        shut_down_ = true;
    }
    changed_.notify_all();
}

bool EventHub::is_shut_down() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return shut_down_;
}

bool EventHub::open_stream(int limit) {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (open_streams_ >= limit) {
        return false;
    }
    ++open_streams_;
    return true;
}

void EventHub::close_stream() {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (open_streams_ > 0) {
        --open_streams_;
    }
}

int EventHub::open_streams() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return open_streams_;
}

void EventHub::drop_ended_locked() {
    const auto now = std::chrono::steady_clock::now();
    for (auto it = jobs_.begin(); it != jobs_.end();) {
        if (it->second.has_ended && now - it->second.ended > kKeepEndedJobs) {
            it = jobs_.erase(it);
        } else {
            ++it;
        }
    }
}

} // namespace impasto::studio
