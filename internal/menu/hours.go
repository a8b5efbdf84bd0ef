package menu

import "time"

// IsOpen reports whether the restaurant is open at t, judged by the wall clock in the
// restaurant's time zone. A window whose close is not after its open runs past
// midnight into the next day.
func (c *Catalog) IsOpen(t time.Time) bool {
	t = t.In(c.location)
	minute := t.Hour()*60 + t.Minute()
	yesterday := (t.Weekday() + 6) % 7
	for _, h := range c.Restaurant.Hours {
		open, _ := parseClock(h.Open)
		closing, _ := parseClock(h.Close)
		for _, d := range h.Days {
			day := weekdays[d]
			switch {
			case open < closing && day == t.Weekday() && minute >= open && minute < closing:
				return true
			case open >= closing && day == t.Weekday() && minute >= open:
				return true // window runs past midnight, evening part
			case open >= closing && day == yesterday && minute < closing:
				return true // window runs past midnight, morning part
			}
		}
	}
	return false
}

// NextOpening returns the first time after t at which an opening window starts, in
// the restaurant's time zone. It looks a week ahead and reports false only for a
// menu without hours, which validation rejects.
func (c *Catalog) NextOpening(t time.Time) (time.Time, bool) {
	t = t.In(c.location)
	var best time.Time
	for d := 0; d <= 7; d++ {
		date := time.Date(t.Year(), t.Month(), t.Day()+d, 0, 0, 0, 0, c.location)
		for _, h := range c.Restaurant.Hours {
			open, _ := parseClock(h.Open)
			at := time.Date(date.Year(), date.Month(), date.Day(), open/60, open%60, 0, 0, c.location)
			if !at.After(t) || (!best.IsZero() && !at.Before(best)) || !h.opensOn(date.Weekday()) {
				continue
			}
			best = at
		}
		if !best.IsZero() {
			return best, true
		}
	}
	return time.Time{}, false
}

func (h *Hours) opensOn(day time.Weekday) bool {
	for _, d := range h.Days {
		if weekdays[d] == day {
			return true
		}
	}
	return false
}
