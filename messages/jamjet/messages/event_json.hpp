#pragma once

// Conversion of events and work items to and from JamJet's JSON layout.
//
// An event is `{"id", "execution_id", "sequence", "kind", "created_at"}` where
// `kind` is an object tagged by a snake_case `type`. Kinds this runtime does
// not model are kept verbatim as `opaque_event` and written back unchanged.
//
// Every `*_from_json` function throws `jamjet::error` with code `bad_input`
// and a message naming the offending field, e.g.
// "event.kind.node_id: missing".

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "jamjet/messages/event.hpp"
#include "jamjet/messages/work_item.hpp"
#include "jamjet/support/export.hpp"

namespace jamjet {
JAMJET_API_BEGIN

// -- timestamps ---------------------------------------------------------------

/// Formats milliseconds since the Unix epoch as RFC 3339 in UTC with
/// millisecond precision, e.g. "2026-11-26T21:54:14.123Z". Throws
/// `bad_input` for instants outside the years 0000 to 9999.
std::string format_rfc3339_ms(int64_t ms_since_epoch);

/// Parses an RFC 3339 timestamp ("T", "t" or a space between date and time;
/// fractional seconds of any length, truncated to milliseconds; "Z" or a
/// +hh:mm / -hh:mm offset) into milliseconds since the Unix epoch. Throws
/// `bad_input` on malformed text.
int64_t parse_rfc3339(const std::string& text);

// -- events -------------------------------------------------------------------

/// The kind object, e.g. `{"type": "node_scheduled", "node_id": ...}`.
nlohmann::json to_json(const event_kind& kind);

/// Reads a kind object; unknown `type` tags become an `opaque_event`.
event_kind event_kind_from_json(const nlohmann::json& j);

/// The event object with `created_at` in RFC 3339.
nlohmann::json to_json(const event& x);

/// Reads an event object. `created_at` (and a timer's `fire_at`) may be RFC
/// 3339 text or an integer of milliseconds since the epoch.
event event_from_json(const nlohmann::json& j);

// -- work items ---------------------------------------------------------------

/// The work item object; `payload` is embedded as a JSON value, timestamps
/// are RFC 3339 and unset ones (0) as well as an empty `worker_id` are null.
nlohmann::json to_json(const work_item& x);

/// Reads a work item object. `lease_expires_at`, `worker_id`, `tenant_id`,
/// `not_before`, `fence` and `status` may be absent or null (defaults: 0,
/// empty, "default", 0, 0, ready).
work_item work_item_from_json(const nlohmann::json& j);

JAMJET_API_END
} // namespace jamjet
