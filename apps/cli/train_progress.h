#pragma once
// Training progress: a redrawn bar with step, losses, s/step and ETA on a terminal; plain lines
// (the first step, checkpoints, the last step, and at most one every few seconds) elsewhere.
#include "impasto/train.h"

#include <chrono>

namespace impasto::cli {

class TrainProgress {
  public:
    explicit TrainProgress(bool enabled);
    void update(const TrainEvent& event);
    void finish();

  private:
    bool enabled_;
    bool terminal_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point last_line_{};
};

} // namespace impasto::cli
