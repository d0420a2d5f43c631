// Package logs reads a container's log files, written by the runtime in
// Docker's json-file format, and serves them as a stream of messages for
// GET /containers/{id}/logs.
//
// # File layout
//
// The runtime (internal/runtime, logfile.go) appends one JSON object per
// line, {"log":"text\n","stream":"stdout","time":"<RFC 3339 nano>"}, to the
// live file (for example <state>/container.log). When the live file would
// exceed its maximum size the runtime renames path.(n-1) to path.n, ...,
// path to path.1 and creates a fresh live file, so path.1 is the newest
// rotated file and the highest number the oldest. With a single file the
// live file is truncated in place instead.
//
// # Reading
//
// [Read] opens every file at once (checking that no rotation happened in
// between), finds where the last Tail lines start by scanning backwards from
// the end in fixed-size blocks, and then decodes forward. Memory stays
// bounded: at most one block and one line (capped at [MaxLineSize]) are held.
//
// With Follow it keeps reading the live file, woken by fsnotify events on
// the directory plus a slow backstop ticker, or by a short poll when fsnotify
// is unavailable. A rotation is detected when the live path names a
// different inode than the open file. The old file is then read to its end
// and kept open as the anchor, and the files after it are taken one at a
// time, each the direct successor of the previous one, until the live file
// is reached; so no line is repeated, and none is lost unless rotation
// deleted files before they were read. Listing path.1, path.2, ... is not
// atomic (two rotations between two steps show one file under two
// numbers), so the successor is found from rotation's own guarantees
// instead: files only move to higher numbers and keep their order. The
// lookup finds the anchor's number n, opens path.(n-1) (or path for n = 1)
// and then checks that the anchor is still path.n; if so, the file opened
// was its successor at that moment, otherwise it looks again. Holding the
// anchor open keeps its inode from being reused and shows its deletion
// (link count 0). A truncated single file is detected by its size
// shrinking below the read offset; if the writer refills it past that
// offset before the reader looks, the truncation cannot be seen and the new
// lines up to that offset are skipped.
//
// A line that has no newline yet (the runtime is mid-write) is held back
// until it is complete; it is only decoded on its own once the writer can no
// longer finish it (the file was rotated away or the caller closed done).
//
// # Errors
//
// Read returns a message channel and an error channel. The error channel is
// buffered, receives at most one error, and is closed right after the
// message channel, so a caller ranges over the messages and then receives
// once from the error channel (nil means the stream ended normally). Errors
// are failures to open, stat or read the files; they end the stream. A
// context that ends is not an error. A line that is not valid JSON (a crash
// in the middle of a write can leave one) or longer than MaxLineSize is
// skipped with a warning in the log instead of ending the stream.
package logs
