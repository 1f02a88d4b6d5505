#include "powercut_vfs.hpp"

#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <sqlite3.h>

namespace jamjet::testing {

namespace {

// One undo record: the file's size before the operation, then the bytes
// the operation replaced at `offset` (for a truncation: the cut tail).
struct record_header {
  int64_t size_before;
  int64_t offset;
  int64_t length;
};

struct shim_file {
  sqlite3_file base; // must come first
  sqlite3_file* real;
  int undo_fd; // -1: not tracked (temporary files, shared memory)
};

sqlite3_vfs* real_vfs = nullptr;
sqlite3_vfs shim_vfs;
sqlite3_io_methods shim_methods;

sqlite3_file* real_of(sqlite3_file* f) {
  return reinterpret_cast<shim_file*>(f)->real;
}

void write_all(int fd, const void* data, size_t n) {
  auto p = static_cast<const char*>(data);
  while (n > 0) {
    auto w = ::write(fd, p, n);
    if (w <= 0)
      throw std::runtime_error("undo log write failed");
    p += w;
    n -= static_cast<size_t>(w);
  }
}

/// Saves what `[offset, offset + length)` holds now, and the size.
int save(shim_file* f, int64_t offset, int64_t length) {
  if (f->undo_fd < 0)
    return SQLITE_OK;
  sqlite3_int64 size = 0;
  int rc = f->real->pMethods->xFileSize(f->real, &size);
  if (rc != SQLITE_OK)
    return rc;
  int64_t have = offset >= size ? 0 : std::min<int64_t>(length, size - offset);
  std::vector<char> old(static_cast<size_t>(have));
  if (have > 0) {
    rc = f->real->pMethods->xRead(f->real, old.data(), static_cast<int>(have),
                                  offset);
    if (rc != SQLITE_OK)
      return rc;
  }
  record_header h{size, offset, have};
  write_all(f->undo_fd, &h, sizeof(h));
  if (have > 0)
    write_all(f->undo_fd, old.data(), old.size());
  return SQLITE_OK;
}

int x_close(sqlite3_file* file) {
  auto f = reinterpret_cast<shim_file*>(file);
  int rc = f->real->pMethods->xClose(f->real);
  if (f->undo_fd >= 0)
    ::close(f->undo_fd);
  sqlite3_free(f->real);
  return rc;
}

int x_read(sqlite3_file* f, void* buf, int amt, sqlite3_int64 off) {
  return real_of(f)->pMethods->xRead(real_of(f), buf, amt, off);
}

int x_write(sqlite3_file* file, const void* buf, int amt, sqlite3_int64 off) {
  auto f = reinterpret_cast<shim_file*>(file);
  if (int rc = save(f, off, amt); rc != SQLITE_OK)
    return rc;
  return f->real->pMethods->xWrite(f->real, buf, amt, off);
}

int x_truncate(sqlite3_file* file, sqlite3_int64 size) {
  auto f = reinterpret_cast<shim_file*>(file);
  sqlite3_int64 now = 0;
  f->real->pMethods->xFileSize(f->real, &now);
  if (now > size)
    if (int rc = save(f, size, now - size); rc != SQLITE_OK)
      return rc;
  return f->real->pMethods->xTruncate(f->real, size);
}

int x_sync(sqlite3_file* file, int flags) {
  auto f = reinterpret_cast<shim_file*>(file);
  int rc = f->real->pMethods->xSync(f->real, flags);
  // On disk now: nothing before this can be lost.
  if (rc == SQLITE_OK && f->undo_fd >= 0 && ::ftruncate(f->undo_fd, 0) != 0)
    return SQLITE_IOERR_FSYNC;
  return rc;
}

int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
  return real_of(f)->pMethods->xFileSize(real_of(f), size);
}
int x_lock(sqlite3_file* f, int l) {
  return real_of(f)->pMethods->xLock(real_of(f), l);
}
int x_unlock(sqlite3_file* f, int l) {
  return real_of(f)->pMethods->xUnlock(real_of(f), l);
}
int x_check_reserved(sqlite3_file* f, int* out) {
  return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}
int x_file_control(sqlite3_file* f, int op, void* arg) {
  return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}
int x_sector_size(sqlite3_file* f) {
  return real_of(f)->pMethods->xSectorSize(real_of(f));
}
int x_device_characteristics(sqlite3_file* f) {
  return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}
int x_shm_map(sqlite3_file* f, int pg, int pgsz, int extend,
              void volatile** pp) {
  return real_of(f)->pMethods->xShmMap(real_of(f), pg, pgsz, extend, pp);
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}
void x_shm_barrier(sqlite3_file* f) {
  real_of(f)->pMethods->xShmBarrier(real_of(f));
}
int x_shm_unmap(sqlite3_file* f, int del) {
  return real_of(f)->pMethods->xShmUnmap(real_of(f), del);
}

int x_open(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags,
           int* out_flags) {
  auto f = reinterpret_cast<shim_file*>(file);
  f->base.pMethods = nullptr;
  f->undo_fd = -1;
  f->real = static_cast<sqlite3_file*>(sqlite3_malloc(real_vfs->szOsFile));
  if (!f->real)
    return SQLITE_NOMEM;
  std::memset(f->real, 0, static_cast<size_t>(real_vfs->szOsFile));
  int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    sqlite3_free(f->real);
    return rc;
  }
  if (name && (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL))) {
    auto undo = std::string{name} + ".undo";
    f->undo_fd = ::open(undo.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
  f->base.pMethods = &shim_methods;
  return SQLITE_OK;
}

int x_delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return real_vfs->xDelete(real_vfs, name, sync_dir);
}
int x_access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return real_vfs->xAccess(real_vfs, name, flags, out);
}
int x_full_pathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return real_vfs->xFullPathname(real_vfs, name, n, out);
}

} // namespace

void install_powercut_vfs() {
  real_vfs = sqlite3_vfs_find(nullptr);
  shim_vfs = *real_vfs; // dlopen, randomness, sleep, time: the real ones
  shim_vfs.szOsFile = static_cast<int>(sizeof(shim_file));
  shim_vfs.zName = "powercut";
  shim_vfs.pNext = nullptr;
  shim_vfs.xOpen = x_open;
  shim_vfs.xDelete = x_delete;
  shim_vfs.xAccess = x_access;
  shim_vfs.xFullPathname = x_full_pathname;
  shim_methods = sqlite3_io_methods{};
  shim_methods.iVersion = 2; // no memory-mapped I/O: every write is seen
  shim_methods.xClose = x_close;
  shim_methods.xRead = x_read;
  shim_methods.xWrite = x_write;
  shim_methods.xTruncate = x_truncate;
  shim_methods.xSync = x_sync;
  shim_methods.xFileSize = x_file_size;
  shim_methods.xLock = x_lock;
  shim_methods.xUnlock = x_unlock;
  shim_methods.xCheckReservedLock = x_check_reserved;
  shim_methods.xFileControl = x_file_control;
  shim_methods.xSectorSize = x_sector_size;
  shim_methods.xDeviceCharacteristics = x_device_characteristics;
  shim_methods.xShmMap = x_shm_map;
  shim_methods.xShmLock = x_shm_lock;
  shim_methods.xShmBarrier = x_shm_barrier;
  shim_methods.xShmUnmap = x_shm_unmap;
  if (sqlite3_vfs_register(&shim_vfs, 1) != SQLITE_OK)
    throw std::runtime_error("cannot register the power-cut VFS");
}

int power_cut(const std::string& file) {
  auto undo = file + ".undo";
  int ufd = ::open(undo.c_str(), O_RDONLY);
  if (ufd < 0)
    return 0;
  // Read every record, then undo them newest first.
  struct entry {
    record_header h;
    std::vector<char> bytes;
  };
  std::vector<entry> entries;
  for (;;) {
    entry e{};
    auto n = ::read(ufd, &e.h, sizeof(e.h));
    if (n != static_cast<ssize_t>(sizeof(e.h)))
      break; // a record cut short by the kill was never acted on
    e.bytes.resize(static_cast<size_t>(e.h.length));
    if (e.h.length > 0 && ::read(ufd, e.bytes.data(), e.bytes.size()) !=
                            static_cast<ssize_t>(e.bytes.size()))
      break;
    entries.push_back(std::move(e));
  }
  ::close(ufd);
  int fd = ::open(file.c_str(), O_WRONLY);
  if (fd >= 0) {
    for (auto i = entries.rbegin(); i != entries.rend(); ++i) {
      if (!i->bytes.empty() &&
          ::pwrite(fd, i->bytes.data(), i->bytes.size(), i->h.offset) !=
            static_cast<ssize_t>(i->bytes.size()))
        throw std::runtime_error("cannot undo a write to " + file);
      if (::ftruncate(fd, i->h.size_before) != 0)
        throw std::runtime_error("cannot undo the size of " + file);
    }
    ::fsync(fd);
    ::close(fd);
  }
  ::unlink(undo.c_str());
  return static_cast<int>(entries.size());
}

} // namespace jamjet::testing
