#pragma once

// An SQLite VFS for power-cut tests. It wraps the default VFS and, before
// each write or truncation of a database or WAL file, appends the bytes it
// replaces to `<file>.undo`; a sync of the file empties its undo log, as
// the data is then on disk. After the process is killed, `power_cut()`
// replays every undo log backwards: the files are left as a power loss
// that dropped every write not yet synced would leave them.

#include <string>

namespace jamjet::testing {

/// Registers the VFS as SQLite's default for this process.
void install_powercut_vfs();

/// Undoes every write to `file` (a database or its `-wal`) not synced
/// since; returns how many writes were undone.
int power_cut(const std::string& file);

} // namespace jamjet::testing
