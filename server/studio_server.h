#pragma once
// `impasto serve`: the queue, the workers and the HTTP routes, started and stopped together.
#include "server/studio_options.h"

#include <functional>
#include <memory>
#include <string>

namespace impasto::studio {

class StudioServer {
  public:
    // Opens (or creates) the data folder and its database, re-queues jobs a crash left running,
    // and finds the models. Throws ConfigError (bad options) or OutputError (data folder).
    explicit StudioServer(StudioOptions options);
    ~StudioServer();
    StudioServer(const StudioServer&) = delete;
    StudioServer& operator=(const StudioServer&) = delete;

    // Where the server reports what it did not tell a client: the full text of an error whose
    // reply left out a path or SQL, or an internal error. Set before start(); none by default.
    void set_log_sink(std::function<void(const std::string&)> sink);

    // Binds and starts serving in the background; returns the port. Throws OutputError when the
    // address cannot be bound.
    int start();
    // Stops taking requests, ends the event streams and stops the workers; a job still running
    // stays "running" and is re-queued at the next start. Idempotent.
    void stop();

    int port() const;
    int recovered_jobs() const; // re-queued at start
    const StudioOptions& options() const;

  private:
    struct State;
    std::unique_ptr<State> state_;
};

} // namespace impasto::studio
