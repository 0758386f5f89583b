#pragma once
// Live job events for the studio's event streams: workers publish, each open stream waits for
// what it has not sent yet. Only what a watcher needs is kept in memory (recent events and the
// latest preview); the durable state is in the JobQueue.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace impasto::studio {

struct LiveEvent {
    std::uint64_t seq = 0; // increasing across all jobs
    std::string type;      // "state", "progress", "preview"
    std::string data;      // one line of JSON
};

struct Preview {
    std::uint64_t seq = 0;
    std::shared_ptr<const std::vector<std::uint8_t>> png;
};

class EventHub {
  public:
    // Keeps the last `history` events of each job.
    explicit EventHub(std::size_t history = 64);

    // `ends_job`: the job reached a final state; its entry is dropped a little later.
    void publish(const std::string& job_id, const std::string& type, const std::string& data, bool ends_job = false);
    // Stores the job's latest preview; returns its sequence number.
    std::uint64_t set_preview(const std::string& job_id, std::vector<std::uint8_t> png);
    std::optional<Preview> preview(const std::string& job_id) const;

    // The current sequence number: a watcher that reads the job's state after taking it misses nothing.
    std::uint64_t current_seq() const;
    // Events of the job after `after_seq`; waits up to `timeout` for one. Empty on timeout or shutdown.
    std::vector<LiveEvent> wait(const std::string& job_id, std::uint64_t after_seq, std::chrono::milliseconds timeout);

    // Wakes every waiter for good (server stop).
    void shutdown();
    bool is_shut_down() const;

    // Event-stream slots: open_stream() is false when `limit` streams are already open.
    bool open_stream(int limit);
    void close_stream();
    int open_streams() const;

  private:
    struct JobEvents {
        std::deque<LiveEvent> events;
        std::optional<Preview> preview;
        std::chrono::steady_clock::time_point ended{};
        bool has_ended = false;
    };
    void drop_ended_locked();

    std::size_t history_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::map<std::string, JobEvents> jobs_;
    std::uint64_t seq_ = 0;
    bool shut_down_ = false;
    int open_streams_ = 0;
};

} // namespace impasto::studio
