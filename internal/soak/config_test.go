package soak

import (
	"maps"
	"strings"
	"testing"
)

func TestParseMix(t *testing.T) {
	tests := []struct {
		in      string
		want    Mix
		wantErr string
	}{
		{in: "normal=4,abrupt=2,speaking=2,dial=1", want: DefaultMix()},
		{in: " normal = 1 , dial=0 ", want: Mix{EndNormal: 1, EndDial: 0}},
		{in: "abrupt=3", want: Mix{EndAbrupt: 3}},
		{in: "normal", wantErr: "use ending=weight"},
		{in: "hangup=1", wantErr: "unknown ending"},
		{in: "normal=-1", wantErr: "at least 0"},
		{in: "normal=x", wantErr: "whole number"},
		{in: "normal=0", wantErr: "every weight is zero"},
		{in: "", wantErr: "every weight is zero"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseMix(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseMix(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseMix(%q): %v", tt.in, err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("ParseMix(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestMixStringRoundTrip(t *testing.T) {
	m := Mix{EndNormal: 4, EndDial: 1}
	got, err := ParseMix(m.String())
	if err != nil {
		t.Fatalf("ParseMix(%q): %v", m.String(), err)
	}
	if !maps.Equal(got, m) {
		t.Errorf("round trip of %v gave %v", m, got)
	}
}

func TestScheduleProportions(t *testing.T) {
	tests := []struct {
		name string
		mix  Mix
	}{
		{"default", DefaultMix()},
		{"one ending", Mix{EndSpeaking: 3}},
		{"uneven", Mix{EndNormal: 7, EndAbrupt: 1, EndDial: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSchedule(tt.mix)
			total := 0
			for _, w := range tt.mix {
				total += w
			}
			// Every window of one full round, wherever it starts, has the
			// exact proportions.
			seq := make([]Ending, 4*total)
			for i := range seq {
				seq[i] = s.next()
			}
			for start := 0; start+total <= len(seq); start++ {
				counts := Mix{}
				for _, e := range seq[start : start+total] {
					counts[e]++
				}
				for e, w := range tt.mix {
					if counts[e] != w {
						t.Fatalf("window at %d has %d %s calls, want %d (sequence %v)", start, counts[e], e, w, seq)
					}
				}
			}
		})
	}
}

func TestParseTransports(t *testing.T) {
	tests := []struct {
		in   string
		want []Transport
	}{
		{"browser", []Transport{TransportBrowser}},
		{"twilio", []Transport{TransportTwilio}},
		{"both", []Transport{TransportBrowser, TransportTwilio}},
	}
	for _, tt := range tests {
		got, err := ParseTransports(tt.in)
		if err != nil || len(got) != len(tt.want) || got[0] != tt.want[0] {
			t.Errorf("ParseTransports(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if _, err := ParseTransports("sip"); err == nil {
		t.Error("ParseTransports(\"sip\") succeeded, want an error")
	}
}

func FuzzParseMix(f *testing.F) {
	f.Add("normal=4,abrupt=2,speaking=2,dial=1")
	f.Add("normal=1,,dial=x")
	f.Add("=,=")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMix(s)
		if err != nil {
			return
		}
		again, err := ParseMix(m.String())
		if err != nil {
			t.Fatalf("ParseMix(%q) of a valid mix's String: %v", m.String(), err)
		}
		for _, e := range Endings {
			if again[e] != m[e] {
				t.Errorf("round trip of %q changed %s from %d to %d", s, e, m[e], again[e])
			}
		}
	})
}
