package sqlite

import "time"

// Times are stored as INTEGER unix milliseconds: compact, indexable, free of
// the driver's text time formats, and exactly what JavaScript clients use.

func toMillis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// now is the current time truncated to what the database keeps, so values
// returned by a write equal what a later read returns.
func now() time.Time { return fromMillis(time.Now().UnixMilli()) }
