#pragma once
// The loaded, immutable feature network. One FeatureModel can serve many runs (and threads);
// per-run state lives in the optimiser call. Torch types stay behind a pimpl.
#include "impasto/device.h"
#include "impasto/layers.h"
#include "impasto/weights.h"

#include <memory>

namespace impasto {

class FeatureModel {
  public:
    struct Impl;
    // Copies the weights onto `device`, frozen (no gradients).
    static std::shared_ptr<const FeatureModel> create(const LoadedWeights& weights, const Device& device);
    ~FeatureModel();
    FeatureModel(const FeatureModel&) = delete;
    FeatureModel& operator=(const FeatureModel&) = delete;

    const WeightSetInfo& info() const;
    const Device& device() const;
    VggArchitecture architecture() const;
    const Impl& impl() const { return *impl_; }

  private:
    explicit FeatureModel(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace impasto
