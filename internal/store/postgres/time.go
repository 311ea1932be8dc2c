package postgres

import "time"

// Times are kept with millisecond precision, what JavaScript clients and the
// SQLite backend hold, so both backends return the same values.

func toMillis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// truncate drops what the database would not give back the same.
func truncate(t time.Time) time.Time { return fromMillis(toMillis(t)) }

// now is the current time truncated to what the database keeps, so values
// returned by a write equal what a later read returns.
func now() time.Time { return fromMillis(time.Now().UnixMilli()) }
