// Package container keeps container records: their configuration, their
// state machine (created, running, paused, restarting, exited, dead), the
// on-disk store written atomically under <data-root>/containers/<id>/, and
// the name, ID and unique-prefix index. It knows nothing of HTTP or of how
// processes run (internal/runtime does that).
package container
