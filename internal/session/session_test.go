package session

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/voiceorder/voiceorder/internal/audio"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestToolTurn(t *testing.T) {
	tests := []struct {
		name  string
		steps func(tt *toolTurn) []bool
		want  []bool
	}{
		{"outputs before done", func(tt *toolTurn) []bool {
			tt.callQueued("r1")
			tt.callQueued("r1")
			return []bool{tt.callDone("r1"), tt.callDone("r1"), tt.responseDone("r1", 2)}
		}, []bool{false, false, true}},
		{"done before outputs", func(tt *toolTurn) []bool {
			tt.callQueued("r1")
			tt.callQueued("r1")
			return []bool{tt.responseDone("r1", 2), tt.callDone("r1"), tt.callDone("r1")}
		}, []bool{false, false, true}},
		{"response without calls", func(tt *toolTurn) []bool {
			return []bool{tt.responseDone("r1", 0)}
		}, []bool{false}},
		{"interleaved output", func(tt *toolTurn) []bool {
			tt.callQueued("r1")
			tt.callQueued("r1")
			return []bool{tt.callDone("r1"), tt.responseDone("r1", 2), tt.callDone("r1")}
		}, []bool{false, false, true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var tt toolTurn
			got := tc.steps(&tt)
			for i := range tc.want {
				if got[i] != tc.want[i] {
					t.Errorf("step %d complete = %v, want %v (all %v)", i, got[i], tc.want[i], got)
				}
			}
			if len(tt.turns) != 0 {
				t.Errorf("%d turns left open, want 0", len(tt.turns))
			}
		})
	}
}

func TestOutQueueDropsOldest(t *testing.T) {
	q := newOutQueue(10)
	q.pushAudio([]byte("aaaa"))
	q.pushAudio([]byte("bbbb"))
	q.pushAudio([]byte("cccc")) // over budget: "aaaa" goes
	q.pushEnd()
	if q.dropped != 1 {
		t.Errorf("dropped = %d, want 1", q.dropped)
	}
	ctx := context.Background()
	var got []string
	for range 3 {
		it, err := q.next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(it.data))
	}
	want := []string{"bbbb", "cccc", ""}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("item %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestOutQueueNextHonoursContext(t *testing.T) {
	q := newOutQueue(10)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := q.next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("next on a cancelled context = %v, want context.Canceled", err)
	}
}

func TestRegistryBoundsAndWait(t *testing.T) {
	r := NewRegistry(2, 1)
	now := time.Unix(0, 0)
	_, cancel1 := context.WithCancelCause(context.Background())
	defer cancel1(nil)
	release1, err := r.Register(newRecord("a", "browser", "cafe", "", now), cancel1)
	if err != nil {
		t.Fatal(err)
	}
	release2, err := r.Register(newRecord("b", "twilio", "cafe", "CA1", now), cancel1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Register(newRecord("c", "browser", "cafe", "", now), cancel1); !errors.Is(err, ErrBusy) {
		t.Errorf("third Register = %v, want ErrBusy", err)
	}
	if _, ok := r.Lookup("CA1"); !ok {
		t.Error("Lookup by call id of a live conversation failed")
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if err := r.Wait(ctx); err == nil {
		t.Error("Wait returned nil with live conversations")
	}
	release1()
	release1() // a second call is harmless
	release2()
	if err := r.Wait(context.Background()); err != nil {
		t.Errorf("Wait with no live conversations = %v", err)
	}
	if _, ok := r.Lookup("a"); ok {
		t.Error("recent records kept more than their bound of 1")
	}
	if _, ok := r.Lookup("b"); !ok {
		t.Error("the most recent ended conversation is not kept")
	}
}

func TestNegotiate(t *testing.T) {
	mulaw := audio.Format{Encoding: audio.Mulaw, Rate: 8000}
	pcm16k := audio.Format{Encoding: audio.PCM16, Rate: 16000}
	pcm24k := audio.Format{Encoding: audio.PCM16, Rate: 24000}
	tests := []struct {
		name   string
		caller audio.Format
		rates  []int
		want   audio.Format
	}{
		{"phone passes through", mulaw, []int{24000}, mulaw},
		{"browser rate accepted", pcm16k, []int{16000, 24000}, pcm16k},
		{"browser rate converted", pcm16k, []int{24000}, pcm24k},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := negotiate(tt.caller, tt.caller, tt.rates)
			if err != nil {
				t.Fatal(err)
			}
			if f.modelIn != tt.want || f.modelOut != tt.want {
				t.Errorf("model formats = %v/%v, want %v", f.modelIn, f.modelOut, tt.want)
			}
		})
	}
}
