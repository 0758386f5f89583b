#pragma once
// How deeply a TOML document nests, found by a linear scan before toml++ parses it. toml++ 3.3
// bounds inline arrays and tables (TOML_MAX_NESTED_VALUES, 256) but not dotted keys or table
// headers: `[a.a.a.a...]` of a few hundred kilobytes makes tables nested that deep, and toml++
// destroys (and our tree walk visits) them recursively, overflowing the stack.
#include <string_view>

namespace impasto::study {

struct TomlNesting {
    int depth = 0; // an upper bound on the nesting: header segments + key dots + open brackets
    int line = 1;  // 1-based line where `depth` was reached (or first passed the limit)
};

// Stops early, with depth > limit, once the limit is passed. Strings and comments do not count;
// a dot in a float counts as one level, so the bound may exceed the truth by one or two.
TomlNesting toml_nesting_depth(std::string_view text, int limit);

} // namespace impasto::study
