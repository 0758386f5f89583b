#pragma once
// What DecoderSet holds: one VGG19 decoder per level, frozen on its device.
#include "impasto/arbitrary_style.h"
#include "nn/vgg_decoder.h"

#include <map>
#include <string>

namespace impasto {

struct DecoderSet::Impl {
    struct Entry {
        nn::VggDecoder decoder{nullptr};
        ModelCard card;
        std::string source; // the file it came from, for messages
    };
    Device device;
    std::map<std::string, Entry> decoders; // by level
};

} // namespace impasto
