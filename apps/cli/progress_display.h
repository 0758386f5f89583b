#pragma once
// Shows optimisation progress: a redrawn bar with ETA on a terminal, plain lines elsewhere.
#include "impasto/stylize.h"

#include <chrono>

namespace impasto::cli {

class ProgressDisplay {
  public:
    explicit ProgressDisplay(bool enabled);
    void update(const ProgressEvent& event);
    void finish();

  private:
    bool enabled_;
    bool terminal_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point last_line_{};
};

} // namespace impasto::cli
