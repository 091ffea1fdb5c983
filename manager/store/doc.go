// Package store keeps cmanagerd's state on disk under its state directory:
// one JSON file per container (containers/<id>/state.json), the boot
// counter, and the lock that keeps a second daemon away. It stores bytes
// and never interprets them; it never touches anything outside the state
// directory.
//
// Why one file per container rather than an append log: every acknowledged
// change rewrites one small file, crash-safely (write a temporary file,
// fsync it, rename it over the old one, fsync the directory), which costs
// about 0.3 ms here. After a crash each file is either the old version or
// the new one, never a mix, and there is no log to replay or compact.
// Changes to different containers never contend.
package store
