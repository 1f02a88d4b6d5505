#pragma once

// "Did you mean ...?": the known name nearest to a misspelled one, for
// error messages about unknown fields and subcommands.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jamjet {

/// The Damerau-Levenshtein distance (optimal string alignment) between `a`
/// and `b`: insertions, deletions, substitutions and transpositions of two
/// adjacent bytes each cost 1. Case-sensitive, byte-wise.
size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate nearest to `word`, if one is close enough to be a likely
/// misspelling: at most a third of the longer name's length away (at least
/// 1, at most 3 edits); failing that, the first candidate that contains
/// `word` or is contained in it (both at least 4 bytes long: 'attempts'
/// for 'max_attempts'). Ties go to the first candidate. Never `word`
/// itself.
std::optional<std::string>
nearest_name(std::string_view word, const std::vector<std::string>& candidates);

} // namespace jamjet
