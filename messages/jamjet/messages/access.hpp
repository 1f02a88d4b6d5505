#pragma once

// Who may do what on a scheduler node. Every peer (binary protocol, HTTP)
// authenticates as one role, by a token or a client certificate:
//   viewer:   reads (status, list, events, await; HTTP GETs);
//   worker:   takes and settles work (join, results, heartbeats; HTTP
//             claim, complete, fail, heartbeat) and nothing else;
//   operator: everything, both of the above included.
// A node holds an `access_list` of tokens, each with its role.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace jamjet {

enum class access_role : uint8_t { viewer, worker, operator_ };

/// What an action needs.
enum class access_need : uint8_t {
  /// Reading executions, events, workflows, workers.
  read,
  /// Taking and settling work items.
  work,
  /// Changing anything else: registering, starting, cancelling, signals,
  /// approvals, redrives.
  operate,
};

/// "viewer", "worker", "operator".
const char* to_string(access_role r) noexcept;

/// The role named `name`, if any.
std::optional<access_role> parse_access_role(const std::string& name);

/// Whether `r` may do what `n` needs.
bool permits(access_role r, access_need n) noexcept;

/// What `permits` refuses, for a message: "a viewer token may only read".
std::string refusal(access_role r, access_need n);

/// Compares two secrets in time independent of where they differ.
bool same_secret(const std::string& given, const std::string& expected);

/// The tokens a node accepts, each with its role.
class access_list {
 public:
  /// Adds a token; an empty one is ignored.
  void add(std::string token, access_role role);

  /// No token at all (a node run with --insecure): every peer is an
  /// operator.
  bool empty() const noexcept { return entries_.empty(); }

  /// The role of `presented`, compared in constant time against every
  /// token (so timing tells nothing of which matched); none when it
  /// matches none. With an empty list every peer is an operator.
  std::optional<access_role> role_of(const std::string& presented) const;

  size_t size() const noexcept { return entries_.size(); }

 private:
  struct entry {
    std::string token;
    access_role role;
  };
  std::vector<entry> entries_;
};

} // namespace jamjet
