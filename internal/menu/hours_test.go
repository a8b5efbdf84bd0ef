package menu_test

import (
	"strings"
	"testing"
	"time"
)

// lateMenu opens weekdays 07:00–19:00 and Friday nights 22:00–02:00 in New York.
var lateMenu = strings.Replace(baseMenu,
	`    - days: [mon, tue, wed, thu, fri]
      open: "07:00"
      close: "19:00"`,
	`    - days: [mon, tue, wed, thu, fri]
      open: "07:00"
      close: "19:00"
    - days: [fri]
      open: "22:00"
      close: "02:00"
    - days: [sun]
      open: "12:00"
      close: "24:00"`, 1)

func TestIsOpen(t *testing.T) {
	c := mustParse(t, lateMenu)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	at := func(year int, month time.Month, day, hour, minute int, loc *time.Location) time.Time {
		return time.Date(year, month, day, hour, minute, 0, 0, loc)
	}
	// 2025-06-06 is a Friday; New York is on daylight time (UTC-4) then and on
	// standard time (UTC-5) in January.
	tests := []struct {
		name string
		t    time.Time
		want bool
	}{
		{"before opening", at(2025, 6, 2, 6, 59, ny), false},
		{"at opening", at(2025, 6, 2, 7, 0, ny), true},
		{"last minute", at(2025, 6, 2, 18, 59, ny), true},
		{"at closing", at(2025, 6, 2, 19, 0, ny), false},
		{"saturday afternoon", at(2025, 6, 7, 13, 0, ny), false},
		{"friday late window", at(2025, 6, 6, 23, 30, ny), true},
		{"after midnight into saturday", at(2025, 6, 7, 1, 30, ny), true},
		{"late window closed", at(2025, 6, 7, 2, 0, ny), false},
		{"thursday night has no late window", at(2025, 6, 5, 23, 0, ny), false},
		{"friday after midnight has no late window", at(2025, 6, 6, 1, 0, ny), false},
		{"window closing at 24:00", at(2025, 6, 8, 23, 59, ny), true},
		{"after a 24:00 close", at(2025, 6, 9, 0, 30, ny), false},
		{"utc instant inside summer hours", at(2025, 6, 2, 11, 30, time.UTC), true},
		{"same utc clock in winter is before opening", at(2025, 1, 6, 11, 30, time.UTC), false},
		{"tokyo evening is new york morning", at(2025, 6, 2, 20, 30, mustLoad(t, "Asia/Tokyo")), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.IsOpen(tt.t); got != tt.want {
				t.Errorf("IsOpen(%s) = %v, want %v", tt.t.In(ny).Format(time.RFC1123), got, tt.want)
			}
		})
	}
}

func TestNextOpening(t *testing.T) {
	c := mustParse(t, lateMenu)
	ny := mustLoad(t, "America/New_York")
	tests := []struct {
		name string
		from time.Time
		want time.Time
	}{
		{"early monday", time.Date(2025, 6, 2, 5, 0, 0, 0, ny), time.Date(2025, 6, 2, 7, 0, 0, 0, ny)},
		{"while open", time.Date(2025, 6, 2, 8, 0, 0, 0, ny), time.Date(2025, 6, 3, 7, 0, 0, 0, ny)},
		{"friday evening", time.Date(2025, 6, 6, 20, 0, 0, 0, ny), time.Date(2025, 6, 6, 22, 0, 0, 0, ny)},
		{"saturday", time.Date(2025, 6, 7, 3, 0, 0, 0, ny), time.Date(2025, 6, 8, 12, 0, 0, 0, ny)},
		{"exactly at opening", time.Date(2025, 6, 8, 12, 0, 0, 0, ny), time.Date(2025, 6, 9, 7, 0, 0, 0, ny)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := c.NextOpening(tt.from)
			if !ok || !got.Equal(tt.want) {
				t.Errorf("NextOpening(%s) = %s, %v; want %s, true", tt.from, got, ok, tt.want)
			}
			if ok && got.Location() != c.Location() {
				t.Errorf("NextOpening location = %s, want %s", got.Location(), c.Location())
			}
		})
	}
}

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
