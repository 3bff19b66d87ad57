// Package clock is fleetgate's time, which is UTC whatever the machine's
// zone: times are stored and compared in UTC, since SQLite keeps them as
// text, compares them as text, and cannot read back one written in a zone
// whose name is an offset ("+0545").
package clock

import "time"

// Now is the current time in UTC.
func Now() time.Time { return time.Now().UTC() }

// UTC is the clock now, read in UTC: a deployment's or a test's clock as
// fleetgate keeps it.
func UTC(now func() time.Time) func() time.Time {
	return func() time.Time { return now().UTC() }
}
