package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/voiceorder/voiceorder/internal/cart"
	"github.com/voiceorder/voiceorder/internal/config"
	"github.com/voiceorder/voiceorder/internal/menu"
	"github.com/voiceorder/voiceorder/internal/voicecall"
)

// clipLabel is one labelled recording: the slots of a spoken drink order.
type clipLabel struct {
	File  string            `json:"file"`
	Slots map[string]string `json:"slots"`
	// HeardAs is an approximate transcript that agrees with the slots; null for the
	// two hardest clips.
	HeardAs *string `json:"heard_as"`
}

// wantLine is the cart line a label describes, in catalog ids.
type wantLine struct {
	item, size string
	modifiers  []cart.Modifier // group, option and amount only
}

func loadLabels(t *testing.T, dir string) []clipLabel {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "clips.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Clips []clipLabel }
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f.Clips
}

// expectedLine resolves a label's slot values against the menu the gateway serves.
func expectedLine(t *testing.T, cat *menu.Catalog, slots map[string]string) wantLine {
	t.Helper()
	it, ok := cat.ResolveItem(slots["coffeeDrink"])
	if !ok {
		t.Fatalf("drink %q is not on the menu", slots["coffeeDrink"])
	}
	w := wantLine{item: it.ID}
	if s := slots["size"]; s != "" {
		size, ok := it.ResolveSize(s)
		if !ok {
			t.Fatalf("size %q is not on the menu", s)
		}
		w.size = size.ID
	}
	for slot, group := range map[string]string{"roast": "roast", "numberOfShots": "shots", "milkAmount": "milk", "sugarAmount": "sweetener"} {
		v := slots[slot]
		if v == "" {
			continue
		}
		amount, phrase := menu.SplitAmount(v)
		_, opt, ok := cat.ResolveOption(it, group, phrase)
		if !ok {
			t.Fatalf("%s %q is not on the menu", slot, v)
		}
		w.modifiers = append(w.modifiers, cart.Modifier{GroupID: group, OptionID: opt.ID, Amount: amount})
	}
	return w
}

// matches reports whether a cart line carries every labelled slot.
func (w wantLine) matches(l cart.Line) bool {
	if l.ItemID != w.item || (w.size != "" && l.SizeID != w.size) {
		return false
	}
	for _, m := range w.modifiers {
		if !slices.ContainsFunc(l.Modifiers, func(got cart.Modifier) bool {
			return got.GroupID == m.GroupID && got.OptionID == m.OptionID && got.Amount == m.Amount
		}) {
			return false
		}
	}
	return true
}

func (w wantLine) String() string {
	var mods []string
	for _, m := range w.modifiers {
		mods = append(mods, strings.TrimSpace(string(m.Amount)+" "+m.OptionID))
	}
	sort.Strings(mods)
	return strings.TrimSpace(fmt.Sprintf("%s %s [%s]", w.size, w.item, strings.Join(mods, ", ")))
}

func describeCart(c *cart.Cart) string {
	if c == nil || len(c.Lines) == 0 {
		return "empty"
	}
	var parts []string
	for _, l := range c.Lines {
		var mods []string
		for _, m := range l.Modifiers {
			mods = append(mods, strings.TrimSpace(string(m.Amount)+" "+m.OptionID))
		}
		sort.Strings(mods)
		parts = append(parts, fmt.Sprintf("%s %s [%s]", l.SizeID, l.ItemID, strings.Join(mods, ", ")))
	}
	return strings.Join(parts, "; ")
}

// placeCall plays one recording as one caller turn and returns the final cart. A call
// that fails is reported and counts as a wrong cart.
func placeCall(ctx context.Context, t *testing.T, g *gateway, transport, wav string) (*cart.Cart, *voicecall.Result) {
	t.Helper()
	res, err := voicecall.Call(ctx, voicecall.Options{
		Server: g.URL(), Transport: transport, Speed: 8,
		Turns: []voicecall.Turn{voicecall.FileTurn(wav)},
	})
	if err != nil {
		t.Errorf("call with %s: %v", filepath.Base(wav), err)
		return nil, &voicecall.Result{}
	}
	if len(res.Cart) == 0 || string(res.Cart) == "null" {
		return nil, res
	}
	var c cart.Cart
	if err := json.Unmarshal(res.Cart, &c); err != nil {
		t.Fatalf("cart JSON: %v", err)
	}
	return &c, res
}

// TestRecognitionRealSpeech plays every labelled recording through a transport to the
// local engine and compares the cart with the labels.
func TestRecognitionRealSpeech(t *testing.T) {
	if testing.Short() {
		t.Skip("recognition of 17 recordings takes about a minute; skipped with -short")
	}
	root := testdataDir(t)
	dir := filepath.Join(root, "audio", "coffee-orders")
	labels := loadLabels(t, dir)

	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.AdminAddr = ""
	cfg.DataDir = t.TempDir()
	g := startGatewayConfig(t, cfg)

	for _, tc := range []struct {
		transport string
		min       int // clips out of 16 whose cart must match
	}{
		{voicecall.TransportBrowser, 13},
		{voicecall.TransportTwilio, 10},
	} {
		t.Run(tc.transport, func(t *testing.T) {
			right := 0
			var wordErrors, words int
			var latencies []float64
			for _, clip := range labels {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				want := expectedLine(t, g.Catalog(), clip.Slots)
				got, res := placeCall(ctx, t, g, tc.transport, filepath.Join(dir, clip.File))
				ok := got != nil && slices.ContainsFunc(got.Lines, want.matches)
				if ok {
					right++
				}
				heard := ""
				for _, turn := range res.Turns {
					if turn.Role == voicecall.RoleCaller {
						heard = turn.Text
					}
				}
				if clip.HeardAs != nil {
					ref := strings.Fields(*clip.HeardAs)
					wordErrors += editDistance(ref, strings.Fields(heard))
					words += len(ref)
				}
				latencies = append(latencies, callLatencies(ctx, t, g, res.CallID)...)
				cancel()
				t.Logf("%-8s %s heard %q\n\twant %s\n\tgot  %s", map[bool]string{true: "right", false: "WRONG"}[ok],
					clip.File[:8], heard, want, describeCart(got))
			}
			t.Logf("%s: %d of %d recordings gave the labelled cart line", tc.transport, right, len(labels))
			if words > 0 {
				t.Logf("%s: word accuracy %.1f %% (%d errors in %d words of the transcripts that exist)",
					tc.transport, 100*(1-float64(wordErrors)/float64(words)), wordErrors, words)
			}
			if len(latencies) > 0 {
				sort.Float64s(latencies)
				t.Logf("%s: end of speech (as detected) to first reply audio: median %.0f ms, worst %.0f ms over %d replies",
					tc.transport, latencies[len(latencies)/2], latencies[len(latencies)-1], len(latencies))
			}
			if right < tc.min {
				t.Errorf("%d of %d recordings right through %s, want at least %d", right, len(labels), tc.transport, tc.min)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			offMenu := filepath.Join(root, "audio", "coffee-orders-rhino", "test_out_of_context.wav")
			if got, _ := placeCall(ctx, t, g, tc.transport, offMenu); got != nil && len(got.Lines) > 0 {
				t.Errorf("off-menu request added %s, want nothing", describeCart(got))
			}
		})
	}
}

// callLatencies reads a call's reply latencies from its record.
func callLatencies(ctx context.Context, t *testing.T, g *gateway, callID string) []float64 {
	t.Helper()
	if callID == "" {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.URL()+"/api/v1/calls/"+callID, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("read call record: %v", err)
		return nil
	}
	defer resp.Body.Close()
	var rec struct {
		ReplyLatenciesMS []float64 `json:"reply_latencies_ms"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&rec); err != nil {
		t.Errorf("decode call record: %v", err)
	}
	return rec.ReplyLatenciesMS
}

// editDistance is the word-level Levenshtein distance: substitutions, insertions and
// deletions needed to turn ref into hyp.
func editDistance(ref, hyp []string) int {
	prev := make([]int, len(hyp)+1)
	cur := make([]int, len(hyp)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ref); i++ {
		cur[0] = i
		for j := 1; j <= len(hyp); j++ {
			cost := 1
			if ref[i-1] == hyp[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(hyp)]
}
