#include "jamjet/messages/event_json.hpp"

#include <array>
#include <cstdio>
#include <limits>
#include <utility>

#include <caf/sum_type.hpp>

#include "jamjet/messages/error.hpp"
#include "jamjet/messages/json_limits.hpp"

namespace jamjet {

namespace {

using json = nlohmann::json;

// -- errors -------------------------------------------------------------------

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw error(error_code::bad_input, path + ": " + what);
}

std::string join(const std::string& path, const char* key) {
  std::string result = path;
  result += '.';
  result += key;
  return result;
}

/// Describes the type of a JSON value for error messages.
std::string describe(const json& j) {
  if (j.is_number_float())
    return "a floating-point number";
  if (j.is_number_integer())
    return "an integer";
  if (j.is_object() || j.is_array())
    return std::string{"an "} + j.type_name();
  return std::string{"a "} + j.type_name();
}

// -- calendar arithmetic ------------------------------------------------------

constexpr int64_t ms_per_day = 86'400'000;

constexpr bool is_leap(int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/// Days in the months of a common year.
constexpr std::array<int, 12> month_days = {31, 28, 31, 30, 31, 30,
                                            31, 31, 30, 31, 30, 31};

int days_in_month(int64_t year, int month) {
  if (month == 2 && is_leap(year))
    return 29;
  return month_days[static_cast<size_t>(month - 1)];
}

/// Days from 0000-01-01 to the first of January of `year` (0 <= year).
constexpr int64_t days_before_year(int64_t year) {
  if (year <= 0)
    return 0;
  auto prev = year - 1;
  // Year 0 is a leap year, hence the trailing + 1.
  return 365 * year + prev / 4 - prev / 100 + prev / 400 + 1;
}

constexpr int64_t epoch_offset_days = days_before_year(1970);

/// Days since the Unix epoch of a (valid) calendar date in years 0 to 9999.
int64_t days_from_date(int64_t year, int month, int day) {
  int64_t days = days_before_year(year);
  for (int m = 1; m < month; ++m)
    days += days_in_month(year, m);
  return days + day - 1 - epoch_offset_days;
}

/// First and last instant that `format_rfc3339_ms` can write.
constexpr int64_t min_ms = -epoch_offset_days * ms_per_day;
constexpr int64_t max_ms =
  (days_before_year(10000) - epoch_offset_days) * ms_per_day - 1;

// -- timestamp parsing --------------------------------------------------------

/// Reads RFC 3339 text left to right.
class rfc3339_reader {
 public:
  explicit rfc3339_reader(const std::string& text) : text_(text) {
    // nop
  }

  /// Reads exactly `n` decimal digits.
  bool digits(size_t n, int& out) {
    if (text_.size() - pos_ < n)
      return false;
    int value = 0;
    for (size_t i = 0; i < n; ++i) {
      auto c = text_[pos_ + i];
      if (c < '0' || c > '9')
        return false;
      value = value * 10 + (c - '0');
    }
    pos_ += n;
    out = value;
    return true;
  }

  /// Consumes `c` if it is next.
  bool accept(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  /// Reads one or more fractional digits as milliseconds (truncated).
  bool fraction_ms(int& out) {
    size_t count = 0;
    int value = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      if (count < 3)
        value = value * 10 + (text_[pos_] - '0');
      ++count;
      ++pos_;
    }
    if (count == 0)
      return false;
    for (auto i = count; i < 3; ++i)
      value *= 10;
    out = value;
    return true;
  }

  bool at_end() const { return pos_ == text_.size(); }

 private:
  const std::string& text_;
  size_t pos_ = 0;
};

[[noreturn]] void bad_timestamp(const std::string& text) {
  throw error(error_code::bad_input,
              "invalid RFC 3339 timestamp \"" + text + "\"");
}

// -- reading JSON -------------------------------------------------------------

/// Refuses a value too deep to be copied or dumped safely.
void expect_bounded(const json& j, const std::string& path) {
  if (auto problem = json_depth_problem(j, json_limits::stored().max_depth))
    fail(path, *problem);
}

void expect_object(const json& j, const std::string& path) {
  if (!j.is_object())
    fail(path, "expected an object, got " + describe(j));
}

/// The member `key` of object `obj`; throws when it is missing.
const json& require(const json& obj, const std::string& path, const char* key) {
  auto i = obj.find(key);
  if (i == obj.end())
    fail(join(path, key), "missing");
  return *i;
}

/// The member `key` of object `obj`, or nullptr when absent or null.
const json* find_non_null(const json& obj, const char* key) {
  auto i = obj.find(key);
  if (i == obj.end() || i->is_null())
    return nullptr;
  return &*i;
}

std::string as_string(const json& j, const std::string& path) {
  if (!j.is_string())
    fail(path, "expected a string, got " + describe(j));
  return j.get<std::string>();
}

caf::optional<std::string>
as_optional_string(const json& obj, const std::string& path, const char* key) {
  if (auto ptr = find_non_null(obj, key))
    return as_string(*ptr, join(path, key));
  return caf::none;
}

uint64_t as_unsigned(const json& j, const std::string& path,
                     uint64_t max = std::numeric_limits<uint64_t>::max()) {
  uint64_t value = 0;
  if (j.is_number_unsigned()) {
    value = j.get<uint64_t>();
  } else if (j.is_number_integer()) {
    auto signed_value = j.get<int64_t>();
    if (signed_value < 0)
      fail(path, "expected a non-negative integer, got " +
                   std::to_string(signed_value));
    value = static_cast<uint64_t>(signed_value);
  } else {
    fail(path, "expected an unsigned integer, got " + describe(j));
  }
  if (value > max)
    fail(path, "out of range: " + std::to_string(value));
  return value;
}

uint32_t as_u32(const json& j, const std::string& path) {
  return static_cast<uint32_t>(
    as_unsigned(j, path, std::numeric_limits<uint32_t>::max()));
}

bool as_bool(const json& j, const std::string& path) {
  if (!j.is_boolean())
    fail(path, "expected a boolean, got " + describe(j));
  return j.get<bool>();
}

/// Compact JSON text of any value.
std::string as_text(const json& j, const std::string& path) {
  try {
    return j.dump();
  } catch (const json::exception& ex) {
    fail(path, std::string{"cannot write as JSON: "} + ex.what());
  }
}

/// RFC 3339 text or an integer of milliseconds since the epoch.
int64_t as_time(const json& j, const std::string& path) {
  if (j.is_string()) {
    try {
      return parse_rfc3339(j.get_ref<const std::string&>());
    } catch (const error& ex) {
      fail(path, ex.what());
    }
  }
  if (j.is_number_unsigned()) {
    auto value = j.get<uint64_t>();
    if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail(path, "out of range: " + std::to_string(value));
    return static_cast<int64_t>(value);
  }
  if (j.is_number_integer())
    return j.get<int64_t>();
  fail(path, "expected an RFC 3339 string or integer milliseconds, got " +
               describe(j));
}

/// Checks the type of an optional telemetry field of `node_completed`.
void check_telemetry(const std::string& key, const json& value,
                     const std::string& path) {
  if (value.is_null())
    return;
  if (key == "gen_ai_system" || key == "gen_ai_model" ||
      key == "finish_reason") {
    as_string(value, path);
  } else if (key == "input_tokens" || key == "output_tokens") {
    as_unsigned(value, path);
  } else if (key == "cost_usd") {
    if (!value.is_number())
      fail(path, "expected a number, got " + describe(value));
  } else if (key == "provenance") {
    expect_object(value, path);
  }
}

/// Fields of `node_completed` that have members of their own.
bool is_core_completed_field(const std::string& key) {
  return key == "type" || key == "node_id" || key == "output" ||
         key == "state_patch" || key == "duration_ms";
}

/// Compact JSON text of the fields of a `node_completed` object beyond the
/// core ones (the telemetry), or an empty string when there are none.
std::string completed_extra(const json& j, const std::string& path) {
  json extra = json::object();
  for (auto& [key, value] : j.items()) {
    if (is_core_completed_field(key))
      continue;
    check_telemetry(key, value, join(path, key.c_str()));
    extra[key] = value;
  }
  if (extra.empty())
    return {};
  return as_text(extra, path);
}

event_kind kind_from_json(const json& j, const std::string& path) {
  expect_object(j, path);
  auto type = as_string(require(j, path, "type"), join(path, "type"));
  if (type.empty())
    fail(join(path, "type"), "empty");
  auto str = [&](const char* key) {
    return as_string(require(j, path, key), join(path, key));
  };
  auto opt_str = [&](const char* key) {
    return as_optional_string(j, path, key);
  };
  auto text = [&](const char* key) {
    return as_text(require(j, path, key), join(path, key));
  };
  auto u32 = [&](const char* key) {
    return as_u32(require(j, path, key), join(path, key));
  };
  auto u64 = [&](const char* key) {
    return as_unsigned(require(j, path, key), join(path, key));
  };
  auto boolean = [&](const char* key) {
    return as_bool(require(j, path, key), join(path, key));
  };
  auto time = [&](const char* key) {
    return as_time(require(j, path, key), join(path, key));
  };
  // Braced initialisation evaluates left to right, so the first bad field in
  // declaration order is the one reported.
  if (type == "workflow_started")
    return workflow_started{str("workflow_id"), str("workflow_version"),
                            text("initial_input")};
  if (type == "workflow_completed")
    return workflow_completed{text("final_state")};
  if (type == "workflow_failed")
    return workflow_failed{str("error")};
  if (type == "workflow_cancelled")
    return workflow_cancelled{opt_str("reason")};
  if (type == "node_scheduled")
    return node_scheduled{str("node_id"), str("queue_type")};
  if (type == "node_started")
    return node_started{str("node_id"), str("worker_id"), u32("attempt")};
  if (type == "node_completed")
    return node_completed{str("node_id"), text("output"), text("state_patch"),
                          u64("duration_ms"), completed_extra(j, path)};
  if (type == "node_failed")
    return node_failed{str("node_id"), str("error"), u32("attempt"),
                       boolean("retryable")};
  if (type == "node_skipped")
    return node_skipped{str("node_id"), str("reason")};
  if (type == "node_cancelled")
    return node_cancelled{str("node_id")};
  if (type == "retry_scheduled")
    return retry_scheduled{str("node_id"), u32("attempt"), u64("delay_ms")};
  if (type == "timer_created")
    return timer_created{str("node_id"), time("fire_at"),
                         opt_str("correlation_key")};
  if (type == "timer_fired")
    return timer_fired{str("node_id"), opt_str("correlation_key")};
  if (type == "external_event_received")
    return external_event_received{str("correlation_key"), text("payload")};
  if (type == "node_redriven")
    return node_redriven{str("node_id"), u32("attempt")};
  if (type == "approval_received") {
    approval_received x;
    x.node_id = str("node_id");
    if (auto user = as_optional_string(j, path, "user_id"))
      x.user_id = std::move(*user);
    x.decision = str("decision");
    if (x.decision != "approved" && x.decision != "rejected")
      fail(join(path, "decision"),
           "expected \"approved\" or \"rejected\", got \"" + x.decision + "\"");
    x.comment = opt_str("comment");
    if (auto patch = find_non_null(j, "state_patch"))
      x.state_patch = patch->dump();
    return x;
  }
  return opaque_event{type, as_text(j, path)};
}

// -- writing JSON -------------------------------------------------------------

/// The JSON value of compact JSON text; empty text is null.
json text_to_json(const std::string& text, const std::string& path) {
  if (text.empty())
    return nullptr;
  // The last check before a value goes into the store: what is stored is
  // read back with room for its envelope (json_limits.hpp).
  std::string problem;
  auto result = try_parse_bounded(
    text, json_limits{json_max_depth, json_max_stored_bytes}, &problem);
  if (!problem.empty())
    fail(path, problem);
  if (result.is_discarded())
    fail(path, "invalid JSON text");
  return result;
}

json optional_to_json(const caf::optional<std::string>& x) {
  if (x)
    return *x;
  return nullptr;
}

/// Writes the fields of each kind; the caller adds the `type` tag.
struct kind_writer {
  json operator()(const workflow_started& x) const {
    return {{"workflow_id", x.workflow_id},
            {"workflow_version", x.workflow_version},
            {"initial_input",
             text_to_json(x.initial_input, "workflow_started.initial_input")}};
  }

  json operator()(const workflow_completed& x) const {
    return {{"final_state",
             text_to_json(x.final_state, "workflow_completed.final_state")}};
  }

  json operator()(const workflow_failed& x) const {
    return {{"error", x.error}};
  }

  json operator()(const workflow_cancelled& x) const {
    return {{"reason", optional_to_json(x.reason)}};
  }

  json operator()(const node_scheduled& x) const {
    return {{"node_id", x.node_id}, {"queue_type", x.queue_type}};
  }

  json operator()(const node_started& x) const {
    return {{"node_id", x.node_id},
            {"worker_id", x.worker_id},
            {"attempt", x.attempt}};
  }

  json operator()(const node_completed& x) const {
    json result = {{"node_id", x.node_id},
                   {"output", text_to_json(x.output, "node_completed.output")},
                   {"state_patch",
                    text_to_json(x.state_patch, "node_completed.state_patch")},
                   {"duration_ms", x.duration_ms}};
    if (!x.extra.empty()) {
      auto extra = text_to_json(x.extra, "node_completed.extra");
      if (!extra.is_object())
        fail("node_completed.extra", "expected a JSON object");
      for (auto& [key, value] : extra.items())
        if (!is_core_completed_field(key))
          result[key] = value;
    }
    return result;
  }

  json operator()(const node_failed& x) const {
    return {{"node_id", x.node_id},
            {"error", x.error},
            {"attempt", x.attempt},
            {"retryable", x.retryable}};
  }

  json operator()(const node_skipped& x) const {
    return {{"node_id", x.node_id}, {"reason", x.reason}};
  }

  json operator()(const node_cancelled& x) const {
    return {{"node_id", x.node_id}};
  }

  json operator()(const retry_scheduled& x) const {
    return {
      {"node_id", x.node_id}, {"attempt", x.attempt}, {"delay_ms", x.delay_ms}};
  }

  json operator()(const timer_created& x) const {
    return {{"node_id", x.node_id},
            {"fire_at", format_rfc3339_ms(x.fire_at_ms)},
            {"correlation_key", optional_to_json(x.correlation_key)}};
  }

  json operator()(const timer_fired& x) const {
    return {{"node_id", x.node_id},
            {"correlation_key", optional_to_json(x.correlation_key)}};
  }

  json operator()(const external_event_received& x) const {
    return {
      {"correlation_key", x.correlation_key},
      {"payload", text_to_json(x.payload, "external_event_received.payload")}};
  }

  json operator()(const node_redriven& x) const {
    return {{"node_id", x.node_id}, {"attempt", x.attempt}};
  }

  json operator()(const approval_received& x) const {
    return {{"node_id", x.node_id},
            {"user_id", x.user_id},
            {"decision", x.decision},
            {"comment", optional_to_json(x.comment)},
            {"state_patch",
             text_to_json(x.state_patch, "approval_received.state_patch")}};
  }

  json operator()(const opaque_event& x) const {
    auto result = text_to_json(x.body, "opaque_event.body");
    if (result.is_null())
      result = json::object();
    else if (!result.is_object())
      fail("opaque_event.body", "expected a JSON object");
    if (!result.contains("type"))
      result["type"] = x.type;
    return result;
  }
};

} // namespace

// -- timestamps ---------------------------------------------------------------

std::string format_rfc3339_ms(int64_t ms_since_epoch) {
  if (ms_since_epoch < min_ms || ms_since_epoch > max_ms)
    throw error(error_code::bad_input,
                "timestamp out of range (years 0000 to 9999): " +
                  std::to_string(ms_since_epoch) + " ms");
  // Floor division: instants before 1970 belong to the earlier day.
  auto days = ms_since_epoch / ms_per_day;
  auto ms_of_day = ms_since_epoch % ms_per_day;
  if (ms_of_day < 0) {
    --days;
    ms_of_day += ms_per_day;
  }
  auto day_number = days + epoch_offset_days; // days since 0000-01-01
  // Estimate the year from the mean year length, then correct it.
  int64_t year = day_number * 400 / 146097;
  while (days_before_year(year + 1) <= day_number)
    ++year;
  while (days_before_year(year) > day_number)
    --year;
  auto day_of_year = day_number - days_before_year(year);
  int month = 1;
  while (day_of_year >= days_in_month(year, month)) {
    day_of_year -= days_in_month(year, month);
    ++month;
  }
  auto ms = static_cast<int>(ms_of_day % 1000);
  auto seconds = static_cast<int>(ms_of_day / 1000);
  char buf[128];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                static_cast<int>(year), month,
                static_cast<int>(day_of_year) + 1, seconds / 3600,
                seconds / 60 % 60, seconds % 60, ms);
  return buf;
}

int64_t parse_rfc3339(const std::string& text) {
  rfc3339_reader in{text};
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int ms = 0;
  if (!in.digits(4, year) || !in.accept('-') || !in.digits(2, month) ||
      !in.accept('-') || !in.digits(2, day))
    bad_timestamp(text);
  if (!in.accept('T') && !in.accept('t') && !in.accept(' '))
    bad_timestamp(text);
  if (!in.digits(2, hour) || !in.accept(':') || !in.digits(2, minute) ||
      !in.accept(':') || !in.digits(2, second))
    bad_timestamp(text);
  if (in.accept('.') && !in.fraction_ms(ms))
    bad_timestamp(text);
  int offset_minutes = 0;
  if (!in.accept('Z') && !in.accept('z')) {
    int sign = 0;
    if (in.accept('+'))
      sign = 1;
    else if (in.accept('-'))
      sign = -1;
    else
      bad_timestamp(text);
    int offset_hour = 0;
    int offset_minute = 0;
    if (!in.digits(2, offset_hour) || !in.accept(':') ||
        !in.digits(2, offset_minute) || offset_hour > 23 || offset_minute > 59)
      bad_timestamp(text);
    offset_minutes = sign * (offset_hour * 60 + offset_minute);
  }
  if (!in.at_end())
    bad_timestamp(text);
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
      hour > 23 || minute > 59 || second > 60)
    bad_timestamp(text);
  if (second == 60) {
    // A leap second: the last representable millisecond of its minute.
    second = 59;
    ms = 999;
  }
  auto days = days_from_date(year, month, day);
  auto seconds = days * 86'400 + hour * 3'600 + minute * 60 + second -
                 offset_minutes * int64_t{60};
  return seconds * 1000 + ms;
}

// -- events -------------------------------------------------------------------

json to_json(const event_kind& kind) {
  auto result = caf::visit(kind_writer{}, kind);
  if (!caf::holds_alternative<opaque_event>(kind))
    result["type"] = type_name_of(kind);
  return result;
}

event_kind event_kind_from_json(const json& j) {
  expect_bounded(j, "event.kind");
  return kind_from_json(j, "event.kind");
}

json to_json(const event& x) {
  return {{"id", x.id},
          {"execution_id", x.execution_id},
          {"sequence", x.sequence},
          {"kind", to_json(x.kind)},
          {"created_at", format_rfc3339_ms(x.created_at_ms)}};
}

event event_from_json(const json& j) {
  const std::string path = "event";
  expect_bounded(j, path);
  expect_object(j, path);
  event result;
  result.id = as_string(require(j, path, "id"), "event.id");
  result.execution_id =
    as_string(require(j, path, "execution_id"), "event.execution_id");
  result.sequence = as_unsigned(require(j, path, "sequence"), "event.sequence");
  result.kind = kind_from_json(require(j, path, "kind"), "event.kind");
  result.created_at_ms =
    as_time(require(j, path, "created_at"), "event.created_at");
  return result;
}

// -- work items ---------------------------------------------------------------

json to_json(const work_item& x) {
  auto time_or_null = [](int64_t ms) -> json {
    if (ms == 0)
      return nullptr;
    return format_rfc3339_ms(ms);
  };
  json worker_id = nullptr;
  if (!x.worker_id.empty())
    worker_id = x.worker_id;
  json result = {{"id", x.id},
                 {"execution_id", x.execution_id},
                 {"node_id", x.node_id},
                 {"queue_type", x.queue_type},
                 {"payload", text_to_json(x.payload, "work_item.payload")},
                 {"attempt", x.attempt},
                 {"max_attempts", x.max_attempts},
                 {"created_at", format_rfc3339_ms(x.created_at_ms)},
                 {"lease_expires_at", time_or_null(x.lease_expires_at_ms)},
                 {"worker_id", std::move(worker_id)},
                 {"tenant_id", x.tenant_id},
                 {"not_before", time_or_null(x.not_before_ms)},
                 {"fence", x.fence},
                 {"status", to_string(x.status)}};
  // This runtime's extensions, only when set (JamJet's items lack them).
  if (!x.retry.empty())
    result["retry_policy"] = text_to_json(x.retry, "work_item.retry_policy");
  if (x.timeout_ms > 0)
    result["timeout_ms"] = x.timeout_ms;
  if (x.lease_ms > 0)
    result["lease_ms"] = x.lease_ms;
  return result;
}

work_item work_item_from_json(const json& j) {
  const std::string path = "work_item";
  expect_bounded(j, path);
  expect_object(j, path);
  auto str = [&](const char* key) {
    return as_string(require(j, path, key), join(path, key));
  };
  auto u32 = [&](const char* key) {
    return as_u32(require(j, path, key), join(path, key));
  };
  auto optional_time = [&](const char* key) -> int64_t {
    if (auto ptr = find_non_null(j, key))
      return as_time(*ptr, join(path, key));
    return 0;
  };
  work_item result;
  result.id = str("id");
  result.execution_id = str("execution_id");
  result.node_id = str("node_id");
  result.queue_type = str("queue_type");
  result.payload = as_text(require(j, path, "payload"), "work_item.payload");
  result.attempt = u32("attempt");
  result.max_attempts = u32("max_attempts");
  result.created_at_ms =
    as_time(require(j, path, "created_at"), "work_item.created_at");
  result.lease_expires_at_ms = optional_time("lease_expires_at");
  if (auto worker_id = as_optional_string(j, path, "worker_id"))
    result.worker_id = std::move(*worker_id);
  if (auto tenant_id = as_optional_string(j, path, "tenant_id"))
    result.tenant_id = std::move(*tenant_id);
  result.not_before_ms = optional_time("not_before");
  if (auto fence = find_non_null(j, "fence"))
    result.fence = as_unsigned(*fence, "work_item.fence");
  if (auto status = find_non_null(j, "status")) {
    auto name = as_string(*status, "work_item.status");
    if (auto x = parse_item_status(name))
      result.status = *x;
    else
      fail("work_item.status", "unknown status \"" + name + "\"");
  }
  if (auto retry = find_non_null(j, "retry_policy"))
    result.retry = retry->dump();
  if (auto timeout = find_non_null(j, "timeout_ms"))
    result.timeout_ms = as_unsigned(*timeout, "work_item.timeout_ms");
  if (auto lease = find_non_null(j, "lease_ms"))
    result.lease_ms = as_unsigned(*lease, "work_item.lease_ms");
  return result;
}

} // namespace jamjet
